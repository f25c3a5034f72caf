"""``manybody fit-data --sweeps GLOB --joint``: raw S21 sweeps -> 1/Qi(T) and f0(T) -> the joint
loss + shift fit. Synthetic sweeps from a known TLS loss and its digamma shift (the notch model of
:mod:`manybody.measured.resonance`, the partner of :mod:`manybody.laws.shift`), the flags it
refuses, and the real Al-on-InP sweeps end to end (the README's command)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from manybody.cli import main
from manybody.laws.inputs import ShiftCurve
from manybody.laws.shift import shift_values
from manybody.measured.resonance import notch_s21
from manybody.measured.resonator_table import fit_sweeps, shift_curves, sweep_files
from manybody.units import KELVIN_PER_GHZ

ROOT = Path(__file__).resolve().parents[1]
AL = ROOT / "data" / "resonator_al_inp_s21"

#: The synthetic resonator: f0 at T -> 0 (Hz), TLS amplitude F delta0, background loss, |Qc|,
#: phi, amplitude, cable delay (s); 8 temperatures, x = w/T from 0.8 to 12.
F_REF, F_DELTA, BACKGROUND = 5.0e9, 3.0e-5, 1.0e-5
QC_ABS, PHI, AMPLITUDE, DELAY = 1.0e4, 0.1, 0.05, 30e-9
TEMPERATURES = np.geomspace(0.020, 0.300, 8)


def write_tls_sweeps(folder: Path, noise: float = 1e-3, seed: int = 3) -> str:
    """One real/imag CSV sweep per temperature, named ``s21_-90dBm_<T>mK.csv``, with
    1/Qi = F delta0 tanh(x/2) + background and df/f0 = (F delta0 / pi) S_tls(x); returns the
    glob."""
    rng = np.random.default_rng(seed)
    w = F_REF * 1e-9 * KELVIN_PER_GHZ
    x = w / TEMPERATURES
    qi = 1.0 / (F_DELTA * np.tanh(x / 2) + BACKGROUND)
    f0 = F_REF * (1.0 + F_DELTA / math.pi * shift_values("tls", x))
    for t, q, f in zip(TEMPERATURES, qi, f0, strict=True):
        ql = 1.0 / (1.0 / q + math.cos(PHI) / QC_ABS)
        freq = f + f / ql * np.linspace(-8.0, 8.0, 301)
        z = notch_s21(freq, f, ql, QC_ABS, PHI, AMPLITUDE, 0.0, DELAY)
        z = z + noise * AMPLITUDE * (rng.standard_normal(freq.size)
                                     + 1j * rng.standard_normal(freq.size))
        lines = [f"{a:.17g},{b:.17g},{c:.17g}" for a, b, c in zip(freq, z.real, z.imag,
                                                                   strict=True)]
        (folder / f"s21_-90dBm_{1e3 * t:05.1f}mK.csv").write_text("\n".join(lines) + "\n")
    return str(folder / "*.csv")


def run_cli(args, capsys):
    status = main(["fit-data", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def tls_sweeps(tmp_path_factory) -> str:
    return write_tls_sweeps(tmp_path_factory.mktemp("tls_sweeps"))


def test_shift_curves_give_the_laws_shift_curve(tls_sweeps):
    """The sweeps' f0 reproduce the digamma shift put in (relative to the lowest temperature)."""
    results = fit_sweeps(sweep_files(tls_sweeps), layout="real-imag")
    (shift,) = shift_curves(results, label="syn")
    assert isinstance(shift, ShiftCurve)
    assert shift.power == -90.0 and shift.reference_temperature == pytest.approx(0.020)
    x = F_REF * 1e-9 * KELVIN_PER_GHZ / TEMPERATURES
    truth = F_DELTA / math.pi * (shift_values("tls", x) - shift_values("tls", x[:1]))
    pulls = (shift.shift - truth) / shift.sigma
    assert np.all(np.abs(pulls[1:]) < 5), pulls
    (other,) = shift_curves(results, reference_temperature=0.3)
    np.testing.assert_allclose(other.shift - other.shift[0], shift.shift - shift.shift[0],
                               rtol=1e-5)  # the reference moves the offset (and scales by f0_ref)


def test_joint_fit_of_tls_sweeps_prefers_tls(tls_sweeps, tmp_path, capsys):
    out = tmp_path / "joint"
    status, stdout, err = run_cli(["--sweeps", tls_sweeps, "--joint", "--sweep-layout",
                                   "real-imag", "--out", out], capsys)
    assert status == 0, err
    assert "median fitted f0" in stdout and "[joint]" in stdout
    assert {p.name for p in out.iterdir()} == {
        "resonator_fits.csv", "resonance_fits.png", "resonance_fits.pdf", "loss_shift_fit.png",
        "loss_shift_fit.pdf", "loss_shift_results.json", "loss_shift_table.txt"}
    record = json.loads((out / "loss_shift_results.json").read_text())
    joint = record["comparison"]["joint"]
    assert joint["verdict"]["preferred"] == "tls" and joint["verdict"]["delta_aic"] > 6
    index, error = joint["verdict"]["index"], joint["verdict"]["index_error"]
    assert abs(index - 1.0) < 3 * error < 1.0
    amplitude = joint["fits"]["tls"]["parameters"]["amplitude"]
    assert amplitude == pytest.approx(F_DELTA, rel=0.1)
    assert record["data"]["shift"]["reference_temperature_K"] == pytest.approx(0.020)
    assert len(record["inputs"]) == 8 and all(len(i["sha256"]) == 64 for i in record["inputs"])
    assert record["options"]["sweeps"]["layout"] == "real-imag"


@pytest.mark.parametrize(("extra", "message"), [
    (["FILE", "--joint", "--frequency", "5GHz"], "--joint applies to --sweeps"),
    (["--sweeps", "SWEEPS", "--shift", "s.csv"], "with --sweeps the joint loss + shift fit is "
                                                 "--joint"),
    (["--sweeps", "SWEEPS", "--band", "0,5"], "with --sweeps the joint loss + shift fit is"),
    (["--sweeps", "SWEEPS", "--joint", "--shift", "s.csv"], "exclude each other"),
    (["--sweeps", "SWEEPS", "--joint", "--simulated"], "exclude each other"),
    (["--sweeps", "SWEEPS", "--joint", "--power-sweep"], "--power-sweep does not apply"),
    (["--sweeps", "SWEEPS", "--joint", "--simulate", "4"], "--simulate does not apply"),
    (["--sweeps", "SWEEPS", "--joint", "--quasiparticle", "mattis-bardeen"],
     "--quasiparticle mattis-bardeen"),
    (["--sweeps", "SWEEPS", "--joint", "--velocity"], "--velocity"),
])
def test_flags_the_sweeps_joint_fit_refuses(extra, message, tmp_path, capsys):
    table = ROOT / "data" / "resonator_nb_cpw" / "qint_160dBm.csv"
    args = [{"SWEEPS": str(AL / "*.csv"), "FILE": str(table)}.get(a, a) for a in extra]
    status, _, err = run_cli([*args, "--out", tmp_path / "o"], capsys)
    assert status == 2 and message in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_al_full_command_and_the_recorded_result(tmp_path, capsys):
    """The README's command on all 20 sweeps, end to end: exit 0, the outputs, finite numbers,
    the recorded joint result reproduced from the bytes of data/ (~25 s)."""
    import hashlib

    out = tmp_path / "al"
    status, stdout, err = run_cli(["--sweeps", AL / "*.csv", "--joint", "--quasiparticle", "--tc",
                                   "1.2", "--out", out], capsys)
    assert status == 0, err
    assert "Kramers-Kronig consistency" in stdout
    for name in ("resonator_fits.csv", "resonance_fits.png", "loss_shift_fit.png",
                 "loss_shift_fit.pdf", "loss_shift_results.json", "loss_shift_table.txt"):
        assert (out / name).stat().st_size > 0
    new = json.loads((out / "loss_shift_results.json").read_text())
    assert len(new["data"]["shift"]["temperature_K"]) == 20
    for mode in ("loss", "shift", "joint"):
        for fit in new["comparison"][mode]["fits"].values():
            assert all(math.isfinite(p) for p in fit["parameters"].values())
    old = json.loads((ROOT / "results" / "data_fit" / "al_inp" / "joint" /
                      "loss_shift_results.json").read_text())
    for entry in old["inputs"]:
        local = AL / Path(entry["source"]).name
        assert hashlib.sha256(local.read_bytes()).hexdigest() == entry["sha256"], local
    # The 20 resonator fits and the joint fit are iterative least squares whose stopping point
    # moves with the BLAS build (recorded with OpenBLAS Haswell kernels on an AMD EPYC, reproduced
    # with SkylakeX kernels on an Intel Xeon: amplitudes 3e-6 apart, relative); the recorded result
    # is reproduced when every fitted parameter agrees to a thousandth of its standard error.
    for mode in ("loss", "shift", "joint"):
        for law in ("tls", "generic"):
            fit_new, fit_old = (r["comparison"][mode]["fits"][law] for r in (new, old))
            assert fit_new["parameters"].keys() == fit_old["parameters"].keys()
            for name, b in fit_old["parameters"].items():
                a, err = fit_new["parameters"][name], fit_old["errors"][name]
                assert abs(a - b) <= 1e-3 * err, (mode, law, name, a, b, err)
    # the shift alone carries a TLS signal (positive amplitude); the saturated loss does not
    shift = new["comparison"]["shift"]["fits"]["tls"]
    loss = new["comparison"]["loss"]["fits"]["tls"]
    assert shift["parameters"]["amplitude"] > 3 * shift["errors"]["amplitude"]
    assert loss["parameters"]["amplitude"] < 0
    # quasiparticles lower f0 (kinetic inductance): the shift's activated term is negative
    assert shift["parameters"]["qp_shift"] < 0



# -- session 34: an experimentalist's folder (a tester's report) -------------------------------

def _copy_sweeps(source: str, folder: Path, rename=lambda name: name) -> Path:
    folder.mkdir()
    for path in sorted(Path(source).parent.glob("*.csv")):
        (folder / rename(path.name)).write_bytes(path.read_bytes())
    return folder


def test_two_resonators_in_one_folder_are_refused(tls_sweeps, tmp_path, capsys):
    """Sweeps of a 5 GHz and a 5.25 GHz resonator were fitted as one at the median 5.1 GHz, and
    --joint read their difference as a shift (a tester, session 34)."""
    folder = _copy_sweeps(tls_sweeps, tmp_path / "two")
    for path in sorted(folder.glob("*.csv"))[::2]:  # every other sweep: the second resonator
        rows = np.loadtxt(path, delimiter=",")
        rows[:, 0] *= 1.05
        np.savetxt(path, rows, delimiter=",", fmt="%.17g")
    for extra in ([], ["--joint"]):
        out = tmp_path / f"o{len(extra)}"
        status, _, err = run_cli(["--sweeps", str(folder), "--sweep-layout", "real-imag", "--out",
                                  out, *extra], capsys)
        assert status == 2 and "the sweeps look like two resonators" in err, err
        assert "(43.4 mK, 5.2499" in err and "one resonator per run" in err, err
        assert not out.exists()


def test_repeated_sweeps_and_a_single_power_are_refused_before_any_fit(tls_sweeps, tmp_path,
                                                                       capsys, monkeypatch):
    """--joint with two sweeps at one T, and --saturation with one power, were refused only after
    every sweep had been fitted, the repeat without its files (a tester, session 34)."""
    folder = _copy_sweeps(tls_sweeps, tmp_path / "rep")
    first = sorted(folder.glob("*.csv"))[0]
    (folder / (first.stem + "_repeat.csv")).write_bytes(first.read_bytes())
    import manybody.measured.resonator_table as table

    def no_fit(*args, **kwargs):
        raise AssertionError("a sweep was fitted before the refusal")

    monkeypatch.setattr(table, "fit_notch", no_fit)
    status, _, err = run_cli(["--sweeps", str(folder), "--sweep-layout", "real-imag", "--joint",
                              "--out", tmp_path / "o"], capsys)
    assert status == 2 and "2 sweeps at T = 0.02 K, -90 dBm" in err, err
    assert first.name in err and "average them first" in err
    first_only = _copy_sweeps(tls_sweeps, tmp_path / "one")
    status, _, err = run_cli(["--sweeps", str(first_only), "--sweep-layout", "real-imag",
                              "--saturation", "--out", tmp_path / "o"], capsys)
    assert status == 2 and "--saturation needs sweeps at two or more drive powers" in err, err
    assert "got power(s) -90 dBm" in err


def test_shift_curves_name_the_repeated_sweeps(tls_sweeps):
    results = fit_sweeps(sweep_files(tls_sweeps), layout="real-imag")
    twice = results + [results[0]]
    with pytest.raises(ValueError, match=r"two sweeps at T = 0\.02 K, -90 dBm: s21_-90dBm_020\.0mK"
                                         r"\.csv, s21_-90dBm_020\.0mK\.csv"):
        shift_curves(twice)


@pytest.mark.parametrize("pattern, name, words", [
    (r"_(?P<mK>\d*)mK|_(?P<dBm>-?\d+)dBm", "res_-100dBm_0.020K.csv",
     r"matches '_-100dBm' without a temperature"),
    (r"(?:_(?P<mK>\d+)mK)?", "res_-100dBm_0.020K.csv", r"matches '' without a temperature"),
    (None, "res_100dBm_20mK.csv", r"drive power 100 dBm without a sign reads as \+100 dBm"),
])
def test_sweep_names_that_give_no_temperature_or_an_unsigned_power(pattern, name, words):
    """An optional temperature group was an IndexError traceback; 'res_100dBm' (for -100 dBm)
    was fitted at +100 dBm (a tester, session 34)."""
    from manybody.measured.resonator_table import NAME_PATTERN, parse_sweep_name
    with pytest.raises(ValueError, match=words):
        parse_sweep_name(name, pattern or NAME_PATTERN)
    assert parse_sweep_name("res_+20dBm_20mK.csv") == (0.02, 20.0)
    assert parse_sweep_name("res_-100dBm_20mK.csv") == (0.02, -100.0)


def test_a_shift_in_hz_without_a_unit_is_not_a_relative_shift(tmp_path, capsys):
    """'Frequency Shift' in Hz (no unit in the header) was fitted as df/f0 = 624 (a tester)."""
    table = tmp_path / "shift_hz.csv"
    table.write_text("Temperature (mK);Frequency Shift\n100;0\n200;623.8\n300;663.1\n400;620\n"
                     "500;550\n600;480\n")
    out = tmp_path / "o"
    status, _, err = run_cli([ROOT / "data" / "resonator_nb_cpw" / "qint_160dBm.csv", "--shift",
                              table, "--frequency", "5.61989GHz", "--out", out], capsys)
    assert status == 2 and "data row 2: 623.8 is not a relative shift" in err, err
    assert not out.exists()


def _fake_results(f0s, temperatures, power=-90.0, error=1e3, qcs=None):
    from manybody.measured.resonance import _failed
    from manybody.measured.resonator_table import SweepResult
    out = []
    qcs = [4e4] * len(f0s) if qcs is None else qcs
    for k, (f0, t, qc) in enumerate(zip(f0s, temperatures, qcs, strict=True)):
        fit = _failed(f"s{k}.csv", "")
        fit = type(fit)(**{**fit.to_dict(), "f0": f0, "f0_err": error, "flag": False,
                           "qc": qc, "qc_err": 30.0})
        out.append(SweepResult(f"s{k}.csv", t, power, fit))
    return out


def test_one_resonator_is_told_from_two_by_the_shape_of_f0():
    """A kinetic-inductance fall of 2 % near Tc is one resonator (refused by the 1 % spread that
    came first); two resonators 0.33 % apart, alternating in temperature, in pairs or in blocks
    (the lower one below), are two: a reversal test between neighbours missed the pairs and the
    blocks; a TLS dip of 1e-6 is one, and so is a low-Q resonator whose f0 scatters by its errors
    of 5e-5 (fit noise tripped a bare 1e-4; a tester, session 34)."""
    from manybody.measured.resonator_table import check_one_resonator
    t = np.linspace(0.02, 0.6, 8)
    check_one_resonator(_fake_results(6e9 * (1 - 0.02 * (t / 0.6) ** 4), t))
    check_one_resonator(_fake_results(6e9 * (1 + 1e-6 * np.sin(8 * t)), t))
    noisy = 6e9 * (1 + 5e-5 * np.random.default_rng(1).standard_normal(8))
    check_one_resonator(_fake_results(noisy, t, error=5e-5 * 6e9))
    for pattern in ([0, 1] * 4, [0, 0, 1, 1] * 2, [0] * 4 + [1] * 4):
        two = 6.0e9 * (1 + 3e-3 * np.array(pattern))
        with pytest.raises(ValueError, match=r"two resonators.*f0 rises between neighbouring"):
            check_one_resonator(_fake_results(two, t))
    alternating = 6.0e9 * (1 + 3e-3 * np.array([0, 1] * 4))
    check_one_resonator(_fake_results(alternating, t), window=(0.0, 0.05))  # one sweep inside
    with pytest.raises(ValueError, match=r"one temperature, two resonance frequencies"):
        check_one_resonator(_fake_results([6.0e9, 6.1e9, 6.0e9], [0.02, 0.02, 0.05]))
    check_one_resonator(_fake_results([6.0e9, 6.0e9 + 6.0, 6.0e9], [0.02, 0.02, 0.05]))
    # the lower resonator in a block above the higher: f0 falls as kinetic inductance would; the
    # coupling tells them apart (Qc 4e4 against 2e4), and one resonator's Qc drifting by 1 % is
    # taken
    fall = 6.0e9 * (1 - 3e-3 * np.array([0] * 4 + [1] * 4))
    with pytest.raises(ValueError, match=r"two resonators.*the coupling Qc changes by more than"):
        check_one_resonator(_fake_results(fall, t, qcs=[4e4] * 4 + [2e4] * 4))
    check_one_resonator(_fake_results(fall, t, qcs=list(np.linspace(4e4, 3.96e4, 8))))


def test_unsigned_positive_powers_in_sweep_names_are_warned_about(tls_sweeps, tmp_path):
    """'res_20dBm' was taken as +20 dBm without a word (likely -20 dBm; a tester, session 34)."""
    folder = _copy_sweeps(tls_sweeps, tmp_path / "u", rename=lambda n: n.replace("-90dBm", "20dBm"))
    with pytest.warns(UserWarning, match=r"8 sweep name\(s\) state a positive drive power without "
                                         r"a sign"):
        results = fit_sweeps(sweep_files(str(folder)), layout="real-imag")
    assert {r.power for r in results} == {20.0}
    signed = _copy_sweeps(tls_sweeps, tmp_path / "s", rename=lambda n: n.replace("-90dBm", "+20dBm"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_sweeps(sweep_files(str(signed))[:2], layout="real-imag")


def test_a_kinetic_inductance_shift_of_a_few_percent_is_a_relative_shift(tmp_path):
    """|df/f0| up to 3 % (near Tc) was refused as 'not a relative shift' by a bound of 1e-2; a
    column in Hz (hundreds) is still refused (a tester, session 34)."""
    from manybody.measured.velocity import read_velocity_table
    table = tmp_path / "ki.csv"
    table.write_text("T (K),df/f0\n0.05,0\n0.3,-0.001\n0.6,-0.016\n0.7,-0.03\n")
    shift, _ = read_velocity_table(table).as_fraction()
    np.testing.assert_allclose(shift, [0, -0.001, -0.016, -0.03])
    hz = tmp_path / "hz.csv"
    hz.write_text("T (K),df/f0\n0.05,0\n0.3,620\n")
    with pytest.raises(ValueError, match=r"620 is not a relative shift"):
        read_velocity_table(hz).as_fraction()

"""``manybody fit-data --shift`` (the Nb resonator's loss and frequency shift, end to end) and
``--simulated`` (a tiny run of independent TLS through the same joint fit)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from manybody.cli import main
from manybody.laws.joint import compare_loss_shift
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.study.loss_shift import curves_from_results, parse_point

DATA = Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw"
NB = [str(DATA / "qint_160dBm.csv"), "--shift", str(DATA / "freq_shift.csv"),
      "--frequency", "5.61989GHz"]

#: Independent TLS (no coupling), 6 per realisation, 200 realisations: ~2.5 s once compiled.
SPEC = """\
name = "loss-shift-test"
seed = 7
realisations = 200
[model]
n_tls = 6
[model.tls]
asymmetry_max = 0.3
tunnelling_min = 0.001
tunnelling_max = 0.3
[model.coupling]
kind = "dipolar"
strength = 0.0
[probe]
frequencies = [0.1]
temperatures = { x_min = 0.8, x_max = 10.0, count = 12 }
observables = ["absorption", "velocity_shift"]
[probe.broadening]
kind = "gaussian"
width = 0.01
"""


def run_cli(args, capsys):
    status = main(["fit-data", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_nb_loss_and_shift_end_to_end(tmp_path, capsys):
    out = tmp_path / "nb"
    status, stdout, err = run_cli([*NB, "--tmax", "1.2", "--out", out], capsys)
    assert status == 0, err
    for section in ("[loss]", "[shift]", "[joint]", "Kramers-Kronig consistency"):
        assert section in stdout
    names = {p.name for p in out.iterdir()}
    assert names == {"loss_shift_fit.png", "loss_shift_fit.pdf", "loss_shift_results.json",
                     "loss_shift_table.txt"}
    record = json.loads((out / "loss_shift_results.json").read_text())
    assert record["schema"] == "manybody.fit-data-loss-shift/1"
    assert len(record["inputs"]) == 2 and all(len(i["sha256"]) == 64 for i in record["inputs"])
    joint = record["comparison"]["joint"]
    assert set(joint["fits"]) == {"tls", "generic", "family"}
    # 17 rows up to 1.2 K: 12 loss points and 12 shift points fitted together
    assert joint["fits"]["tls"]["n_points"] == 24
    assert record["data"]["shift"]["temperature_K"][0] == pytest.approx(0.1)
    # refuses to overwrite
    status, _, err = run_cli([*NB, "--out", out], capsys)
    assert status == 2 and "--overwrite" in err


@pytest.mark.parametrize(("extra", "message"), [
    (["--simulate", "5"], "--simulate does not apply"),
    (["--simulate", "5", "--margin", "2"], "--simulate and --margin do not apply to the joint "
                                           "loss + shift fit (--shift/--joint/--simulated)"),
    (["--quasiparticle", "mattis-bardeen"], "--quasiparticle mattis-bardeen"),
    (["--point", "frequency=0.1"], "--point applies to --simulated only"),
    (["--simulated"], "exclude each other"),
    (["--band", "1.5,3"], "--band edges must satisfy"),
    (["--band", "0;3"], "--band must be two comma-separated numbers"),
])
def test_options_the_joint_fit_refuses(extra, message, tmp_path, capsys):
    status, _, err = run_cli([*NB, *extra, "--out", tmp_path / "o"], capsys)
    assert status == 2 and message in err
    # the quasiparticle clause ended every conflict's message (session 35)
    assert ("quasiparticle term" in err) == ("--quasiparticle" in extra), err
    assert not (tmp_path / "o").exists()


def test_band_without_the_joint_fit_is_refused(tmp_path, capsys):
    status, _, err = run_cli([NB[0], "--frequency", "5.61989GHz", "--band", "0,5", "--out",
                              tmp_path / "o"], capsys)
    assert status == 2 and "--band and --point apply to the joint fit only" in err


def test_shift_needs_a_frequency(tmp_path, capsys):
    status, _, err = run_cli([NB[0], "--shift", NB[2], "--out", tmp_path / "o"], capsys)
    assert status == 2 and "--frequency is required with --shift" in err


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("run") / "tiny.nc"
    spec = tmp_path_factory.mktemp("spec") / "spec.toml"
    spec.write_text(SPEC)
    run_sweep(RunSpec.from_toml(spec), output=path, n_jobs=1)
    return path


def test_independent_tls_simulated_prefers_tls_jointly(tiny_run):
    """The simulated absorption (pi C0 tanh(x/2)) and velocity shift (C0 times the digamma law) of
    independent TLS: the joint fit prefers tanh(x/2), and the amplitude of the shift alone agrees
    with that of the loss (Kramers-Kronig) within its error."""
    import manybody

    loss, shift, w, point = curves_from_results(manybody.load_results(tiny_run))
    assert w == pytest.approx(0.1) and point["realisations"] == 200
    cmp = compare_loss_shift([loss], shift, w, background=False)
    joint = cmp.verdicts["joint"]
    assert joint.preferred == "tls" and joint.delta_aic > 6
    assert abs(joint.index - 1.0) < 2 * joint.index_error
    a_loss = cmp.fits["loss"]["tls"].fit
    a_shift = cmp.fits["shift"]["tls"].fit
    diff = a_shift.parameters["amplitude"] - a_loss.parameters["amplitude"]
    assert abs(diff) < 2 * math.hypot(a_shift.errors["amplitude"], a_loss.errors["amplitude"])


def test_simulated_through_the_command(tiny_run, tmp_path, capsys):
    out = tmp_path / "sim"
    status, stdout, err = run_cli([tiny_run, "--simulated", "--no-background", "--out", out],
                                  capsys)
    assert status == 0, err
    record = json.loads((out / "loss_shift_results.json").read_text())
    assert record["inputs"][0]["point"]["frequency"] == pytest.approx(0.1)
    assert record["comparison"]["joint"]["verdict"]["preferred"] == "tls"
    # the points share their realisations: the fit's errors take them as independent and were
    # printed without a word (about 2.4x small at N = 12; a new user, session 35); the index's
    # spread over resamples of the realisations is printed and recorded beside them
    spread = record["index_spread_over_realisations"]
    assert spread["resamples"] == 100 and 0.5 < spread["median_correlation"] <= 1.0
    # with the Kramers-Kronig ratio's spread since session 47 (its error was 2x small too)
    assert set(spread["index_spread"]) == {"loss", "shift", "joint", "kramers_kronig_ratio_tls"}
    assert all(0 < value < 5 for value in spread["index_spread"].values())
    assert "correlated points: the 200 realisations are shared by every temperature" in stdout
    assert "_per_realisation" not in record["inputs"][0]
    status, _, err = run_cli([tiny_run, "--simulated", "--point", "frequency=0.2", "--out",
                              tmp_path / "x"], capsys)
    assert status == 2 and "not on the axis" in err
    status, _, err = run_cli([tiny_run, "--simulated", "--frequency", "5GHz", "--out",
                              tmp_path / "y"], capsys)
    assert status == 2 and "--frequency does not apply to --simulated" in err
    # a drive power has no meaning for a results file: named, not passed over (session 38)
    status, _, err = run_cli([tiny_run, "--simulated", "--saturation", "--powers", "-20", "--out",
                              tmp_path / "z"], capsys)
    assert status == 2 and "--saturation and --powers do not apply to --simulated" in err
    status, _, err = run_cli([tiny_run, "--simulated", "--error-column", "dQ", "--error-model",
                              "absolute", "--out", tmp_path / "w"], capsys)
    assert status == 2 and ("--error-column, --error-model absolute do not apply to --simulated"
                            in err)


def test_point_parsing_and_missing_variables(tiny_run):
    import manybody

    assert parse_point("coupling_strength=0.02, frequency=0.1") == {
        "coupling_strength": 0.02, "frequency": 0.1}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_point("coupling_strength")
    assert parse_point("coupling_kind=gaussian") == {"coupling_kind": "gaussian"}
    with pytest.raises(ValueError, match="--point frequency needs a value"):
        parse_point("frequency=")
    # session 31: 'n_tls=3,n_tls=4' took the last value; nan matched nothing later
    with pytest.raises(ValueError, match=r"--point gives n_tls twice \('n_tls=3, n_tls=4'\)"):
        parse_point("n_tls=3, n_tls=4")
    with pytest.raises(ValueError, match="--point frequency must be a finite number, got 'nan'"):
        parse_point("frequency=nan")
    ds = manybody.load_results(tiny_run)
    with pytest.raises(ValueError, match="no velocity_shift"):
        curves_from_results(ds.drop_vars("velocity_shift"))
    with pytest.raises(ValueError, match="not axes of the results file"):
        curves_from_results(ds, {"coupling_strength": 0.0})
    two = ds.isel(realisation=slice(0, 1))
    with pytest.raises(ValueError, match="at least 2 finished realisations"):
        curves_from_results(two)
    assert np.isfinite(curves_from_results(ds)[0].loss).all()
    with pytest.raises(ValueError, match=r"--point frequency must be a number \(K\), got "
                       r"'high'"):
        curves_from_results(ds, parse_point("frequency=high"))


def test_a_point_on_an_axis_of_names(tiny_run):
    """A run sweeping coupling_kind could not be fitted: --point coupling_kind=gaussian was "must
    be a number", =1 numpy's UFuncTypeError (session 33)."""
    import xarray as xr

    import manybody

    ds = manybody.load_results(tiny_run)
    kinds = xr.DataArray(["dipolar", "gaussian"], dims="coupling_kind", name="coupling_kind")
    both = xr.concat([ds, ds * 2.0], dim=kinds, data_vars="all")
    with pytest.raises(ValueError, match=r"'coupling_kind' has 2 values"):
        curves_from_results(both)
    loss, _, _, chosen = curves_from_results(both, parse_point("coupling_kind=gaussian"))
    assert chosen["coupling_kind"] == "gaussian" and "coupling_kind=gaussian" in loss.label
    np.testing.assert_allclose(loss.loss, 2.0 * curves_from_results(ds)[0].loss)
    with pytest.raises(ValueError, match=r"--point coupling_kind=1.0 is not on the axis; its "
                       r"values: \['dipolar', 'gaussian'\]"):
        curves_from_results(both, parse_point("coupling_kind=1"))


def test_every_open_axis_is_named_at_once_and_the_spec_keys_are_taken(tiny_run):
    """A run sweeping two axes was refused one axis per try, and the spec's own key
    (model.coupling.kind) was "not an axis" (a new user, session 37)."""
    import xarray as xr

    import manybody

    ds = manybody.load_results(tiny_run)
    kinds = xr.DataArray(["dipolar", "gaussian"], dims="coupling_kind", name="coupling_kind")
    widths = xr.DataArray([0.1, 0.2], dims="broadening_width", name="broadening_width")
    both = xr.concat([xr.concat([ds, ds * 2.0], dim=kinds, data_vars="all")] * 2, dim=widths,
                     data_vars="all")
    with pytest.raises(ValueError, match=r"'broadening_width' has 2 values \[0.1, 0.2\]; "
                       r"'coupling_kind' has 2 values .*e.g. --point "
                       r"broadening_width=VALUE,coupling_kind=VALUE"):
        curves_from_results(both)
    with pytest.raises(ValueError, match=r"'broadening_width' has 2 values"):
        curves_from_results(both, parse_point("model.coupling.kind=gaussian"))
    loss, _, _, chosen = curves_from_results(both, parse_point(
        "model.coupling.kind=gaussian, probe.broadening.width=0.2"))
    assert chosen["coupling_kind"] == "gaussian" and chosen["broadening_width"] == 0.2
    np.testing.assert_allclose(loss.loss, 2.0 * curves_from_results(ds)[0].loss)


def test_a_temperature_where_almost_no_realisation_absorbs_is_fitted(tiny_run, tmp_path, capsys):
    """With few realisations the mean's error where (nearly) none absorbs is ~1e-10 of the
    others: the curve (and any bootstrap resample like it) was refused with advice about the
    units of measured errors and nothing was fitted (a new user, session 37). The errors are
    floored at 1e-6 of the largest, as the study's weights are, and resamples that still cannot
    be fitted are counted and said."""

    import manybody
    from manybody.study.loss_shift import curves_from_realisations, index_spread

    t = np.array([0.01, 0.02, 0.05, 0.1, 0.2])
    loss = np.tile([1.0, 2.0, 3.0, 4.0, 5.0], (6, 1)) * np.linspace(0.8, 1.2, 6)[:, None]
    loss[:, 0] = 0.0
    loss[0, 0] = 1e-9  # one realisation absorbs at the lowest temperature, barely
    shift = -np.log(t)[None, :] * np.linspace(0.9, 1.1, 6)[:, None]
    curve, sh = curves_from_realisations(t, loss, shift, "few")
    assert curve.sigma[0] == pytest.approx(curve.sigma.max() * 1e-6)
    spread, skipped = index_spread(t, loss, shift, 0.1, {}, n_resamples=5)
    assert 0 <= skipped <= 5
    ds = manybody.load_results(tiny_run).isel(realisation=slice(0, 6)).copy(deep=True)
    ds["absorption"][dict(temperature=0)] = 0.0
    ds["absorption"][dict(realisation=0, temperature=0)] = 1e-12
    path = tmp_path / "few.nc"
    ds.to_netcdf(path)
    status, stdout, err = run_cli([path, "--simulated", "--out", tmp_path / "o"], capsys)
    assert status == 0, err
    assert "resamples of the realisations" in stdout


def test_command_names_the_modes_of_the_library():
    from manybody.cli import fit_loss_shift
    from manybody.laws import joint

    assert fit_loss_shift.MODES == joint.MODES


@pytest.mark.slow
def test_systematics_script_tiny(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "scripts/nb_loss_shift_systematics.py", "--powers",
                           "160", "--tmax", "1.0", "--no-saturation", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=DATA.parents[1], timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads((tmp_path / "systematics.json").read_text())["rows"]
    assert [(r["tmax"], r["quasiparticle"]) for r in rows] == [(1.0, None), (1.0, "exp"),
                                                                (None, "exp")]
    assert (tmp_path / "systematics.md").read_text().count("| qint_160dBm |") == 3


def test_shift_with_errors_beside_loss_without_is_refused(tmp_path, capsys):
    table = tmp_path / "shift.csv"
    table.write_text("T (K),df/f,sigma\n" + "".join(
        f"{t:.1f},{1e-7 * math.log(t):.4g},1e-8\n" for t in np.arange(0.1, 1.05, 0.1)))
    status, _, err = run_cli([NB[0], "--shift", table, "--frequency", "5.61989GHz", "--out",
                              tmp_path / "o"], capsys)
    assert status == 2 and "needs errors in every file or in none" in err
    assert str(table) in err and NB[0] in err and "--error-column none" in err
    # --error-column none ignores the shift file's errors too (it applied to the loss only)
    status, _, err = run_cli([NB[0], "--shift", table, "--frequency", "5.61989GHz", "--out",
                              tmp_path / "o", "--error-column", "none"], capsys)
    assert status == 0, err


def _scaled_shift(tmp_path: Path, header: str, factor: float) -> Path:
    """The Nb shift table with its values divided by ``factor`` under ``header``."""
    lines = (DATA / "freq_shift.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    rows = []
    for line in lines:
        t, value = line.split(";")
        rows.append(f"{t},{float(value.replace(',', '.')) / factor!r}")
    path = tmp_path / f"shift_{factor:g}.csv"
    path.write_text(f"T (mK),{header}\n" + "\n".join(rows) + "\n")
    return path


def test_shift_in_ppm_or_percent_gives_the_fit_of_plain_numbers(tmp_path, capsys):
    """A 'df/f (ppm)' column was read as plain numbers by the joint fit: a shift/loss ratio of
    10^6 and a confident verdict (session 25). Now ppm, % and powers of ten are converted."""
    plain = _scaled_shift(tmp_path, "df/f", 1.0)
    results = {}
    for name, path in (("plain", plain), ("ppm", _scaled_shift(tmp_path, "df/f (ppm)", 1e-6)),
                       ("percent", _scaled_shift(tmp_path, "df/f (%)", 1e-2)),
                       ("power", _scaled_shift(tmp_path, "df/f (1e-7)", 1e-7))):
        out = tmp_path / name
        status, _, err = run_cli([NB[0], "--shift", path, "--frequency", "5.61989GHz",
                                  "--tmax", "1.2", "--out", out], capsys)
        assert status == 0, err
        record = json.loads((out / "loss_shift_results.json").read_text())
        fit = record["comparison"]["joint"]["fits"]["tls"]
        results[name] = fit["parameters"]
    for name in ("ppm", "percent", "power"):
        for key, value in results["plain"].items():
            assert results[name][key] == pytest.approx(value, rel=1e-6, abs=1e-12), (name, key)


def test_shift_in_hertz_is_divided_by_the_frequency(tmp_path, capsys):
    """A shift in Hz was refused by --shift ("to be divided by f0") although --frequency was
    given and --velocity read it (helper-181): it is df/f0 = df/--frequency, the same fit."""
    results = {}
    for name, path in (("plain", _scaled_shift(tmp_path, "df/f", 1.0)),
                       ("hz", _scaled_shift(tmp_path, "frequency shift (Hz)", 1 / 5.61989e9)),
                       ("khz", _scaled_shift(tmp_path, "f0 - f (kHz)", -1 / 5.61989e6))):
        out = tmp_path / name
        status, _, err = run_cli([NB[0], "--shift", path, "--frequency", "5.61989GHz",
                                  "--tmax", "1.2", "--out", out], capsys)
        assert status == 0, err
        record = json.loads((out / "loss_shift_results.json").read_text())
        results[name] = record["comparison"]["joint"]["fits"]["tls"]["parameters"]
    for name in ("hz", "khz"):
        for key, value in results["plain"].items():
            assert results[name][key] == pytest.approx(value, rel=1e-6, abs=1e-12), (name, key)


def test_shift_file_missing_is_refused_in_words(tmp_path, capsys):
    status, _, err = run_cli([NB[0], "--shift", tmp_path / "nope.csv", "--frequency",
                              "5.61989GHz", "--out", tmp_path / "o"], capsys)
    assert status == 2 and "--shift" in err and "nope.csv" in err and "not a readable file" in err
    assert not (tmp_path / "o").exists()


def _without_powers(tmp_path: Path, name: str) -> Path:
    """A Nb loss table with its power column removed, under a name stating no power."""
    lines = (DATA / name).read_text(encoding="utf-8-sig").splitlines()
    rows = [";".join(cells[:1] + cells[2:]) for cells in (line.split(";") for line in lines)]
    path = tmp_path / f"res{'AB'[name != 'qint_80dBm.csv']}.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_several_loss_curves_without_powers_do_not_pick_the_shift_partner_by_name(tmp_path,
                                                                                  capsys):
    """The shift shares the amplitude of the lowest-power curve; without powers the curve first
    by file name was taken (a saturated one: Kramers-Kronig ratio 2.5, "neither law"; a new
    user, session 35). Refused, naming the way out; with --powers it runs."""
    high = _without_powers(tmp_path, "qint_80dBm.csv")  # resA: first by name
    low = _without_powers(tmp_path, "qint_160dBm.csv")
    args = [high, low, "--shift", DATA / "freq_shift.csv", "--frequency", "5.61989GHz",
            "--tmax", "1.2", "--out", tmp_path / "o"]
    status, _, err = run_cli(args, capsys)
    assert status == 2 and "have no drive power: give the powers" in err, err
    assert not (tmp_path / "o").exists()
    status, _, err = run_cli([*args, "--powers=-80,-160"], capsys)
    assert status == 0, err


def test_a_shift_table_with_a_temperature_twice_is_refused(tmp_path, capsys):
    """Exact copies and a conflicting repeat in the --shift table went in without a word (a new
    user, session 35), while --velocity refused them."""
    lines = (DATA / "freq_shift.csv").read_text(encoding="utf-8-sig").splitlines()
    shift = tmp_path / "shift.csv"
    shift.write_text("\n".join([*lines, lines[3]]) + "\n")
    status, _, err = run_cli([DATA / "qint_160dBm.csv", "--shift", shift, "--frequency",
                              "5.61989GHz", "--out", tmp_path / "o"], capsys)
    assert status == 2 and "appears more than once" in err and "shift.csv" in err, err


def test_a_kramers_kronig_ratio_far_from_one_points_at_the_units(tmp_path, capsys):
    """A shift in MHz without a unit passed the |df/f0| < 0.1 guard and gave a ratio of 5150
    with no hint (a new user, session 35)."""
    lines = (DATA / "freq_shift.csv").read_text(encoding="utf-8-sig").splitlines()
    rows = [line.split(";") for line in lines[1:]]
    shift = tmp_path / "shift.csv"
    shift.write_text("Temperature (mK);Frequency Shift\n" + "".join(
        f"{t};{float(value.replace(',', '.')) * 5.62e3!r}\n" for t, value in rows))  # MHz
    status, stdout, err = run_cli([*NB[:1], "--shift", shift, *NB[3:], "--tmax", "1.2",
                                   "--out", tmp_path / "o"], capsys)
    assert status == 0, err
    assert "is more likely a unit than physics" in stdout
    status, stdout, _ = run_cli([*NB, "--tmax", "1.2", "--out", tmp_path / "p"], capsys)
    assert "more likely a unit" not in stdout


def test_a_shift_of_flipped_sign_is_told_in_the_shift_s_words(tmp_path, capsys):
    """The shift fit alone called a flipped shift 'negative amplitude (loss rising with
    temperature)' (a new user, session 35)."""
    lines = (DATA / "freq_shift.csv").read_text(encoding="utf-8-sig").splitlines()
    rows = [line.split(";") for line in lines[1:]]
    shift = tmp_path / "flipped.csv"
    shift.write_text("Temperature (mK);Frequency Shift\n" + "".join(
        f"{t};{-float(value.replace(',', '.'))!r}\n" for t, value in rows))
    status, stdout, err = run_cli([*NB[:1], "--shift", shift, *NB[3:], "--tmax", "1.2",
                                   "--out", tmp_path / "o"], capsys)
    assert status == 0, err
    shift_part = stdout.split("[shift]")[1].split("[joint]")[0]
    assert "opposite sign to the law's partner" in shift_part
    assert "loss rising with temperature" not in shift_part

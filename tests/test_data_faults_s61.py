"""Break test bt213 of ``manybody fit-data`` on power, shift and foreign tables (fixed by bt214).

F1: a saturated lowest-power loss curve under ``--shift``: a Kramers-Kronig ratio 22 errors from 1
    was printed without a word and the joint verdict "TLS (tanh)" stood;
F2: the refusal of a shift in Hz without its unit told a ``--shift`` user to divide by f0 (the
    command divides by --frequency), and the README said a shift in Hz is refused;
F3: one temperature per power under ``--saturation`` was advised ``--power-column none``;
F4: the uneven-scatter warning proposed the critical-power law already in use;
F5: ``--power-sweep``'s 0.1 % temperature matching was not in the README and its refusal advised
    interpolating, which the module itself declines to do;
F6: "temperatures common to all files" for a single long-format file.
"""

from __future__ import annotations

import json
import math
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.special import digamma

from manybody.cli import main
from manybody.laws.fit import fit_joint
from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.laws.joint import (
    KK_MARGIN,
    KK_SIGMA,
    _ratio_inconsistent,
    compare_loss_shift,
    kramers_kronig,
)
from manybody.laws.verdict import NEITHER, TLS
from manybody.measured.comparison import _warn_uneven_scatter
from manybody.measured.power_sweep import power_sweep
from manybody.measured.tables import curves_from_table, read_loss_table
from manybody.measured.velocity import read_velocity_table

README = Path(__file__).resolve().parents[1] / "README.md"
H, KB = 6.62607015e-34, 1.380649e-23
W = H * 5e9 / KB  # 5 GHz in K
TEMPS = np.array([15, 20, 25, 30, 40, 50, 60, 70, 80, 100, 120, 150, 200, 250, 300, 400]) * 1e-3
POWERS = (-110, -100, -90, -80)


def _loss(t, power, pc=-110.0, f_delta=1e-5, background=2e-6):
    """tanh loss saturated as 1/sqrt(1 + P/Pc)."""
    return f_delta * np.tanh(W / t / 2) / np.sqrt(1 + 10 ** ((power - pc) / 10)) + background


def _shift(t, f_delta=1e-5):
    """The digamma partner of the tanh loss."""
    x = W / t
    return (f_delta / np.pi) * (np.real(digamma(0.5 + x / (2j * np.pi))) - np.log(x / (2 * np.pi)))


def _tables(tmp_path: Path, pc: float = -110.0) -> tuple[list[str], str]:
    """Four loss tables (Qi, power column) and a shift table in ppm; pc = -110 dBm puts the lowest
    power at Pc (its amplitude F/sqrt 2): bt213's mk8.py."""
    rng = np.random.default_rng(8)
    files = []
    for p in POWERS:
        loss = _loss(TEMPS, p, pc) * (1 + 0.01 * rng.standard_normal(TEMPS.size))
        path = tmp_path / f"k_{abs(p)}dBm.csv"
        path.write_text("T (mK),Qi,power (dBm)\n" + "".join(
            f"{t * 1e3:g},{1 / q:.7e},{p}\n" for t, q in zip(TEMPS, loss, strict=True)))
        files.append(str(path))
    s = _shift(TEMPS)
    s = s - s[0] + 2e-8 * rng.standard_normal(TEMPS.size)
    shift = tmp_path / "k_shift.csv"
    shift.write_text("T (mK),df/f0 (ppm)\n" + "".join(
        f"{t * 1e3:g},{v * 1e6:.8g}\n" for t, v in zip(TEMPS, s, strict=True)))
    return files, str(shift)


@pytest.mark.parametrize(("ratio", "error", "bad"), [
    (1.407, 0.018, True),     # bt213 F1: 22 errors and beyond the margin
    (-2.28, 0.10, True),      # the Al data: a sign apart
    (1.20, 0.01, False),      # 20 errors, but inside the margin 1.25
    (1.40, 0.20, False),      # beyond the margin, but 2 errors
    (0.70, 0.05, True),       # below 1/1.25 by 6 errors
    (math.nan, 0.1, False),   # no loss amplitude: not assessable
])
def test_kramers_kronig_criterion(ratio, error, bad):
    """F1: a ratio is inconsistent with 1 beyond KK_SIGMA errors AND a factor KK_MARGIN."""
    assert (KK_SIGMA, KK_MARGIN) == (3.0, 1.25)
    assert _ratio_inconsistent(ratio, error) is bad


def _curves(files):
    return [c for f in files for c in curves_from_table(read_loss_table(f))]


def test_saturated_partner_withholds_the_joint_verdict(tmp_path):
    """F1: the lowest power at Pc: ratio 1.41 +- 0.02, the joint verdict "neither law", no law
    preferred, the reason naming the disagreement; the loss and shift verdicts stand."""
    files, shift_file = _tables(tmp_path)
    st = read_velocity_table(shift_file)
    shift = ShiftCurve(st.temperature, st.as_fraction(None)[0], None, st.label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = compare_loss_shift(_curves(files), shift, W)
    kk = cmp.kramers_kronig
    ratio, error = kk.ratios["tls"]
    assert ratio == pytest.approx(1.41, abs=0.03) and error < 0.03
    assert kk.consistent is False and kk.inconsistent == {"tls": True, "generic": True}
    assert kk.shift_scatter_ratio["tls"] > 5  # the joint fit misfits the shift (9x)
    joint = cmp.verdicts["joint"]
    assert joint.verdict == NEITHER and joint.preferred is None and joint.evidence == "none"
    assert joint.reason.startswith("loss and shift disagree on F delta0")
    assert cmp.verdicts["shift"].verdict == TLS  # the shift alone stands
    # kramers_kronig is the same function of the fits
    assert kramers_kronig(cmp.fits).ratios == kk.ratios


def test_saturated_partner_warned_with_hints_in_table_and_json(tmp_path, capsys):
    """F1 through the command: the warning with the hint --saturation, the joint verdict withheld
    ("evidence not weighed"), the hints in the results JSON; with --saturation the ratio is 1
    and the joint verdict TLS (tanh)."""
    files, shift = _tables(tmp_path)
    out = tmp_path / "k1"
    assert main(["fit-data", *files, "--shift", shift, "--frequency", "5GHz",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    joint = text.split("[joint]")[1]
    assert "evidence not weighed); verdict: neither law" in joint
    assert "warning: loss and shift disagree on F delta0" in text
    assert "with the power tables try --saturation" in text
    assert "'k_110dBm'" in text.split("Likely causes")[1]
    record = json.loads((out / "loss_shift_results.json").read_text())
    kk = record["kramers_kronig"]
    assert kk["consistent"] is False and kk["ratios"]["tls"]["inconsistent"] is True
    assert any("--saturation" in h for h in kk["hints"])
    assert record["comparison"]["joint"]["verdict"]["verdict"] == NEITHER
    out2 = tmp_path / "k2"
    assert main(["fit-data", *files, "--shift", shift, "--frequency", "5GHz", "--saturation",
                 "--out", str(out2)]) == 0
    text = capsys.readouterr().out
    assert "disagree" not in text and "verdict: TLS (tanh)" in text.split("[joint]")[1]
    kk = json.loads((out2 / "loss_shift_results.json").read_text())["kramers_kronig"]
    assert kk["consistent"] is True and kk["hints"] == []
    assert kk["ratios"]["tls"]["ratio"] == pytest.approx(1.0, abs=0.08)


def test_shift_in_hz_without_unit_names_frequency_division(tmp_path):
    """F2: the refusal of a bare 'df' in Hz says --shift divides a shift with its unit by
    --frequency (not "dividing by f0" by hand); the README no longer says (Hz) is refused."""
    path = tmp_path / "df.csv"
    path.write_text("T (K),df\n" + "".join(f"{t},{-50.0 * i}\n" for i, t in enumerate(TEMPS)))
    with pytest.raises(ValueError, match=r"'df \(Hz\)', 'f - f0 \(kHz\)'; fit-data --shift then "
                                         r"divides it by --frequency into df/f0\)") as info:
        read_velocity_table(path).as_fraction(None)
    assert "dividing by f0" not in str(info.value)
    text = " ".join(README.read_text().split())
    assert "any other unit (`(Hz)`) is refused" not in text
    assert "(`df (Hz)`, `f − f0 (kHz)`) is divided by `--frequency`" in text


def test_one_temperature_per_power_points_to_power_sweep():
    """F3: nine powers at one temperature under saturation: the refusal names --power-sweep and
    not --power-column none; curves of different single temperatures keep the split hint."""
    same = [LossCurve(np.array([0.1]), np.array([_loss(0.1, p)]), power=float(p))
            for p in range(-150, -60, 10)]
    with pytest.raises(ValueError, match=r"each curve holds the one temperature 0.1 K at its own "
                                         r"drive power: .* fitted by fit-data --power-sweep") as e:
        fit_joint(same, W, law="family", saturation=True)
    assert "--power-column none" not in str(e.value)
    split = [LossCurve(np.array([t]), np.array([_loss(t, -100.0 + 0.01 * i)]),
                       power=-100.0 + 0.01 * i) for i, t in enumerate(TEMPS[:9])]
    with pytest.raises(ValueError, match=r"fit-data --power-column none reads none"):
        fit_joint(split, W, law="family")


@pytest.mark.parametrize(("used", "proposed"), [("constant", "power or standard"),
                                                ("power", "constant or standard"),
                                                ("standard", "constant or power")])
def test_uneven_scatter_warning_proposes_the_other_laws(used, proposed):
    """F4: the warning names the critical-power laws other than the one fitted."""
    curves = [LossCurve(TEMPS, _loss(TEMPS, p), power=float(p)) for p in POWERS]
    fit = types.SimpleNamespace(curve_scatter=[0.002, 0.05, 0.002, 0.05], curves=curves,
                                parameters=dict.fromkeys("abcde", 1.0),
                                options={"critical_power_law": used})
    with pytest.warns(UserWarning, match="Bartlett") as caught:
        _warn_uneven_scatter(fit)
    message = [str(w.message) for w in caught if "Bartlett" in str(w.message)][0]
    assert f"critical_power_law = {used!r}" in message
    assert f"try --critical-power-law {proposed})" in message


def test_power_sweep_tolerance_stated_and_advice_consistent():
    """F5: the refusal of jittered temperatures explains why there is no interpolation and how to
    put the curves on common setpoints; the README's --power-sweep text states the 0.1 % rule."""
    rng = np.random.default_rng(4)
    curves = []
    for p in (-130, -110, -90, -70):
        t = TEMPS * (1 + 0.01 * rng.standard_normal(TEMPS.size))
        curves.append(LossCurve(t, _loss(t, p), power=float(p), label=f"p{abs(p)}"))
    with pytest.raises(ValueError, match=r"matched within 0\.1% .* the fit does not interpolate "
                                         r".* write each reading as its setpoint") as info:
        power_sweep(curves)
    assert "interpolate them onto one grid" not in str(info.value)
    text = " ".join(README.read_text().split())
    assert ("`--power-sweep` fits Pc per temperature, at the temperatures every power's curve "
            "holds (two are the same within 0.1 % relative;") in text


def test_single_long_file_power_sweep_says_powers_not_files(tmp_path, capsys):
    """F6: one long-format file: "temperatures common to all 4 powers", not "all files"; the JSON
    likewise."""
    rows = [f"{t},{1 / _loss(t, p, pc=-100):.7e},{p}" for p in (-130, -110, -90, -70)
            for t in TEMPS]
    path = tmp_path / "long.csv"
    path.write_text("T (K),Qi,P (dBm)\n" + "\n".join(rows) + "\n")
    out = tmp_path / "ps"
    assert main(["fit-data", str(path), "--power-sweep", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "(temperatures common to all 4 powers, matched within 0.1%; no interpolation)" in text
    assert "all files" not in text
    record = json.loads((out / "saturation_results.json").read_text())
    assert record["options"]["temperatures"] == ("common to all powers (relative tolerance "
                                                 "0.001), no interpolation")


def test_nb_single_file_joint_stays_undecided_when_withheld(tmp_path, capsys):
    """F1 on the shipped Nb data (ratio 2.05 +- 0.29, generic 3.0 +- 0.4): the joint verdict,
    undecided already, stays "undecided" (the data cannot tell), no law preferred, and the
    warning names the verdict it prints, not "neither law"."""
    data = README.parent / "data" / "resonator_nb_cpw"
    assert main(["fit-data", str(data / "qint_160dBm.csv"), "--shift", str(data / "freq_shift.csv"),
                 "--frequency", "5.61989GHz", "--tmax", "1.0", "--out", str(tmp_path / "nb")]) == 0
    text = capsys.readouterr().out
    assert "evidence not weighed); verdict: undecided" in text.split("[joint]")[1]
    assert "the joint verdict is withheld (undecided, evidence not weighed)" in text
    assert "a saturated drive" in text


def _single(tmp_path: Path, scale: float, header: str = "df/f0 (ppm)", factor: float = 1e6,
            f_delta: float = 1e-5) -> tuple[str, str]:
    """One unsaturated tanh loss table (1 % noise) and its digamma shift times ``scale`` (2e-9
    noise), written under ``header`` times ``factor``."""
    rng = np.random.default_rng(3)
    loss = _loss(TEMPS, -150, f_delta=f_delta) * (1 + 0.01 * rng.standard_normal(TEMPS.size))
    path = tmp_path / "k_150dBm.csv"
    path.write_text("T (mK),Qi\n" + "".join(
        f"{t * 1e3:g},{1 / q:.7e}\n" for t, q in zip(TEMPS, loss, strict=True)))
    s = scale * _shift(TEMPS, f_delta)
    s = s - s[0] + 2e-9 * f_delta / 1e-5 * rng.standard_normal(TEMPS.size)
    shift = tmp_path / "k_shift.csv"
    shift.write_text(f"T (mK),{header}\n" + "".join(
        f"{t * 1e3:g},{v * factor:.8g}\n" for t, v in zip(TEMPS, s, strict=True)))
    return str(path), str(shift)


def _joint_text(capsys, tmp_path, loss: str, shift: str) -> str:
    assert main(["fit-data", loss, "--shift", shift, "--frequency", "5GHz",
                 "--out", str(tmp_path / "o")]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("scale, saturation_named", [(-1.0, False), (0.5, False), (2.0, True)])
def test_saturation_is_named_a_cause_only_for_a_ratio_above_1(tmp_path, capsys, scale,
                                                              saturation_named):
    """Saturation lowers the loss's amplitude, so it can only raise the ratio: the Al data's
    ratio -2.28 was told "a saturated drive ... (ratio above 1)" (session 61). One unsaturated
    loss table with a shift of the wrong sign, half or twice the partner's size."""
    causes = _joint_text(capsys, tmp_path, *_single(tmp_path, scale)).split("Likely causes")[1]
    assert ("a saturated drive" in causes) is saturation_named, causes
    assert ("a negative ratio" in causes) is (scale < 0), causes


def test_a_ratio_many_errors_from_1_inside_the_margin_is_noted(tmp_path, capsys):
    """A shift 15 % too large: ratio 1.15 +- 0.01, inside the factor 1.25, turned two TLS
    verdicts into a joint "beyond TLS" without a word (bt216 F5): a note says the shared
    amplitude can pull the joint index; the verdict is not withheld."""
    text = _joint_text(capsys, tmp_path, *_single(tmp_path, 1.15))
    assert "note: the Kramers-Kronig ratio of tls (1.1" in text, text
    assert "inside the factor 1.25 the check allows" in text and "withheld" not in text, text
    record = json.loads((tmp_path / "o" / "loss_shift_results.json").read_text())
    assert record["kramers_kronig"]["tension"].startswith("the Kramers-Kronig ratio of tls")


def test_a_consistent_ratio_gets_no_note(tmp_path, capsys):
    text = _joint_text(capsys, tmp_path, *_single(tmp_path, 1.0))
    assert "note: the Kramers-Kronig" not in text and "Likely causes" not in text, text


def test_ppm_without_its_scale_is_named_and_no_physical_cause_is_listed(tmp_path, capsys):
    """A shift in ppm under 'df/f0' (ratio 1e6): the note named units of frequency only, and
    "a saturated drive" was listed as a likely cause (bt216 F6)."""
    text = _joint_text(capsys, tmp_path, *_single(tmp_path, 1.0, header="df/f0", f_delta=3e-7))
    assert "The ratio is near 1e6: a shift in ppm (1e-6) written without its scale" in text, text
    causes = text.split("Likely causes")[1]
    assert "a unit or scale" in causes and "saturated" not in causes, causes


def test_a_power_sweep_refusal_does_not_advise_power_column_none(tmp_path, capsys):
    """--power-sweep on one long file of jittered readings was told '--power-column none reads
    none', which --power-sweep then refuses (bt216 F7)."""
    rng = np.random.default_rng(4)
    rows = [f"{t * 1e3 * (1 + 0.003 * rng.standard_normal()):.5g},{1 / _loss(t, p):.6e},{p}"
            for p in POWERS for t in TEMPS]
    path = tmp_path / "long.csv"
    path.write_text("T (mK),Qi,power (dBm)\n" + "\n".join(rows) + "\n")
    assert main(["fit-data", str(path), "--power-sweep", "--frequency", "5GHz",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no temperature common to all 4 curves" in err, err
    assert "--power-column none" not in err, err

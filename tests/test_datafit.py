"""Fitting measured loss Q^-1(T): reader, laws, uncertainties, model comparison, CLI (issue 8)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from manybody.laws.fit import fit_joint, fit_law, fit_loss
from manybody.laws.inputs import LossCurve, gap_from_tc, parse_frequency
from manybody.laws.shapes import law_family, law_generic, law_tls
from manybody.measured.comparison import compare_laws
from manybody.measured.tables import curves_from_table, read_loss_table

NB_DIR = Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw"
NB_FILES = [NB_DIR / f"qint_{p}dBm.csv" for p in (80, 100, 120, 140, 160)]
W_NB = parse_frequency("5.61989GHz")  # 0.2697 K


def _write(tmp_path: Path, name: str, text: str, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


# ----------------------------------------------------------------------------- frequency


def test_parse_frequency_units_agree():
    k = parse_frequency("5.61989GHz")
    assert k == pytest.approx(0.26971, abs=2e-5)  # README: h f0 / k_B = 0.2697 K
    assert parse_frequency("5619.89 MHz") == pytest.approx(k, rel=1e-12)
    assert parse_frequency("5.61989e9Hz") == pytest.approx(k, rel=1e-12)
    assert parse_frequency("0.2697K") == pytest.approx(0.2697)
    assert parse_frequency("269.7mK") == pytest.approx(0.2697)
    assert parse_frequency(0.2697) == 0.2697
    for bad in ("5.62", "5.62 THz", "-1GHz", "GHz"):
        with pytest.raises(ValueError, match="frequency"):
            parse_frequency(bad)


# ----------------------------------------------------------------------------- synthetic data

T_GRID = np.geomspace(0.03, 1.0, 24)  # x = w/T from 9 down to 0.27 at 5.62 GHz


def _draw(law: str, index: float, seed: int, noise: float = 0.02) -> np.ndarray:
    x = W_NB / T_GRID
    shape = {"tls": law_tls(x), "generic": law_generic(x), "family": law_family(x, index)}[law]
    clean = 1e-6 * shape + 2e-7
    return clean * (1 + noise * np.random.default_rng(seed).standard_normal(x.size))


@pytest.mark.parametrize("truth,index", [("tls", 1.0), ("generic", 0.0)])
def test_right_law_preferred_and_index_recovered(truth, index):
    for seed in range(5):
        cmp = compare_laws(LossCurve(T_GRID, _draw(truth, index, seed)), W_NB)
        assert cmp.preferred == truth, (seed, cmp.delta_aic)
        assert cmp.evidence == "very strong", (seed, cmp.delta_aic)
        assert abs(cmp.index - index) < 3 * cmp.index_error, (seed, cmp.index, cmp.index_error)
        assert cmp.index_error < 0.2  # the data do discriminate: > 5 sigma between the laws
        # the reported separation of the laws in a is 1 / sigma_a (they are 1 apart in a)
        assert cmp.separation == pytest.approx(1.0 / cmp.index_error, rel=1e-12)
        fam = cmp.fits["family"]
        assert fam.parameters["amplitude"] == pytest.approx(1e-6, rel=0.1)
        assert fam.parameters["background"] == pytest.approx(2e-7, rel=0.3)


def test_intermediate_index_recovered_and_verdict():
    for seed in range(5):
        cmp = compare_laws(LossCurve(T_GRID, _draw("family", 0.5, seed, noise=0.01)), W_NB)
        assert abs(cmp.index - 0.5) < 3 * cmp.index_error, (seed, cmp.index, cmp.index_error)
        assert cmp.verdict == "in between", (seed, cmp.index, cmp.index_error)


def test_residual_scaled_errors_are_calibrated():
    """Pulls (a - a_true) / sigma_a over 60 seeds have unit spread: the errors are honest."""
    pulls = []
    for seed in range(60):
        fit = fit_loss(T_GRID, _draw("family", 0.5, 1000 + seed), W_NB, law="family")
        assert fit.errors_scaled and fit.error_model == "relative"
        pulls.append((fit.parameters["index"] - 0.5) / fit.errors["index"])
    pulls = np.array(pulls)
    assert abs(pulls.mean()) < 0.5
    assert 0.7 < pulls.std(ddof=1) < 1.4


def test_known_sigma_gives_chi2_and_unscaled_errors():
    rng = np.random.default_rng(7)
    clean = 1e-6 * law_tls(W_NB / T_GRID) + 2e-7
    sigma = np.full(T_GRID.size, 2e-8)
    fit = fit_loss(T_GRID, clean + sigma * rng.standard_normal(T_GRID.size), W_NB, sigma=sigma,
                   law="tls")
    assert not fit.errors_scaled and fit.error_model == "sigma"
    assert 0.3 < fit.reduced_chi2 < 2.0 and 0.0 < fit.p_value < 1.0
    assert fit.aic == pytest.approx(fit.chi2 + 2 * 2) and fit.scatter == "common"
    assert abs(fit.parameters["amplitude"] - 1e-6) < 3 * fit.errors["amplitude"]


def test_agrees_with_analysis_fit_law():
    """The two ways to the optimum agree: fit_law (fixed start, points in x) and fit_loss (grid
    start, curves in T) on the same weighted data."""
    x = np.linspace(0.2, 6.0, 30)
    rng = np.random.default_rng(3)
    q = law_family(x, 0.4) * 0.8 + 0.01 * rng.standard_normal(x.size)
    sigma = np.full(x.size, 0.01)
    for law in ("tls", "generic", "family"):
        ref = fit_law(x, q, sigma, law=law, background=False)
        ours = fit_loss(1.0 / x, q, 1.0, sigma=sigma, law=law, background=False)
        for name, value in ref.parameters.items():
            assert ours.parameters[name] == pytest.approx(value, rel=1e-4, abs=1e-6)
            assert ours.errors[name] == pytest.approx(ref.errors[name], rel=1e-3)
        assert ours.chi2 == pytest.approx(ref.chi2, rel=1e-6)
        assert ours.aic == pytest.approx(ref.aic, rel=1e-6)


def test_joint_fit_shares_index_and_quasiparticle_term():
    """Three powers, own amplitudes and backgrounds, shared index a and exp qp term."""
    t = np.linspace(0.05, 1.7, 34)
    gap, curves = 11.0, []
    for j, (amp, bkg) in enumerate([(6e-7, 1e-7), (2e-7, 1.5e-7), (5e-8, 5e-8)]):
        clean = amp * law_family(W_NB / t, 1.0) + bkg + 9e-7 * np.exp(-gap * (1 / t - 1 / 1.7))
        noise = 1 + 0.01 * np.random.default_rng(j).standard_normal(t.size)
        curves.append(LossCurve(t, clean * noise, label=f"p{j}"))
    fit = fit_joint(curves, W_NB, law="family", quasiparticle="exp")
    p, e = fit.parameters, fit.errors
    assert abs(p["index"] - 1.0) < 3 * e["index"] and e["index"] < 0.3
    assert abs(p["gap"] - gap) < 3 * e["gap"]
    assert abs(p["amplitude[p1]"] - 2e-7) < 3 * e["amplitude[p1]"]
    assert set(fit.parameter_names) >= {"background[p0]", "background[p2]", "qp_loss"}
    # without the qp term the same data are badly described: the term matters
    bare = fit_joint(curves, W_NB, law="family")
    assert bare.rms_scatter > 5 * fit.rms_scatter
    # components add up to the total
    total = fit.predict(t, 1)
    parts = sum(fit.predict(t, 1, c) for c in ("law", "background", "quasiparticle"))
    np.testing.assert_allclose(parts, total, rtol=1e-12)


def test_saturation_model_recovers_critical_power():
    t = np.geomspace(0.03, 1.0, 20)
    powers, pc, curves = (-160.0, -140.0, -120.0, -100.0), -135.0, []
    for j, pw in enumerate(powers):
        clean = 1e-6 * law_tls(W_NB / t) / np.sqrt(1 + 10 ** ((pw - pc) / 10)) + 5e-8
        noise = 1 + 0.01 * np.random.default_rng(j).standard_normal(t.size)
        curves.append(LossCurve(t, clean * noise, power=pw, label=f"{pw:g}dBm"))
    fit = fit_joint(curves, W_NB, law="tls", saturation=True)
    assert abs(fit.parameters["critical_power"] - pc) < 3 * fit.errors["critical_power"]
    assert fit.parameters["amplitude"] == pytest.approx(1e-6, rel=0.05)
    with pytest.raises(ValueError, match="needs a drive power"):
        fit_joint([LossCurve(t, curves[0].loss)], W_NB, saturation=True)


def test_fit_options_are_validated():
    y = _draw("tls", 1.0, 0)
    with pytest.raises(ValueError, match="law must be one of"):
        fit_loss(T_GRID, y, W_NB, law="tanh")
    with pytest.raises(ValueError, match="no points of 'data' in the window"):
        fit_loss(T_GRID, y, W_NB, tmin=2.0, tmax=3.0)
    with pytest.raises(ValueError, match="tmin must be below tmax"):
        fit_loss(T_GRID, y, W_NB, tmin=0.5, tmax=0.1)
    with pytest.raises(ValueError, match="more points than parameters"):
        fit_loss(T_GRID, y, W_NB, tmax=0.035)
    with pytest.raises(ValueError, match="temperature"):
        fit_loss(-T_GRID, y, W_NB)
    assert gap_from_tc(9.2) == pytest.approx(16.23, abs=0.01)


def test_temperature_window_is_applied():
    y = _draw("tls", 1.0, 0)
    fit = fit_loss(T_GRID, y, W_NB, law="tls", tmin=0.1, tmax=0.5)
    kept = (T_GRID >= 0.1) & (T_GRID <= 0.5)
    assert fit.n_points == kept.sum()
    assert fit.options["n_points_x_above_1"] == int(np.sum(W_NB / T_GRID[kept] > 1))


# ----------------------------------------------------------------------------- the Nb data


def test_nb_files_load_as_published():
    for path in NB_FILES:
        assert path.is_file(), f"shared data file missing: {path}"  # a missing file fails
    t = read_loss_table(NB_DIR / "qint_160dBm.csv")
    assert t.columns == ("Temperatur (mK)", "Power (dBm)", "Qint")
    assert t.units == {"temperature": "mK", "loss": "Q", "power": "dBm"}
    assert (t.separator, t.decimal) == (";", ",") and not t.is_loss_tangent
    assert len(t) == 17
    assert t.temperature[0] == pytest.approx(0.100) and 1 / t.loss[0] == pytest.approx(1.64e6)
    assert t.temperature[-1] == pytest.approx(1.700) and 1 / t.loss[-1] == pytest.approx(861599)
    assert 1 / t.loss[11] == pytest.approx(3464415)  # integer format beside 1,64E+06
    assert np.all(t.power == -140.0)  # as published (the file name says 160)
    t80 = read_loss_table(NB_DIR / "qint_80dBm.csv")
    assert 1 / t80.loss[4] == pytest.approx(1.93e7) and t80.power[0] == -80.0
    np.testing.assert_allclose(t80.temperature, np.arange(1, 18) * 0.1)


def test_nb_frequency_shift_file_has_bom_and_no_loss_column():
    with pytest.raises(ValueError) as err:
        read_loss_table(NB_DIR / "freq_shift.csv")
    msg = str(err.value)
    assert "cannot tell which column is the loss" in msg
    assert "'Temperature (mK)', 'Frequency Shift'" in msg  # BOM stripped, columns listed


def test_nb_joint_fit_runs_and_needs_quasiparticle_term_above_1K():
    curves = [c for f in NB_FILES for c in curves_from_table(read_loss_table(f))]
    cmp = compare_laws(curves, "5.61989GHz", tmax=1.0)
    assert set(cmp.fits) == {"tls", "generic", "family"}
    assert cmp.fits["family"].n_points == 5 * 10
    assert cmp.fits["tls"].options["n_points_x_above_1"] == 5 * 2  # only 100 and 200 mK
    full = fit_joint(curves, "5.61989GHz", law="tls", quasiparticle="exp")
    bare = fit_joint(curves, "5.61989GHz", law="tls")
    assert bare.rms_scatter > 3 * full.rms_scatter  # above 1 K the loss is quasiparticle loss
    assert 5.0 < full.parameters["gap"] < 20.0


# ----------------------------------------------------------------------------- reader formats


def test_reader_comma_bom_kelvin_inverse_q(tmp_path):
    text = "T (K),1/Q,Power (dBm)\r\n0.05,1.2e-6,-120\r\n0.1,1.1e-6,-120\r\n"
    p = _write(tmp_path, "a.csv", text, bom=True)
    t = read_loss_table(p)
    np.testing.assert_allclose(t.temperature, [0.05, 0.1])
    np.testing.assert_allclose(t.loss, [1.2e-6, 1.1e-6])
    assert t.units["loss"] == "Q^-1" and t.separator == ","


def test_reader_tab_loss_tangent_flagged_and_cell_units(tmp_path):
    text = "# measured 2024\nsample: BK7\nTemperature\ttan delta\n20 mK\t3,0E-5\n40 mK\t2,5E-5\n"
    t = read_loss_table(_write(tmp_path, "b.txt", text))
    assert t.is_loss_tangent and t.units["loss"] == "tan delta" and t.decimal == ","
    np.testing.assert_allclose(t.temperature, [0.02, 0.04])
    np.testing.assert_allclose(t.loss, [3e-5, 2.5e-5])


def test_reader_explicit_columns_and_power_split(tmp_path):
    text = ('"T_mK";"Qi";"Qc";"P (dBm)"\n100;1,0E+06;2E+05;-140\n200;1,2E+06;2E+05;-140\n'
            '100;2,0E+06;2E+05;-100\n200;2,1E+06;2E+05;-100\n')
    p = _write(tmp_path, "c.csv", text)
    t = read_loss_table(p)  # Qc is coupling, not auto-chosen
    assert t.loss_column == "Qi" and t.power_column == "P (dBm)"
    curves = curves_from_table(t)
    assert [c.power for c in curves] == [-140.0, -100.0]
    np.testing.assert_allclose(curves[1].loss, [1 / 2e6, 1 / 2.1e6])
    tc = read_loss_table(p, loss_column="qc")
    np.testing.assert_allclose(tc.loss, 1 / 2e5)
    with pytest.raises(ValueError, match=r"no column named 'Qx'.*'T_mK', 'Qi', 'Qc', 'P \(dBm\)'"):
        read_loss_table(p, loss_column="Qx")


# ----------------------------------------------------------------------------- malformed files

MALFORMED = {
    "no_numeric.csv": ("T (mK);Qi\nabc;def\n", r"no numeric rows found"),
    "one_column.csv": ("Temperature (mK)\n100\n200\n", r"only one column"),
    "mixed_units.csv": ("Temperature;Qi\n100 mK;1E6\n0.2 K;1E6\n", r"mixed units in column "
                        r"'Temperature': mK \(first at line 2\), K \(first at line 3\)"),
    "mixed_header.csv": ("T (K);Qi\n100 mK;1E6\n", r"mixed units in column 'T \(K\)'"),
    "zero_t.csv": ("T (mK);Qi\n100;1E6\n0;1E6\n", r"temperatures must be > 0 K, found 0 mK "
                   r"in data row 2"),
    "negative_t.csv": ("T (K);Qi\n-0.1;1E6\n", r"temperatures must be > 0 K, found -0.1 K"),
    "nan.csv": ("T (mK);Qi\n100;1E6\n200;NaN\n", r"column 'Qi', data row 2: missing value or NaN"),
    "empty_cell.csv": ("T (mK);Qi\n100;1E6\n200;\n", r"column 'Qi', data row 2"),
    "ambiguous.csv": ("T (mK);Qi;tan delta\n100;1E6;1E-6\n", r"cannot tell which column is the "
                      r"loss.*'Qi', 'tan delta' all qualify"),
    "no_temperature.csv": ("Field (mT);Qi\n1;1E6\n", r"cannot tell which column is the "
                           r"temperature; columns found: 'Field \(mT\)', 'Qi'"),
    "no_unit.csv": ("Temperature;Qi\n100;1E6\n", r"cannot tell the unit of temperature column"),
    "negative_q.csv": ("T (mK);Qi\n100;-1E6\n", r"quality factors must be > 0"),
    "text_cell.csv": ("T (mK);Qi\n100;1E6\n200;n.a.x\n", r"cannot read 'n.a.x' as a number"),
    "empty.csv": ("# nothing\n\n", r"file is empty"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_files_give_clear_errors(tmp_path, name):
    text, pattern = MALFORMED[name]
    path = _write(tmp_path, name, text)
    with pytest.raises(ValueError, match=pattern) as err:
        read_loss_table(path)
    assert str(path) in str(err.value)  # every message names the file


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_loss_table(tmp_path / "nope.csv")


# ----------------------------------------------------------------------------- CLI


def _main(argv):
    from manybody.cli import main

    return main(["fit-data", *argv])


def test_cli_end_to_end_on_nb_data(tmp_path, capsys):
    out = tmp_path / "fit"
    argv = [*map(str, NB_FILES), "--frequency", "5.61989GHz", "--tmax", "1.0", "--out", str(out)]
    assert _main(argv) == 0
    text = capsys.readouterr().out
    for word in ("tls ", "generic ", "family ", "index = ", "preferred law:", "AIC", "BIC",
                 "10 point(s) with x > 1", "amplitude[qint_160dBm]"):
        assert word in text
    png = (out / "fit_data.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert (out / "fit_data.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "fit_table.txt").read_text().strip() == text.split("\nwrote ")[0].strip()
    res = json.loads((out / "fit_results.json").read_text())
    assert res["schema"] == "manybody.fit-data/2"
    assert set(res["comparison"]["fits"]) == {"tls", "generic", "family"}
    # |dAIC| = 0.5 < 2: no law is preferred
    assert res["comparison"]["preferred"] is None and res["comparison"]["evidence"] == "none"
    assert len(res["inputs"]) == 5 and all(len(i["sha256"]) == 64 for i in res["inputs"])
    fam = res["comparison"]["fits"]["family"]
    assert fam["n_points"] == 50 and math.isfinite(fam["errors"]["index"])
    assert res["data"][0]["temperature_K"][0] == pytest.approx(0.1)
    # existing outputs are not overwritten unless asked
    assert _main(argv) == 2
    assert "already in" in capsys.readouterr().err
    # an option is given once: the rerun's --tmax replaces the first's
    rerun = [*argv[:argv.index("--tmax")], *argv[argv.index("--tmax") + 2:]]
    assert _main([*rerun, "--overwrite", "--quasiparticle", "--tc", "9.2", "--tmax", "1.7",
                  "--no-background"]) == 0
    assert "qp_loss" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["{nb}", "--frequency", "5.62"], "frequency must be a number with a unit"),
    (["{nb}", "--frequency", "5.62GHz", "--tmin", "0.5", "--tmax", "0.2"], "tmin must be below"),
    (["{nb}", "--frequency", "5.62GHz", "--gap", "10"], "--gap needs --quasiparticle"),
    (["{nb}", "--frequency", "5.62GHz", "--quasiparticle", "--gap", "big"], "--gap must be"),
    # session 32: a gap of 1e9 K was fitted (a quasiparticle 'loss' only at the top point)
    (["{nb}", "--frequency", "5.62GHz", "--quasiparticle", "--gap", "1e9"],
     "--gap must be > 0 K and <= 1764 K (1.764 x 1000 K), got '1e9'"),
    (["{nb}", "--frequency", "5.62GHz", "--powers=-1,-2"], "--powers gives 2 value(s) for 1"),
    (["{one}", "--frequency", "5.62GHz"], "only one column"),
    (["{nb}", "--frequency", "5.62GHz", "--loss-column", "Q_c"], "no column named 'Q_c'"),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, capsys, argv, message):
    one = _write(tmp_path, "one.csv", "Temperature (mK)\n100\n")
    argv = [a.format(nb=NB_FILES[-1], one=one) for a in argv] + ["--out", str(tmp_path / "o")]
    assert _main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o" / "fit_data.png").exists()


def test_cli_subprocess_missing_file_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "manybody", "fit-data", str(tmp_path / "missing.csv"),
         "--frequency", "5.62GHz", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "not found" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-c", "import sys, manybody.laws.fit, "
                           "manybody.cli.fit_data, manybody.measured.tables; "
                           "sys.exit('matplotlib' in sys.modules)"], timeout=120)
    assert proc.returncode == 0  # no matplotlib until a figure is drawn


def test_discrimination_power_on_clean_synthetic_data():
    from manybody.measured.comparison import discrimination_power

    cmp = compare_laws(LossCurve(T_GRID, _draw("tls", 1.0, 0, noise=0.01)), W_NB)
    power = discrimination_power(cmp, 4, np.random.default_rng(0))
    assert power.correct == {"tls": 1.0, "generic": 1.0}
    assert abs(power.index_mean["generic"]) < 0.2 and abs(power.index_mean["tls"] - 1) < 0.2
    with pytest.raises(TypeError, match="Generator"):
        discrimination_power(cmp, 4, 0)


def test_fit_data_treats_a_dangling_link_among_its_outputs_as_an_output(tmp_path, capsys):
    """A results file that is a link to a missing file was replaced without --overwrite
    (session 25): it counts as an existing output."""
    out = tmp_path / "fit"
    out.mkdir()
    (out / "fit_results.json").symlink_to(tmp_path / "gone.json")
    argv = [*map(str, NB_FILES), "--frequency", "5.61989GHz", "--out", str(out)]
    assert _main(argv) == 2
    assert "fit_results.json already in" in capsys.readouterr().err
    assert (out / "fit_results.json").is_symlink() and len(list(out.iterdir())) == 1


def test_a_temperature_dependent_critical_power_is_named_by_the_saturation_warning(tmp_path):
    """Exact standard-model loss with Pc ∝ T coth(x/2) fitted with --saturation (one Pc) gave
    'in between' (a = 0.91) with a warning that blamed only 'an exponent other than 1/2' (a
    tester, session 38): the warning names the temperature-dependent Pc and --power-sweep."""
    h, k_b, f0 = 6.62607015e-34, 1.380649e-23, 5e9
    w = h * f0 / k_b
    t = np.geomspace(0.02, 0.6, 20)
    x = w / t
    pc_dbm = -120 + 10 * np.log10(t / np.tanh(x / 2) / (0.1 / np.tanh(w / 0.2)))
    files = []
    for power in (-140, -120, -100, -80):
        loss = 1e-5 * np.tanh(x / 2) / np.sqrt(1 + 10 ** ((power - pc_dbm) / 10)) + 2e-7
        path = tmp_path / f"sat_{abs(power)}dBm.csv"
        path.write_text("Temperature (mK),Power (dBm),Qint\n" + "".join(
            f"{a * 1e3:.6f},{power},{1 / b:.10e}\n" for a, b in zip(t, loss, strict=True)))
        files.append(str(path))
    proc = subprocess.run([sys.executable, "-m", "manybody", "fit-data", *files, "--frequency",
                           "5GHz", "--saturation", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stderr.split())
    assert "a critical power that changes with temperature" in text and "--power-sweep" in text

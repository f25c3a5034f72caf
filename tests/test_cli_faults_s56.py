"""Session 56: options given at their default values are detected as given (helper-181 F5).

``fit-data`` refused options that change nothing (``--seed`` without ``--simulate``, sweep options
without ``--sweeps``, ...) by comparing their values with the defaults, so the same option typed
at its default value (``--seed 0``, ``--sweep-layout db-deg``) was passed over without a word.
The parser now records which options were on the command line (:func:`option_given`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from manybody.cli.errors import named
from manybody.cli.parser import ManybodyParser, option_given


def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


def _loss_table(tmp_path: Path) -> Path:
    t = np.linspace(0.02, 0.6, 12)
    q = 1.0 / (1e-6 * np.tanh(0.2697 / t / 2) + 2e-7)
    path = tmp_path / "qint_80dBm.csv"
    path.write_text("T (mK),Qi\n" + "".join(f"{1e3 * a:.6g},{b:.8g}\n"
                                            for a, b in zip(t, q, strict=True)))
    return path


@pytest.mark.parametrize(("option", "mode", "expected"), [
    (["--seed", "0"], [], "--seed 0 seeds the repeats of --simulate N"),
    (["--sweep-layout", "db-deg"], [], "--sweep-layout applies to raw S21 sweeps only"),
    (["--sweep-background", "slope"], [], "--sweep-background applies to raw S21 sweeps only"),
    (["--max-misfit", "400"], ["--velocity"], "--max-misfit applies to raw S21 sweeps only"),
    (["--critical-power-law", "constant"], [], "--critical-power-law constant describes the "
                                               "critical power of --saturation"),
    (["--margin", "3"], [], "--margin applies to --velocity only"),
    (["--gap", "free"], ["--velocity"], "--gap applies to loss tables only, not to --velocity"),
])
def test_an_option_with_no_effect_is_refused_even_at_its_default_value(tmp_path, capsys, option,
                                                                       mode, expected):
    out = tmp_path / "o"
    assert _main([str(_loss_table(tmp_path)), "--frequency", "5.61989GHz", *mode, *option,
                  "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_the_same_fit_without_the_option_runs(tmp_path, capsys):
    """The control: the loss table alone fits (so the refusals above are the options')."""
    assert _main([str(_loss_table(tmp_path)), "--frequency", "5.61989GHz", "--out",
                  str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "fit_results.json").is_file()


def test_two_options_without_effect_are_named_with_a_plural_verb(tmp_path, capsys):
    assert _main([str(_loss_table(tmp_path)), "--frequency", "5.61989GHz", "--margin", "3",
                  "--top", "1.5", "--out", str(tmp_path / "o")]) == 2
    assert "--margin, --top apply to --velocity only" in capsys.readouterr().err


def test_option_given_records_options_of_the_subcommand_and_of_the_top_parser():
    parser = ManybodyParser(prog="p")
    parser.add_argument("--level", default="a")
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("fit")
    child.add_argument("--seed", type=int, default=0)
    child.add_argument("--tmax", type=float, default=None)
    args = parser.parse_args(["--level", "a", "fit", "--seed", "0"])
    assert option_given(args, "seed", 0) and option_given(args, "level", "a")
    assert not option_given(args, "tmax", None)
    assert args.seed == 0 and args.level == "a"


def test_option_given_on_a_namespace_built_by_hand_compares_with_the_default():
    args = argparse.Namespace(seed=0, layout="db-deg")
    assert not option_given(args, "seed", 0)
    assert option_given(argparse.Namespace(seed=3), "seed", 0)
    assert not option_given(args, "absent", None)


def test_named_agrees_the_verb_with_the_number_of_options():
    assert named(["--tc"], "applies", "apply") == "--tc applies"
    assert named(["--tc", "--gap"], "applies", "apply") == "--tc, --gap apply"


# ------------------------------------------------- the 0.1 cap of a relative shift and the window


def _falling_table(tmp_path: Path, header: str = "df/f") -> tuple[Path, np.ndarray, np.ndarray]:
    """A TLS shift (1e-5 per e-fold, maximum at 0.1 K) up to 0.6 K, then a kinetic-inductance
    fall to -15 % at 1.5 K (a superconductor near Tc)."""
    from tests.shift_tables import log_shift_rows, write_table

    temperature, shift = log_shift_rows()
    hot = np.geomspace(0.8, 1.5, 5)
    temperature = np.concatenate([temperature[temperature <= 0.6], hot])
    shift = np.concatenate([shift[: temperature.size - hot.size],
                            -0.15 * ((hot - 0.7) / 0.8) ** 2])
    return write_table(tmp_path / "shift.csv", [header], [shift], temperature), temperature, shift


def test_a_relative_shift_beyond_the_cap_outside_the_window_is_read(tmp_path):
    from manybody.measured.velocity import MAX_RELATIVE_SHIFT, read_velocity_table

    path, temperature, shift = _falling_table(tmp_path)
    assert shift.min() < -MAX_RELATIVE_SHIFT < shift[temperature <= 0.6].min()
    with pytest.raises(ValueError, match=r"'df/f', data row \d+: -0\.1\d* is not a relative"):
        read_velocity_table(path)  # no window: every row held to the cap
    with pytest.raises(ValueError, match="is not a relative shift"):
        read_velocity_table(path, window=(1.0, None))  # the fall is inside this window
    table = read_velocity_table(path, window=(None, 0.6))
    np.testing.assert_allclose(table.shift, shift, rtol=1e-11)  # whole; the window drops rows
    values, _ = table.as_fraction(window=(0.02, 0.6))
    np.testing.assert_allclose(values, shift, rtol=1e-11)
    with pytest.raises(ValueError, match="is not a relative shift"):
        table.as_fraction()


def test_velocity_fit_with_tmax_below_a_kinetic_inductance_fall_runs(tmp_path, capsys):
    path, temperature, shift = _falling_table(tmp_path)
    out = tmp_path / "o"
    assert _main([str(path), "--velocity", "--out", str(out)]) == 2
    assert "is not a relative shift" in capsys.readouterr().err
    assert not out.exists()
    assert _main([str(path), "--velocity", "--tmax", "0.6", "--out", str(out)]) == 0
    import json

    record = json.loads((out / "velocity_results.json").read_text())
    assert max(record["data"]["temperature_K"]) <= 0.6
    # the slopes of the TLS part: +1e-5 per e-fold below 0.1 K, -1e-5 above (the table's own)
    assert record["fit"]["below"] == pytest.approx(1e-5, rel=1e-3)
    assert record["fit"]["above"] == pytest.approx(-1e-5, rel=1e-3)
    assert record["fit"]["temperature_max"] == pytest.approx(0.1, rel=0.05)


def test_an_absolute_frequency_column_is_refused_whatever_the_window(tmp_path):
    from manybody.measured.velocity import read_velocity_table
    from tests.shift_tables import write_table

    temperature = np.geomspace(0.02, 0.6, 20)
    resonance = 5.6e9 * (1 + 1e-5 * np.log(temperature / 0.1))
    path = write_table(tmp_path / "f.csv", ["df"], [resonance], temperature)
    with pytest.raises(ValueError, match="look like an absolute"):
        read_velocity_table(path, window=(0.5, 0.6))


def test_joint_fit_with_tmax_below_a_kinetic_inductance_fall_runs(tmp_path, capsys):
    shift, _, _ = _falling_table(tmp_path)
    loss = _loss_table(tmp_path)
    out = tmp_path / "o"
    base = [str(loss), "--frequency", "5.61989GHz", "--shift", str(shift), "--out", str(out)]
    assert _main(base) == 2
    assert "is not a relative shift" in capsys.readouterr().err and not out.exists()
    assert _main([*base, "--tmax", "0.6"]) == 0


# ------------------------------------------- rows repeated at too few temperatures (helper-184)


def _repeated_table(tmp_path: Path, temperatures_mk) -> Path:
    rng = np.random.default_rng(1)
    rows = [(t, 1.0 / (1e-6 * np.tanh(0.2697e3 / t / 2) + 2e-7) * (1 + 0.01 * rng.standard_normal()))
            for t in temperatures_mk for _ in range(2)]
    path = tmp_path / "repeats.csv"
    path.write_text("T (mK),Qi\n" + "".join(f"{t:g},{q:.8g}\n" for t, q in rows))
    return path


@pytest.mark.parametrize(("temperatures", "expected"), [
    ((100,), "2 rows at 1 distinct temperature(s) (0.1 K)"),
    ((100, 300), "4 rows at 2 distinct temperature(s) (0.1, 0.3 K)"),
    ((100, 200, 300), "6 rows at 3 distinct temperature(s) (0.1, 0.2, 0.3 K)"),
])
def test_rows_repeated_at_too_few_temperatures_are_refused_before_fitting(tmp_path, capsys,
                                                                          temperatures, expected):
    out = tmp_path / "o"
    assert _main([str(_repeated_table(tmp_path, temperatures)), "--frequency", "5.61989GHz",
                  "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "need more distinct temperatures than parameters" in err and expected in err, err
    assert "3 parameters of the family law fit (amplitude, background, index)" in err
    assert "repeats.csv" in err and len(err.strip().splitlines()) == 1 and not out.exists()


def test_rows_repeated_at_enough_temperatures_are_fitted(tmp_path):
    out = tmp_path / "o"
    assert _main([str(_repeated_table(tmp_path, (30, 60, 100, 200, 300, 500))), "--frequency",
                  "5.61989GHz", "--out", str(out)]) == 0
    assert (out / "fit_results.json").is_file()


def test_sweeps_repeated_at_too_few_temperatures_are_refused_before_fitting():
    from manybody.cli.fit_data import _enough_sweeps

    args = argparse.Namespace(saturation=False, background=True, quasiparticle=None,
                              critical_power_law="constant")
    with pytest.raises(ValueError, match=r"4 sweeps at 2 distinct \(temperature, power\)"):
        _enough_sweeps(args, None, [(0.1, -90.0), (0.1, -90.0), (0.3, -90.0), (0.3, -90.0)])
    _enough_sweeps(args, None, [(0.1, -90.0), (0.1, -90.0), (0.2, -90.0), (0.3, -90.0),
                                (0.4, -90.0)])  # 4 distinct for 3 parameters: accepted


def test_the_repeat_warning_gives_the_names_power_unit_and_yields_to_the_same_sweep_refusal(
        tmp_path):
    import warnings

    from manybody.measured.resonator_table import fit_sweeps, sweep_files
    from tests.test_data_faults_s55 import _db_deg_text, _synthetic

    folder = tmp_path / "sw"
    folder.mkdir()
    for i, t in enumerate((20, 50, 80, 110)):
        (folder / f"s21_5GHz_-20dB_{t:05.1f}mK.csv").write_text(_db_deg_text(_synthetic(20 + i)))
    repeat = folder / "s21_5GHz_-20dB_050.0mK_b.csv"
    repeat.write_text(_db_deg_text(_synthetic(40)))  # a genuine repeat: another noise draw
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_sweeps(sweep_files(folder))
    repeats = [str(w.message) for w in caught if "sweeps at T" in str(w.message)]
    assert len(repeats) == 1 and "T = 0.05 K, -20 dB:" in repeats[0], repeats
    repeat.write_bytes((folder / "s21_5GHz_-20dB_050.0mK.csv").read_bytes())  # now a copy
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="same"):
            fit_sweeps(sweep_files(folder))
    assert not [w for w in caught if "sweeps at T" in str(w.message)]


# ------------------------------------------------ helper-185: options with no effect, and weights


def _table_with_errors(tmp_path: Path) -> Path:
    t = np.linspace(0.02, 0.6, 12)
    loss = 1e-6 * np.tanh(0.2697 / t / 2) + 2e-7
    path = tmp_path / "loss_err.csv"
    path.write_text("T (K),loss,loss_err\n" + "".join(f"{a:.6g},{b:.8g},{0.03 * b:.8g}\n"
                                                      for a, b in zip(t, loss, strict=True)))
    return path


@pytest.mark.parametrize("model", ["absolute", "relative"])
def test_error_model_beside_an_error_column_is_refused(tmp_path, capsys, model):
    out = tmp_path / "o"
    assert _main([str(_table_with_errors(tmp_path)), "--frequency", "5.61989GHz",
                  "--error-model", model, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--error-model {model} is the scatter model of tables without errors" in err
    assert "'loss_err'" in err and "--error-column none" in err and not out.exists()
    assert _main([str(_table_with_errors(tmp_path)), "--frequency", "5.61989GHz",
                  "--error-column", "none", "--error-model", model, "--out", str(out)]) == 0


def test_error_model_with_sweeps_is_refused(tmp_path, capsys):
    (tmp_path / "sw").mkdir()
    assert _main(["--sweeps", str(tmp_path / "sw"), "--error-model", "relative", "--out",
                  str(tmp_path / "o")]) == 2
    assert "--error-model applies to loss tables, not to --sweeps" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "expected"), [
    (["--gap", "free"], "--gap needs --quasiparticle"),
    (["--tc", "1.2"], "--tc needs --quasiparticle"),
])
def test_gap_options_without_quasiparticle_are_refused_even_free(tmp_path, capsys, option,
                                                                 expected):
    assert _main([str(_loss_table(tmp_path)), "--frequency", "5.61989GHz", *option, "--out",
                  str(tmp_path / "o")]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("typed", ["--background", "--no-background"])
def test_a_background_switch_with_velocity_is_named_as_typed(tmp_path, capsys, typed):
    path, _, _ = _falling_table(tmp_path)
    assert _main([str(path), "--velocity", "--tmax", "0.6", typed, "--out",
                  str(tmp_path / "o")]) == 2
    assert f"error: {typed} applies to loss tables only, not to --velocity" in \
        capsys.readouterr().err


def test_power_sweep_says_the_frequency_is_recorded_only(tmp_path, capsys):
    from manybody.cli.parser import option_typed

    assert option_typed(argparse.Namespace(), "background", "--no-background") == \
        "--no-background"
    t = np.linspace(0.03, 0.3, 8)
    files = []
    for power in (-70, -80, -90, -100, -110, -120):
        loss = 1e-6 * np.tanh(0.27 / (2 * t)) / np.sqrt(1 + 10 ** ((power + 100) / 10)) + 2e-7
        path = tmp_path / f"qint_{-power}dBm.csv"
        path.write_text("T (K),1/Q\n" + "".join(f"{a:.6g},{b:.8g}\n"
                                                for a, b in zip(t, loss, strict=True)))
        files.append(str(path))
    out = tmp_path / "o"
    status = _main([*files, "--power-sweep", "--powers", "-70,-80,-90,-100,-110,-120",
                    "--frequency", "5.6GHz", "--out", str(out)])
    err = capsys.readouterr().err
    assert "--frequency is recorded in saturation_results.json only" in err, err
    assert status == 0, err


@pytest.mark.parametrize(("command", "jobs"), [("run", "4"), ("run", "1"), ("study", "2")])
def test_jobs_beside_a_scheduler_is_refused(tmp_path, capsys, command, jobs):
    from manybody.cli import main

    words = ([command, str(tmp_path / "spec.toml"), "-o", str(tmp_path / "o.nc")]
             if command == "run" else [command, "-o", str(tmp_path / "study")])
    status = main([*words, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:8786",
                   "--jobs", jobs])
    err = capsys.readouterr().err
    assert status == 2 and f"--jobs {jobs} has no effect with --scheduler" in err, err
    assert not (tmp_path / "o.nc").exists() and not (tmp_path / "study").exists()


def test_loss_only_comparison_holds_every_law_at_the_familys_weights_as_compare_laws():
    from manybody.laws.inputs import LossCurve, ShiftCurve
    from manybody.laws.joint import compare_loss_shift
    from manybody.measured.comparison import compare_laws

    rng = np.random.default_rng(3)
    x = np.geomspace(0.3, 10, 14)
    t = 0.1 / x
    curves = [LossCurve(t, amp * np.tanh(x / 2) * (1 + noise * rng.standard_normal(14)) + 0.05,
                        label=f"c{j}") for j, (amp, noise) in enumerate([(1.0, 0.02), (0.6, 0.1)])]
    alone = compare_laws(curves, 0.1)
    joint = compare_loss_shift(curves, ShiftCurve(t, 1e-6 * np.log(t)), 0.1, modes=("loss",))
    for law in ("tls", "generic", "family"):
        assert joint.fits["loss"][law].fit.parameters == alone.fits[law].parameters, law
        assert joint.fits["loss"][law].fit.aic == alone.fits[law].aic, law


# ------------------------------------------------------------- helper-187's second round


def test_law_values_refuses_an_unknown_law():
    from manybody.laws.shapes import law_values

    x = np.geomspace(0.3, 10, 5)
    np.testing.assert_allclose(law_values("tls", x), np.tanh(x / 2))
    for law in ("TLS", "tanh", None, "abc"):
        with pytest.raises(ValueError, match="law must be one of 'tls', 'generic', 'family'"):
            law_values(law, x)


@pytest.mark.parametrize("option", [["--margin", "3"], ["--top", "1.5"], ["--decades", "1"],
                                    ["--simulate", "0"]])
def test_velocity_options_at_their_defaults_are_refused_by_the_joint_fit(tmp_path, capsys,
                                                                         option):
    shift, _, _ = _falling_table(tmp_path)
    out = tmp_path / "o"
    assert _main([str(_loss_table(tmp_path)), "--frequency", "5.61989GHz", "--shift", str(shift),
                  "--tmax", "0.6", *option, "--out", str(out)]) == 2
    assert f"{option[0]} does not apply to the joint loss + shift fit" in capsys.readouterr().err
    assert not out.exists()


def test_the_default_sweep_pattern_typed_beside_an_index_is_refused(tmp_path, capsys):
    from manybody.measured.resonator_table import NAME_PATTERN

    (tmp_path / "sw").mkdir()
    (tmp_path / "index.csv").write_text("file,T_mK\n")
    assert _main(["--sweeps", str(tmp_path / "sw"), "--sweep-index", str(tmp_path / "index.csv"),
                  "--sweep-pattern", NAME_PATTERN, "--out", str(tmp_path / "o")]) == 2
    assert "--sweep-pattern and --sweep-index both give" in capsys.readouterr().err


def test_a_curve_repeated_at_one_temperature_beside_a_good_one_is_refused(tmp_path, capsys):
    good = _loss_table(tmp_path)
    bad = tmp_path / "qint_100dBm.csv"
    bad.write_text("T (mK),Qi\n" + "".join(f"100,{q:.8g}\n" for q in (9e5, 9.1e5, 8.9e5, 9.2e5)))
    for extra in ([], ["--shift", str(_falling_table(tmp_path)[0]), "--tmax", "0.6"]):
        out = tmp_path / "o"
        assert _main([str(good), str(bad), "--frequency", "5.61989GHz", *extra, "--out",
                      str(out)]) == 2
        err = capsys.readouterr().err
        assert "curve 'qint_100dBm' has 4 rows at 1 distinct temperature(s)" in err, err
        assert not out.exists()


def test_a_shift_in_hz_beyond_a_tenth_of_the_frequency_is_refused_by_the_joint_fit(tmp_path,
                                                                                   capsys):
    from tests.shift_tables import write_table

    temperature = np.geomspace(0.02, 0.6, 20)
    shift = 5.61989e9 * 1e-5 * np.log(temperature / 0.1)
    shift[-1] = 1.2e9  # df/f0 = 0.21
    path = write_table(tmp_path / "df.csv", ["df (Hz)"], [shift], temperature)
    base = [str(_loss_table(tmp_path)), "--frequency", "5.61989GHz", "--shift", str(path)]
    assert _main([*base, "--out", str(tmp_path / "o")]) == 2
    assert "over the frequency 5.61989e+09 Hz is df/f0 = 0.214" in capsys.readouterr().err
    assert _main([*base, "--tmax", "0.5", "--out", str(tmp_path / "o")]) == 0  # outside: read


def test_sweep_points_refuses_the_spec_of_another_run_with_the_same_axes(tmp_path):
    import copy

    from manybody.runs.results import sweep_points
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep

    data = {"name": "a", "seed": 1, "realisations": 1,
            "model": {"n_tls": 2, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 0.001,
                                          "tunnelling_max": 0.3}},
            "probe": {"frequencies": [0.1], "temperatures": [0.1], "observables": ["absorption"]},
            "sweep": {"model.tls.asymmetry_max": [0.2, 0.3]}}
    ds = run_sweep(RunSpec.from_dict(data))
    assert len(list(sweep_points(ds, RunSpec.from_dict(data)))) == 2
    for key, value in (("name", "b"), ("seed", 2)):
        other = copy.deepcopy(data)
        other[key] = value
        with pytest.raises(ValueError, match=f"its {key} .* is not the file's"):
            sweep_points(ds, RunSpec.from_dict(other))

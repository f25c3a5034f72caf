"""Faults of the measured-data readers and the command line reported by a break test
(session 40), each tested as a kind: a Touchstone file whose frequency falls (two sweeps, a
downward sweep) or that carries a noise-parameter block, a line written twice in a sweep,
outputs written into the sweeps folder, a '#'-commented table header, an internal quality
factor given as a loss, and an option given twice."""

from __future__ import annotations

import math

import numpy as np
import pytest

from manybody.measured.resonance import notch_s21
from manybody.measured.sweeps import S21Sweep, check_sweep, read_sweep, rounding_resolution


def _sweep(n: int = 201, seed: int = 0) -> S21Sweep:
    """A notch resonance at 5 GHz (Qi 2e4, |Qc| 8e3) with 0.2 % noise, window of 16 linewidths."""
    ql = 1.0 / (1.0 / 2e4 + math.cos(0.25) / 8e3)
    f = 5e9 + 5e9 / ql * np.linspace(-8, 8, n)
    z = notch_s21(f, 5e9, ql, 8e3, 0.25, 0.05, 1.1, 45e-9)
    rng = np.random.default_rng(seed)
    return S21Sweep(f, z + 1e-4 * (rng.standard_normal(n) + 1j * rng.standard_normal(n)),
                    "synthetic", "real-imag")


def _touchstone_lines(sweep: S21Sweep) -> tuple[list[str], list[str]]:
    """(option line, data lines) of a 2-port RI Touchstone 1 file holding ``sweep`` as S21."""
    data = [f"{f:.3f} 0.1 0 {z.real:.9g} {z.imag:.9g} {z.real:.9g} {z.imag:.9g} 0.1 0"
            for f, z in zip(sweep.frequency, sweep.s21, strict=True)]
    return ["# Hz S RI R 50"], data


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------- 1: a Touchstone file whose frequency falls


@pytest.mark.parametrize("arrangement", ["two sweeps", "downward", "restart near the end"])
def test_touchstone_frequency_that_falls_between_s_parameter_lines_is_refused(tmp_path,
                                                                             arrangement):
    """scikit-rf takes a fall of the frequency in a 2-port file as the start of the noise block:
    a second sweep appended was dropped without a word, a downward sweep became one point
    ('too few points: 1')."""
    s = _sweep()
    head, data = _touchstone_lines(s)
    body = {"two sweeps": data + data, "downward": data[::-1],
            "restart near the end": data + data[:3]}[arrangement]
    fall = {"two sweeps": len(data) + 1, "downward": 2, "restart near the end": len(data) + 1}
    path = _write(tmp_path / "x.s2p", head + body)
    with pytest.raises(ValueError) as info:
        read_sweep(path)
    msg = str(info.value)
    assert "x.s2p: frequency falls from" in msg, msg
    line = fall[arrangement] + 1  # the option line comes first
    assert f"(data line {line})" in msg and "two sweeps appended" in msg, msg
    assert "too few points" not in msg


def test_touchstone_with_a_noise_parameter_block_reads_its_s_parameters(tmp_path):
    """A 2-port file with the noise block of the Touchstone 1.1 specification (5 numbers a
    line, starting at a frequency below the last S-parameter line's) was called 'not 2-port
    data'; its S parameters read as without the block."""
    s = _sweep()
    head, data = _touchstone_lines(s)
    noise = [f"{f:.3f} 1.5 0.3 45 0.2" for f in s.frequency[::50]]
    plain = read_sweep(_write(tmp_path / "plain.s2p", head + data))
    with_noise = read_sweep(_write(tmp_path / "noise.s2p", head + data + noise))
    np.testing.assert_array_equal(with_noise.frequency, plain.frequency)
    np.testing.assert_array_equal(with_noise.s21, plain.s21)
    np.testing.assert_allclose(plain.s21, s.s21, rtol=1e-8)
    # 5-number lines that do not start a noise block (frequency rising) are still refused
    bad = data[:100] + [f"{s.frequency[100]:.3f} 1 2 3 4"] + data[101:]
    with pytest.raises(ValueError, match=r"data line 102 holds 5 numbers.*noise-parameter block"):
        read_sweep(_write(tmp_path / "bad.s2p", head + bad))


# ------------------------------------------------- 2: a line written twice


@pytest.mark.parametrize("step", [1200.0, 1000.0, 7.3])
def test_a_line_written_twice_is_named_as_such_not_as_rounding(tmp_path, step):
    """A duplicated line in a sweep stepped by 1200 Hz was diagnosed as 'the export rounded the
    frequencies to 1200 Hz'."""
    s = _sweep(n=300)
    f = 7.7e9 + step * np.arange(300)
    rows = [f"{a:.3f},{z.real:.9g},{z.imag:.9g}" for a, z in zip(f, s.s21, strict=True)]
    path = _write(tmp_path / "dup.csv", ["Frequency (Hz),Re,Im"] + rows[:80] + [rows[79]]
                  + rows[80:])
    with pytest.raises(ValueError) as info:
        read_sweep(path, "real-imag")
    msg = str(info.value)
    assert "dup.csv: data row 81 repeats row 80" in msg and "written twice" in msg, msg
    assert "rounded" not in msg
    # the same in a Touchstone file
    head, data = _touchstone_lines(S21Sweep(f, s.s21, "", ""))
    with pytest.raises(ValueError, match=r"dup\.s2p: data row 81 repeats row 80"):
        read_sweep(_write(tmp_path / "dup.s2p", head + data[:80] + [data[79]] + data[80:]))


def test_one_repeated_frequency_with_another_s21_is_not_rounding():
    """A single repeat (a re-measured point inserted) is not the export's rounding: rounding
    repeats many values on a decimal grid."""
    f = 7.7e9 + 1200.0 * np.arange(300)
    f = np.insert(f, 80, f[79])
    z = np.exp(1j * np.linspace(0, 1, f.size))
    assert rounding_resolution(f) is None
    with pytest.raises(ValueError, match="sort the sweep and remove repeats"):
        check_sweep(S21Sweep(f, z, "one.csv", "real-imag"))
    # the export's rounding (385 Hz steps to 1 kHz) is still named
    rounded = np.round((7.7e9 + 385.0 * np.arange(300)) / 1e3) * 1e3
    assert rounding_resolution(rounded) == 1e3


def test_two_sweeps_in_one_text_file_are_named():
    f = 7.7e9 + 1e3 * np.arange(100)
    f = np.r_[f, f]
    z = np.exp(1j * np.linspace(0, 1, f.size))
    with pytest.raises(ValueError, match=r"falls from 7700099000 Hz \(data row 100\) to "
                                         r"7700000000 Hz \(data row 101\).*two sweeps"):
        check_sweep(S21Sweep(f, z, "two.csv", "real-imag"))


# ------------------------------------------------- 3: --out in the sweeps folder


@pytest.mark.parametrize("how", ["folder", "glob", "same folder spelt otherwise"])
def test_fit_data_refuses_to_write_into_the_sweeps_folder(tmp_path, capsys, how):
    """--out naming the sweeps folder was accepted; the rerun read fit_table.txt and
    resonator_fits.csv as sweeps and failed. Refused before anything is read or written."""
    from manybody.cli import main

    data = tmp_path / "data"
    data.mkdir()
    for seed, t in enumerate((30, 60, 90, 120)):  # four noise draws: one sweep saved under
        s = _sweep(seed=seed)  # two temperatures is refused (helper-175 F3)
        rows = [f"{f:.3f},{z.real:.9g},{z.imag:.9g}" for f, z in zip(s.frequency, s.s21,
                                                                     strict=True)]
        _write(data / f"s21_-20dB_{t}mK.csv", ["Frequency (Hz),Re,Im"] + rows)
    before = sorted(p.name for p in data.iterdir())
    sweeps, out = {"folder": (str(data), str(data)),
                   "glob": (str(data / "*.csv"), str(data)),
                   "same folder spelt otherwise": (str(data), str(data / "." / ".." / "data"))}[how]
    status = main(["fit-data", "--sweeps", sweeps, "--sweep-layout", "real-imag", "--out", out])
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"--out {out!r} is the folder of the sweeps" in err and "give another --out" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in data.iterdir()) == before
    # a folder below the sweeps' is not searched for sweeps: taken
    assert main(["fit-data", "--sweeps", sweeps, "--sweep-layout", "real-imag", "--out",
                 str(data / "fit")]) == 0, capsys.readouterr().err
    assert (data / "fit" / "fit_table.txt").is_file()


# ------------------------------------------------- 4: a header written as a comment


def test_a_commented_header_as_numpy_savetxt_writes_it_is_read(tmp_path):
    """numpy.savetxt(header=...) writes '# T (mK),Qi': the loss and velocity readers dropped it
    with the comments and said 'no header line'."""
    from manybody.measured.tables import read_loss_table
    from manybody.measured.velocity import read_velocity_table

    t_mk = np.array([20.0, 40.0, 60.0, 80.0])
    qi = np.array([1.1e5, 1.2e5, 1.3e5, 1.4e5])
    np.savetxt(tmp_path / "q.csv", np.c_[t_mk, qi], delimiter=",", header="T (mK),Qi")
    assert (tmp_path / "q.csv").read_text().startswith("# T (mK),Qi")
    table = read_loss_table(tmp_path / "q.csv")
    np.testing.assert_allclose(table.temperature, t_mk / 1e3)
    np.testing.assert_allclose(table.loss, 1 / qi)
    np.savetxt(tmp_path / "v.csv", np.c_[t_mk, [0, 1e-7, 2e-7, 3e-7]], delimiter=";",
               header="T (mK);df/f")
    velocity = read_velocity_table(tmp_path / "v.csv")
    assert velocity.kind == "df/f" and velocity.shift[3] == pytest.approx(3e-7)
    # a bad cell is still named by its data row
    text = (tmp_path / "q.csv").read_text().splitlines()
    text[3] = "60,abc"
    _write(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=r"bad\.csv: column .Qi., data row 3: cannot read .abc."):
        read_loss_table(tmp_path / "bad.csv")


@pytest.mark.parametrize("comment", ["# measured 2024-03-01 by A. B.", "# 20,30", "# T (mK)"])
def test_a_comment_that_is_not_a_header_is_not_taken_for_one(tmp_path, comment):
    from manybody.measured.tables import read_loss_table
    from manybody.measured.velocity import read_velocity_table

    _write(tmp_path / "q.csv", [comment, "20,1.1e5", "40,1.2e5", "60,1.3e5"])
    with pytest.raises(ValueError, match=r"q\.csv: no header line.*'Temperature \(mK\);Qint'"):
        read_loss_table(tmp_path / "q.csv")
    _write(tmp_path / "v.csv", [comment, "20,0", "40,1e-7", "60,2e-7"])
    with pytest.raises(ValueError, match=r"v\.csv: no header line.*df/f") as info:
        read_velocity_table(tmp_path / "v.csv")
    assert "Qint" not in str(info.value)


# ------------------------------------------------- 5, 6: Qi passed as the loss; a constant loss


def _tanh_loss(t):
    return 1e-6 * np.tanh(0.24 / (2 * t)) + 2e-7


T = np.linspace(0.02, 0.3, 14)


def test_quality_factors_passed_as_the_loss_are_warned_about_once():
    """fit_loss/compare_laws fitted Qi (1e5) as a loss without a word; the CLI warns above a
    loss of 1e-2."""
    import warnings

    from manybody.laws.fit import fit_loss
    from manybody.laws.inputs import LossCurve, LossScaleWarning, ShiftCurve
    from manybody.laws.joint import fit_loss_shift
    from manybody.measured.comparison import compare_laws

    qi = 1 / _tanh_loss(T)
    with pytest.warns(LossScaleWarning, match=r"'data' lies between 8\.333e\+05 and 1\.724e\+06.*pass 1/Qi"):
        fit_loss(T, qi, "5GHz")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_laws(LossCurve(T, qi, label="Qi"), "5GHz")
    assert [type(w.message) for w in caught].count(LossScaleWarning) == 1, caught
    shift = ShiftCurve(T, 1e-6 * np.log(T / 0.02))
    with pytest.warns(LossScaleWarning, match="'Qi'"):
        fit_loss_shift([LossCurve(T, qi, label="Qi")], shift, "5GHz", mode="joint")


@pytest.mark.parametrize("scale", [1.0, 1e4, 3e6, 1e-200, 1e200])
def test_a_loss_or_simulated_absorption_is_not_warned_about(scale):
    """Q^-1 of 1e-6, simulated absorption in units of pi*C0 (of order 1, up to a few), and the
    fits' scale tests (1e+-200) are fitted without the Qi warning."""
    import warnings

    from manybody.laws.fit import fit_loss

    loss = _tanh_loss(T) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_loss(T, loss, "5GHz")


def test_a_constant_loss_fits_without_a_numpy_warning():
    """A constant loss leaked numpy's 'invalid value encountered in multiply' (an undetermined
    index's infinite variance times a residual variance of 0)."""
    import warnings

    from manybody.laws.fit import fit_loss

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_loss(T, np.full(T.size, 1e-5), "5GHz")
    assert fit.errors["index"] == math.inf
    assert fit.parameters["background"] == pytest.approx(1e-5)
    assert fit.indeterminate and "no temperature dependence" in fit.indeterminate[0]


# ------------------------------------------------- 7: an option given twice


def _a_value(action) -> str:
    """A value that ``action``'s type and choices take (argparse checks them before the action)."""
    if action.choices:
        return str(next(iter(action.choices)))
    for candidate in ("1", "0.1", "3", "5GHz", "-80", "20,40", "x.csv", "x"):
        try:
            if action.type is not None:
                action.type(candidate)
            return candidate
        except Exception:  # noqa: BLE001 - any refusal: try the next
            continue
    raise AssertionError(f"no value found for {action.option_strings}")


def _store_options():
    import argparse

    from manybody.cli.app import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, subparser in sub.choices.items():
        for action in subparser._actions:
            if action.option_strings and type(action).__name__ == "_StoreOnce":
                yield command, action


def test_every_option_that_takes_a_value_refuses_to_be_given_twice(capsys):
    """argparse kept the last of '--frequency 5GHz --frequency 6GHz' without a word (a tester,
    session 40): every such option of every command is refused, naming both values."""
    from manybody.cli import main

    checked = 0
    for command, action in _store_options():
        value = _a_value(action)
        first, last = action.option_strings[0], action.option_strings[-1]
        with pytest.raises(SystemExit) as info:
            main([command, f"{first}={value}", last, value])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert f"argument {'/'.join(action.option_strings)}: given twice" in err, (command, err)
        assert f"then {last} " in err and "give it once" in err, err
        checked += 1
    assert checked >= 40, checked  # run, study, info and fit-data options all counted


def test_an_option_given_once_and_repeatable_flags_still_parse():
    from manybody.cli.app import build_parser

    args = build_parser().parse_args(["-v", "fit-data", "--frequency", "5GHz", "-v", "a.csv"])
    assert args.frequency == "5GHz" and args.verbose
    assert not hasattr(args, "_options_given")


def test_the_scripts_refuse_an_option_given_twice():
    """The scripts parse with the same parser: a duplicated option of a script is refused too,
    and no script builds a plain argparse parser."""
    import subprocess
    import sys
    from pathlib import Path

    scripts = Path(__file__).resolve().parent.parent / "scripts"
    plain = [p.name for p in scripts.glob("*.py") if "argparse.ArgumentParser(" in p.read_text()]
    assert not plain, plain
    done = subprocess.run([sys.executable, str(scripts / "make_figures.py"), "--out", "a",
                           "--out", "b"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "argument --out: given twice (--out a, then --out b)" in done.stderr, done.stderr


# ------------------------------------------------- 8: a misspelt key


def _spec(**changes):
    data = {"seed": 1, "realisations": 2, "model": {"n_tls": 4, "tls": {"asymmetry_max": 0.3}},
            "probe": {"frequencies": [0.1], "temperatures": [0.1]}}
    for where, value in changes.items():
        *path, key = where.split("__")
        table = data
        for part in path:
            table = table.setdefault(part, {})
        table[key] = value
    return data


@pytest.mark.parametrize("where, key, meant", [
    ("solvr", "solvr", "solver"),
    ("model__tls__asymetry_max", "asymetry_max", "asymmetry_max"),
    ("model__n_tsl", "n_tsl", "n_tls"),
    ("model__coupling__strenght", "strenght", "strength"),
    ("probe__frequency", "frequency", "frequencies"),
    ("probe__broadening__widht", "widht", "width"),
    ("sweep__model.tls.asymetry_max", "model.tls.asymetry_max", "model.tls.asymmetry_max"),
])
def test_a_misspelt_key_is_told_the_key_it_resembles(where, key, meant):
    """'[solvr]' or 'asymetry_max' got the list of valid keys and no suggestion (session 40);
    every table now names the closest valid key."""
    from manybody.runs.spec import RunSpec

    value = [0.1, 0.2] if where.startswith("sweep") else (
        {"method": "dense"} if where == "solvr" else 0.1)
    with pytest.raises(ValueError) as info:
        RunSpec.from_dict(_spec(**{where: value}))
    msg = str(info.value)
    assert f"did you mean {meant!r} for {key!r}?" in msg, msg
    assert "valid keys are" in msg


def test_a_key_like_no_valid_one_gets_no_suggestion_and_a_placed_key_its_place():
    from manybody.runs.spec import RunSpec

    with pytest.raises(ValueError) as info:
        RunSpec.from_dict(_spec(model__tls__colour=1.0))
    assert "did you mean" not in str(info.value), info.value
    with pytest.raises(ValueError, match=r"did you mean probe\.broadening\.width for 'width'\?$"):
        RunSpec.from_dict(_spec(width=0.01))


# ------------------------------------------------- 9: a 0-d splitting


def test_schottky_takes_a_number_as_one_tls_and_refuses_other_shapes():
    """The docstring said shape (N,) while a 0-d array was taken: it is one TLS (documented),
    with the Schottky maximum 0.4392 at E/T = 2.399; a 2-d or empty array is refused."""
    from manybody.simulation.observables.thermo import schottky

    t = np.array([1.0 / 2.399])
    assert schottky(np.array(1.0), t)[0] == pytest.approx(0.43922, abs=1e-5)
    np.testing.assert_array_equal(schottky(1.0, t), schottky([1.0], t))
    for bad in (np.ones((2, 2)), np.array([])):
        with pytest.raises(ValueError, match="splittings must be a non-empty 1-d array"):
            schottky(bad, t)


def test_saturation_fit_of_quality_factors_names_them():
    """Qi(P) rises with power: given as the loss of a saturation fit it was refused as 'must
    decrease with power' alone; the message now says the values look like Qi."""
    from manybody.laws.saturation import fit_saturation_joint

    power = np.linspace(-140, -80, 13)
    loss = 1e-6 / np.sqrt(1 + 10 ** ((power + 110) / 10)) + 2e-7
    with pytest.raises(ValueError, match=r"must decrease with power.*look like internal quality "
                                         r"factors Qi.*pass 1/Qi"):
        fit_saturation_joint([(power, 1 / loss)], scale="dB")
    with pytest.raises(ValueError) as info:  # a loss that rises, not Qi: no such hint
        fit_saturation_joint([(power, loss[::-1])], scale="dB")
    assert "Qi" not in str(info.value)
    fit = fit_saturation_joint([(power, loss)], scale="dB")
    assert fit.parameters["beta"] == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("argv, meant", [
    (["fit-data", "--frequncy", "5GHz", "a.csv"], "--frequency for --frequncy"),
    (["fit-data", "--tmni=0.1", "a.csv"], "--tmin for --tmni"),
    (["run", "spec.toml", "--outptu", "x.nc"], "--output for --outptu"),
    (["--verbsoe", "info", "x.nc"], "--verbose for --verbsoe"),
])
def test_a_misspelt_option_is_told_the_option_it_resembles(capsys, argv, meant):
    from manybody.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: " in err, err
    assert f"did you mean {meant}?" in err, err
    with pytest.raises(SystemExit):
        main(["fit-data", "a.csv", "--zzz"])
    assert "did you mean" not in capsys.readouterr().err


@pytest.mark.parametrize("header", ["T_mK Qi", "T(mK) Qi", "T (mK) Qi", "Temperature [mK]  Qi"])
def test_a_table_separated_by_spaces_is_read(tmp_path, header):
    """numpy.savetxt's default (spaces) was 'found only one column (tried separators ',', ';'
    and tab)'; a unit in brackets after a space stays with its name."""
    from manybody.measured.tables import read_loss_table

    t_mk, qi = np.array([20.0, 40.0, 60.0]), np.array([1.1e5, 1.2e5, 1.3e5])
    np.savetxt(tmp_path / "q.txt", np.c_[t_mk, qi], header=header)
    table = read_loss_table(tmp_path / "q.txt")
    np.testing.assert_allclose(table.temperature, t_mk / 1e3)
    np.testing.assert_allclose(table.loss, 1 / qi)
    # the same without the comment mark, with ragged runs of blanks
    _write(tmp_path / "r.dat", [f"  {header}  ", "  20   1.1e5", "40\t1.2e5 ", "60 1.3e5"])
    np.testing.assert_allclose(read_loss_table(tmp_path / "r.dat").loss, 1 / qi)


def test_a_header_by_spaces_with_a_name_holding_a_space_is_refused_by_line(tmp_path):
    from manybody.measured.tables import read_loss_table

    _write(tmp_path / "s.txt", ["# run 3", "T (mK) Q int", "20 1.1e5", "40 1.2e5", "60 1.3e5"])
    with pytest.raises(ValueError, match=r"s\.txt: line 2: the header splits at spaces into 3 "
                                         r"names \('T \(mK\)', 'Q', 'int'\) over 2 data columns"):
        read_loss_table(tmp_path / "s.txt")


def test_a_percent_comment_header_is_read(tmp_path):
    """MATLAB and Origin comment with '%': '% T (mK),Qi' was taken for the header, its first
    name '% T (mK)' not a temperature."""
    from manybody.measured.tables import read_loss_table

    _write(tmp_path / "p.csv", ["% exported by MATLAB", "% T (mK),Qi", "20,1.1e5", "40,1.2e5",
                                "60,1.3e5"])
    table = read_loss_table(tmp_path / "p.csv")
    np.testing.assert_allclose(table.temperature, [0.02, 0.04, 0.06])


def test_frequencies_stored_as_float32_are_named_as_rounding():
    """float32 holds 7.7 GHz to 512 Hz: a sweep stepped by 200 Hz repeats values, the rounding of
    the storage, named with its resolution (not 'sort the sweep')."""
    f = (7.7e9 + 200.0 * np.arange(400)).astype(np.float32).astype(np.float64)
    assert rounding_resolution(f) == 512.0
    z = np.exp(1j * np.linspace(0, 1, f.size))
    with pytest.raises(ValueError, match="the export rounded the frequencies to 512 Hz"):
        check_sweep(S21Sweep(f, z, "f32.csv", "real-imag"))


def test_an_earlier_runs_outputs_in_the_sweeps_folder_are_left_out_with_a_note(tmp_path, capsys):
    """fit_table.txt and resonator_fits.csv of a run written into the data folder (before --out
    was checked) were read as sweeps: 'file name fit_table.txt does not match the name
    pattern'."""
    from manybody.cli import main

    data = tmp_path / "data"
    data.mkdir()
    for seed, t in enumerate((30, 60, 90, 120)):  # four noise draws (one sweep saved twice is
        s = _sweep(seed=seed)  # refused: helper-175 F3)
        rows = [f"{f:.3f},{z.real:.9g},{z.imag:.9g}" for f, z in zip(s.frequency, s.s21,
                                                                      strict=True)]
        _write(data / f"s21_-20dB_{t}mK.csv", ["Frequency (Hz),Re,Im"] + rows)
    assert main(["fit-data", "--sweeps", str(data), "--sweep-layout", "real-imag", "--out",
                 str(tmp_path / "first")]) == 0
    for name in ("fit_table.txt", "resonator_fits.csv"):
        (data / name).write_bytes((tmp_path / "first" / name).read_bytes())
    capsys.readouterr()
    assert main(["fit-data", "--sweeps", str(data), "--sweep-layout", "real-imag", "--out",
                 str(tmp_path / "second")]) == 0
    err = capsys.readouterr().err
    assert "note: left out fit_table.txt, resonator_fits.csv among --sweeps" in err, err
    first = (tmp_path / "first" / "resonator_fits.csv").read_text()
    assert (tmp_path / "second" / "resonator_fits.csv").read_text() == first


def test_the_text_outputs_left_out_are_every_text_file_fit_data_writes():
    from manybody.cli import fit_data, fit_loss_shift, fit_power_sweep, fit_sweeps, fit_velocity

    written = {*fit_data.OUTPUTS, *fit_sweeps.SWEEP_OUTPUTS, *fit_loss_shift.OUTPUTS,
               *fit_velocity.VELOCITY_OUTPUTS, *fit_power_sweep.OUTPUTS}
    text = {name for name in written if name.endswith((".csv", ".txt", ".dat", ".s2p"))}
    assert text == set(fit_sweeps.TEXT_OUTPUTS)


@pytest.mark.parametrize("value, meant", [("dipoler", "dipolar"), ("Dipolar", "dipolar"),
                                          ("gausian", "gaussian")])
def test_a_misspelt_choice_is_told_the_choice_it_resembles(value, meant):
    from manybody.runs.spec import RunSpec

    with pytest.raises(ValueError, match=rf"model\.coupling\.kind must be one of 'gaussian', "
                                         rf"'dipolar', got '{value}'; did you mean '{meant}'\?"):
        RunSpec.from_dict(_spec(model__coupling__kind=value, model__coupling__strength=0.01))
    with pytest.raises(ValueError) as info:
        RunSpec.from_dict(_spec(model__coupling__kind="xyz", model__coupling__strength=0.01))
    assert "did you mean" not in str(info.value)


# ------------------------------------------------- a second break test (session 41)


@pytest.mark.parametrize("argv, words", [
    (["fit-data", "a.csv", "--background", "--no-background"],
     "arguments --background and --no-background contradict each other"),
    (["fit-data", "--tmin", "10mK", "--tmin", "0.01", "a.csv"],
     "given twice (--tmin 10mK, then --tmin 0.01)"),
    (["fit-data", "a.csv", "--powers=-20", "--powers=-10"],
     "several values go in one, comma-separated (e.g. --powers=-20,-10)"),
    (["study", "--only", "dipolar", "--only", "gaussian"],
     "several values go in one, space-separated (e.g. --only dipolar gaussian)"),
    (["fit-data", "\u2014frequency", "5GHz", "a.csv"],
     "starts with an em dash (\u2014), not a hyphen (pasted from a document?); type it as "
     "'--frequency'"),
    (["fit-data", "-frequency", "5GHz", "a.csv"], "did you mean --frequency for -frequency?"),
])
def test_command_line_near_misses_are_named(capsys, argv, words):
    from manybody.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert words in err, err


def test_an_unknown_option_after_a_command_is_that_commands_error(capsys):
    """'manybody run spec.toml --version' suggested '--version for --version' with the top-level
    usage; the command's parser reports it, and only its own options are suggested."""
    from manybody.cli import main

    with pytest.raises(SystemExit):
        main(["run", "spec.toml", "--version"])
    err = capsys.readouterr().err
    assert "manybody run: error: unrecognized arguments: --version" in err, err
    assert "did you mean" not in err


def test_two_constant_loss_curves_fit_as_one_does():
    """Two exactly constant curves ended in LAPACK messages and 'SVD did not converge'."""
    import warnings

    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws

    t = np.geomspace(0.01, 0.5, 20)
    curves = [LossCurve(t, np.full(20, 1e-6), power=-20, label="a"),
              LossCurve(t, np.full(20, 2e-6), power=-10, label="b")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = compare_laws(curves, "5GHz")
    assert "no temperature dependence" in result.reason, result.reason


def test_linear_powers_given_on_the_db_scale_are_refused():
    from manybody.laws.saturation import fit_saturation_joint

    power_dbm = np.linspace(-60, 0, 13)
    loss = 1e-6 / np.sqrt(1 + 10 ** ((power_dbm + 30) / 10)) + 1e-7
    watts = 10 ** (power_dbm / 10) * 1e-3
    with pytest.raises(ValueError, match=r"power spans 0\.001 dB .* linear powers \(W or mW\)\? "
                                         r"give scale='linear'"):
        fit_saturation_joint([(watts, loss)], scale="dB")
    fit = fit_saturation_joint([(watts, loss)], scale="linear")
    assert fit.parameters["beta"] == pytest.approx(0.5, abs=0.02)


def test_a_misspelt_required_key_is_named_as_misspelt():
    from manybody.config.model import ModelParams

    with pytest.raises(ValueError, match=r"'wieght' in model\.random_matrix.*did you mean "
                                         r"'weight' for 'wieght'\?"):
        ModelParams.from_dict({"n_tls": 4, "random_matrix": {"wieght": 0.1}})
    with pytest.raises(ValueError, match=r"did you mean 'tls' for 'tsl'\?"):
        ModelParams.from_dict({"n_tls": 4, "tsl": {"asymmetry_max": 0.1}})


def test_quality_factors_in_several_curves_and_a_joint_fit_warn_once_at_the_callers_line():
    import warnings

    from manybody.laws.inputs import LossCurve, LossScaleWarning, ShiftCurve
    from manybody.laws.joint import fit_loss_shift
    from manybody.measured.comparison import compare_laws

    qi = 1 / _tanh_loss(T)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_laws([LossCurve(T, qi, power=-20, label="a"),
                      LossCurve(T, 2 * qi, power=-10, label="b")], "5GHz")
        fit_loss_shift([LossCurve(T, qi, label="c")], ShiftCurve(T, 1e-6 * np.log(T / 0.02)),
                       "5GHz", mode="joint")
    scale = [w for w in caught if issubclass(w.category, LossScaleWarning)]
    assert len(scale) == 2, [str(w.message) for w in scale]
    assert "'a' (curve 1), 'b' (curve 2)" in str(scale[0].message)
    assert all(w.filename == __file__ for w in scale), [w.filename for w in scale]


@pytest.mark.parametrize("where, key, place", [
    ("model__strength", "strength", "model.coupling.strength"),
    ("model__measurement_time", "measurement_time", "model.equilibration.measurement_time"),
    ("solver__n_moments", "n_moments", "solver.chebyshev.n_moments"),
])
def test_a_key_in_the_wrong_table_of_model_or_solver_is_told_its_table(where, key, place):
    """Only the top level and [probe] named where a key belongs (session 40)."""
    from manybody.runs.spec import RunSpec

    with pytest.raises(ValueError, match=rf"unknown key\(s\) '{key}' in {where.split('__')[0]}; "
                                         rf".*did you mean {place} for '{key}'\?"):
        RunSpec.from_dict(_spec(**{where: 1}))


def test_a_unit_left_on_its_own_is_named(capsys):
    from manybody.cli import main

    with pytest.raises(SystemExit):
        main(["run", "spec.toml", "-o", "x.nc", "GHz"])
    assert "a unit on its own ('GHz'): write a value and its unit without a space (e.g. 5GHz)" \
        in capsys.readouterr().err


def test_a_table_separated_by_blanks_with_decimal_commas_is_read(tmp_path):
    """'T_mK Qi' over '20 1,1e5' was sniffed as comma-separated ('20 1' | '1e5'): found only one
    column. A comma-separated table with blanks inside its numbers is read as before."""
    from manybody.measured.tables import read_loss_table

    _write(tmp_path / "d.txt", ["\ufeffT_mK Qi", "20 1,1e5", "40 1,2e5", "60 1,3e5"])
    np.testing.assert_allclose(read_loss_table(tmp_path / "d.txt").loss,
                               [1 / 1.1e5, 1 / 1.2e5, 1 / 1.3e5])
    _write(tmp_path / "t.csv", ["T (mK),Qi", "20,1 100 000", "40,1 200 000", "60,1 300 000"])
    np.testing.assert_allclose(read_loss_table(tmp_path / "t.csv").loss,
                               [1 / 1.1e6, 1 / 1.2e6, 1 / 1.3e6])


def test_another_commands_short_option_points_at_this_commands_long_one(capsys):
    """'fit-data -o DIR' (run's -o is --output) was 'unrecognized arguments: -o' alone."""
    from manybody.cli import main

    with pytest.raises(SystemExit):
        main(["fit-data", "a.csv", "-o", "x"])
    assert "unrecognized arguments: -o x; did you mean --out for -o?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["info", "x.nc", "-o", "y"])
    assert "did you mean" not in capsys.readouterr().err


@pytest.mark.parametrize("sep", [" ", ","])
def test_a_comment_after_the_numbers_of_a_data_line_is_dropped(tmp_path, sep):
    from manybody.measured.tables import read_loss_table

    _write(tmp_path / "c.txt", [f"T_mK{sep}Qi", f"20{sep}1.1e5  # warm-up", f"40{sep}1.2e5",
                                f"60{sep}1.3e5 #"])
    np.testing.assert_allclose(read_loss_table(tmp_path / "c.txt").loss,
                               [1 / 1.1e5, 1 / 1.2e5, 1 / 1.3e5])

"""Faults found in session 45 (break tests of the library and the command line, and the joint fit
of a curve fitted to numerical precision left open in session 44), each with the right behaviour."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from manybody.laws.fit import MIN_RELATIVE_SCATTER, fit_joint
from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.laws.joint import fit_loss_shift

W = 0.05
T = np.geomspace(0.01, 0.5, 15)
X = W / T


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


# ------------------------------------------------ a curve fitted to precision beside noisy ones

@pytest.mark.parametrize("background", [True, False])
@pytest.mark.parametrize("noise", [0.0, 1e-12])
def test_an_exact_curve_beside_another_law_is_indeterminate(background, noise):
    """An exact tanh curve and an exact 1 - e^-x curve share no index. With a scatter estimated
    per curve the one fitted to round-off got all the weight: a = 1 +- 3e-10 or 0 +- 2e-10,
    decided by the background (session 44). Now the fit names that curve and cannot decide."""
    rng = np.random.default_rng(1)
    tls = 1e-5 * np.tanh(X / 2) * (1 + noise * rng.standard_normal(T.size))
    generic = 1e-5 * (1 - np.exp(-X)) * (1 + noise * rng.standard_normal(T.size))
    fit = _quiet(fit_joint, [LossCurve(T, tls, label="tls"), LossCurve(T, generic, label="gen")],
                 W, background=background)
    reasons = [r for r in fit.indeterminate if "numerical precision" in r]
    assert len(reasons) == 1
    exact = "'tls'" if background else "'gen'"  # the curve the runaway weighting fitted
    assert exact in reasons[0] and "sigma" in reasons[0]
    assert min(fit.curve_scatter) < MIN_RELATIVE_SCATTER


def test_the_guard_leaves_common_scatter_consistent_exact_and_noisy_curves_alone():
    rng = np.random.default_rng(2)
    tls = 1e-5 * np.tanh(X / 2)
    generic = 1e-5 * (1 - np.exp(-X))
    common = _quiet(fit_joint, [LossCurve(T, tls, label="a"), LossCurve(T, generic, label="b")],
                    W, scatter="common")
    assert not any("numerical precision" in r for r in common.indeterminate)
    # two exact curves of the same law: the shared law fits both, the answer is right
    both = _quiet(fit_joint, [LossCurve(T, tls, label="a"), LossCurve(T, 2 * tls, label="b")], W)
    assert not any("numerical precision" in r for r in both.indeterminate)
    assert both.parameters["index"] == pytest.approx(1.0, abs=1e-8)
    # measured-like noise (1e-3) on both: the scatters are estimated, no reason
    noisy = [LossCurve(T, tls * (1 + 1e-3 * rng.standard_normal(T.size)), label="a"),
             LossCurve(T, 2 * tls * (1 + 1e-2 * rng.standard_normal(T.size)), label="b")]
    fit = _quiet(fit_joint, noisy, W)
    assert not any("numerical precision" in r for r in fit.indeterminate)
    assert fit.parameters["index"] == pytest.approx(1.0, abs=0.05)


def test_an_exact_shift_beside_a_noisy_loss_is_indeterminate():
    """The joint loss + shift fit estimates the shift's scatter on its own: a shift computed from
    the model (no noise) set the index to 1 +- 6e-11 whatever the loss said."""
    rng = np.random.default_rng(1)
    loss = 1e-5 * np.tanh(X / 2) * (1 + 0.02 * rng.standard_normal(T.size)) + 1e-6
    noisy_shift = ShiftCurve(T, 1e-6 * np.log(T / 0.1) * (1 + 0.02 * rng.standard_normal(T.size)))
    first = _quiet(fit_loss_shift, [LossCurve(T, loss)], noisy_shift, W, law="tls")
    assert not any("numerical precision" in r for r in first.fit.indeterminate)
    exact = ShiftCurve(T, first.predict_shift(T), label="shift")
    fit = _quiet(fit_loss_shift, [LossCurve(T, loss)], exact, W, law="family")
    reasons = [r for r in fit.fit.indeterminate if "numerical precision" in r]
    assert len(reasons) == 1 and "'shift'" in reasons[0]


# ------------------------------------------------------------- magnitudes of the stress and H

def _one_tls():
    import manybody as mb

    return mb.solve(mb.Realisation.from_arrays(asymmetry=[0.05], tunnelling=[0.1]))


@pytest.mark.parametrize("factor", [1e160, 1e-200])
@pytest.mark.parametrize("observable", ["absorption", "velocity_shift"])
def test_stress_elements_whose_squares_over_or_underflow_are_refused(factor, observable):
    """T = 1e160 gave Q = NaN and T = 1e-200 gave Q = 0, both without a word (session 45)."""
    import manybody as mb

    spectrum, stress = _one_tls()
    with pytest.raises(ValueError, match=r"stress_elements must have its largest \|T_mn\|"):
        getattr(mb, observable)(spectrum, stress * factor, [0.1], [0.11],
                                mb.Broadening(width=0.02))


def test_stress_elements_within_the_range_scale_the_absorption_by_their_square():
    import manybody as mb

    spectrum, stress = _one_tls()
    kernel = mb.Broadening(width=0.02)
    base = mb.absorption(spectrum, stress, [0.1], [0.11], kernel)
    for factor in (1e90, 1e-90):
        scaled = mb.absorption(spectrum, stress * factor, [0.1], [0.11], kernel)
        assert scaled == pytest.approx(base * factor**2, rel=1e-12)


@pytest.mark.parametrize("gamma", [1e200, 1e-200, 1e100])
def test_a_deformation_potential_out_of_range_is_refused_by_name(gamma):
    """absorption_normalisation raised OverflowError (1e200) and ZeroDivisionError (1e-200)."""
    import manybody as mb

    with pytest.raises(ValueError, match="stress.deformation_potential must be between"):
        mb.StressParams(deformation_potential=gamma)


def test_the_normalisation_is_finite_at_the_ends_of_the_range():
    import manybody as mb

    for gamma in (1e99, 1e-99):
        value = mb.absorption_normalisation(
            mb.ModelParams(n_tls=3, stress=mb.StressParams(deformation_potential=gamma)))
        assert np.isfinite(value) and value > 0
    with pytest.raises(ValueError, match="stress.two_body"):
        mb.StressParams(two_body=1e120)
    with pytest.raises(ValueError, match="stress.random_matrix"):
        mb.StressParams(random_matrix=1e-120)


def test_a_realisation_refuses_stress_magnitudes_that_overflow():
    import manybody as mb

    with pytest.raises(ValueError, match="deformation_potential must lie within"):
        mb.Realisation.from_arrays(asymmetry=[0.05], tunnelling=[0.1],
                                   deformation_potential=[1e160])
    with pytest.raises(ValueError, match="stress_coupling must lie within"):
        mb.Realisation.from_arrays(asymmetry=[0.05, 0.06], tunnelling=[0.1, 0.1],
                                   stress_coupling=[[0, 1e160], [1e160, 0]])


def test_diagonalise_refuses_a_hamiltonian_beyond_the_range_but_not_a_small_one():
    import manybody as mb

    with pytest.raises(ValueError, match=r"h must have its largest \|H_mn\| below"):
        mb.diagonalise(np.array([[1e130, 0.0], [0.0, -1e130]]))
    spectrum = mb.diagonalise(np.array([[1e-200, 0.0], [0.0, -1e-200]]))
    assert spectrum.energies.tolist() == [-1e-200, 1e-200]


def test_eigenvalues_beyond_float32_range_are_float64_without_a_warning():
    import manybody as mb
    from manybody.simulation.observables.statistics import eigenvalue_precision

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert eigenvalue_precision(np.array([-1e50, 1e50])) == np.float64
        spectrum, _ = mb.solve(mb.Realisation.from_arrays(asymmetry=[1e50], tunnelling=[1e50]))
    assert spectrum.energies[1] == pytest.approx(np.sqrt(2) * 0.5e50, rel=1e-12)


@pytest.mark.parametrize("bad", ["foo", True, np.float16, 3])
def test_a_precision_that_is_not_float32_or_float64_is_refused_by_name(bad):
    import manybody as mb

    levels = np.sort(np.random.default_rng(0).standard_normal(50))
    with pytest.raises(ValueError, match="precision must be one of 'float32', 'float64'"):
        mb.mean_spacing_ratio(levels, precision=bad)
    with pytest.raises(ValueError, match="precision must be one of"):
        mb.spacing_ratios(levels, precision=bad) if hasattr(mb, "spacing_ratios") else (
            mb.mean_spacing_ratio(levels, precision=bad))
    same = {mb.mean_spacing_ratio(levels, precision=p) for p in ("float32", np.float32,
                                                                np.dtype("float32"))}
    assert len(same) == 1


# ------------------------------------------------------------------ switches of the fits

def _fits():
    import manybody as mb
    from manybody.laws.joint import compare_loss_shift
    from manybody.laws.saturation import fit_saturation, fit_saturation_joint
    from manybody.laws.saturation_comparison import analyse_saturation
    from manybody.measured.comparison import compare_laws

    loss = 1e-5 * np.tanh(X / 2) * (1 + 0.01 * np.random.default_rng(0).standard_normal(T.size))
    curve, shift = LossCurve(T, loss + 1e-6), ShiftCurve(T, 1e-6 * np.log(T / 0.1))
    power = np.geomspace(0.01, 100, 12)
    saturating = 2e-6 / np.sqrt(1 + power / 0.5) + 1e-7
    rows = np.tile(saturating, (5, 1)) * (1 + 0.01 * np.random.default_rng(1).standard_normal((5, 12)))
    return {
        "fit_joint": lambda **k: fit_joint([curve], W, **k),
        "fit_loss": lambda **k: mb.fit_loss(T, loss + 1e-6, W, **k),
        "compare_laws": lambda **k: compare_laws([curve], W, **k),
        "fit_loss_shift": lambda **k: fit_loss_shift([curve], shift, W, **k),
        "compare_loss_shift": lambda **k: compare_loss_shift([curve], shift, W, **k),
        "fit_saturation": lambda **k: fit_saturation(power, saturating, **k),
        "fit_saturation_joint": lambda **k: fit_saturation_joint([(power, saturating)], **k),
        "analyse_saturation": lambda **k: analyse_saturation(power, rows, n_bootstrap=0, **k),
    }


@pytest.mark.parametrize("value", ["no", None, 1, 2.5])
@pytest.mark.parametrize("name", ["fit_joint", "fit_loss", "compare_laws", "fit_loss_shift",
                                  "compare_loss_shift", "fit_saturation", "fit_saturation_joint",
                                  "analyse_saturation"])
def test_background_must_be_a_bool_in_every_fit(name, value):
    """"no" gave "invalid literal for int()" or "can't multiply sequence", 1 was taken."""
    with pytest.raises(TypeError, match="background must be True or False"):
        _quiet(_fits()[name], background=value)


@pytest.mark.parametrize("name", ["fit_joint", "compare_laws", "fit_loss_shift"])
def test_saturation_must_be_a_bool(name):
    for value in ("no", None, 1):
        with pytest.raises(TypeError, match="saturation must be True or False"):
            _quiet(_fits()[name], saturation=value)


@pytest.mark.parametrize("name", ["fit_joint", "fit_loss", "compare_laws", "fit_loss_shift"])
def test_a_gap_without_a_quasiparticle_term_is_refused(name):
    """It was ignored: the fit was the one without gap, without a word."""
    with pytest.raises(ValueError, match="gap fixes the gap of the quasiparticle term"):
        _quiet(_fits()[name], gap=1.0)


def test_fit_loss_shift_takes_one_loss_curve_as_compare_laws_does():
    loss = 1e-5 * np.tanh(X / 2) * (1 + 0.01 * np.random.default_rng(0).standard_normal(T.size))
    curve, shift = LossCurve(T, loss + 1e-6), ShiftCurve(T, 1e-6 * np.log(T / 0.1))
    one = _quiet(fit_loss_shift, curve, shift, W, law="tls")
    listed = _quiet(fit_loss_shift, [curve], shift, W, law="tls")
    assert one.fit.parameters == listed.fit.parameters


def test_compare_loss_shift_modes_one_name_none_or_repeated():
    from manybody.laws.joint import compare_loss_shift

    loss = 1e-5 * np.tanh(X / 2) * (1 + 0.01 * np.random.default_rng(0).standard_normal(T.size))
    curve, shift = LossCurve(T, loss + 1e-6), ShiftCurve(T, 1e-6 * np.log(T / 0.1))
    one = _quiet(compare_loss_shift, [curve], shift, W, modes="loss")
    assert list(one.fits) == ["loss"]
    assert (one.fits["loss"]["family"].fit.parameters
            == _quiet(compare_loss_shift, [curve], shift, W, modes=("loss",))
            .fits["loss"]["family"].fit.parameters)
    with pytest.raises(ValueError, match="modes must name at least one"):
        compare_loss_shift([curve], shift, W, modes=())
    with pytest.raises(ValueError, match="must not repeat"):
        compare_loss_shift([curve], shift, W, modes=("loss", "loss"))


# ----------------------------------------------------------------------------- power units

def test_a_power_unit_outside_the_known_ones_is_refused():
    """A typo ("dbm") skipped the dBm range check; any string was taken."""
    loss = 1e-5 * np.tanh(X / 2)
    for unit in ("dbm", "W", None):
        with pytest.raises((ValueError, TypeError), match="power_unit of 'data'"):
            LossCurve(T, loss, power=-80, power_unit=unit)
    with pytest.raises(ValueError, match="between -300 and 300 dB\\(photons\\)"):
        LossCurve(T, loss, power=1e300, power_unit="dB(photons)")
    assert LossCurve(T, loss, power=60, power_unit="dB(photons)").power == 60


def _table(tmp_path, header, powers):
    from manybody.measured.tables import curves_from_table, read_loss_table

    rows = [f"{t:g},{1e-5 * (1 + t):g},{p:g}" for p in powers for t in (0.01, 0.02, 0.05, 0.1, 0.2)]
    path = tmp_path / "loss.csv"
    path.write_text("T (K),loss," + header + "\n" + "\n".join(rows) + "\n")
    return curves_from_table(read_loss_table(str(path)))


@pytest.mark.parametrize("header", ["power", "power (dB)", "P (mdBm)"])
def test_a_power_column_without_a_readable_unit_is_refused_naming_it(tmp_path, header):
    """A bare "power" became the unit "?" and "power (dB)" the unit "db", taken as dB of
    something by every later step (a saturation fit of powers in watts as if in dB)."""
    with pytest.raises(ValueError, match=f"power column '{re.escape(header)}' has"):
        _table(tmp_path, header, (1, 2))


def test_a_power_column_in_dbw_is_read_as_dbm(tmp_path):
    curves = _table(tmp_path, "power (dBW)", (-80, -90))
    assert sorted(c.power for c in curves) == [-60.0, -50.0]
    assert {c.power_unit for c in curves} == {"dBm"}


# -------------------------------------------------------------------- identical realisations

def test_identical_realisations_are_warned_about_and_taken_as_exact():
    """A noisy curve tiled 10 times (every realisation drawn with one seed) got a = 0.989 +- 2e-16
    without a word; the curve alone gets +- 0.023."""
    import manybody as mb

    x = np.geomspace(0.2, 10, 25)
    one = np.tanh(x / 2) * (1 + 0.01 * np.random.default_rng(1).standard_normal(25))
    with pytest.warns(UserWarning, match="all 10 realisations are identical"):
        shape = mb.analyse_shape(x, np.tile(one, (10, 1)), n_bootstrap=0)
    assert shape.index_error == 0.0  # exact data, as the warning says
    assert mb.analyse_shape(x, one).index_error > 0.01
    temperature = np.geomspace(0.01, 10, 60)
    log = np.log(temperature / 0.3)
    dv = np.where(log < 0, log, -0.5 * log) + 0.01 * np.random.default_rng(0).standard_normal(60)
    with pytest.warns(UserWarning, match="fit_velocity_slopes: all 30 realisations are identical"):
        mb.fit_velocity_slopes(temperature, np.tile(dv, (30, 1)))
    power = np.geomspace(0.01, 100.0, 12)
    loss = 2e-6 / np.sqrt(1 + power / 0.5) + 1e-7
    with pytest.warns(UserWarning, match="analyse_saturation: all 4 realisations are identical"):
        mb.analyse_saturation(power, np.tile(loss, (4, 1)), n_bootstrap=0)


def test_realisations_that_differ_are_not_warned_about():
    import manybody as mb

    x = np.geomspace(0.2, 10, 25)
    rows = np.tanh(x / 2) * (1 + 0.01 * np.random.default_rng(1).standard_normal((10, 25)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        mb.analyse_shape(x, rows, n_bootstrap=0)


# ------------------------------------------------------------------ resonance fit options

def test_resonance_fit_options_are_checked_by_name():
    from manybody.measured.resonance import fit_notch
    from manybody.measured.sweeps import S21Sweep

    f = np.linspace(5.0e9 - 2e6, 5.0e9 + 2e6, 401)
    s21 = 1 - 0.5 / (1 + 2j * 1e4 * (f / 5.0e9 - 1))
    sweep = S21Sweep(f, s21, "synthetic", "real-imag")
    with pytest.raises(TypeError, match="max_misfit"):
        fit_notch(sweep, max_misfit="2")
    with pytest.raises(TypeError, match="conjugate must be True or False"):
        fit_notch(sweep, conjugate="yes")
    with pytest.raises(ValueError, match="min_dip_sigma must be > 0"):
        fit_notch(sweep, min_dip_sigma=-1)


def test_an_exponential_block_far_narrower_than_its_band_is_refused():
    """T_s = 1e-12 K under W = 1 K put every level within 2e-12 K of the top (Q ~ 1e-55 without a
    word), T_s = 1e-300 K made 7 distinct levels of 8."""
    import manybody as mb
    from manybody.simulation.ensembles import RandomMatrixTerm

    with pytest.raises(ValueError, match="random_matrix.growth_temperature must be at least 1e-09"):
        mb.RandomMatrixParams(kind="exponential", weight=1.0, growth_temperature=1e-12)
    with pytest.raises(ValueError, match="RandomMatrixTerm.growth_temperature must be at least"):
        RandomMatrixTerm(kind="exponential", weight=1.0, seed=0, growth_temperature=1e-300)
    # the other kinds ignore it; at the ratio's floor the block is still a spectrum of distinct levels
    assert mb.RandomMatrixParams(kind="flat", growth_temperature=1e-12).kind == "flat"
    params = mb.ModelParams(n_tls=3, tls=None, random_matrix=mb.RandomMatrixParams(
        kind="exponential", weight=1.0, growth_temperature=1e-8))
    spectrum, _ = mb.solve(mb.draw_realisation(params, np.random.default_rng(0)))
    assert np.unique(spectrum.energies).size == 8


# ------------------------------------------------------------------ signals and checkpoints

def test_a_stop_signal_repeated_at_once_is_one_stop_and_a_late_one_takes_the_default():
    """In process: the repeat within the grace is ignored (it killed the run silently). In a
    child with no grace: the repeat during the clean-up ends it by the default action."""
    import os
    import signal
    import subprocess
    import sys

    from manybody.cli.signals import Terminated, stop_signals_as_interrupt

    stopped = False
    with stop_signals_as_interrupt():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100):
                time.sleep(0.01)
        except Terminated:
            stopped = True
            os.kill(os.getpid(), signal.SIGTERM)  # the group's copy, milliseconds later
            time.sleep(0.05)
    assert stopped
    child = ("import os, signal, time\n"
             "import manybody.cli.signals as s\n"
             "s.REPEAT_GRACE = 0.0\n"
             "with s.stop_signals_as_interrupt():\n"
             "    try:\n"
             "        os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)\n"
             "    except s.Terminated:\n"
             "        os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)\n"
             "print('survived')\n")
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGTERM and "survived" not in done.stdout


class _Stop(Exception):
    pass


def _interrupted_run(tmp_path):
    """The output path of a 6-realisation run stopped after 4 (one task file each), whose
    checkpoint is left behind."""
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep

    spec = RunSpec.from_dict({
        "name": "t", "seed": 1, "realisations": 6, "model": {"n_tls": 3},
        "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1, 0.2],
                  "observables": ["absorption"], "broadening": {"width": 0.02}}})
    out = tmp_path / "o.nc"

    def stop_after_four(done, total):
        if done >= 4:
            raise _Stop

    with pytest.raises(_Stop):
        run_sweep(spec, output=out, progress=stop_after_four, chunk_size=1)
    return out


def test_info_names_damaged_task_files_and_does_not_count_them(tmp_path, capsys):
    """A truncated task file raised BadZipFile through `manybody info` (a traceback) and an empty
    one was counted as finished; a run recomputes both, and info now says so."""
    from manybody.cli import main
    from manybody.runs.checkpoint import checkpoint_dir

    out = _interrupted_run(tmp_path)
    files = sorted((checkpoint_dir(out) / "tasks").glob("*.npz"))
    assert len(files) == 4
    files[1].write_bytes(files[1].read_bytes()[:100])  # truncated
    files[2].write_bytes(b"")  # empty
    assert main(["info", str(checkpoint_dir(out))]) == 0
    text = capsys.readouterr().out
    assert "finished: 2 of 6 realisation(s)" in text
    assert f"damaged: 2 task file(s) ({files[1].name}, {files[2].name})" in text
    assert main(["info", str(files[1])]) == 0
    assert f"{files[1].name} is one of them: a rerun recomputes" in capsys.readouterr().out
    # readable, but not what a run takes: without the observables, or another sweep point's
    np.savez(files[0], foo=np.arange(3))
    with np.load(files[3]) as data:
        arrays = dict(data)
    arrays["_point"] = np.array(7)
    np.savez(files[3], **arrays)
    assert main(["info", str(checkpoint_dir(out))]) == 0
    text = capsys.readouterr().out
    assert "finished: 0 of 6 realisation(s)" in text and "damaged: 4 task file(s)" in text


# ---------------------------------------------------------------- the command line's inputs

def _good_table(path, temperatures):
    x = 0.27 / np.asarray(temperatures)
    loss = 1e-6 * np.tanh(x / 2) + 2e-7
    path.write_text("temperature_K,loss\n" + "\n".join(
        f"{t:g},{q:.6g}" for t, q in zip(temperatures, loss, strict=True)) + "\n")
    return path


@pytest.mark.parametrize("reader", ["loss", "velocity"])
def test_one_temperature_in_the_other_unit_is_warned_about_naming_the_row(tmp_path, reader):
    """50.17 (mK) among 0.02-0.5 K was fitted without a word and turned "TLS" into "undecided"."""
    from manybody.measured.tables import read_loss_table
    from manybody.measured.velocity import read_velocity_table

    temperatures = list(np.geomspace(0.02, 0.5, 12))
    temperatures[4] = 50.17
    path = _good_table(tmp_path / "t.csv", temperatures)
    if reader == "velocity":
        path.write_text(path.read_text().replace("loss", "dv/v"))
    read = read_loss_table if reader == "loss" else read_velocity_table
    with pytest.warns(UserWarning, match=r"data row 5: T = 50.17 K is 100x above the next "
                                         r"highest temperature \(0.5 K\): a value in mK\?"):
        read(str(path))
    # a K value in an mK column: 1000x too low once read
    millikelvin = [1e3 * t for t in np.geomspace(0.02, 0.5, 12)]
    millikelvin[4] = 0.05
    path.write_text("T (mK),loss\n" + "\n".join(f"{t:g},1e-5" for t in millikelvin) + "\n")
    with pytest.warns(UserWarning, match=r"T = 0.05 mK is .*below the next lowest temperature "
                                         r".*a value in K\?"):
        read_loss_table(str(path))


@pytest.mark.parametrize("temperatures", [
    np.geomspace(0.01, 1.0, 15),  # evenly spread
    [0.010, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4],  # a base-temperature point, then the sweep
    [0.02, 0.03, 0.05, 0.07, 0.1, 1.5],  # one hot point: 1.5 mK would lie below them all
])
def test_ordinary_tables_are_not_warned_about(tmp_path, temperatures):
    """A first version warned at any 10x gap, on either side, in either unit (a break test)."""
    from manybody.measured.tables import read_loss_table

    path = _good_table(tmp_path / "t.csv", temperatures)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        read_loss_table(str(path))


def test_one_row_of_a_sweep_index_in_the_other_unit_is_warned_about(tmp_path):
    from manybody.measured.resonator_table import read_sweep_index

    index = tmp_path / "index.csv"
    kelvin = [0.03 + 0.015 * i for i in range(20)]
    kelvin[5] = 105.0
    index.write_text("file,temperature_K,power_dBm\n" + "\n".join(
        f"s{i}.csv,{t:g},-20" for i, t in enumerate(kelvin)) + "\n")
    with pytest.warns(UserWarning, match=r"column temperature_K, data row 6 \(s5.csv\): 105 K .* "
                                         r"a value in mK\?"):
        read_sweep_index(str(index))


def test_the_unit_hint_names_forms_the_options_accept():
    """The hint said "5 GHz is '5GHz' or 0.24", and fit-data then refused --frequency 0.24."""
    from manybody.laws.x_range import x_range_problem

    with pytest.raises(ValueError, match=r"'5GHz' or '0.24K'; in Python a bare number is kelvin"):
        x_range_problem(np.array([1e-3, 2e-3]), 100.0, where="--frequency '2THz'")
    with pytest.raises(ValueError) as refused:
        x_range_problem(np.array([30.0, 300.0]), 0.37, where="the sweeps", frequency_given=False,
                        temperatures_from="the sweep index 'idx.csv'")
    assert "in the sweep index 'idx.csv'" in str(refused.value)
    assert "frequency in the wrong unit" not in str(refused.value)


def test_a_sweep_index_in_mk_is_refused_before_any_fit(tmp_path, monkeypatch):
    """Its temperatures were checked only after every sweep had been fitted (~25 s)."""
    import manybody.measured.resonator_table as table
    from manybody.measured.resonance import notch_s21
    from manybody.measured.resonator_table import fit_sweeps, read_sweep_index, sweep_files

    folder = tmp_path / "sw"
    folder.mkdir()
    f = 5e9 + 5e9 / 2e4 * np.linspace(-8, 8, 201)
    for i, t in enumerate((30, 45, 60, 75)):  # f0 0.1 ppm apart: one sweep saved twice is
        z = notch_s21(f, 5e9 * (1 - 1e-7 * i), 2e4, 4e4, 0.1, 1.0, 0.0, 0.0)  # refused (F3)
        (folder / f"s21_-90dBm_{t:05.1f}mK.csv").write_text("\n".join(
            f"{a:.17g},{20 * np.log10(abs(b)):.17g},{np.degrees(np.angle(b)):.17g}"
            for a, b in zip(f, z, strict=True)) + "\n")
    files = sweep_files(folder)
    index = tmp_path / "index.csv"
    index.write_text("file,temperature_K,power_dBm\n" + "\n".join(
        f"{Path(f).name},{30 + 15 * i:g},-90" for i, f in enumerate(files)) + "\n")

    def no_fit(*args, **kwargs):
        raise AssertionError("a sweep was fitted before the refusal")

    monkeypatch.setattr(table, "fit_notch", no_fit)
    with pytest.raises(ValueError, match=r"temperatures in mK given as K \(in the sweep index "):
        fit_sweeps(files, index=read_sweep_index(str(index)))


@pytest.mark.parametrize("command", [["study", "--tiny", "-o", "-"],
                                     ["fit-data", "t.csv", "--frequency", "0.27K", "--out", "-"]])
def test_a_dash_as_an_output_folder_is_refused_as_run_refuses_it(tmp_path, monkeypatch, command,
                                                                  capsys):
    from manybody.cli import main

    monkeypatch.chdir(tmp_path)
    _good_table(tmp_path / "t.csv", np.geomspace(0.02, 0.5, 12))
    assert main(command) == 2
    assert "not to standard output" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()


def test_study_refuses_a_spec_named_twice(tmp_path, capsys):
    from manybody.cli import main

    assert main(["study", "--tiny", "--only", "dipolar", "dipolar", "-o", str(tmp_path / "s")]) == 2
    assert "--only names 'dipolar' more than once" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_a_script_refuses_a_dash_as_its_output_folder(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "scripts" / "make_figures.py"), "--out", "-"],
                          capture_output=True, text=True, cwd=root, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--out '-': the script writes its results into a folder" in proc.stderr
    assert not (root / "-").exists()


# ------------------------------------------------- second break test of this session's fixes

def _six_tls(gamma):
    import manybody as mb

    rng = np.random.default_rng(0)
    return mb.Realisation.from_arrays(asymmetry=rng.uniform(-0.3, 0.3, 6),
                                      tunnelling=rng.uniform(0.01, 0.3, 6),
                                      deformation_potential=np.full(6, gamma))


def test_the_chebyshev_solver_holds_the_stress_in_its_own_unit():
    """gamma <= 1e-15 gave Q = 0 and gamma >= 1e20 NaN in float32 (dense was right). T is now
    held in units of a power of two near its scale: for gamma a power of two the answer is the
    same bits as for gamma = 1, and any gamma in range gives a finite answer."""
    import manybody as mb
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption

    def solve(gamma):
        return chebyshev_absorption(_six_tls(gamma), [0.1], [0.05, 0.1, 0.5],
                                    mb.Broadening(width=0.02), normalisation=1 / gamma**2)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = solve(1.0)
        for gamma in (2.0**-60, 2.0**70):
            other = solve(gamma)
            assert np.array_equal(other.absorption, base.absorption)
            assert np.array_equal(other.velocity_shift, base.velocity_shift)
            assert np.array_equal(other.absorption_error, base.absorption_error)
        for gamma in (1e-30, 1e30):
            other = solve(gamma)
            assert np.all(np.isfinite(other.absorption))
            assert np.all(np.abs(other.absorption - base.absorption)
                          <= 5 * (other.absorption_error + base.absorption_error))


def test_a_two_body_or_random_matrix_stress_far_above_gamma_is_refused():
    """Each in range, 1e99 beside gamma = 1e-99 gave Q = inf, written by manybody run."""
    import manybody as mb

    for name in ("two_body", "random_matrix"):
        with pytest.raises(ValueError, match=f"stress.{name} must be at most 1e\\+06 times"):
            mb.StressParams(deformation_potential=1e-99, **{name: 1e99})
    assert mb.StressParams(deformation_potential=1e-3, two_body=1e3).two_body == 1e3


def test_relaxation_checks_stress_scale_and_the_elements_in_its_units():
    """stress_scale 1e200: OverflowError; 1e-200: LinAlgError; T = 1e100 with gamma = 1: NaN."""
    import manybody as mb

    spectrum, stress = mb.solve(mb.Realisation.from_arrays(asymmetry=[0.05, 0.1, 0.02],
                                                           tunnelling=[0.1, 0.05, 0.2]))
    for function in (mb.relaxation_absorption, mb.relaxation_velocity_shift):
        for scale in (1e200, 1e-200):
            with pytest.raises(ValueError, match="stress_scale must be between"):
                function(spectrum, stress, [0.1], [0.1], 1e8, stress_scale=scale)
        with pytest.raises(ValueError, match=r"stress_elements reach .* times stress_scale"):
            function(spectrum, stress * 1e100, [0.1], [0.1], 1e8)
        # the same rates in other units of the stress: the response scales as |T|^2
        one = function(spectrum, stress, [0.1], [0.1, 0.5], 1e8)
        scaled = function(spectrum, stress * 1e40, [0.1], [0.1, 0.5], 1e8, stress_scale=1e40)
        assert scaled == pytest.approx(one * 1e80, rel=1e-10)


def test_matrix_element_statistics_refuse_what_the_observables_refuse():
    import manybody as mb

    spectrum, stress = mb.solve(mb.Realisation.from_arrays(asymmetry=[0.05, 0.1, 0.02],
                                                           tunnelling=[0.1, 0.05, 0.2]))
    bins = (np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.2, 0.5]))
    for factor in (1e160, 1e-200):
        with pytest.raises(ValueError, match=r"stress_elements must have its largest"):
            mb.matrix_element_sums(spectrum.energies, stress * factor, *bins)


def test_identical_realisations_are_warned_about_everywhere_realisations_are_taken():
    import manybody as mb
    from manybody.laws.analysis import paired_index_difference
    from manybody.laws.collapse import frequency_collapse

    x = np.geomspace(0.2, 10, 25)
    one = np.tanh(x / 2) * (1 + 0.01 * np.random.default_rng(1).standard_normal(25))
    other = (1 - np.exp(-x)) * (1 + 0.01 * np.random.default_rng(2).standard_normal(25))
    with pytest.warns(UserWarning, match="paired_index_difference .*identical"):
        paired_index_difference(x, np.tile(one, (10, 1)), np.tile(other, (10, 1)), n_bootstrap=20)
    temperatures = np.geomspace(0.05, 1.0, 12)
    frequencies = np.array([0.05, 0.1])
    curves = np.stack([np.tanh(w / temperatures / 2) for w in frequencies], axis=-1)
    with pytest.warns(UserWarning, match="frequency_collapse: all 6 realisations are identical"):
        frequency_collapse(temperatures, frequencies, np.tile(curves, (6, 1, 1)), n_bootstrap=0)
    t = np.geomspace(0.01, 10, 60)
    log = np.log(t / 0.3)
    dv = np.where(log < 0, log, -0.5 * log) + 0.01 * np.random.default_rng(0).standard_normal(60)
    with pytest.warns(UserWarning, match="velocity_slopes: all 10 realisations are identical"):
        mb.velocity_slopes(t, np.tile(dv, (10, 1)))


@pytest.mark.parametrize(("header", "values", "expected"), [
    ("P (dB(photons))", (20, -10), [(-10.0, "dB(photons)"), (20.0, "dB(photons)")]),
    ("photons (dB)", (20, -10), [(-10.0, "dB(photons)"), (20.0, "dB(photons)")]),
    ("power (µW)", (1, 10), [(-30.0, "dBm"), (-20.0, "dBm")]),
    ("power (μW)", (1, 10), [(-30.0, "dBm"), (-20.0, "dBm")]),
    ("power (pW)", (1, 10), [(-90.0, "dBm"), (-80.0, "dBm")]),
    ("power (fW)", (1, 10), [(-120.0, "dBm"), (-110.0, "dBm")]),
])
def test_power_columns_in_db_of_photons_and_small_watts(tmp_path, header, values, expected):
    """"dB(photons)" was read as a photon number (20 dB became 13), µW/pW/fW were refused."""
    from manybody.measured.tables import curves_from_table, read_loss_table

    rows = [f"{t:g},{1e-5 * (1 + t):g},{p:g}" for p in values for t in (0.01, 0.02, 0.05, 0.1)]
    path = tmp_path / "p.csv"
    path.write_text(f"T (K),loss,{header}\n" + "\n".join(rows) + "\n", encoding="utf-8")
    curves = curves_from_table(read_loss_table(str(path)))
    assert sorted((round(c.power, 9), c.power_unit) for c in curves) == expected


def test_fit_power_sweep_checks_its_switches_first():
    from manybody.measured.power_sweep import fit_power_sweep, power_sweep

    power = [-100.0, -90.0, -80.0]
    temperatures = np.array([0.02, 0.03, 0.05, 0.08])
    curves = [LossCurve(temperatures, 1e-5 / np.sqrt(1 + 10 ** ((p + 90) / 10)) + 1e-7 + 0 * temperatures,
                        power=p, label=f"p{p:g}") for p in power]
    sweep = power_sweep(curves)
    with pytest.raises(TypeError, match="background must be True or False, got 'no'"):
        fit_power_sweep(sweep, background="no")
    with pytest.raises(ValueError, match="reference_beta must be > 0"):
        fit_power_sweep(sweep, reference_beta=-1)


def test_a_number_given_for_a_switch_is_told_the_bool_to_write():
    with pytest.raises(TypeError, match=r"got 0.0 \(a number; write False\)"):
        mb_fit_law = __import__("manybody").fit_law
        mb_fit_law(X, np.tanh(X / 2), background=0.0)


def test_shift_curve_records_are_checked():
    for kwargs, error, text in [
        ({"power": "abc"}, TypeError, "power of 'shift'"),
        ({"power": float("nan")}, ValueError, "power of 'shift'"),
        ({"power": 1e9}, ValueError, "power of 'shift' must be between"),
        ({"reference_temperature": -1}, ValueError, "reference_temperature of 'shift'"),
        ({"reference_temperature": 5000.0}, ValueError, "must be below 1000 K"),
        ({"label": None}, TypeError, "label must be a string"),
    ]:
        with pytest.raises(error, match=re.escape(text)):
            ShiftCurve(T, 1e-6 * np.log(T / 0.1), **kwargs)
    with pytest.raises(TypeError, match="label must be a string"):
        LossCurve(T, np.tanh(X / 2), label=5)


def test_table_reader_options_of_the_wrong_type_are_refused_by_name(tmp_path):
    from manybody.measured.tables import read_loss_table
    from manybody.measured.velocity import read_velocity_table

    path = _good_table(tmp_path / "t.csv", np.geomspace(0.02, 0.5, 12))
    for kwargs, text in [({"error_column": 1}, "error_column must be a column name"),
                         ({"temperature_column": 1}, "temperature_column must be a column name"),
                         ({"error_column": True}, "got True")]:
        with pytest.raises(TypeError, match=text):
            read_loss_table(str(path), **kwargs)
    assert read_loss_table(str(path), error_column=np.False_).sigma is None
    with pytest.raises(TypeError, match="shift_column must be a column name"):
        read_velocity_table(str(path), shift_column=2)


def test_ftlm_holds_the_stress_in_its_own_unit_too():
    """gamma <= 1e-30 gave Q = 0 from the finite-temperature Lanczos cross-check (float64)."""
    import manybody as mb
    from manybody.simulation.solvers.lanczos import ftlm_absorption

    def solve(gamma):
        return ftlm_absorption(_six_tls(gamma), [0.1], [0.05, 0.1, 0.5], mb.Broadening(width=0.02),
                               normalisation=1 / gamma**2)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = solve(1.0)
        for gamma in (2.0**-200, 2.0**200):
            assert np.array_equal(solve(gamma).absorption, base.absorption)
        for gamma in (1e-90, 1e90):
            assert solve(gamma).absorption == pytest.approx(base.absorption, rel=1e-9)


@pytest.mark.parametrize(("header", "unit"), [
    ("power_pW", "pW"), ("Power pW", "pW"), ("Power µW", "uW"), ("power_dBW", "dBW"),
    ("Pin µW", "uW"), ("Power (dB photons)", "dB(photons)"), ("power", "?")])
def test_power_units_written_after_the_name_without_brackets(header, unit):
    """Only bracketed units were read: "power_pW" and "Pin µW" were "no unit" (a break test)."""
    from manybody.measured.headers import header_power_unit

    assert header_power_unit(header) == unit


def test_iterative_solvers_take_a_realisation_subclass_and_refuse_other_types_by_name():
    """scaled_stress called a subclass's own __init__ (TypeError, only for gamma far from 1);
    ftlm_absorption given a ModelParams raised a raw AttributeError."""
    import manybody as mb
    from manybody.simulation.ensembles import Realisation
    from manybody.simulation.operators import scaled_stress
    from manybody.simulation.solvers.lanczos import ftlm_absorption

    class Tagged(Realisation):
        def __init__(self, base, tag):
            super().__init__(**{name: getattr(base, name) for name in
                                Realisation.__dataclass_fields__})
            object.__setattr__(self, "tag", tag)

    real = Tagged(_six_tls(3.0), "x")
    scaled = scaled_stress(real, 0.25)
    assert np.array_equal(scaled.deformation_potential, real.deformation_potential * 0.25)
    with pytest.raises(TypeError, match="Realisation"):
        ftlm_absorption(mb.ModelParams(n_tls=3), [0.1], [0.1], mb.Broadening(width=0.02))


def test_info_matches_task_files_by_the_digest_the_run_recorded(tmp_path, capsys):
    """A meta.json whose spec was written differently (another version's, or edited) made info
    call every good task file damaged: it recomputed the digest instead of reading the one the
    files carry (a break test, session 45)."""
    import json

    from manybody.cli import main
    from manybody.runs.checkpoint import checkpoint_dir

    out = _interrupted_run(tmp_path)
    meta_path = checkpoint_dir(out) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["spec"]["realisations"] = 8
    meta_path.write_text(json.dumps(meta))
    assert main(["info", str(checkpoint_dir(out))]) == 0
    text = capsys.readouterr().out
    assert "finished: 4 of 8 realisation(s)" in text and "damaged" not in text

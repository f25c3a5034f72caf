"""Faults found by the break test of session 43's change, fixed in session 44: each test gives the
right value or behaviour (see the closing note of session 44).

1. the velocity shift below its own kernel floor (1e-5 of w): one rounding step of w moved it
   by 280 % at eta = 1e-9 w, and the binned method gave -9.1 where the exact one gave -1.22;
2. an exactly constant, nonzero loss was "undecided" while the same loss with small noise was
   "neither law";
3. a 0-d array smearing failed with "unhashable type";
4. configuration_bath_check.py refused --bootstrap 0 (linearised errors), which its one
   consumer, analyse_shape, accepts.
"""

from __future__ import annotations

import argparse

import numpy as np
import pytest

import manybody as mb
from manybody.laws.shapes import law_family, law_tls, smeared
from manybody.support import validate as v

W, TEMPS = [0.1], [0.05]


def _one_tls():
    """E = 0.1 K exactly (0.06, 0.08), so the line sits on the probe w = 0.1 K."""
    return mb.solve(mb.Realisation.from_arrays(asymmetry=[0.06], tunnelling=[0.08]))


def _exact_shift(eta: float, w: float = 0.1) -> float:
    """-(1/2) (p0 - p1) (Delta/E)^2 [R(E - w) + R(E + w)] of the single TLS with a Gaussian
    kernel, R(u) = sqrt(2)/eta D(u / (sqrt(2) eta)) (D Dawson's function); normalisation 1."""
    from scipy.special import dawsn

    energy = 0.1

    def r(u):
        return np.sqrt(2.0) / eta * dawsn(u / (np.sqrt(2.0) * eta))

    return -0.5 * np.tanh(energy / (2 * TEMPS[0])) * 0.64 * (r(energy - w) + r(energy + w))


# -- 1. the velocity shift's own kernel floor ------------------------------------------------------

@pytest.mark.parametrize("method", ["exact", "binned"])
@pytest.mark.parametrize("width", [1e-10, 1e-8, 9.99e-7])
def test_velocity_shift_below_its_floor_is_refused(method, width):
    """Before: at eta = 1e-10 K (the absorption's floor, 1e-9 w) the binned shift was -9.09
    (Gaussian) and -24.7 (Lorentzian) against -1.2186, and w one rounding step higher gave +337
    by either method: the number was set by round-off."""
    spectrum, t = _one_tls()
    kernel = mb.Broadening(kind="gaussian", width=width)
    with pytest.raises(ValueError, match=r"broadening.width must be at least 1e-05 of the highest "
                                         r"frequency for the velocity shift \(1e-06 K at w = 0.1 K\)"
                                         rf".*got {width!r} K"):
        mb.velocity_shift(spectrum, t, W, TEMPS, kernel, method=method)
    # the absorption at the same kernel is well conditioned (relative 1e-16 w / eta) and kept
    q = mb.absorption(spectrum, t, W, TEMPS, kernel, method=method)
    peak = 0.64 * np.tanh(1.0) / (width * np.sqrt(2 * np.pi))
    assert q[0, 0] == pytest.approx(peak, rel=1e-6)


def test_relative_kernel_below_the_velocity_floor_is_refused_only_for_the_velocity_shift():
    spectrum, t = _one_tls()
    kernel = mb.Broadening(width=1e-6, scaling="relative")
    with pytest.raises(ValueError, match=r"broadening.width must be at least 1e-05 \(eta / w\) with "
                                         r"scaling = 'relative' for the velocity shift.*got 1e-06"):
        mb.velocity_shift(spectrum, t, W, TEMPS, kernel)
    assert np.isfinite(mb.absorption(spectrum, t, W, TEMPS, kernel)).all()


@pytest.mark.parametrize("kind", ["gaussian", "lorentzian"])
def test_velocity_shift_at_its_floor_is_stable_and_agrees_between_methods(kind):
    """At eta = 1e-5 w both methods give the shift of a line on resonance to 1e-5, and moving w
    by one or two rounding steps changes it by less than 1e-5 of itself (at 1e-9 w: 280 %)."""
    spectrum, t = _one_tls()
    from manybody.config.probe import MIN_DISPERSIVE_RELATIVE_WIDTH

    eta = MIN_DISPERSIVE_RELATIVE_WIDTH * 0.1
    kernel = mb.Broadening(kind=kind, width=eta)
    w0 = 0.1
    ws = [w0, np.nextafter(w0, 1.0), np.nextafter(np.nextafter(w0, 1.0), 1.0)]
    for method in ("exact", "binned"):
        shifts = [mb.velocity_shift(spectrum, t, [w], TEMPS, kernel, method=method)[0, 0]
                  for w in ws]
        assert np.ptp(shifts) < 1e-5 * abs(shifts[0])
        if kind == "gaussian":
            assert shifts[0] == pytest.approx(_exact_shift(eta), rel=1e-5)
    exact = mb.velocity_shift(spectrum, t, ws, TEMPS, kernel)
    binned = mb.velocity_shift(spectrum, t, ws, TEMPS, kernel, method="binned")
    np.testing.assert_allclose(binned, exact, rtol=1e-5)


def test_probe_applies_the_velocity_floor_only_when_the_velocity_shift_is_asked_for():
    kernel = mb.Broadening(width=1e-7)
    with pytest.raises(ValueError, match="for the velocity shift"):
        mb.Probe(frequencies=W, temperatures=TEMPS, broadening=kernel,
                 observables=["absorption", "velocity_shift"])
    probe = mb.Probe(frequencies=W, temperatures=TEMPS, broadening=kernel,
                     observables=["absorption"])
    assert probe.broadening.width == 1e-7


def test_a_spec_with_a_velocity_kernel_below_its_floor_is_refused_before_any_work(tmp_path, capsys):
    from pathlib import Path

    from manybody.cli import main

    text = (Path(__file__).parents[1] / "examples" / "independent_tls.toml").read_text()
    text = text.replace('observables = ["absorption"]', 'observables = ["absorption", "velocity_shift"]')
    text = text.replace('# "probe.broadening.width" = [0.01, 0.02]',
                        '"probe.broadening.width" = [0.01, 1e-8]')
    text = text.replace("realisations = [1500, 1000]", "realisations = 10")
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    assert main(["run", str(spec), "-o", str(tmp_path / "out.nc"), "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert "probe.broadening.width=1e-08: probe.broadening.width must be at least 1e-05 of the " \
        "highest frequency for the velocity shift" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [spec]


# -- 2. an exactly constant loss ------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(12,), (10, 12)])
def test_an_exactly_constant_loss_is_neither_law_like_a_measurably_flat_one(shape):
    """Before: 'undecided' ('constant to numerical resolution'), while the same constant with
    noise of 1e-3 of it was 'neither law': both vanish as x -> 0, a constant does not."""
    x = np.geomspace(0.2, 10, 12)
    result = mb.analyse_shape(x, np.full(shape, 1e-5), n_bootstrap=0)
    assert result.verdict == "neither law"
    assert "a = -1 is a loss that does not change with temperature" in result.reason
    noisy = 1e-5 * (1 + 1e-3 * np.random.default_rng(3).standard_normal((10, 12)))
    assert mb.analyse_shape(x, noisy, n_bootstrap=0).verdict == "neither law"


def test_a_constant_buried_in_large_errors_stays_undecided():
    """The change must not make every flat-looking curve 'neither law': a TLS curve whose
    realisations scatter far more than its temperature dependence cannot be told apart."""
    x = np.geomspace(0.2, 10, 12)
    rng = np.random.default_rng(0)
    q = 1e-5 + 1e-4 * rng.standard_normal((10, 12))
    assert mb.analyse_shape(x, q, n_bootstrap=0).verdict == "undecided"


# -- 3. a 0-d array smearing -----------------------------------------------------------------------

def test_zero_dimensional_smearing_is_its_number():
    x = np.geomspace(0.1, 30, 7)
    np.testing.assert_array_equal(smeared(law_tls, x, np.array(0.2)), smeared(law_tls, x, 0.2))
    np.testing.assert_array_equal(smeared(law_family, x, np.float32(0.25), 0.5),
                                  smeared(law_family, x, float(np.float32(0.25)), 0.5))
    with pytest.raises(TypeError, match=r"smearing must be a real number.*array\(\[0.2\]\)"):
        smeared(law_tls, x, np.array([0.2]))


# -- 4. --bootstrap of the scripts ---------------------------------------------------------------

@pytest.mark.parametrize("text", ["-1", "100001", "1e3", "0x10", "20.0", "", " x"])
def test_cli_bootstrap_states_the_whole_rule(text):
    """A first version answered -1 with "between 0 and 100000" for an option that refuses 0."""
    with pytest.raises(argparse.ArgumentTypeError,
                       match=r"^expected an integer between 20 and 100000, got"):
        v.cli_bootstrap(None)(text)
    with pytest.raises(argparse.ArgumentTypeError, match=r"^expected 0 \(linearised errors\) or an "
                                                         r"integer between 20 and 100000, got"):
        v.cli_bootstrap("linearised errors")(text)


def test_cli_bootstrap_accepts_zero_where_linearised_errors_exist():
    linearised = v.cli_bootstrap("linearised errors")
    assert linearised("0") == 0 and linearised(" 20 ") == 20 and linearised("100000") == 100000
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected 0 \(linearised errors\) or an "
                                                         r"integer between 20 and 100000 \(.*71 % at "
                                                         r"2\), got 2"):
        linearised("2")
    bootstrap_only = v.cli_bootstrap(None)
    with pytest.raises(argparse.ArgumentTypeError, match="the errors come from the bootstrap alone"):
        bootstrap_only("0")
    assert bootstrap_only(" 20 ") == 20
    with pytest.raises(argparse.ArgumentTypeError, match=r"\(the spread .*35 % at 5\), got 5"):
        bootstrap_only("5")


def test_relative_floor_has_the_same_round_off_slack_as_the_absolute_one():
    spectrum, t = _one_tls()
    below = float(np.nextafter(1e-5, 0.0))
    relative = mb.velocity_shift(spectrum, t, W, TEMPS, mb.Broadening(width=below, scaling="relative"))
    absolute = mb.velocity_shift(spectrum, t, W, TEMPS, mb.Broadening(width=below * 0.1))
    np.testing.assert_allclose(relative, absolute, rtol=1e-12)


def test_configuration_bath_check_takes_bootstrap_zero():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "scripts" / "configuration_bath_check.py"
    spec = importlib.util.spec_from_file_location("configuration_bath_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as stop:
        module.main(["--bootstrap", "0", "--help"])
    assert stop.value.code == 0
    with pytest.raises(SystemExit) as stop:
        module.main(["--bootstrap", "3"])
    assert stop.value.code == 2


# -- 5. resonator_fits.csv records whether conj(S21) was fitted ----------------------------------

def test_resonator_csv_says_which_sweeps_were_fitted_conjugated():
    """The parameters of a --conjugate fit describe conj(S21); the table did not say so, so a
    reader could not tell them from those of S21 (an open item of sessions 41-43)."""
    import csv
    import io

    from manybody.measured.resonance import S21Sweep, fit_notch, notch_s21
    from manybody.measured.resonator_table import SweepResult, resonator_csv

    f0, ql, qc, phi = 5e9, 1.0 / (1 / 2e4 + np.cos(0.25) / 8e3), 8e3, 0.25
    f = f0 + f0 / ql * np.linspace(-8, 8, 801)
    z = notch_s21(f, f0, ql, qc, phi, 0.05, 1.1, 45e-9)
    z = z + 1e-4 * np.random.default_rng(0).standard_normal(f.size)
    plain = fit_notch(S21Sweep(f, z, "plain", "real-imag"))
    flipped = fit_notch(S21Sweep(f, np.conj(z), "conj", "real-imag"), conjugate=True)
    assert not plain.flag and not flipped.flag and flipped.conjugated
    rows = list(csv.DictReader(io.StringIO(resonator_csv(
        [SweepResult("plain.csv", 0.02, -90.0, plain), SweepResult("conj.csv", 0.02, -90.0, flipped)]))))
    assert [row["conjugated"] for row in rows] == ["0", "1"]
    assert float(rows[1]["Qi"]) == pytest.approx(float(rows[0]["Qi"]), rel=1e-6)


# -- 1b. every other path to a velocity shift (the break test of this change) --------------------

def test_ftlm_velocity_shift_below_its_floor_is_refused():
    """Before: ftlm_absorption (velocity=True by default) gave +41.1 at w = 0.1 K and +379 one
    rounding step above, against -1.2186, with eta = 1e-10 K."""
    from manybody.simulation.solvers.lanczos import ftlm_absorption

    real = mb.Realisation.from_arrays(asymmetry=[0.06], tunnelling=[0.08])
    kernel = mb.Broadening(width=1e-10)
    with pytest.raises(ValueError, match="at least 1e-05 of the highest frequency for the velocity"):
        ftlm_absorption(real, W, TEMPS, kernel, trace="exact", n_steps=10)
    q = ftlm_absorption(real, W, TEMPS, kernel, trace="exact", n_steps=10, velocity=False)
    assert q.velocity_shift is None and np.isfinite(q.absorption).all()


def test_chebyshev_velocity_shift_below_its_floor_is_refused_before_any_work():
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption, plan_chebyshev

    real = mb.Realisation.from_arrays(asymmetry=[0.06, 0.02], tunnelling=[0.08, 0.05])
    kernel = mb.Broadening(width=1e-8)
    for call in (chebyshev_absorption, plan_chebyshev):
        with pytest.raises(ValueError, match="for the velocity shift"):
            call(real, W, TEMPS, kernel, observables=("velocity_shift",))


@pytest.mark.parametrize("method", ["exact", "binned"])
def test_public_pair_spectrum_dispersion_has_the_velocity_floor(method):
    """Before: mb.pair_spectrum(...).dispersion gave -1.2186 and +337 (exact), -9.09 and +328
    (binned) at w = 0.1 K and one rounding step above, eta = 1e-10 K; its absorption also took
    frequencies other than those it was built for without the absorption floor."""
    spectrum, t = _one_tls()
    pairs = mb.pair_spectrum(spectrum, t, W, mb.Broadening(width=1e-10), method=method)
    assert np.isfinite(pairs.absorption(W, TEMPS)).all()
    with pytest.raises(ValueError, match="for the velocity shift"):
        pairs.dispersion(W, TEMPS)
    with pytest.raises(ValueError, match=r"at least 1e-09 of the highest frequency \(1e-09 K at w = 1 K"):
        pairs.absorption([1.0], TEMPS)
    wide = mb.pair_spectrum(spectrum, t, W, mb.Broadening(width=1e-6), method=method)
    assert -0.5 * wide.dispersion(W, TEMPS)[0, 0] == pytest.approx(_exact_shift(1e-6), rel=1e-5)


# -- 2b. constant curves in the law fits (the break test of this change) ------------------------

X12 = np.geomspace(0.2, 10, 12)


def test_an_index_on_its_bound_has_no_error_in_every_fit():
    """Before: compare_laws, fit_loss and fit-data gave a flat loss a = -0.99 +- 0.0033, "310
    sigma apart", where analyse_shape and the README say NaN; fit_law left at_bound empty."""
    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws

    fit = mb.fit_law(X12, np.full(12, 1e-5))
    assert fit.at_bound == ("index",) and np.isnan(fit.errors["index"])
    assert fit.unphysical == ("index = -0.999 ran to its bound",) and not fit.indeterminate
    assert np.isfinite(fit.errors["amplitude"])
    cmp = compare_laws(LossCurve(0.1 / X12, np.full(12, 1e-5)), 0.1, background=False)
    assert cmp.verdict == "neither law" and cmp.fits["family"].at_bound == ("index",)
    assert np.isnan(cmp.index_error) and np.isnan(cmp.separation)
    # an index inside its bounds keeps its error
    inside = mb.fit_law(X12, np.tanh(X12 / 2) * (1 + 1e-3 * np.random.default_rng(0).standard_normal(12)))
    assert inside.at_bound == () and 0 < inside.errors["index"] < 0.1


def test_fit_data_prints_no_error_or_separation_for_an_index_on_its_bound(tmp_path, capsys):
    from manybody.cli import main

    table = tmp_path / "flat.csv"
    rows = "\n".join(f"{t:.12g},1e-5" for t in 0.1 / X12)
    table.write_text("temperature_K,loss\n" + rows + "\n")
    assert main(["fit-data", str(table), "--frequency", "0.1K", "--no-background",
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "neither law" in out and "sigma apart" not in out


def test_an_exact_constant_beside_a_curve_carries_no_evidence():
    """Before: noisy tanh + an exactly constant second curve (its background) gave "generic"
    preferred, delta AIC = -6726, "very strong": the constant's residual sum was round-off and
    its logarithm differed between the laws by thousands. Now the delta AIC of the tanh curve
    alone, whatever round-off-sized noise the constant carries."""
    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws

    rng = np.random.default_rng(1)
    t = 0.1 / X12
    tanh = LossCurve(t, 1e-5 * np.tanh(X12 / 2) * (1 + 1e-3 * rng.standard_normal(12)) + 1e-6,
                     label="a")
    alone = compare_laws([tanh], 0.1)
    assert alone.preferred == "tls" and alone.delta_aic > 100
    for flat in (np.full(12, 1e-5), 1e-5 * (1 + 1e-15 * rng.standard_normal(12))):
        joint = compare_laws([tanh, LossCurve(t, flat, label="b")], 0.1)
        assert joint.preferred == "tls"
        assert joint.delta_aic == pytest.approx(alone.delta_aic, rel=1e-9)


@pytest.mark.parametrize("level", [1e-100, 1e-5, 1.0, 1e100])
def test_a_constant_under_a_background_is_fitted_alike_in_every_unit(level):
    """Before: the working unit fell back to 1.0 for a constant under a background, so the
    amplitude was -1.45e-25 in the loss's units whatever they were: "negative amplitude" beside
    a loss of 1e-100, chi2 = 1e157."""
    fit = mb.fit_law(X12, np.full(12, level), sigma=np.full(12, 1e-3 * level), background=True)
    assert fit.parameters["background"] == pytest.approx(level, rel=1e-12)
    assert abs(fit.parameters["amplitude"]) < 1e-12 * level
    assert fit.chi2 < 1e-20 and not fit.unphysical
    assert any("the background takes it all" in r for r in fit.indeterminate)


def test_an_overflowing_mean_names_q_realisations():
    """Before: 'q must contain only finite numbers, got NaN or inf' for finite realisations of
    1e308, whose sum overflowed (and numpy's overflow warning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for q in (np.full((10, 12), 1e308), np.full((8, 12), 5e307)):
            with pytest.raises(ValueError, match=r"q_realisations: values up to .* overflow the "
                                                 r"sums over realisations.*other units"):
                mb.analyse_shape(X12, q, n_bootstrap=0)
        with pytest.warns(UserWarning, match="identical"):  # constant rows (session 45)
            assert mb.analyse_shape(X12, np.full((10, 12), 1e300), n_bootstrap=0).verdict == \
                "neither law"
        # one curve near the top of the range: the shape ratio is unit-free (it overflowed)
        assert mb.shape_ratio(X12, 1e308 * np.tanh(X12 / 2)) == pytest.approx(
            mb.shape_ratio(X12, np.tanh(X12 / 2)), rel=1e-12)


@pytest.mark.parametrize("level", [1e-200, 1e-5, 1e200])
def test_constant_curves_under_a_background_compare_alike_in_every_unit(level):
    """fit_law's unit fix had not reached the curve fits: a constant of 1e200 under a
    background gave AIC = inf for every law, and 1e-200 an AIC of 2286 against -593."""
    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws

    reference = compare_laws(LossCurve(0.1 / X12, np.full(12, 1.0)), 0.1)
    cmp = compare_laws(LossCurve(0.1 / X12, np.full(12, level)), 0.1)
    assert cmp.verdict == reference.verdict == "undecided"
    assert np.isfinite(cmp.fits["tls"].aic)
    assert cmp.fits["tls"].aic == pytest.approx(reference.fits["tls"].aic, rel=1e-9)


def test_simulated_repeats_leave_an_index_on_its_bound_out_of_the_median_error():
    """With errors NaN on the bound, one repeat of 40 on it made the median quoted error NaN
    (a break test of this session's change); now the median over the others, and the count."""
    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws, discrimination_power

    rng = np.random.default_rng(3)
    t = np.linspace(0.03, 0.5, 12)
    # (noise 2e-7: with 1.2e-7 no tls repeat ended on its bound once the relative model's
    # weights became the fitted loss, session 49)
    q = 1e-6 * np.tanh(0.1 / t / 2) + 2e-6 + 2e-7 * rng.standard_normal(t.size)
    power = discrimination_power(compare_laws(LossCurve(t, q), 0.1, background=True), 40,
                                 np.random.default_rng(0))
    assert power.on_bound["tls"] >= 1 and power.on_bound["generic"] >= 1
    for law in ("tls", "generic"):
        assert np.isfinite(power.index_error_median[law]) and power.index_error_median[law] > 0
    assert power.to_dict()["on_bound"] == power.on_bound

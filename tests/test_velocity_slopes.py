"""The velocity-slope fitter that decides (issue 17): known slopes and maximum recovered within
their stated errors, the canonical TTLS ensemble gives +1 and -1/2 (in C0), bad windows are named.

Finite-window corrections stated here (canonical TTLS, one decade per side): below the maximum
the relaxation part still adds about (omega tau_min)^-2 ~ (T/T*)^6, above it the approach to
-(3/2) ln T is slow; on the noiseless quadrature curve the fitted slopes deviate from +1 / -1/2
by -0.058 / +0.058 (margin 2), -0.030 / +0.030 (margin 3), -0.002 / +0.015 (margin 5) and
-0.000 / +0.005 (margin 10). The tests use margin 5 and allow ``WINDOW_CORRECTION`` = 0.02 C0.
The resonant part is +C0 ln T up to O((hbar omega / k T)^2), below 1e-9 at 1 kHz and T >= 0.1 mK.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate

from manybody.laws.velocity import (
    VelocityFit,
    canonical_velocity_shift,
    fit_velocity_slopes,
    velocity_slopes,
)

#: Allowed deviation of the canonical slopes from +1 and -1/2 (C0) from the finite windows.
WINDOW_CORRECTION = 0.02


def kinked_parabola(t, t_max, below, above, curvature):
    """Straight lines of slopes ``below`` / ``above`` in ln T joined smoothly (C1) by the parabola
    -curvature ln(T/t_max)^2 with its vertex at t_max."""
    u = np.log(t / t_max)
    lo, hi = -below / (2 * curvature), -above / (2 * curvature)
    y = -curvature * u**2
    y = np.where(u < lo, -curvature * lo**2 + below * (u - lo), y)
    return np.where(u > hi, -curvature * hi**2 + above * (u - hi), y)


T_MAX = 0.05
GRID = np.geomspace(T_MAX / 100, T_MAX * 100, 61)
#: The parabola spans a factor e^2 below and e^2 (1:-1) or e (2:-1) above the vertex: margin 8
#: leaves it out of the slope windows, top 2 keeps the quadratic inside it.
OPTIONS = {"margin": 8.0, "top": 2.0}


def _pulls(fit: VelocityFit, below: float, above: float) -> np.ndarray:
    return np.array([(fit.below - below) / fit.below_error, (fit.above - above) / fit.above_error,
                     (fit.ratio - below / above) / fit.ratio_error,
                     (fit.temperature_max - T_MAX) / fit.temperature_max_error])


@pytest.mark.parametrize(("below", "above"), [(1.0, -0.5), (1.0, -1.0)])
def test_known_slopes_and_maximum_are_recovered_within_their_errors_given_sigmas(below, above):
    """Coverage over 200 seeds: every estimate within 3 stated sigma in >= 95 % of them."""
    clean = kinked_parabola(GRID, T_MAX, below, above, 0.25)
    sigma = np.full(GRID.size, 0.01)
    pulls = np.array([_pulls(fit_velocity_slopes(
        GRID, clean + sigma * np.random.default_rng(seed).standard_normal(GRID.size), sigma,
        **OPTIONS), below, above) for seed in range(200)])
    inside = np.mean(np.abs(pulls) < 3, axis=0)
    assert np.all(inside >= 0.95), inside
    assert np.all(np.abs(pulls.mean(axis=0)) < 0.3), pulls.mean(axis=0)  # no bias
    assert np.all(np.abs(pulls.std(axis=0) - 1) < 0.25), pulls.std(axis=0)  # honest errors


def test_errors_from_the_residuals_cover_without_sigmas():
    clean = kinked_parabola(GRID, T_MAX, 1.0, -0.5, 0.25)
    pulls = np.array([_pulls(fit_velocity_slopes(
        GRID, clean + 0.01 * np.random.default_rng(seed).standard_normal(GRID.size), **OPTIONS),
        1.0, -0.5) for seed in range(200)])
    assert np.all(np.mean(np.abs(pulls) < 3, axis=0) >= 0.95)


def test_errors_from_realisations_include_their_correlation_across_temperatures():
    """Disorder that tilts whole curves (the same realisation at every T) correlates the two
    slopes; the covariance of the mean carries it, so the ratio's error still covers."""
    clean = kinked_parabola(GRID, T_MAX, 1.0, -1.0, 0.25)
    pulls = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        tilt = 0.1 * rng.standard_normal((16, 1)) * np.log(GRID / T_MAX)[None, :]
        curves = clean + tilt + 0.02 * rng.standard_normal((16, GRID.size))
        fit = fit_velocity_slopes(GRID, curves, **OPTIONS)
        assert fit.error_source == "realisations" and fit.n_realisations == 16
        pulls.append(_pulls(fit, 1.0, -1.0)[:3])
    assert np.all(np.mean(np.abs(np.array(pulls)) < 3, axis=0) >= 0.95)


def test_result_states_its_windows():
    fit = fit_velocity_slopes(GRID, kinked_parabola(GRID, T_MAX, 1.0, -0.5, 0.25), **OPTIONS)
    assert fit.window_below[1] <= fit.temperature_max / 8 < fit.window_above[0] / 64
    assert fit.window_above[0] >= fit.temperature_max * 8
    assert fit.window_below[0] >= fit.temperature_max / 80 * (1 - 1e-9)
    assert fit.n_below == fit.n_above == 15 and fit.n_top >= 3
    assert fit.below == pytest.approx(1.0, abs=1e-9) and fit.above == pytest.approx(-0.5, abs=1e-9)
    assert fit.temperature_max == pytest.approx(T_MAX, rel=1e-9)
    assert "decade" in fit.windows() and fit.to_dict()["method"].startswith("maximum")
    np.testing.assert_allclose(fit.line("below", fit.window_below),
                               kinked_parabola(np.array(fit.window_below), T_MAX, 1, -0.5, 0.25))


# --------------------------------------------------------------------------- canonical TTLS

#: omega / K_ph (K^3): the relaxation maximum near (omega/K_ph)^(1/3) ~ 0.03 K.
OMEGA_OVER_K = 0.03**3
T_CANONICAL = np.geomspace(1e-4, 10.0, 51)  # 2 decades below and above T_max ~ 0.04 K


def _u_integral(a):
    """int_0^1 du sqrt(1 - u^2)/u / (1 + (a/u^2)^2), a = omega tau_min (closed form, principal
    logarithms are continuous along the path since Im b < 0)."""
    b = np.sqrt(1 - 1j * np.asarray(a, dtype=np.float64))
    return 0.5 * np.real(-2 + b * (np.log(b + 1) - np.log(b - 1)))


def _omega_tau_min(z, t):
    """omega tau_min = omega / (K_ph E^3 coth(E/2T)) at E = z T."""
    return OMEGA_OVER_K / ((z * t) ** 3 / np.tanh(z / 2))


def canonical_velocity(t):
    """delta v/v (C0) of independent canonical TLS at a frequency << T: resonant +ln T plus the
    relaxation part -(1/2) int dE sech^2(E/2T)/T int du sqrt(1 - u^2)/u / (1 + (omega tau)^2)
    (PHYSICS.md section 4), the E integral by adaptive quadrature."""
    out = []
    for temperature in t:
        rel = integrate.quad(lambda z, tt=temperature: np.cosh(z / 2) ** -2
                             * _u_integral(_omega_tau_min(z, tt)), 0.0, 80.0, limit=200)[0]
        out.append(math.log(temperature) - 0.5 * rel)
    return np.array(out)


def test_u_integral_closed_form_matches_quadrature():
    for a in (1e-4, 0.3, 2.0, 50.0):
        direct = integrate.quad(lambda u, a=a: math.sqrt(1 - u * u) * u**3 / (u**4 + a * a),
                                0, 1, points=[math.sqrt(a)] if a < 1 else None)[0]
        assert _u_integral(a) == pytest.approx(direct, rel=1e-8)
    assert _u_integral(1e-8) == pytest.approx(math.log(2 / 1e-4) - 1, abs=1e-6)  # ln(2/sqrt a)-1


def test_canonical_quadrature_gives_plus_one_and_minus_one_half():
    """The noiseless ensemble average: the window corrections are below WINDOW_CORRECTION."""
    fit = fit_velocity_slopes(T_CANONICAL, canonical_velocity(T_CANONICAL), margin=5.0)
    assert 0.01 < fit.temperature_max < 0.1
    assert abs(fit.below - 1.0) < WINDOW_CORRECTION, fit
    assert abs(fit.above + 0.5) < WINDOW_CORRECTION, fit
    assert fit.ratio == pytest.approx(-2.0, abs=0.1)


def test_canonical_ensemble_of_sampled_tls_gives_plus_one_and_minus_one_half():
    """A simulated ensemble: 16 realisations of canonical TLS drawn by importance sampling of
    P(eps, Delta) = P/Delta in (ln E, ln u), each TLS with its closed-form relaxation delta v/v;
    the slopes agree with +1 and -1/2 within 3 stated sigma plus the window correction, and the
    errors are small enough to tell 2 : -1 from 1 : -1."""
    rng = np.random.default_rng(17)
    n_real, n_tls = 16, 20_000
    log_e = rng.uniform(math.log(1e-5), math.log(40.0), (n_real, n_tls))
    log_u = rng.uniform(math.log(1e-8), 0.0, (n_real, n_tls))
    e, u = np.exp(log_e), np.exp(log_u)
    jacobian = (math.log(40.0 / 1e-5) * 8 * math.log(10)) * e * u  # dE du / (d ln E d ln u)
    dv = np.empty((n_real, T_CANONICAL.size))
    for k, t in enumerate(T_CANONICAL):
        y = OMEGA_OVER_K * np.tanh(e / (2 * t)) / (e**3 * u**2)  # omega tau
        x = np.exp(-e / t)
        sech2 = 4 * x / (1 + x) ** 2  # sech^2(E/2T) without overflow
        f = np.sqrt(1 - u * u) / u * sech2 / t / (1 + y * y)
        dv[:, k] = math.log(t) - 0.5 * (jacobian * f).mean(axis=1)
    fit = fit_velocity_slopes(T_CANONICAL, dv, margin=5.0)
    assert fit.error_source == "realisations"
    assert fit.below_error < 0.1 and fit.above_error < 0.1, fit
    assert abs(fit.below - 1.0) < 3 * fit.below_error + WINDOW_CORRECTION, fit
    assert abs(fit.above + 0.5) < 3 * fit.above_error + WINDOW_CORRECTION, fit
    assert abs(fit.ratio + 1.0) > 5 * fit.ratio_error, fit  # 1 : -1 excluded


# --------------------------------------------------------------------------- bad windows

def _clean(t=GRID):
    return kinked_parabola(t, T_MAX, 1.0, -0.5, 0.25)


@pytest.mark.parametrize(("temperatures", "dv", "words"), [
    (GRID[GRID < T_MAX], _clean(GRID[GRID < T_MAX]), ("highest temperature", "extend")),
    (GRID[GRID > T_MAX], _clean(GRID[GRID > T_MAX]), ("lowest temperature", "extend")),
    (GRID[GRID < T_MAX * 10], _clean(GRID[GRID < T_MAX * 10]), ("above the maximum",
                                                                "at least 3")),
    (GRID[GRID > T_MAX / 10], _clean(GRID[GRID > T_MAX / 10]), ("below the maximum",
                                                                "lower temperatures")),
    (GRID[::-1], _clean()[::-1], ("strictly ascending", "sort")),
    (np.where(np.arange(61) == 3, -1.0, GRID), _clean(), ("> 0 K", "remove")),
    (GRID, np.where(np.arange(61) == 30, np.nan, _clean()), ("NaN", "remove")),
    (GRID, 1.0 * np.log(GRID), ("highest temperature",)),
    (GRID, 0.01 * np.log(GRID) ** 2, ("lowest temperature",)),
    (GRID[:5], _clean()[:5], ("at least 7",)),
])
def test_bad_windows_are_named_with_their_remedy(temperatures, dv, words):
    with pytest.raises(ValueError) as info:
        fit_velocity_slopes(temperatures, dv, **OPTIONS)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_bad_options_and_sigmas_are_named():
    with pytest.raises(ValueError, match="margin"):
        fit_velocity_slopes(GRID, _clean(), margin=1.0)
    with pytest.raises(ValueError, match="decades"):
        fit_velocity_slopes(GRID, _clean(), decades=0)
    with pytest.raises(ValueError, match="sigma must be finite and > 0"):
        fit_velocity_slopes(GRID, _clean(), np.zeros(GRID.size))
    with pytest.raises(ValueError, match="sigma for a single curve"):
        fit_velocity_slopes(GRID, np.stack([_clean()] * 2), np.ones(GRID.size))
    with pytest.raises(ValueError, match="not curved downwards"):  # a flat top
        flat = np.minimum(_clean(), -0.5)
        flat[[28, 32]] += 1e-3
        fit_velocity_slopes(GRID, flat, **OPTIONS)


def test_the_curve_is_named_as_the_caller_says():
    """``quantity`` names the curve in the messages (the CLI passes the kind read from the table,
    e.g. 'df'), in each of the three messages that name it; a bad name is refused."""
    flat = np.minimum(_clean(), -0.5)
    flat[[28, 32]] += 1e-3
    for temperatures, dv, words in (
            (GRID[GRID < T_MAX], _clean(GRID[GRID < T_MAX]), "the maximum of df lies"),
            (GRID, -_clean(), "df has a minimum inside"),
            (GRID, flat, "no maximum: df is not curved")):
        with pytest.raises(ValueError) as info:
            fit_velocity_slopes(temperatures, dv, **OPTIONS, quantity="df")
        assert words in str(info.value) and "delta v/v" not in str(info.value), str(info.value)
    with pytest.raises(ValueError) as info:  # the default name stays
        fit_velocity_slopes(GRID, -_clean(), **OPTIONS)
    assert "delta v/v has a minimum inside" in str(info.value)
    for bad in ("", "  ", None, 3):
        with pytest.raises(ValueError, match="quantity must be a non-empty string"):
            fit_velocity_slopes(GRID, _clean(), quantity=bad)


def test_the_study_estimate_is_unchanged():
    """velocity_slopes stays the study's quick estimate (the golden set checks its numbers)."""
    temps = np.geomspace(0.01, 0.3, 12)
    curve = np.log(temps / 0.01) - 2.0 * np.clip(np.log(temps / 0.05), 0, None)
    s = velocity_slopes(temps, curve)
    assert s.below == pytest.approx(1.0) and s.above == pytest.approx(-1.0)


# --------------------------------------------------------------------------- fit-data --velocity

def _velocity_csv(tmp_path, name="dv.csv", rows=None, header="Temperature (mK);dv/v (ppm);sigma"):
    """A synthetic measured table: slopes +100 / -50 ppm per e-fold (C0 = 1e-4), in descending T
    with decimal commas, as a cryostat log might have it."""
    if rows is None:
        rng = np.random.default_rng(3)
        y = 100 * kinked_parabola(GRID, T_MAX, 1.0, -0.5, 0.25) + 0.5 * rng.standard_normal(61)
        rows = [f"{1e3 * t:.6g};{v:.6g};0,5".replace(".", ",")
                for t, v in zip(GRID[::-1], y[::-1], strict=True)]
    path = tmp_path / name
    path.write_text("# synthetic delta v/v\n" + header + "\n" + "\n".join(rows) + "\n")
    return path


def _fit_data(argv):
    from manybody.cli import main

    return main(["fit-data", *argv])


def test_fit_data_velocity_end_to_end(tmp_path, capsys):
    import json

    path = _velocity_csv(tmp_path)
    out = tmp_path / "fits"
    assert _fit_data(["--velocity", str(path), "--margin", "8", "--top", "2",
                      "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for words in ("T_max", "slope below", "slope above", "ratio", "windows:",
                  "sigma from the canonical -2", "column 'sigma'"):
        assert words in printed
    assert sorted(p.name for p in out.iterdir()) == ["velocity_fit.pdf", "velocity_fit.png",
                                                     "velocity_results.json",
                                                     "velocity_table.txt"]
    record = json.loads((out / "velocity_results.json").read_text())
    assert record["schema"] == "manybody.fit-data-velocity/1"
    assert "command" in record["provenance"] and record["inputs"][0]["sha256"]
    fit = record["fit"]
    assert abs(fit["below"] - 100) < 3 * fit["below_error"] + 1e-9
    assert abs(fit["above"] + 50) < 3 * fit["above_error"] + 1e-9
    assert abs(fit["ratio"] + 2) < 3 * fit["ratio_error"]
    assert fit["error_source"] == "given sigmas" and fit["n_below"] == 15
    assert record["data"]["temperature_K"] == sorted(record["data"]["temperature_K"])
    assert (out / "velocity_table.txt").read_text().strip() == printed.split("\nwrote")[0].strip()
    # existing outputs are kept unless --overwrite
    assert _fit_data(["--velocity", str(path), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize(("rows", "header", "extra", "words"), [
    (None, "Temperature (mK);dv/v (ppm);sigma", [], ("lowest temperature", "extend")),
    (["10;1", "20;2", "20;3"], "T (mK);df/f (ppm)", [], ("0.02 K", "more than once", "average")),
    (["10;1;0", "20;2;1"], "T (mK);dv/v;sigma", [], ("errors must be > 0",)),
    (["10;1", "20;x"], "T (mK);dv/v", [], ("cannot read", "'x'")),
    (["10;1", "20;2"], "T (mK);Qi", [], ("cannot tell which column is the shift",)),
    (None, "Temperature (mK);dv/v (ppm);sigma", ["--saturation"], ("--saturation",
                                                                     "loss tables only")),
])
def test_fit_data_velocity_bad_input_is_one_line_exit_2(tmp_path, capsys, rows, header, extra,
                                                        words):
    path = _velocity_csv(tmp_path, rows=rows, header=header)
    argv = ["--velocity", str(path), "--out", str(tmp_path / "o"), *extra]
    if rows is None and not extra:
        argv += ["--tmin", "0.06"]  # cuts the data above the maximum: the maximum at the edge
    assert _fit_data(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, err
    assert not (tmp_path / "o").exists()


def test_fit_data_loss_mode_still_needs_a_frequency(tmp_path, capsys):
    path = _velocity_csv(tmp_path)
    assert _fit_data([str(path), "--out", str(tmp_path / "o")]) == 2
    assert "--frequency is required" in capsys.readouterr().err
    assert _fit_data([str(path), "--frequency", "5GHz", "--margin", "5",
                      "--out", str(tmp_path / "o")]) == 2
    assert "--velocity only" in capsys.readouterr().err


def test_log_slope_refuses_what_has_no_slope_or_no_error():
    """One point gave a slope of -0.365 +- 0, two points at one temperature a slope, and two
    points an error of 9e-16 (no degree of freedom left); a sigma of another length was numpy's
    broadcast error (a tester, session 26)."""
    from manybody.laws.velocity import log_slope

    with pytest.raises(ValueError, match="two distinct temperatures, got 1"):
        log_slope([0.1], [1.0])
    with pytest.raises(ValueError, match="two distinct temperatures, got 1"):
        log_slope([0.1, 0.1], [1.0, 2.0])
    with pytest.raises(ValueError, match="needs at least 3 points"):
        log_slope([0.1, 0.2], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"sigma must be a number or have the shape .* got \(2,\)"):
        log_slope([0.1, 0.2, 0.4], [1.0, 2.0, 3.0], [1.0, 1.0])
    # one number is the same error at every point (as fit_loss and fit_law take it)
    assert log_slope([0.1, 0.2, 0.4], [1.0, 2.0, 3.0], 0.1) == \
        log_slope([0.1, 0.2, 0.4], [1.0, 2.0, 3.0], [0.1, 0.1, 0.1])
    # two points with their errors: the line through them, the error from sigma alone
    slope, error = log_slope([0.1, 0.4], [1.0, 2.0], [0.1, 0.1])
    assert slope == pytest.approx(1 / np.log(4)) and error == pytest.approx(0.1 * np.sqrt(2) / np.log(4))
    # a straight line in ln T with scatter: the slope within its error
    t = np.geomspace(0.01, 1, 12)
    y = 0.7 * np.log(t) + np.random.default_rng(0).normal(0, 0.01, t.size)
    slope, error = log_slope(t, y)
    assert abs(slope - 0.7) < 4 * error and 0 < error < 0.01


def test_the_canonical_reference_curve_and_ratio():
    """laws.velocity.canonical_velocity_shift is the quadrature above (to 1e-5 C0), and
    canonical_ratio gives the same estimator's ratio on it: -2.06 for one decade from a factor 3
    on this grid (the bias of PHYSICS.md section 4), the same wherever the maximum lies."""
    from manybody.laws.velocity import canonical_ratio, canonical_velocity_shift

    curve = canonical_velocity_shift(T_CANONICAL, OMEGA_OVER_K)
    np.testing.assert_allclose(curve, canonical_velocity(T_CANONICAL), atol=1e-5)
    fit = fit_velocity_slopes(T_CANONICAL, curve)
    assert canonical_ratio(T_CANONICAL, fit.temperature_max) == pytest.approx(fit.ratio, abs=1e-6)
    assert fit.ratio == pytest.approx(-2.06, abs=0.01)
    shifted = T_CANONICAL * 7.0  # another frequency or bath: the same ratio on the scaled grid
    assert canonical_ratio(shifted, 7.0 * fit.temperature_max) == pytest.approx(fit.ratio, abs=1e-6)
    assert math.isnan(canonical_ratio(T_CANONICAL[:9], 0.04))  # no window above: no reference


def test_fit_data_velocity_compares_with_the_canonical_ratio_of_its_windows(tmp_path, capsys):
    """Noiseless canonical data were reported '3.6 sigma from -2' (a tester, session 26): the
    ratio of the standard model over the same windows is printed and recorded, and the data
    agree with it."""
    t = np.geomspace(0.005, 0.5, 19)
    dv = 100.0 * canonical_velocity_shift_for_test(t)
    rows = [f"{1e3 * a:.6f};{b:.9f}" for a, b in zip(t, dv, strict=True)]
    path = _velocity_csv(tmp_path, rows=rows, header="Temperature (mK);dv/v (ppm)")
    assert _fit_data(["--velocity", str(path), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "canonical TTLS over these windows and temperatures: -2.1" in out, out
    sigmas = float(out.split(" sigma from the canonical")[0].split()[-1])
    assert sigmas < 1.0, out
    record = json.loads((tmp_path / "o" / "velocity_results.json").read_text())
    assert record["canonical_ratio"]["value"] == pytest.approx(
        record["fit"]["ratio"], abs=3 * record["fit"]["ratio_error"])


def canonical_velocity_shift_for_test(t):
    """The canonical curve with its maximum near 0.066 K (a-SiO2 at 1 kHz)."""
    from manybody.laws.velocity import canonical_velocity_shift

    return canonical_velocity_shift(t, (0.066 / 0.04) ** 3 * OMEGA_OVER_K)


def test_the_two_dimensional_quadrature_of_the_script_reaches_the_canonical_limit():
    """scripts/canonical_velocity_slopes.py (the study ensemble's reference, -2.31 for
    eps_max = 3 K): for a wide ensemble its quadrature over P(eps, Delta) gives the ratio of the
    closed-form limit (laws.velocity.canonical_ratio) to 0.005."""
    import importlib.util
    from pathlib import Path

    from manybody.laws.velocity import canonical_ratio
    from manybody.simulation.materials import AMORPHOUS_SIO2

    path = Path(__file__).resolve().parents[1] / "scripts" / "canonical_velocity_slopes.py"
    spec = importlib.util.spec_from_file_location("canonical_velocity_slopes", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    t = script.TEMPERATURES
    dv = np.array([script.velocity_shift(x, 300.0, 1e-7, 300.0, AMORPHOUS_SIO2.rate_prefactor)
                   for x in t])
    fit = fit_velocity_slopes(t, dv)
    assert fit.ratio == pytest.approx(canonical_ratio(t, fit.temperature_max), abs=0.005)
    study = np.array([script.velocity_shift(x, 3.0, 1e-4, 3.0, AMORPHOUS_SIO2.rate_prefactor)
                      for x in t])
    assert fit_velocity_slopes(t, study).ratio == pytest.approx(-2.31, abs=0.01)


def test_canonical_ratio_refuses_bad_options_and_is_absent_without_windows():
    """A maximum of 1e120 K raised OverflowError; unsorted temperatures and margin = 1 returned
    NaN instead of an error (a reviewer, session 26)."""
    from manybody.laws.velocity import canonical_ratio

    t = np.geomspace(0.005, 0.5, 19)
    assert math.isnan(canonical_ratio(t, 1e120)) and math.isnan(canonical_ratio(t, 1e-120))
    with pytest.raises(ValueError, match="strictly ascending"):
        canonical_ratio(t[::-1], 0.05)
    for name in ("margin", "top"):
        with pytest.raises(ValueError, match=rf"{name} must be > 1, got 1"):
            canonical_ratio(t, 0.05, **{name: 1.0})
    with pytest.raises(ValueError, match="decades must be > 0"):
        canonical_ratio(t, 0.05, decades=0.0)
    assert -2.3 < canonical_ratio(t, 0.05) < -2.0


def test_the_canonical_maximum_lies_where_the_docstring_says():
    """The docstring said 0.8-1 (omega / K_ph)^(1/3); the curve (and an independent quadrature
    of PHYSICS.md sections 3-4, a helper's, session 36) peaks at 1.30."""
    t = np.geomspace(0.3, 5.0, 4001)
    for scale in (1.0, 8.0):  # the curve depends on T / (omega / K_ph)^(1/3) only
        peak = t[np.argmax(canonical_velocity_shift(t * scale ** (1 / 3), scale))]
        assert peak == pytest.approx(1.30, abs=0.01)


def test_a_bad_temperature_or_sigma_is_shown_as_a_number_not_a_numpy_repr():
    """'found np.float64(0.0) at T = 0.005 K' (a tester, session 38)."""
    from manybody.laws.velocity import fit_velocity_slopes

    t = np.geomspace(0.01, 1, 9)
    with pytest.raises(ValueError, match=r"found -0\.005 at index 0; remove that row$"):
        fit_velocity_slopes(np.r_[-0.005, t[1:]], np.ones(9))
    with pytest.raises(ValueError, match=r"found 0\.0 at T = 0\.01 K") as exc:
        fit_velocity_slopes(t, np.ones(9), sigma=np.r_[0.0, np.ones(8)])
    assert "np." not in str(exc.value)

"""Session 57 (helper bt192): wrong arguments to public functions of the laws and the simulation
got Python's or numpy's own errors, many-line reprs, or were taken silently.

- verdict.classify_index: a string of reasons joined letter by letter ("a; b; c");
- shapes: None as x gave NaN, "1" and True were x = 1, a string index a UFuncTypeError, a law's
  name as the law "'str' object is not callable";
- shift.check_band and statistics' precision: numpy's repr of an array over many lines;
  gof.exact_test(None, None): "unsupported operand type(s) for @";
- fit_loss: sigma="0.1" read as 0.1 and True as 1 (fit_loss converted it with float() before
  the check every other fit's sigma goes through);
- ensembles: None, an int seed, arrays and booleans as params, n_tls, rng, positions and
  min_distance: AttributeError, IndexError, KeyError, "complex", or taken;
- absorption.frequency_grid: AttributeError or "truth value ambiguous";
- a 0-d xarray DataArray as a number: refused by some functions (with its repr), taken by
  others; now taken as its number everywhere (validate.unwrap_scalar).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import manybody as mb
from manybody.config.model import CouplingParams, StressParams, TLSParams
from manybody.config.probe import Broadening
from manybody.laws.fit import fit_law, fit_loss
from manybody.laws.gof import exact_test, hotelling, law_design, law_goodness_of_fit, linear_bootstrap
from manybody.laws.shapes import law_family, law_generic, law_tls, law_values, smeared
from manybody.laws.shift import shift_generic
from manybody.laws.verdict import classify_index, evidence_label, judge, prefer_law
from manybody.simulation.ensembles import (
    draw_couplings,
    draw_deformation_potentials,
    draw_tls,
    periodic_distances,
    random_positions,
)
from manybody.simulation.observables.absorption import frequency_grid, transition_lines
from manybody.simulation.observables.statistics import mean_spacing_ratio
from manybody.simulation.spectrum import Spectrum

X = np.linspace(0.2, 5.0, 8)
LONG = np.ones(1000)
RNG = np.random.default_rng(0)
T = np.linspace(0.05, 1.0, 20)
LOSS = 1e-6 * np.tanh(0.27 / (2 * T)) + 1e-7
F = np.array([0.4])

CASES = [
    # verdict
    ("indeterminate str", lambda: classify_index(0.5, 0.1, indeterminate="abc"), TypeError,
     "indeterminate"),
    ("unphysical str", lambda: classify_index(0.5, 0.1, unphysical="bad fit"), TypeError,
     "unphysical"),
    ("unphysical None", lambda: classify_index(0.5, 0.1, unphysical=None), TypeError, "unphysical"),
    ("unphysical numbers", lambda: classify_index(0.5, 0.1, unphysical=[1]), TypeError,
     "unphysical"),
    ("evidence str", lambda: evidence_label("3"), TypeError, "delta_aic"),
    ("prefer blocked int", lambda: prefer_law(3.0, 1), TypeError, "blocked"),
    ("judge None", lambda: judge(None), TypeError, "fits"),
    # shapes
    ("law_tls None", lambda: law_tls(None), TypeError, "x"),
    ("law_generic None", lambda: law_generic(None), TypeError, "x"),
    ("law_values x None", lambda: law_values("tls", None), TypeError, "x"),
    ("law_tls str", lambda: law_tls("1"), TypeError, "x"),
    ("law_tls bool", lambda: law_tls(True), TypeError, "x"),
    ("law_tls list with str", lambda: law_tls([1.0, "a"]), TypeError, "x"),
    ("law_family index str", lambda: law_family(X, "a"), TypeError, "index"),
    ("law_family index None", lambda: law_family(X, None), TypeError, "index"),
    ("law_family index bool", lambda: law_family(X, True), TypeError, "index"),
    ("law_values family index str", lambda: law_values("family", X, "0.5"), TypeError, "index"),
    ("law_values law None", lambda: law_values(None, X), ValueError, "law"),
    ("law_values law misspelt", lambda: law_values("TLS", X), ValueError, "law"),
    ("smeared None", lambda: smeared(None, X, 0.1), TypeError, "law"),
    ("smeared name", lambda: smeared("tls", X, 0.1), TypeError, "law"),
    ("smeared name unsmeared", lambda: smeared("tls", X, None), TypeError, "law"),
    # shift, gof
    ("band long array", lambda: shift_generic(X, band=LONG), ValueError, "band"),
    ("exact_test None", lambda: exact_test(None, None), TypeError, "samples"),
    ("exact_test contrasts None", lambda: exact_test(np.ones((3, 4)), None), TypeError,
     "contrasts"),
    ("exact_test shapes", lambda: exact_test(np.ones((3, 4)), np.ones((3, 2))), ValueError,
     "contrasts"),
    ("hotelling str", lambda: hotelling(np.ones((3, 2)), "a"), TypeError, "contrasts"),
    ("linear_bootstrap int rng", lambda: linear_bootstrap(np.ones((3, 4)), np.ones((4, 1)), 20, 3),
     TypeError, "rng"),
    ("linear_bootstrap None rng",
     lambda: linear_bootstrap(np.ones((3, 4)), np.ones((4, 1)), 20, None), TypeError, "rng"),
    ("law_design law None", lambda: law_design(None, X), ValueError, "law"),
    ("goodness fit None", lambda: law_goodness_of_fit(X, np.ones((3, X.size)), None), TypeError,
     "fit"),
    # fits: sigma
    ("fit_loss sigma str", lambda: fit_loss(T, LOSS, 0.27, sigma="0.1"), TypeError, "sigma"),
    ("fit_loss sigma bool", lambda: fit_loss(T, LOSS, 0.27, sigma=True), TypeError, "sigma"),
    ("fit_loss sigma None entry", lambda: fit_loss(T, LOSS, 0.27, sigma=[None] * T.size),
     TypeError, "sigma"),
    ("fit_loss sigma long", lambda: fit_loss(T, LOSS, 0.27, sigma=LONG), ValueError, "sigma"),
    ("fit_law sigma str", lambda: fit_law(X, law_tls(X), sigma="0.1"), TypeError, "sigma"),
    # ensembles
    ("draw_tls params None", lambda: draw_tls(None, 3, RNG), TypeError, "params"),
    ("draw_tls rng None", lambda: draw_tls(TLSParams(), 3, None), TypeError, "rng"),
    ("draw_tls n array", lambda: draw_tls(TLSParams(), LONG, RNG), TypeError, "n_tls"),
    ("draw_tls n bool", lambda: draw_tls(TLSParams(), True, RNG), TypeError, "n_tls"),
    ("draw_tls n float", lambda: draw_tls(TLSParams(), 3.0, RNG), TypeError, "n_tls"),
    ("draw_couplings params None", lambda: draw_couplings(None, 3, RNG), TypeError, "params"),
    ("draw_couplings int rng", lambda: draw_couplings(CouplingParams(strength=0.1), 3, 42),
     TypeError, "rng"),
    ("draw_couplings n array", lambda: draw_couplings(CouplingParams(strength=0.1), LONG, RNG),
     TypeError, "n_tls"),
    ("draw_couplings params wrong", lambda: draw_couplings(TLSParams(), 3, RNG), TypeError,
     "params"),
    ("draw_deformation None", lambda: draw_deformation_potentials(None, 3, RNG), TypeError,
     "params"),
    ("draw_deformation n negative", lambda: draw_deformation_potentials(StressParams(), -1, RNG),
     ValueError, "n_tls"),
    ("random_positions rng None", lambda: random_positions(3, None), TypeError, "rng"),
    ("random_positions negative", lambda: random_positions(-1, RNG), ValueError, "n_tls"),
    ("periodic None", lambda: periodic_distances(None), TypeError, "positions"),
    ("periodic 1-d", lambda: periodic_distances(np.ones(3)), ValueError, "positions"),
    ("periodic frame", lambda: periodic_distances(pd.DataFrame({"a": [1.0, 2.0]})), ValueError,
     "positions"),
    ("periodic min array", lambda: periodic_distances(np.ones((2, 3)), min_distance=LONG),
     TypeError, "min_distance"),
    ("periodic min bool", lambda: periodic_distances(np.ones((2, 3)), min_distance=True),
     TypeError, "min_distance"),
    ("periodic min nan", lambda: periodic_distances(np.ones((2, 3)), min_distance=np.nan),
     ValueError, "min_distance"),
    # observables
    ("precision long", lambda: mean_spacing_ratio(np.linspace(0, 1, 50), precision=LONG),
     ValueError, "precision"),
    ("grid frequencies None", lambda: frequency_grid(1.0, None, Broadening()), TypeError,
     "frequencies"),
    ("grid broadening None", lambda: frequency_grid(1.0, F, None), TypeError, "broadening"),
    ("grid bandwidth array", lambda: frequency_grid(LONG, F, Broadening()), TypeError,
     "bandwidth"),
]


@pytest.mark.parametrize(("call", "error", "name"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_wrong_argument_is_named_in_one_line(call, error, name):
    with pytest.raises(Exception) as caught:
        call()
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    message = str(caught.value)
    assert "\n" not in message
    assert len(message) < 400
    assert message.startswith(name) or f" {name}" in message or f"{name} " in message, message


def test_reasons_as_a_list_still_decide():
    assert classify_index(0.5, 0.1, indeterminate=["one temperature"]) == (
        "undecided", "one temperature")
    assert classify_index(0.5, 0.1, unphysical=("a; b",))[1] == "a; b"


def test_laws_take_numbers_lists_and_float_arrays():
    assert law_tls(1) == pytest.approx(np.tanh(0.5))
    np.testing.assert_allclose(law_generic([1, 2]), -np.expm1(-np.array([1.0, 2.0])))
    np.testing.assert_allclose(law_family(X, 1.0), law_tls(X))
    np.testing.assert_allclose(law_family(X, np.float32(0.0)), law_generic(X))
    np.testing.assert_allclose(smeared(law_family, X, 0.1, 0.3), law_values("family", X, 0.3, 0.1))
    assert np.iscomplexobj(law_family(X, 0.5 + 1e-20j))  # the fits' complex-step derivative


def test_one_sigma_for_every_point_still_fits():
    one = fit_loss(T, LOSS, 0.27, sigma=1e-8)
    every = fit_loss(T, LOSS, 0.27, sigma=np.full(T.size, 1e-8))
    assert one.parameters["index"] == pytest.approx(every.parameters["index"])


def test_draws_still_draw():
    eps, delta = draw_tls(TLSParams(), np.int64(4), RNG)
    assert eps.shape == delta.shape == (4,)
    couplings, positions = draw_couplings(CouplingParams(kind="dipolar", strength=0.1), 3, RNG)
    assert couplings["zz"].shape == (3, 3) and positions.shape == (3, 3)
    assert periodic_distances(pd.DataFrame(positions)).shape == (3, 3)


def test_a_0d_dataarray_is_its_number():
    assert mb.Broadening(width=xr.DataArray(0.02)).width == 0.02
    spectrum = Spectrum(np.array([-0.5, 0.5]))
    stress = np.array([[0.0, 1.0], [1.0, 0.0]])
    plain = transition_lines(spectrum, stress, 0.1)
    wrapped = transition_lines(spectrum, stress, xr.DataArray(0.1))
    np.testing.assert_array_equal(plain[1], wrapped[1])
    assert classify_index(xr.DataArray(0.5), 0.1) == classify_index(0.5, 0.1)
    assert fit_loss(T, LOSS, 0.27, sigma=xr.DataArray(1e-8)).parameters["index"] == pytest.approx(
        fit_loss(T, LOSS, 0.27, sigma=1e-8).parameters["index"])
    with pytest.raises(TypeError, match="width"):
        mb.Broadening(width=xr.DataArray("0.02"))
    with pytest.raises(TypeError, match="width"):
        mb.Broadening(width=xr.DataArray(True))

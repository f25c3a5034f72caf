"""The frequency collapse on simulated ensembles (docs/PHYSICS.md section 7.2): independent
canonical TLS and a flat random block collapse onto one function of x = w/T when the line kernel
has a width proportional to w; a kernel of fixed width does not."""

import numpy as np
import pytest

from manybody.config.model import ModelParams, RandomMatrixParams, StressParams, TLSParams
from manybody.config.probe import Broadening, Probe
from manybody.laws.analysis import analyse_shape
from manybody.laws.collapse import frequency_collapse
from manybody.laws.shapes import law_tls, smeared
from manybody.runs.spec import temperature_grid
from manybody.simulation.observe import observe

W = 0.1
FREQUENCIES = (W, W / 2, 2 * W)
TEMPERATURES = temperature_grid(W, 0.2, 12.8, 25)  # 4 per octave: the x grids coincide


def _ensemble(params, realisations, broadening, seed=7):
    probe = Probe(frequencies=FREQUENCIES, temperatures=TEMPERATURES, broadening=broadening,
                  observables=("absorption",))
    return np.stack([observe(params, seed, r, probe)["absorption"] for r in range(realisations)])


def test_independent_canonical_tls_collapse_with_a_relative_kernel():
    """One canonical TLS per realisation (N independent TLS are N such samples): the weighted
    density of resonant TLS is flat in E for Delta_min << E << eps_max, so Q(w, T) / A(w) is the
    kernel-averaged tanh of x alone; the slope is 0 within 3 errors and the test does not reject."""
    params = ModelParams(n_tls=1, tls=TLSParams(asymmetry_max=1.0, tunnelling_min=1e-4,
                                                tunnelling_max=1.0))
    q = _ensemble(params, 1500, Broadening(width=0.2, scaling="relative"))
    result = frequency_collapse(np.asarray(TEMPERATURES), np.asarray(FREQUENCIES), q)
    assert not result.interpolated
    assert abs(result.slope) < 3 * result.slope_error, result
    assert result.p_value > 1e-3


def test_a_fixed_kernel_width_breaks_the_collapse_of_a_pure_law_by_itself():
    """Noise-free kernel-averaged tanh(x/2) (flat density): with eta = 0.2 w at every frequency the
    curves collapse exactly; with eta = 0.02 K at every frequency (eta/w = 0.4 at w/2, 0.1 at 2w)
    the kernel alone gives a collapse slope of ~0.02 -- which is why the study uses a relative
    width."""
    x = W / np.asarray(TEMPERATURES)

    def curves(widths):
        q = np.stack([smeared(law_tls, x * w / W, width / w)
                      for w, width in zip(FREQUENCIES, widths, strict=True)], axis=-1)
        return np.stack([q, q])  # two identical "realisations"

    relative = frequency_collapse(np.asarray(TEMPERATURES), np.asarray(FREQUENCIES),
                                  curves([0.2 * w for w in FREQUENCIES]), n_bootstrap=0)
    fixed = frequency_collapse(np.asarray(TEMPERATURES), np.asarray(FREQUENCIES),
                               curves([0.02] * 3), n_bootstrap=0)
    assert abs(relative.slope) < 1e-12
    assert 0.01 < abs(fixed.slope) < 0.05


@pytest.mark.parametrize("n_tls", [6])
def test_a_flat_random_block_collapses_with_one_minus_exp(n_tls):
    """A flat-density block (levels on [0, 10 K], Haar vectors, GOE stress): 1 - e^-x at every
    frequency (index 0 within errors) and no departure from the collapse."""
    params = ModelParams(n_tls=n_tls, tls=None,
                         random_matrix=RandomMatrixParams(kind="flat", weight=10.0),
                         stress=StressParams(distribution="none", random_matrix=1.0))
    q = _ensemble(params, 40, Broadening(width=0.2, scaling="relative"))
    result = frequency_collapse(np.asarray(TEMPERATURES), np.asarray(FREQUENCIES), q)
    assert abs(result.slope) < 3 * result.slope_error, result
    x = W / np.asarray(TEMPERATURES)
    shape = analyse_shape(x, q[:, :, 0], smearing=0.2, n_bootstrap=50)
    assert abs(shape.index) < 3 * shape.index_error, shape

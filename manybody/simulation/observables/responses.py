"""Raw responses of one realisation, in one convention for every solver, and the unit convention.

Every solver (:mod:`manybody.simulation.solvers`) returns :class:`Responses`, per realisation:

* ``im_chi`` (n_T, n_w): the golden-rule absorption sum
  sum_mn (p_n - p_m) |T_mn|^2 K(w - w_mn) (:meth:`PairSpectrum.absorption`);
* ``re_chi`` (n_T, n_w): its Kramers-Kronig partner, the dispersion sum (broadened 1/w);
* ``specific_heat`` (n_T,) in units of k_B; ``spacing_ratio`` () the mean <r> (NaN without the
  spectrum);
* ``relaxation_chi`` (n_T, n_w), complex: the relaxation susceptibility of the phonon bath;
* ``stress_squared_sum`` and ``pair_count`` (n_E, n_w'): sum of |T_mn|^2 (K^2, T in K per unit
  strain) and number of pairs E_m > E_n in the bins of ``Probe.matrix_element_bins``;
* ``configuration_bath`` and ``configuration_bath_infinite`` (n_T, n_w): the static-configuration-
  bath prediction of ``im_chi`` (same raw units) with thermal and with infinite-temperature
  configuration probabilities; ``single_tls_fraction`` (n_T, n_w), dimensionless
  (:mod:`.decomposition`);
* ``saturation`` (n_T, n_w, n_A): the driven steady state's absorption sum chi_sat (same raw units
  as ``im_chi``; :mod:`.saturation`) at each drive amplitude of ``Probe.saturation``;
* ``errors``: for stochastic solvers, (statistical, truncation) error components of ``im_chi``,
  ``re_chi`` and ``specific_heat``, each the shape of its response.

The unit convention (PHYSICS.md sections 2 and 4) is written here and nowhere else; with
n = ``absorption_normalisation(model)``:

* Q^-1 = n Im chi (pi*C0), and the saturated Q^-1 = n chi_sat; delta v / v = -(n/2) Re chi (C0);
* Q^-1_rel = n Im chi_rel / pi (pi*C0); (delta v / v)_rel = -(n/2) Re chi_rel (C0);
* an error sigma of a response scales as |factor| sigma, statistical and truncation parts added
  in quadrature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from manybody.config.probe import OBSERVABLE_DIMS


def absorption_from(im_chi, normalisation: float):
    """Q^-1 = n Im chi (units of pi*C0 with ``absorption_normalisation``)."""
    return normalisation * im_chi


def velocity_shift_from(re_chi, normalisation: float):
    """delta v / v = -(n/2) Re chi (units of C0 with ``absorption_normalisation``)."""
    return -0.5 * normalisation * re_chi


def relaxation_absorption_from(chi, normalisation: float):
    """Q^-1_rel = n Im chi_rel / pi (units of pi*C0)."""
    return normalisation * chi.imag / math.pi


def relaxation_velocity_shift_from(chi, normalisation: float):
    """(delta v / v)_rel = -(n/2) Re chi_rel (units of C0)."""
    return velocity_shift_from(chi.real, normalisation)


@dataclass
class Responses:
    """The raw responses of one realisation (module docstring); None where not computed."""

    im_chi: np.ndarray | None = None
    re_chi: np.ndarray | None = None
    specific_heat: np.ndarray | None = None
    spacing_ratio: np.ndarray | None = None
    relaxation_chi: np.ndarray | None = None
    stress_squared_sum: np.ndarray | None = None
    pair_count: np.ndarray | None = None
    configuration_bath: np.ndarray | None = None
    configuration_bath_infinite: np.ndarray | None = None
    single_tls_fraction: np.ndarray | None = None
    saturation: np.ndarray | None = None
    errors: dict[str, tuple[np.ndarray, np.ndarray]] | None = None


#: observable name -> (raw response, factor of the normalisation or None, how it is converted)
_CONVERSIONS = {
    "absorption": ("im_chi", 1.0, absorption_from),
    "velocity_shift": ("re_chi", -0.5, velocity_shift_from),
    "specific_heat": ("specific_heat", None, None),
    "spacing_ratio": ("spacing_ratio", None, None),
    "relaxation_absorption": ("relaxation_chi", None, relaxation_absorption_from),
    "relaxation_velocity_shift": ("relaxation_chi", None, relaxation_velocity_shift_from),
    "stress_squared_sum": ("stress_squared_sum", None, None),
    "pair_count": ("pair_count", None, None),
    "configuration_bath_absorption": ("configuration_bath", None, absorption_from),
    "configuration_bath_absorption_infinite": ("configuration_bath_infinite", None, absorption_from),
    "single_tls_fraction": ("single_tls_fraction", None, None),
    "saturation": ("saturation", None, absorption_from),
}


def physical_observables(raw: Responses, normalisation: float, observables, *,
                         errors: bool = False) -> dict[str, np.ndarray]:
    """The observables ``observables`` in their registered units (module docstring).

    Parameters
    ----------
    raw : Responses
        What the solver returned.
    normalisation : float
        ``absorption_normalisation(model)``.
    observables : iterable of str
        Names from the observable registry (``manybody.config.probe.OBSERVABLES``).
    errors : bool
        Add "<name>_error" for every observable that has one in the registry: the solver's error
        components scaled like the value, or zeros from a solver that reports none (so every task
        of a run that may use a stochastic solver has the same variables).
    """
    out: dict[str, np.ndarray] = {}
    for name, (key, factor, convert) in _CONVERSIONS.items():
        if name not in observables:
            continue
        value = getattr(raw, key)
        out[name] = value if convert is None else convert(value, normalisation)
        if not errors or f"{name}_error" not in OBSERVABLE_DIMS:
            continue
        if raw.errors is None:
            out[f"{name}_error"] = np.zeros_like(out[name])
            continue
        statistical, truncation = raw.errors[key]
        if factor is None:
            out[f"{name}_error"] = np.hypot(statistical, truncation)
        else:
            scale = abs(factor * normalisation)
            out[f"{name}_error"] = np.hypot(scale * statistical, scale * truncation)
    return out

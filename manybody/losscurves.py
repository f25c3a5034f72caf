"""Measured loss curves: frequencies with units, one curve per drive power, tables split into curves.

The inputs of :mod:`manybody.datafit`: :func:`parse_frequency` converts "5.62GHz" (or MHz, K, mK)
to w = h f / k_B in kelvin, :func:`gap_from_tc` gives the BCS gap for the quasiparticle term,
:class:`LossCurve` holds one Q^-1(T) curve at fixed drive power, and :func:`curves_from_table`
splits a :class:`manybody.dataio.LossTable` into such curves. The fits are in
:mod:`manybody.datafit`, the comparison of the laws in :mod:`manybody.discrimination`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from manybody import _validate as v
from manybody.dataio import MAX_TEMPERATURE, check_power_dbm
from manybody.units import KELVIN_PER_GHZ

#: BCS weak-coupling ratio Delta0 / (k_B Tc).
BCS_RATIO = 1.764

_FREQ = re.compile(r"^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)\s*(ghz|mhz|khz|hz|mk|k)\s*$",
                   re.IGNORECASE)
_HZ = {"ghz": 1e9, "mhz": 1e6, "khz": 1e3, "hz": 1.0}


def parse_frequency(value: str | float) -> float:
    """Convert a frequency to w = h f / k_B in kelvin.

    Parameters
    ----------
    value : str or float
        A number with a unit: "5.61989GHz", "5619.89 MHz", "5.6e9 Hz", "0.2697K", "269.7 mK"
        (case-insensitive); a bare float is taken as already in kelvin.

    Returns
    -------
    float
        w (K), 0 < w < 1000 K (20.8 THz).

    Raises
    ------
    ValueError
        No or unknown unit in a string, a value <= 0, non-finite or >= 1000 K.
    """
    if isinstance(value, str):
        m = _FREQ.match(value)
        if not m:
            raise ValueError(f"frequency must be a number with a unit GHz, MHz, kHz, Hz, K or mK "
                             f"(e.g. 5.62GHz), got {value!r}")
        number, unit = float(m.group(1)), m.group(4).lower()
        if not number > 0:
            raise ValueError(f"frequency must be positive, got {value!r}")
        if unit in _HZ:
            kelvin = number * _HZ[unit] * 1e-9 * KELVIN_PER_GHZ
        else:
            kelvin = number * (1e-3 if unit == "mk" else 1.0)
        if not kelvin > 0:  # underflow, e.g. 1e-320 Hz
            raise ValueError(f"frequency must be positive, got {value!r} (rounds to 0 K)")
        return _in_range(kelvin, value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"frequency must be a string with a unit (e.g. '5GHz') or a number in "
                        f"kelvin, got {type(value).__name__}")
    kelvin = float(value)
    if not (kelvin > 0 and np.isfinite(kelvin)):
        raise ValueError(f"frequency must be a positive finite number, got {value!r}; a bare "
                         "number is read as kelvin (w = hbar omega / k_B = h f / k_B); give a "
                         "string with a unit such as '5GHz' instead")
    return _in_range(kelvin, value)


def _in_range(kelvin: float, given) -> float:
    if kelvin >= MAX_TEMPERATURE:
        hint = ("" if isinstance(given, str) else
                "; a bare number is read as kelvin (w = hbar omega / k_B = h f / k_B), not Hz: "
                f"give a string with a unit such as '{float(given) / 1e9:.6g}GHz'")
        raise ValueError(f"frequency must be below {MAX_TEMPERATURE:g} K "
                         f"({MAX_TEMPERATURE / KELVIN_PER_GHZ:.4g} GHz), got {given!r}{hint}")
    return kelvin


def gap_from_tc(tc: float) -> float:
    """BCS gap Delta0 = 1.764 Tc (K) from the critical temperature Tc (K); Nb: 9.2 K -> 16.2 K."""
    return BCS_RATIO * v.positive("tc", tc)


@dataclass(frozen=True)
class LossCurve:
    """One loss curve Q^-1(T) at fixed drive power.

    Parameters
    ----------
    temperature : array_like
        T (K), 0 < T < 1000 K.
    loss : array_like
        Q^-1 (dimensionless, or tan delta, or simulated absorption in units of pi*C0), > 0.
    sigma : array_like, optional
        One-standard-deviation errors of ``loss``; None when unknown.
    power : float, optional
        Drive power in dB of ``power_unit`` (e.g. dBm, then between -300 and +100 dBm); needed
        only for the saturation model.

    Raises
    ------
    ValueError
        Temperatures outside 0 < T < 1000 K, loss <= 0 or non-finite, sigma <= 0, shapes that
        differ, a power outside the physical range.
    label : str
        Name used in parameter names and figures.
    power_unit : str
        Unit of ``power`` ("dBm", or "dB(photons)" for a mean photon number).
    """

    temperature: np.ndarray
    loss: np.ndarray
    sigma: np.ndarray | None = None
    power: float | None = None
    label: str = "data"
    power_unit: str = "dBm"

    def __post_init__(self) -> None:
        t = v.positive_array(f"temperature of {self.label!r}", self.temperature)
        if np.any(t >= MAX_TEMPERATURE):
            i = int(np.argmax(t >= MAX_TEMPERATURE))
            raise ValueError(f"temperature of {self.label!r} must be below {MAX_TEMPERATURE:g} K "
                             f"(in kelvin, not mK?), got {t[i]:g} K at point {i + 1}")
        y = v.real_array(f"loss of {self.label!r}", self.loss)
        if y.shape != t.shape:
            raise ValueError(f"loss of {self.label!r} must have the shape of temperature "
                             f"{t.shape}, got {y.shape}")
        if np.any(y <= 0):
            i = int(np.argmax(y <= 0))
            raise ValueError(f"loss of {self.label!r} must be > 0 (Q^-1 or tan delta), got "
                             f"{y[i]:g} at T = {t[i]:g} K (point {i + 1})")
        object.__setattr__(self, "temperature", t)
        object.__setattr__(self, "loss", y)
        if self.sigma is not None:
            s = v.positive_array(f"sigma of {self.label!r}", self.sigma)
            if s.shape != t.shape:
                raise ValueError(f"sigma of {self.label!r} must have shape {t.shape}, "
                                 f"got {s.shape}")
            object.__setattr__(self, "sigma", s)
        if self.power is not None:
            power = v.finite(f"power of {self.label!r}", self.power)
            if self.power_unit == "dBm":
                check_power_dbm(f"power of {self.label!r}", power)
            object.__setattr__(self, "power", power)

    def window(self, tmin: float | None, tmax: float | None) -> LossCurve:
        """The points with tmin <= T <= tmax (K)."""
        keep = np.ones(self.temperature.size, dtype=bool)
        if tmin is not None:
            keep &= self.temperature >= tmin
        if tmax is not None:
            keep &= self.temperature <= tmax
        return LossCurve(self.temperature[keep], self.loss[keep],
                         None if self.sigma is None else self.sigma[keep], self.power,
                         self.label, self.power_unit)


def curves_from_table(table) -> list[LossCurve]:
    """Split a :class:`manybody.dataio.LossTable` into one LossCurve per drive power.

    Powers in W/mW/uW/nW are converted to dBm, photon numbers to dB(photons) = 10 log10(n).
    """
    unit = table.units.get("power")
    sigma = getattr(table, "sigma", None)
    if table.power is None:
        return [LossCurve(table.temperature, table.loss, sigma, label=table.label)]
    p = np.asarray(table.power, dtype=np.float64)
    scale = {"W": 1e3, "mW": 1.0, "uW": 1e-3, "nW": 1e-6}
    if unit in scale or unit == "photons":
        if np.any(p <= 0):
            raise ValueError(f"{table.source}: power column {table.power_column!r} in {unit} must "
                             "be > 0 to convert to a logarithmic scale")
        p = 10 * np.log10(p * scale.get(unit, 1.0))
        unit = "dBm" if unit in scale else "dB(photons)"
    values = np.unique(p)
    if values.size == 1:
        return [LossCurve(table.temperature, table.loss, sigma, power=float(values[0]),
                          label=table.label, power_unit=unit or "dBm")]
    return [LossCurve(table.temperature[p == pv], table.loss[p == pv],
                      None if sigma is None else sigma[p == pv], power=float(pv),
                      label=f"{table.label} {pv:g} {unit}", power_unit=unit or "dBm")
            for pv in values]

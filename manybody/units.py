"""Physical constants and unit conversions (constants only, nothing settable).

Energies, temperatures and frequencies are all expressed in kelvin (E / k_B); a
frequency enters as w = hbar * omega / k_B.
"""

from __future__ import annotations

#: Boltzmann constant (J / K), exact in the SI.
BOLTZMANN = 1.380649e-23
#: Planck constant (J s), exact in the SI.
PLANCK = 6.62607015e-34
#: Reduced Planck constant (J s).
HBAR = PLANCK / (2.0 * 3.141592653589793)
#: h * (1 GHz) / k_B in kelvin: 1 GHz = 0.0479924 K.
KELVIN_PER_GHZ = PLANCK * 1e9 / BOLTZMANN
#: Hertz per unit of a frequency written in a header or a value ('khz' -> 1e3), lower case.
HERTZ_PER_UNIT = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}


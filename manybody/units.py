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
#: Hertz per unit of a frequency written in a header or a value ('khz' -> 1e3), lower case but for
#: millihertz: its lower case is that of megahertz, so it keeps its symbol 'mHz' (a shift column in
#: 'mHz' was read in MHz, 1e9 off; a tester, session 52).
HERTZ_PER_UNIT = {"uhz": 1e-6, "mHz": 1e-3, "hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9,
                  "thz": 1e12}
#: The symbol of each key of HERTZ_PER_UNIT, for messages and labels.
FREQUENCY_SYMBOLS = {"uhz": "µHz", "mHz": "mHz", "hz": "Hz", "khz": "kHz", "mhz": "MHz",
                     "ghz": "GHz", "thz": "THz"}


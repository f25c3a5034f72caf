"""Phonon baths for one-phonon relaxation: a Debye solid with longitudinal and transverse branches.

The one-phonon rate prefactor (PHYSICS.md section 4; Jackle 1972, Phillips 1987 eq. 2.20)

    K_ph = (gamma_l^2 / v_l^5 + 2 gamma_t^2 / v_t^5) / (2 pi rho hbar^4)

has SI units J^-3 s^-1; with energies in kelvin (E / k_B) it becomes

    K_ph [s^-1 K^-3] = K_ph [J^-3 s^-1] * k_B^3,

so that one TLS relaxes at tau^-1 = K_ph Delta^2 E coth(E / 2T) (Delta, E, T in K; tau in s).

Two kinds of bath, both exposing ``rate_prefactor`` (s^-1 K^-3):

* :class:`PhononBath`: a material (density, sound velocities, deformation potentials), with
  presets such as :data:`AMORPHOUS_SIO2`;
* :class:`ReducedPhononBath`: K_ph given directly (reduced units, or a fitted value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from manybody.config.probe import PHONON_PRESETS
from manybody.config.probe import rate_prefactor as check_rate_prefactor
from manybody.support import validate as v
from manybody.units import BOLTZMANN, HBAR

#: One electronvolt in joules (exact in the SI).
ELECTRONVOLT = 1.602176634e-19
#: One electronvolt in kelvin (eV / k_B = 11604.5 K).
KELVIN_PER_EV = ELECTRONVOLT / BOLTZMANN


@dataclass(frozen=True, kw_only=True)
class PhononBath:
    """Isotropic Debye phonon bath of an amorphous solid.

    Parameters
    ----------
    density : float
        Mass density rho (kg/m^3), > 0.
    velocity_longitudinal : float
        Longitudinal sound velocity v_l (m/s), > 0.
    velocity_transverse : float
        Transverse sound velocity v_t (m/s), > 0, with v_l^2 > (4/3) v_t^2 (positive bulk
        modulus, which implies v_t < v_l).
    deformation_longitudinal : float
        Longitudinal deformation potential gamma_l (eV), > 0.
    deformation_transverse : float
        Transverse deformation potential gamma_t (eV), >= 0.
    name : str
        Label for output metadata.

    Raises
    ------
    ValueError
        Non-positive or non-finite values, or v_l^2 <= (4/3) v_t^2 (naming the values).

    Notes
    -----
    The one-phonon rate prefactor K_ph = (gamma_l^2 / v_l^5 + 2 gamma_t^2 / v_t^5) /
    (2 pi rho hbar^4) of docs/PHYSICS.md section 4 (Jackle 1972).

    Examples
    --------
    >>> round(AMORPHOUS_SIO2.rate_prefactor / 1e7, 3)  # K_ph in 1e7 s^-1 K^-3 (4.8652e7)
    4.865
    """

    density: float
    velocity_longitudinal: float
    velocity_transverse: float
    deformation_longitudinal: float
    deformation_transverse: float
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "density", v.positive("density", self.density))
        object.__setattr__(self, "velocity_longitudinal",
                           v.positive("velocity_longitudinal", self.velocity_longitudinal))
        object.__setattr__(self, "velocity_transverse",
                           v.positive("velocity_transverse", self.velocity_transverse))
        object.__setattr__(self, "deformation_longitudinal",
                           v.positive("deformation_longitudinal", self.deformation_longitudinal))
        object.__setattr__(self, "deformation_transverse",
                           v.non_negative("deformation_transverse", self.deformation_transverse))
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string (a label), got {v._describe(self.name)}")
        vl, vt = self.velocity_longitudinal, self.velocity_transverse
        if vl * vl <= 4.0 / 3.0 * vt * vt:
            raise ValueError(
                "velocity_transverse must satisfy v_l^2 > (4/3) v_t^2 (positive bulk modulus; "
                f"in particular v_t < v_l), got velocity_longitudinal={vl!r} m/s, "
                f"velocity_transverse={vt!r} m/s"
            )

    @classmethod
    def from_kelvin(
        cls,
        *,
        density: float,
        velocity_longitudinal: float,
        velocity_transverse: float,
        deformation_longitudinal: float,
        deformation_transverse: float,
        name: str = "",
    ) -> PhononBath:
        """Build a bath with deformation potentials given in kelvin (gamma / k_B, K)."""
        gl = v.positive("deformation_longitudinal", deformation_longitudinal)
        gt = v.non_negative("deformation_transverse", deformation_transverse)
        return cls(
            density=density,
            velocity_longitudinal=velocity_longitudinal,
            velocity_transverse=velocity_transverse,
            deformation_longitudinal=gl / KELVIN_PER_EV,
            deformation_transverse=gt / KELVIN_PER_EV,
            name=name,
        )

    @property
    def deformation_longitudinal_kelvin(self) -> float:
        """gamma_l / k_B (K)."""
        return self.deformation_longitudinal * KELVIN_PER_EV

    @property
    def deformation_transverse_kelvin(self) -> float:
        """gamma_t / k_B (K)."""
        return self.deformation_transverse * KELVIN_PER_EV

    @property
    def rate_prefactor_si(self) -> float:
        """K_ph in SI units (J^-3 s^-1)."""
        gl = self.deformation_longitudinal * ELECTRONVOLT
        gt = self.deformation_transverse * ELECTRONVOLT
        coupling = gl**2 / self.velocity_longitudinal**5 + 2.0 * gt**2 / self.velocity_transverse**5
        return coupling / (2.0 * math.pi * self.density * HBAR**4)

    @property
    def rate_prefactor(self) -> float:
        """K_ph (s^-1 K^-3) for energies in kelvin: tau^-1 = K_ph Delta^2 E coth(E/2T)."""
        return self.rate_prefactor_si * BOLTZMANN**3


@dataclass(frozen=True, kw_only=True)
class ReducedPhononBath:
    """A phonon bath given only by its one-phonon rate prefactor.

    Parameters
    ----------
    rate_prefactor : float
        K_ph (s^-1 K^-3), > 0: tau^-1 = K_ph Delta^2 E coth(E/2T) for one TLS (energies in K).
    name : str
        Label for output metadata.
    """

    rate_prefactor: float
    name: str = "reduced"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate_prefactor",
                           check_rate_prefactor("rate_prefactor", self.rate_prefactor))
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string (a label), got {v._describe(self.name)}")


#: Vitreous silica (a-SiO2): rho = 2200 kg/m^3, v_l = 5800 m/s, v_t = 3800 m/s,
#: gamma_l = 1.04 eV, gamma_t = 0.65 eV (W. A. Phillips, Rep. Prog. Phys. 50, 1657 (1987),
#: table of TLS parameters from S. Hunklinger and A. K. Raychaudhuri, Prog. Low Temp. Phys. 9,
#: 265 (1986)). K_ph = 4.865e7 s^-1 K^-3.
AMORPHOUS_SIO2 = PhononBath(
    density=2200.0,
    velocity_longitudinal=5800.0,
    velocity_transverse=3800.0,
    deformation_longitudinal=1.04,
    deformation_transverse=0.65,
    name="a-SiO2",
)

#: Named presets.
PRESETS: dict[str, PhononBath] = dict(zip(PHONON_PRESETS, (AMORPHOUS_SIO2,), strict=True))


def bath(name_or_prefactor: str | float) -> PhononBath | ReducedPhononBath:
    """A preset by name (e.g. "a-SiO2") or a reduced bath from K_ph (s^-1 K^-3)."""
    if isinstance(name_or_prefactor, str):
        v.choice("bath", name_or_prefactor, tuple(PRESETS))
        return PRESETS[name_or_prefactor]
    return ReducedPhononBath(rate_prefactor=name_or_prefactor)

"""manybody: exact diagonalisation of interacting two-level systems and random-matrix blocks.

Does the resonant ultrasonic absorption of a glass follow tanh(w/2T), as independent tunnelling
two-level systems predict, or 1 - exp(-w/T), as a generic random-matrix block does? ``manybody``
builds the many-body Hamiltonians, diagonalises them exactly, computes golden-rule spectra and says
which law the result follows.

The public names below are imported lazily, so ``import manybody`` stays light (no scipy, QuSpin,
joblib or matplotlib until they are used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "ModelParams": "models", "TLSParams": "models", "CouplingParams": "models",
    "RandomMatrixParams": "models", "StressParams": "models", "Realisation": "models",
    "RandomMatrixTerm": "models", "draw_realisation": "models", "realisation_rng": "models",
    "absorption_normalisation": "models",
    "build_operators": "operators", "build_hamiltonian": "operators", "build_stress": "operators",
    "SolverParams": "diagonalise", "Spectrum": "diagonalise", "diagonalise": "diagonalise",
    "stress_matrix_elements": "diagonalise", "solve": "diagonalise",
    "estimate_memory": "diagonalise",
    "Broadening": "absorption", "absorption": "absorption", "velocity_shift": "absorption",
    "emission_stripped": "absorption", "pair_spectrum": "absorption",
    "transition_lines": "absorption", "boltzmann_weights": "absorption",
    "specific_heat": "thermo", "entropy": "thermo", "schottky": "thermo",
    "mean_spacing_ratio": "statistics", "spacing_ratios": "statistics",
    "participation_ratio": "statistics", "matrix_element_statistics": "statistics",
    "fit_law": "analysis", "analyse_shape": "analysis", "shape_ratio": "analysis",
    "log_slope": "analysis",
    "Probe": "pipeline", "observe": "pipeline",
    "RunSpec": "spec", "run_sweep": "sweep", "load_results": "results", "save_results": "results",
    "PhononBath": "materials", "relaxation_absorption": "relaxation",
    "relaxation_velocity_shift": "relaxation", "velocity_slopes": "relaxation",
    "read_loss_table": "dataio", "fit_loss": "datafit", "compare_laws": "discrimination",
    "execute_study": "study",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'manybody' has no attribute {name!r}")


def __dir__():
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from .absorption import *  # noqa: F403
    from .analysis import *  # noqa: F403
    from .diagonalise import *  # noqa: F403
    from .models import *  # noqa: F403

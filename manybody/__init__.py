"""manybody: exact diagonalisation of interacting two-level systems and random-matrix blocks.

Does the resonant ultrasonic absorption of a glass follow tanh(w/2T), as independent tunnelling
two-level systems predict, or 1 - exp(-w/T), as a generic random-matrix block does? ``manybody``
builds the many-body Hamiltonians, diagonalises them exactly, computes golden-rule spectra and says
which law the result follows.

The public names below are imported lazily, so ``import manybody`` stays light (no scipy, QuSpin,
joblib or matplotlib until they are used). Each lives in one module of the layers described in the
README ("Layout and architecture"); ``manybody.<name>`` is the stable way to reach it. Module paths
of release 0.1 (one flat folder) still import for one release, with a DeprecationWarning naming the
new path (:mod:`manybody._moved`).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from manybody._moved import MovedModuleFinder

__version__ = "0.1.0"

_EXPORTS = {  # public name -> the module (below manybody) that defines it; one per line
    "ModelParams": "config.model",
    "TLSParams": "config.model",
    "CouplingParams": "config.model",
    "RandomMatrixParams": "config.model",
    "StressParams": "config.model",
    "EquilibrationParams": "config.model",
    "Realisation": "simulation.ensembles",
    "RandomMatrixTerm": "simulation.ensembles",
    "draw_realisation": "simulation.ensembles",
    "realisation_rng": "simulation.ensembles",
    "absorption_normalisation": "simulation.ensembles",
    "build_operators": "simulation.operators",
    "build_hamiltonian": "simulation.operators",
    "build_stress": "simulation.operators",
    "SolverParams": "config.solver",
    "Spectrum": "simulation.spectrum",
    "diagonalise": "simulation.solvers.dense",
    "stress_matrix_elements": "simulation.solvers.dense",
    "solve": "simulation.solvers.dense",
    "estimate_memory": "simulation.solvers.dense",
    "Broadening": "config.probe",
    "absorption": "simulation.observables.absorption",
    "velocity_shift": "simulation.observables.absorption",
    "emission_stripped": "simulation.observables.absorption",
    "pair_spectrum": "simulation.observables.absorption",
    "transition_lines": "simulation.observables.absorption",
    "boltzmann_weights": "simulation.observables.thermo",
    "specific_heat": "simulation.observables.thermo",
    "entropy": "simulation.observables.thermo",
    "schottky": "simulation.observables.thermo",
    "mean_spacing_ratio": "simulation.observables.statistics",
    "spacing_ratios": "simulation.observables.statistics",
    "participation_ratio": "simulation.observables.statistics",
    "matrix_element_statistics": "simulation.observables.statistics",
    "matrix_element_sums": "simulation.observables.statistics",
    "fit_law": "laws.fit",
    "analyse_shape": "laws.analysis",
    "shape_ratio": "laws.shapes",
    "log_slope": "laws.velocity",
    "Probe": "config.probe",
    "MatrixElementBins": "config.probe",
    "observe": "simulation.observe",
    "RunSpec": "runs.spec",
    "run_sweep": "runs.sweep",
    "load_results": "runs.results",
    "save_results": "runs.results",
    "PhononBath": "simulation.materials",
    "relaxation_absorption": "simulation.observables.relaxation",
    "relaxation_velocity_shift": "simulation.observables.relaxation",
    "velocity_slopes": "laws.velocity",
    "fit_velocity_slopes": "laws.velocity",
    "VelocityFit": "laws.velocity",
    "read_loss_table": "measured.tables",
    "fit_loss": "laws.fit",
    "fit_saturation": "laws.saturation",
    "compare_exponent": "laws.saturation_comparison",
    "analyse_saturation": "laws.saturation_comparison",
    "compare_laws": "measured.comparison",
    "shift_values": "laws.shift",
    "fit_loss_shift": "laws.joint",
    "compare_loss_shift": "laws.joint",
    "execute_study": "study.run",
    "frozen_fraction": "simulation.equilibration",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, MovedModuleFinder())  # first: an old path never reaches a stale file


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f"manybody.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'manybody' has no attribute {name!r}")


def __dir__():
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from manybody.config.model import *  # noqa: F403
    from manybody.config.probe import *  # noqa: F403
    from manybody.config.solver import *  # noqa: F403
    from manybody.laws.analysis import *  # noqa: F403
    from manybody.laws.fit import *  # noqa: F403
    from manybody.laws.saturation import *  # noqa: F403
    from manybody.laws.saturation_comparison import *  # noqa: F403
    from manybody.laws.shapes import *  # noqa: F403
    from manybody.laws.velocity import *  # noqa: F403
    from manybody.simulation.ensembles import *  # noqa: F403
    from manybody.simulation.observables.absorption import *  # noqa: F403
    from manybody.simulation.solvers.dense import *  # noqa: F403

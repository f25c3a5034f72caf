"""manybody: exact diagonalisation of interacting two-level systems and random-matrix blocks.

Does the resonant ultrasonic absorption of a glass follow tanh(w/2T), as independent tunnelling
two-level systems predict, or 1 - exp(-w/T), as a generic random-matrix block does? ``manybody``
builds the many-body Hamiltonians, diagonalises them exactly, computes golden-rule spectra and says
which law the result follows.

The public names below are imported lazily, so ``import manybody`` stays light (no scipy, QuSpin,
joblib or matplotlib until they are used).

Two public functions share their name with the submodule that defines them (``absorption``,
``diagonalise``). Importing such a submodule would normally rebind the package attribute to the
module (Python's import system does ``setattr(package, "absorption", module)``), so that
``manybody.absorption(...)`` failed once anything had imported ``manybody.absorption``. The package
therefore intercepts that assignment: ``manybody.<name>`` is always the documented function. To keep
``import manybody.absorption as m`` (which reads that same attribute) working as a module handle,
the function's attribute namespace is the module's namespace: ``m.pair_spectrum``,
``m._USE_COMPILED`` and ``monkeypatch.setattr(m, ...)`` read and write the module itself. The module
object is ``sys.modules["manybody.absorption"]`` (or ``importlib.import_module``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {  # public name -> the module (below manybody) that defines it; one per line
    "ModelParams": "config.model",
    "TLSParams": "config.model",
    "CouplingParams": "config.model",
    "RandomMatrixParams": "config.model",
    "StressParams": "config.model",
    "Realisation": "simulation.ensembles",
    "RandomMatrixTerm": "simulation.ensembles",
    "draw_realisation": "simulation.ensembles",
    "realisation_rng": "simulation.ensembles",
    "absorption_normalisation": "simulation.ensembles",
    "build_operators": "simulation.operators",
    "build_hamiltonian": "simulation.operators",
    "build_stress": "simulation.operators",
    "SolverParams": "config.solver",
    "Spectrum": "simulation.solvers.dense",
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
    "fit_law": "analysis",
    "analyse_shape": "analysis",
    "shape_ratio": "analysis",
    "log_slope": "analysis",
    "Probe": "config.probe",
    "observe": "simulation.observe",
    "RunSpec": "spec",
    "run_sweep": "sweep",
    "load_results": "results",
    "save_results": "results",
    "PhononBath": "simulation.materials",
    "relaxation_absorption": "simulation.observables.relaxation",
    "relaxation_velocity_shift": "simulation.observables.relaxation",
    "velocity_slopes": "simulation.observables.relaxation",
    "read_loss_table": "dataio",
    "fit_loss": "datafit",
    "compare_laws": "discrimination",
    "execute_study": "study",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'manybody' has no attribute {name!r}")


def _export_for_submodule(name: str, module: types.ModuleType):
    """The public object ``name`` defined by the same-named submodule ``module``, made to serve as
    a module handle too (its attribute namespace is the module's), or None if that cannot be done."""
    obj = module.__dict__.get(name)
    if obj is None:
        return None
    if isinstance(obj, types.FunctionType) and obj.__dict__ is not module.__dict__:
        if obj.__dict__:  # the function carries attributes of its own: keep them, no aliasing
            return obj
        obj.__dict__ = module.__dict__
    return obj


class _Package(types.ModuleType):
    """The ``manybody`` package: a submodule never shadows the public name it shares."""

    def __setattr__(self, name: str, value) -> None:
        if (name in _EXPORTS and isinstance(value, types.ModuleType)
                and value.__name__ == f"{self.__name__}.{name}"):
            export = _export_for_submodule(name, value)
            if export is not None:
                value = export
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__():
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from manybody.analysis import *  # noqa: F403
    from manybody.simulation.ensembles import *  # noqa: F403
    from manybody.simulation.observables.absorption import *  # noqa: F403
    from manybody.simulation.solvers.dense import *  # noqa: F403

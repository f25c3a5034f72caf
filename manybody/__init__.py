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
    "ModelParams": "models",
    "TLSParams": "models",
    "CouplingParams": "models",
    "RandomMatrixParams": "models",
    "StressParams": "models",
    "Realisation": "models",
    "RandomMatrixTerm": "models",
    "draw_realisation": "models",
    "realisation_rng": "models",
    "absorption_normalisation": "models",
    "build_operators": "operators",
    "build_hamiltonian": "operators",
    "build_stress": "operators",
    "SolverParams": "diagonalise",
    "Spectrum": "diagonalise",
    "diagonalise": "diagonalise",
    "stress_matrix_elements": "diagonalise",
    "solve": "diagonalise",
    "estimate_memory": "diagonalise",
    "Broadening": "absorption",
    "absorption": "absorption",
    "velocity_shift": "absorption",
    "emission_stripped": "absorption",
    "pair_spectrum": "absorption",
    "transition_lines": "absorption",
    "boltzmann_weights": "absorption",
    "specific_heat": "thermo",
    "entropy": "thermo",
    "schottky": "thermo",
    "mean_spacing_ratio": "statistics",
    "spacing_ratios": "statistics",
    "participation_ratio": "statistics",
    "matrix_element_statistics": "statistics",
    "fit_law": "analysis",
    "analyse_shape": "analysis",
    "shape_ratio": "analysis",
    "log_slope": "analysis",
    "Probe": "pipeline",
    "observe": "pipeline",
    "RunSpec": "runs.spec",
    "run_sweep": "runs.sweep",
    "load_results": "runs.results",
    "save_results": "runs.results",
    "PhononBath": "materials",
    "relaxation_absorption": "relaxation",
    "relaxation_velocity_shift": "relaxation",
    "velocity_slopes": "relaxation",
    "read_loss_table": "dataio",
    "fit_loss": "datafit",
    "compare_laws": "discrimination",
    "execute_study": "study.run",
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
    from manybody.absorption import *  # noqa: F403
    from manybody.analysis import *  # noqa: F403
    from manybody.diagonalise import *  # noqa: F403
    from manybody.models import *  # noqa: F403

"""Old module paths of release 0.1 (one flat folder), kept for one release with a warning.

``import manybody.models`` still works and gives ``manybody.simulation.ensembles`` (or wherever the
module went), with a :class:`DeprecationWarning` naming the new path. Two old paths are not kept:
``manybody.absorption`` and ``manybody.diagonalise`` would hide the public functions of the same
names (``manybody.absorption(...)``), so importing them raises ModuleNotFoundError naming the new
path. The public API, ``manybody.<name>``, is unaffected by all of this.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import warnings

#: old dotted path -> new dotted path
MOVED: dict[str, str] = {
    "manybody.models": "manybody.simulation.ensembles",
    "manybody.operators": "manybody.simulation.operators",
    "manybody.random_matrices": "manybody.simulation.random_matrices",
    "manybody.materials": "manybody.simulation.materials",
    "manybody.diagonalise": "manybody.simulation.solvers.dense",
    "manybody.absorption": "manybody.simulation.observables.absorption",
    "manybody.pair_sum": "manybody.simulation.observables.pair_sum",
    "manybody.thermo": "manybody.simulation.observables.thermo",
    "manybody.statistics": "manybody.simulation.observables.statistics",
    "manybody.relaxation": "manybody.simulation.observables.relaxation",
    "manybody.kpm": "manybody.simulation.solvers.chebyshev.kpm",
    "manybody.chebyshev": "manybody.simulation.solvers.chebyshev.solver",
    "manybody.chebyshev_plan": "manybody.simulation.solvers.chebyshev.plan",
    "manybody.chebyshev_resources": "manybody.simulation.solvers.chebyshev.resources",
    "manybody.pipeline": "manybody.simulation.observe",
    "manybody.analysis": "manybody.laws.analysis",
    "manybody.datafit": "manybody.laws.fit",
    "manybody.losscurves": "manybody.laws.inputs",
    "manybody.dataio": "manybody.measured.tables",
    "manybody.discrimination": "manybody.measured.comparison",
    "manybody.datafit_cli": "manybody.cli.fit_data",
    "manybody.spec": "manybody.runs.spec",
    "manybody.sweep": "manybody.runs.sweep",
    "manybody.results": "manybody.runs.results",
    "manybody.sweep_cli": "manybody.cli.run",
    "manybody.plotting": "manybody.study.figures",
    "manybody._validate": "manybody.support.validate",
    "manybody.jsonio": "manybody.support.jsonio",
    "manybody.blas": "manybody.support.blas",
}
#: Old paths that are refused (they would shadow a public function of the same name).
REFUSED = ("manybody.absorption", "manybody.diagonalise")


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve an old module path to the module at its new place (with a DeprecationWarning)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        if fullname in REFUSED:
            raise ModuleNotFoundError(
                f"module {fullname!r} moved to {MOVED[fullname]!r}; import it from there "
                f"({fullname} is the public function of that name)", name=fullname)
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        warnings.warn(f"{spec.name} moved to {MOVED[spec.name]}; the old path will be removed in "
                      "the next release", DeprecationWarning, stacklevel=2)
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module) -> None:
        """Nothing to execute: the module at its new place is already loaded."""

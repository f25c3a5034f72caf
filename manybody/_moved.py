"""Old module paths of release 0.1 (one flat folder), kept for one release with a warning.

``import manybody.models`` still works, with a :class:`DeprecationWarning` naming the new path: the
old module is a stand-in whose names are looked up in the modules they went to
(``manybody.models.ModelParams`` is ``manybody.config.model.ModelParams``). Two old paths are not kept:
``manybody.absorption`` and ``manybody.diagonalise`` would hide the public functions of the same
names (``manybody.absorption(...)``), so importing them raises ModuleNotFoundError naming the new
path. The public API, ``manybody.<name>``, is unaffected by all of this.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import types
import warnings

#: old dotted path -> the modules its names went to (the first: where the module itself went)
MOVED: dict[str, tuple[str, ...]] = {
    "manybody.models": (
        "manybody.simulation.ensembles",
        "manybody.config.model",
    ),
    "manybody.operators": ("manybody.simulation.operators",),
    "manybody.random_matrices": ("manybody.simulation.random_matrices",),
    "manybody.materials": ("manybody.simulation.materials",),
    "manybody.diagonalise": (
        "manybody.simulation.solvers.dense",
        "manybody.simulation.spectrum",
        "manybody.config.solver",
        "manybody.simulation.solvers.memory",
        "manybody.simulation.solvers",
    ),
    "manybody.absorption": (
        "manybody.simulation.observables.absorption",
        "manybody.config.probe",
        "manybody.simulation.observables.thermo",
    ),
    "manybody.pair_sum": ("manybody.simulation.observables.pair_sum",),
    "manybody.thermo": ("manybody.simulation.observables.thermo",),
    "manybody.statistics": ("manybody.simulation.observables.statistics",),
    "manybody.relaxation": (
        "manybody.simulation.observables.relaxation",
        "manybody.laws.velocity",
    ),
    "manybody.kpm": ("manybody.simulation.solvers.chebyshev.kpm",),
    "manybody.chebyshev": (
        "manybody.simulation.solvers.chebyshev.solver",
        "manybody.simulation.solvers.chebyshev.plan",
    ),
    "manybody.chebyshev_plan": (
        "manybody.simulation.solvers.chebyshev.plan",
        "manybody.config.solver",
    ),
    "manybody.chebyshev_resources": (
        "manybody.simulation.solvers.chebyshev.resources",
        "manybody.simulation.solvers",
    ),
    "manybody.pipeline": (
        "manybody.simulation.observe",
        "manybody.config.probe",
    ),
    "manybody.analysis": (
        "manybody.laws.analysis",
        "manybody.laws.fit",
        "manybody.laws.shapes",
        "manybody.laws.verdict",
        "manybody.laws.velocity",
    ),
    "manybody.datafit": (
        "manybody.laws.fit",
        "manybody.laws.inputs",
    ),
    "manybody.losscurves": (
        "manybody.laws.inputs",
        "manybody.measured.tables",
        "manybody.measured.headers",
    ),
    "manybody.dataio": (
        "manybody.measured.tables",
        "manybody.measured.headers",
        "manybody.laws.inputs",
    ),
    "manybody.discrimination": (
        "manybody.measured.comparison",
        "manybody.laws.verdict",
    ),
    "manybody.datafit_cli": ("manybody.cli.fit_data", "manybody.cli.fit_velocity",
                             "manybody.cli.fit_outputs"),
    "manybody.spec": ("manybody.runs.spec",),
    "manybody.sweep": (
        "manybody.runs.sweep",
        "manybody.runs.tasks",
        "manybody.runs.execution",
        "manybody.runs.checkpoint",
        "manybody.runs.lifecycle",
    ),
    "manybody.results": (
        "manybody.runs.results",
        "manybody.support.files",
        "manybody.support.provenance",
    ),
    "manybody.sweep_cli": (
        "manybody.cli.run",
        "manybody.cli.info",
    ),
    "manybody.plotting": (
        "manybody.study.figures",
        "manybody.support.style",
    ),
    "manybody._validate": ("manybody.support.validate",),
    "manybody.jsonio": ("manybody.support.jsonio",),
    "manybody.blas": ("manybody.support.blas",),
}
#: Names of the old module ``manybody.study`` (now the package of the built-in study).
STUDY_MODULES = (
    "manybody.study.run",
    "manybody.study.summary",
    "manybody.study.specs",
    "manybody.study.matrix_elements",
    "manybody.study.catalogue",
)
#: Old paths that are refused (they would shadow a public function of the same name).
REFUSED = ("manybody.absorption", "manybody.diagonalise")
#: Old modules that left the package, with where they went (import manybody.bench was a bare
#: "No module named 'manybody.bench'"; session 33).
GONE = {"manybody.bench": "the benchmark left the package for the scripts: run "
                          "`python scripts/bench.py` from the repository (see the README's "
                          "Performance section)"}


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve an old module path to the module at its new place (with a DeprecationWarning)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in GONE:
            raise ModuleNotFoundError(f"module {fullname!r} is no longer part of manybody: "
                                      f"{GONE[fullname]}", name=fullname)
        if fullname not in MOVED:
            return None
        if fullname in REFUSED:
            raise ModuleNotFoundError(
                f"module {fullname!r} moved to {MOVED[fullname][0]!r}; import it from there "
                f"({fullname} is the public function of that name)",
                name=fullname,
            )
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        targets = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {targets[0]}"
            + (f" (some names to {', '.join(targets[1:])})" if len(targets) > 1 else "")
            + "; the old path will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        module = OldModule(spec.name)
        module.__dict__["__moved_to__"] = targets
        return module

    def exec_module(self, module) -> None:
        """Nothing to execute: names are looked up in the new modules on first use."""


class OldModule(types.ModuleType):
    """An old module path: each name is found in the modules it moved to (``__moved_to__``)."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return find_moved_name(self.__name__, self.__dict__["__moved_to__"], name)


def find_moved_name(old: str, targets: tuple[str, ...], name: str):
    """``name`` of the old module ``old``, from the first of ``targets`` that defines it.

    Raises
    ------
    AttributeError
        No target defines it (the message names the modules searched).
    """
    for target in targets:
        module = importlib.import_module(target)
        if name in module.__dict__:
            return module.__dict__[name]
    raise AttributeError(
        f"{old}.{name} no longer exists; {old} moved to {', '.join(targets)}, "
        f"none of which defines {name!r}"
    )


def old_names(old: str, targets: tuple[str, ...]):
    """A module ``__getattr__`` for a package that took an old module's path (``manybody.study``):
    an old name is found in ``targets``, with a DeprecationWarning naming its new module."""

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        value = find_moved_name(old, targets, name)
        warnings.warn(
            f"{old}.{name} moved to {getattr(value, '__module__', targets[0])}; the old "
            "path will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return __getattr__

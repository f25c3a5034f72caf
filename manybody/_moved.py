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
MOVED: dict[str, str] = {}
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

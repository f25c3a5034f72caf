"""The public API: every name in ``manybody.__all__`` is the documented object, whatever was
imported before and however often it is used; ``import manybody`` stays light."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# runs in a fresh interpreter: touches every export twice per round, in shuffled orders, with
# every submodule imported (in every style) in between, and checks each object's identity
_PROBE = textwrap.dedent(
    """
    import importlib, inspect, json, pkgutil, random, sys, types
    import manybody as mb

    submodules = sorted(m.name for m in pkgutil.iter_modules(mb.__path__)
                        if m.name not in ("__main__",))
    exports = [n for n in mb.__all__ if n != "__version__"]
    problems = []

    def check(name):
        obj = getattr(mb, name)
        module = importlib.import_module("manybody." + mb._EXPORTS[name])
        if isinstance(obj, types.ModuleType):
            problems.append(f"{name}: is the module {obj.__name__}")
        elif obj is not module.__dict__[name]:
            problems.append(f"{name}: {obj!r} is not {module.__name__}.{name}")
        elif not callable(obj):
            problems.append(f"{name}: not callable")
        elif getattr(obj, "__module__", None) != module.__name__:
            problems.append(f"{name}: defined in {obj.__module__}, expected {module.__name__}")
        # 'from manybody import name' reads the same attribute
        got = {}
        exec(f"from manybody import {name} as x", got)
        if got["x"] is not obj:
            problems.append(f"{name}: 'from manybody import' gives {got['x']!r}")

    rng = random.Random(int(sys.argv[1]))
    for round_ in range(3):
        order = exports * 2
        rng.shuffle(order)
        mods = submodules[:]
        rng.shuffle(mods)
        for i, name in enumerate(order):
            check(name)
            if mods and i % 3 == 0:
                sub = mods.pop()
                style = rng.choice(["import_module", "import_as", "from_import", "plain"])
                ns = {}
                if style == "import_module":
                    importlib.import_module("manybody." + sub)
                elif style == "import_as":
                    exec(f"import manybody.{sub} as m", ns)
                elif style == "from_import":
                    exec(f"from manybody.{sub} import __name__ as n", ns)
                else:
                    exec(f"import manybody.{sub}", ns)
        for sub in mods:
            importlib.import_module("manybody." + sub)
    for name in exports:
        check(name)
    print(json.dumps({"problems": problems, "submodules": submodules,
                      "shadowing": [n for n in exports if n in submodules]}))
    """
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_export_resolves_to_its_object_after_any_imports(seed):
    res = subprocess.run([sys.executable, "-c", _PROBE, str(seed)], capture_output=True,
                         text=True, check=True, timeout=120)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["problems"] == []


def test_readme_example_calls_absorption_twice_after_submodule_import():
    code = textwrap.dedent(
        """
        import numpy as np
        import manybody as mb
        import manybody.simulation.observables.absorption  # the defining submodules
        import manybody.simulation.solvers.dense
        params = mb.ModelParams(n_tls=4, tls=mb.TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3,
                                tunnelling_max=0.3))
        real = mb.draw_realisation(params, mb.realisation_rng(seed=1, realisation=0))
        spectrum, t_mn = mb.solve(real)
        spectrum2 = mb.diagonalise(mb.build_hamiltonian(real))
        w = np.array([0.1]); temps = np.array([0.05, 0.2])
        q1 = mb.absorption(spectrum, t_mn, w, temps, normalisation=mb.absorption_normalisation(params))
        q2 = mb.absorption(spectrum, t_mn, w, temps, normalisation=mb.absorption_normalisation(params))
        assert np.array_equal(q1, q2) and q1.shape == (2, 1)
        assert np.allclose(spectrum2.energies, spectrum.energies)
        print("ok")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_submodule_handles_still_reach_the_module():
    """``import manybody.simulation.observables.absorption as m``: a module handle (monkeypatch
    targets), while ``manybody.absorption`` stays the documented function."""
    code = textwrap.dedent(
        """
        import sys
        import manybody as mb
        import manybody.simulation.observables.absorption as a
        import manybody.simulation.solvers.dense as d
        mod = sys.modules["manybody.simulation.observables.absorption"]
        assert a is mod and d is sys.modules["manybody.simulation.solvers.dense"]
        assert callable(mb.absorption) and mb.absorption is a.absorption
        assert callable(mb.diagonalise) and mb.diagonalise is d.diagonalise
        print("ok")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr


def test_command_line_is_light_until_a_command_runs():
    """``manybody --help`` must not load the numerics (it took 15 s under load when it did)."""
    heavy = ("scipy", "joblib", "matplotlib", "quspin", "numba", "xarray", "dask")
    code = (f"import sys, manybody.cli.app as app; app.build_parser(); "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert res.stdout.strip() == ""


def test_import_manybody_stays_light():
    heavy = ("scipy", "joblib", "matplotlib", "quspin", "numba", "xarray", "dask")
    code = (f"import sys, manybody; print(','.join(m for m in {heavy!r} if m in sys.modules));"
            " manybody.__all__; dir(manybody)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert res.stdout.strip() == ""


def test_old_module_paths_warn_and_give_the_moved_module():
    """Release 0.1's flat module paths import for one release, with a DeprecationWarning that
    names the new path; the two that would hide a public function are refused, naming it."""
    code = textwrap.dedent(
        """
        import importlib, sys, warnings
        import manybody as mb
        from manybody._moved import MOVED, REFUSED
        for old, new in MOVED.items():
            if old in REFUSED:
                try:
                    importlib.import_module(old)
                except ModuleNotFoundError as exc:
                    assert new[0] in str(exc), exc
                else:
                    raise AssertionError(old + " imported")
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                module = importlib.import_module(old)
            assert any(new[0] in str(w.message) and w.category is DeprecationWarning
                       for w in caught), (old, [str(w.message) for w in caught])
            # every public name of the new modules is reachable through the old path
            seen = set()  # a name defined in two targets comes from the first
            for target in new:
                for name, value in vars(importlib.import_module(target)).items():
                    if (not name.startswith("_") and name not in seen
                            and getattr(value, "__module__", None) == target):
                        assert getattr(module, name) is value, (old, name)
                seen.update(vars(importlib.import_module(target)))
            try:
                module.no_such_name
            except AttributeError as exc:
                assert new[0] in str(exc)
            else:
                raise AssertionError("unknown name resolved")
        assert callable(mb.absorption) and callable(mb.diagonalise)
        from manybody.models import RandomMatrixParams, draw_realisation
        from manybody.analysis import classify_index, log_slope
        from manybody.sweep import Chunk, RunAborted
        assert draw_realisation is mb.draw_realisation and RandomMatrixParams is mb.RandomMatrixParams
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from manybody.study import execute_study
        assert execute_study is mb.execute_study
        assert "manybody.study.run" in str(caught[0].message)
        from manybody.cli import main  # the 0.1 entry point "manybody.cli:main"
        assert callable(main)
        print("ok")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_a_module_that_left_the_package_says_where_it_went():
    """`import manybody.bench` was a bare "No module named 'manybody.bench'" (session 33)."""
    import importlib

    with pytest.raises(ModuleNotFoundError, match=r"'manybody.bench' is no longer part of "
                       r"manybody: .*python scripts/bench.py"):
        importlib.import_module("manybody.bench")


def test_public_docstrings_name_what_they_refer_to_so_help_can_find_it():
    """help(manybody.compare_laws) sent the reader to 'fit_joint', which is not in manybody (a
    new user, session 35): every :func:/:class:/... reference in a public docstring is either
    exported, an attribute of the object itself, or written with its module path."""
    import inspect
    import re

    import manybody

    loose = []
    for name in manybody.__all__:
        obj = getattr(manybody, name)
        for ref in re.findall(r":(?:func|class|meth|data|attr):`~?([^`]+)`",
                              inspect.getdoc(obj) or ""):
            if "." not in ref and ref not in manybody.__all__ and not hasattr(obj, ref):
                loose.append(f"{name}: {ref}")
    assert not loose, loose

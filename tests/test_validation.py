"""Bad input is refused up front, by name: strict types, preflight of every sweep point, memory
messages that suggest only remedies that fit, spec files that are not UTF-8/TOML, and ``bench``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import bench  # scripts/bench.py (pytest pythonpath)
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manybody.cli import main
from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, StressParams, TLSParams
from manybody.config.probe import Broadening, Probe
from manybody.config.solver import ChebyshevParams, SolverParams
from manybody.runs.spec import RunSpec, preflight
from manybody.simulation.materials import PhononBath, ReducedPhononBath
from manybody.simulation.solvers import dense as diagonalise
from manybody.simulation.solvers import dense_alternatives
from manybody.simulation.solvers.chebyshev.resources import chebyshev_minimum_bytes
from manybody.simulation.solvers.dense import dense_memory_message, estimate_memory
from manybody.support import validate as v

GB = 2.0**30

# ------------------------------------------------------------------------------------------------
# strict types in every params dataclass (the Python API)
# ------------------------------------------------------------------------------------------------

#: (class, required keyword arguments, prefix of the field names in messages)
CLASSES = [
    (TLSParams, {}, "tls."),
    (CouplingParams, {}, "coupling."),
    (RandomMatrixParams, {}, "random_matrix."),
    (StressParams, {}, "stress."),
    (ModelParams, {"n_tls": 4}, ""),
    (SolverParams, {}, "solver."),
    (ChebyshevParams, {}, "chebyshev."),
    (Broadening, {}, "broadening."),
    (Probe, {"frequencies": (0.1,), "temperatures": (0.1,)}, ""),
    (PhononBath, {"density": 2200.0, "velocity_longitudinal": 5800.0,
                  "velocity_transverse": 3800.0, "deformation_longitudinal": 1.0,
                  "deformation_transverse": 0.5}, ""),
    (ReducedPhononBath, {"rate_prefactor": 1e7}, ""),
]


def _numeric_fields():
    """(class, kwargs, field, prefix, kind, optional) for every int/float field."""
    out = []
    for cls, kwargs, prefix in CLASSES:
        hints = {f.name: f for f in dataclasses.fields(cls)}
        for name, f in hints.items():
            default = kwargs.get(name, f.default)
            text = str(f.type)
            if default is dataclasses.MISSING:
                continue
            if isinstance(default, bool):
                continue
            if isinstance(default, int) and "int" in text:
                kind = "int"
            elif isinstance(default, int | float) or text.startswith("float"):
                kind = "float"
            else:
                continue
            optional = "None" in text
            out.append((cls, kwargs, name, prefix, kind, optional))
    return out


NUMERIC_FIELDS = _numeric_fields()


def test_the_field_table_covers_every_class():
    covered = {c for c, *_ in NUMERIC_FIELDS}
    assert covered == {c for c, *_ in CLASSES}
    assert len(NUMERIC_FIELDS) >= 30


_bad_common = st.one_of(
    st.text(max_size=6),
    st.from_regex(r"\A-?[0-9]{1,3}(\.[0-9]{1,2})?\Z"),  # numbers written as strings
    st.booleans(),
    st.just(np.bool_(True)),
    st.just([1.0]),
    st.just({"value": 1.0}),
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_numeric_field_refuses_wrong_types_by_name(data):
    """str / bool / list / dict (and None, nan, inf, integral floats where not allowed)."""
    cls, kwargs, name, prefix, kind, optional = data.draw(st.sampled_from(NUMERIC_FIELDS))
    extra = [st.just(math.nan), st.just(math.inf), st.just(-math.inf)]
    if not optional:
        extra.append(st.just(None))
    if kind == "int":
        extra.append(st.integers(1, 100).map(float))  # 4.0 where an integer is expected
    bad = data.draw(st.one_of(_bad_common, *extra))
    with pytest.raises((TypeError, ValueError)) as info:
        cls(**{**kwargs, name: bad})
    assert f"{prefix}{name}" in str(info.value) or name in str(info.value)


@pytest.mark.parametrize("cls,kwargs,name,prefix,kind,optional", NUMERIC_FIELDS,
                         ids=[f"{c.__name__}.{n}" for c, _, n, *_ in NUMERIC_FIELDS])
def test_numpy_scalars_are_accepted_and_equal_python_numbers(cls, kwargs, name, prefix, kind,
                                                             optional):
    current = getattr(cls(**kwargs), name)
    if current is None:  # an optional field left unset: try a valid sample value
        current = 16 if kind == "int" else 0.5
    as_numpy = np.int64(current) if kind == "int" else np.float64(current)
    made = cls(**{**kwargs, name: as_numpy})
    assert getattr(made, name) == current


@pytest.mark.parametrize("value,message", [
    ("4", "a string; write the number without quotes"),
    (4.0, "a float; write 4"),
    (True, "a boolean"),
    (None, "None"),
])
def test_n_tls_must_be_an_int(value, message):
    with pytest.raises(TypeError, match="n_tls must be an integer") as info:
        ModelParams(n_tls=value)
    assert message in str(info.value)


@pytest.mark.parametrize("value", [[True, 0.1], ["0.5"], np.array([True, False]),
                                   np.array(["0.1"]), [0.1, None], [[0.1], [False]],
                                   np.array([1 + 1j]), "0.1"])
def test_real_arrays_refuse_booleans_strings_and_none(value):
    with pytest.raises(TypeError, match="temperatures"):
        Probe(frequencies=(0.1,), temperatures=value)


def test_real_arrays_accept_ints_floats_and_numpy():
    p = Probe(frequencies=np.array([1, 2], dtype=np.int32), temperatures=[np.float32(0.5), 1, 2.0])
    assert p.frequencies == (1.0, 2.0) and p.temperatures == (0.5, 1.0, 2.0)


@pytest.mark.parametrize("kwargs,match", [
    ({"observables": "absorption"}, "observables must be a list"),
    ({"observables": ["absorption", "absorption"]}, "repeated"),
    ({"observables": [1]}, "observables entry must be a string"),
    ({"phonon_rate_prefactor": "SiO2"}, "phonon_rate_prefactor"),
    ({"phonon_rate_prefactor": True}, "phonon_rate_prefactor"),
])
def test_probe_names_the_field(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        Probe(frequencies=(0.1,), temperatures=(0.1,), **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"kind": 1}, "coupling.kind must be a string"),
    ({"components": "zz"}, "coupling.components must be a list"),
    ({"components": ["zz", "zz"]}, "repeated"),
])
def test_coupling_names_the_field(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        CouplingParams(**kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"chebyshev": 5}, "solver.chebyshev must be a table"),
    ({"chebyshev": "fast"}, "solver.chebyshev must be a table"),
    ({"dtype": 64}, "solver.dtype must be a string"),
    ({"memory_fraction": "0.5"}, "solver.memory_fraction must be a real number"),
    ({"chebyshev": {"n_vectors": 4.0}}, "chebyshev.n_vectors must be an integer"),
])
def test_solver_names_the_field(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        SolverParams(**kwargs)


def test_model_sections_must_be_params_objects():
    with pytest.raises(TypeError, match="tls must be a TLSParams"):
        ModelParams(n_tls=3, tls={"asymmetry_max": 1.0})
    with pytest.raises(TypeError, match="model.stress must be a table"):
        ModelParams.from_dict({"n_tls": 3, "stress": False})


# ------------------------------------------------------------------------------------------------
# spec files: one line naming the file and the key (CLI exit 2), nothing written
# ------------------------------------------------------------------------------------------------

BASE = """seed = 1
realisations = 1
[model]
n_tls = 3
[probe]
frequencies = [0.1]
temperatures = [0.1, 0.2]
observables = ["absorption", "specific_heat"]
"""


def _run_cli(tmp_path, text: str | bytes, capsys, extra=()) -> tuple[int, str]:
    spec = tmp_path / "spec.toml"
    spec.write_bytes(text if isinstance(text, bytes) else text.encode())
    code = main(["run", str(spec), "-o", str(tmp_path / "out.nc"), "--no-progress", *extra])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("edit,words", [
    (("temperatures = [0.1, 0.2]", 'temperatures = { x_min = "0.5", x_max = 2.0, count = 3 }'),
     ["probe.temperatures.x_min", "'0.5'"]),
    (("temperatures = [0.1, 0.2]", "temperatures = [true, 0.1]"),
     ["probe.temperatures", "True"]),
    (("n_tls = 3", 'n_tls = 3\n[model.tls]\nasymmetry_max = "0.3"'),
     ["tls.asymmetry_max", "'0.3'"]),
    (("n_tls = 3", "n_tls = 3.0"), ["n_tls", "3.0"]),
    ("[solver]\nchebyshev = 5", ["solver.chebyshev", "5"]),
    ("[solver]\ndtype = 64", ["solver.dtype", "64"]),
    (("seed = 1", "seed = 1\nsede = 2"), ["'sede'", "valid keys"]),
    ("[solver]\nmethod = true", ["solver.method", "True"]),
    ("[solver.chebyshev]\nn_vectors = \"8\"", ["chebyshev.n_vectors", "'8'"]),
    ("[probe.broadening]\nwidth = false", ["broadening.width", "False"]),
    (("realisations = 1", "realisations = 1.0"), ["realisations", "1.0"]),
])
def test_spec_type_errors_name_file_and_key(tmp_path, capsys, edit, words):
    text = BASE + edit if isinstance(edit, str) else BASE.replace(*edit)
    code, err = _run_cli(tmp_path, text, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(tmp_path / "spec.toml") in err
    for word in words:
        assert word in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_spec_not_utf8_names_the_file(tmp_path, capsys):
    code, err = _run_cli(tmp_path, BASE.encode() + b'name = "caf\xe9"\n', capsys)
    assert code == 2 and err.count("\n") == 1
    assert "spec.toml" in err and "UTF-8" in err and "line 9" in err


def test_spec_not_toml_names_the_file(tmp_path, capsys):
    code, err = _run_cli(tmp_path, "seed = \n", capsys)
    assert code == 2 and "spec.toml is not valid TOML" in err and err.count("\n") == 1


# ------------------------------------------------------------------------------------------------
# preflight: every sweep point before any computation or file
# ------------------------------------------------------------------------------------------------

def _spec(**changes) -> dict:
    data = {"seed": 3, "realisations": 1, "model": {"n_tls": 3},
            "probe": {"frequencies": [0.1], "temperatures": [0.1, 0.2],
                      "observables": ["absorption", "specific_heat"]}}
    for key, value in changes.items():
        section, _, leaf = key.partition("__")
        if leaf:
            data.setdefault(section, {})[leaf] = value
        else:
            data[section] = value
    return data


REFUSED = [
    # a sweep whose last point cannot fit: refused before the first point is computed
    (_spec(sweep={"model.n_tls": [3, 30]}), MemoryError, ["model.n_tls=30", "n_tls=30"],
     _spec(sweep={"model.n_tls": [3, 4]})),
    # spacing ratio needs >= 3 levels: N >= 2
    (_spec(model={"n_tls": 1}, probe__observables=["spacing_ratio"]), ValueError,
     ["spacing_ratio", "n_tls=1", ">= 2"],
     _spec(model={"n_tls": 2}, probe__observables=["spacing_ratio"])),
    (_spec(sweep={"model.n_tls": [2, 1]}, probe__observables=["spacing_ratio"]), ValueError,
     ["model.n_tls=1", "spacing_ratio"],
     _spec(sweep={"model.n_tls": [2, 3]}, probe__observables=["spacing_ratio"])),
    # chebyshev with eigenstate-only observables
    (_spec(solver={"method": "chebyshev"}, probe__observables=["relaxation_absorption"],
           probe__phonon_rate_prefactor="a-SiO2"), ValueError,
     ["relaxation_absorption", "solver.method = 'chebyshev'"],
     _spec(solver={"method": "dense"}, probe__observables=["relaxation_absorption"],
           probe__phonon_rate_prefactor="a-SiO2")),
    # the chebyshev memory bound before building operators
    (_spec(model={"n_tls": 30}, solver={"method": "chebyshev"}), MemoryError,
     ["n_tls=30", "chebyshev", "n_tls <="],
     _spec(model={"n_tls": 4}, solver={"method": "chebyshev",
                                       "chebyshev": {"n_vectors": 2}})),
]


@pytest.mark.parametrize("bad,exc,words,good", REFUSED)
def test_preflight_refuses_before_any_file_and_the_corrected_spec_runs(tmp_path, bad, exc, words,
                                                                       good):
    from manybody.runs.sweep import run_sweep

    out = tmp_path / "out.nc"
    with pytest.raises(exc) as info:
        run_sweep(RunSpec.from_dict(bad), output=out)
    for word in words:
        assert word in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no results file, no checkpoint directory
    ds = run_sweep(RunSpec.from_dict(good), output=out)
    assert out.exists() and ds.attrs["tasks_total"] >= 1


def test_preflight_auto_names_the_point_where_chebyshev_is_chosen(monkeypatch):
    spec = RunSpec.from_dict(_spec(sweep={"model.n_tls": [4, 13]}, solver={"method": "auto"},
                                   probe__observables=["relaxation_absorption"],
                                   probe__phonon_rate_prefactor="a-SiO2"))
    with pytest.raises(ValueError, match=r"model.n_tls=13.*'auto' \(which picks chebyshev"):
        preflight(spec)


def test_preflight_counts_solvers():
    spec = RunSpec.from_dict(_spec(sweep={"model.n_tls": [3, 4]}))
    assert preflight(spec) == {"dense": 2}


def test_cli_refusal_leaves_nothing(tmp_path, capsys):
    code, err = _run_cli(tmp_path, BASE.replace("n_tls = 3", "n_tls = 3\n[sweep]\n"
                                                '"model.n_tls" = [3, 30]'), capsys)
    assert code == 2 and err.count("\n") == 1 and "model.n_tls=30" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


# ------------------------------------------------------------------------------------------------
# memory messages suggest only what fits
# ------------------------------------------------------------------------------------------------

def test_n16_dense_does_not_suggest_float32_on_a_32_gb_machine():
    msg = dense_memory_message(16, SolverParams(), available=int(32 * GB),
                               alternatives=dense_alternatives(16))
    assert msg is not None and "float32" not in msg
    assert "n_tls <= 15" in msg  # 25.6 GB fits in 90 % of 32 GB, N = 16 (102 GB) does not
    assert "chebyshev" in msg


def test_n14_suggests_float32_only_when_it_fits():
    need64, need32 = estimate_memory(14, "float64"), estimate_memory(14, "float32")
    fits32 = dense_memory_message(14, SolverParams(), available=int(need32 / 0.9) + 1)
    assert fits32 is not None and "solver.dtype = 'float32'" in fits32
    not32 = dense_memory_message(14, SolverParams(), available=int(need32 / 0.9) - 1)
    assert not32 is not None and "float32" not in not32
    assert dense_memory_message(14, SolverParams(), available=int(need64 / 0.9) + 1) is None


def test_the_dense_estimate_counts_the_thermal_arrays_of_many_temperatures():
    """Session 32: 10^5 temperatures at N = 12 peaked at 6.9 GB (arrays of shape (n_T, 2^N))
    against a D^2 estimate of 0.43 GB; at N = 14 the run would have died for lack of memory
    after the preflight passed. The estimate now counts them, and the message offers fewer
    temperatures."""
    matrices = estimate_memory(12)
    with_t = estimate_memory(12, n_temperatures=100_000)
    assert with_t - matrices == 2 * 100_000 * 4096 * 8  # 6.6 GB: the measured 6.2 GB and more
    assert estimate_memory(12, n_temperatures=20) - matrices < 0.01 * matrices  # the study's
    msg = dense_memory_message(14, SolverParams(), available=int(24 * GB), n_temperatures=100_000)
    assert msg is not None and "with the thermal arrays of 100000 temperatures" in msg
    most = int(msg.split("at most ")[1].split(" temperatures")[0])
    assert dense_memory_message(14, SolverParams(), available=int(24 * GB),
                                n_temperatures=most) is None
    assert dense_memory_message(14, SolverParams(), available=int(24 * GB),
                                n_temperatures=most + 2) is not None


RELAXATION = ("absorption", "relaxation_absorption")


def test_no_chebyshev_suggestion_when_observables_need_eigenstates():
    msg = dense_memory_message(16, SolverParams(), available=int(32 * GB),
                               alternatives=dense_alternatives(16, observables=RELAXATION))
    assert "chebyshev" not in msg


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 30), available=st.floats(1e6, 1e13),
       dtype=st.sampled_from(["float64", "float32"]), rm=st.booleans())
def test_every_suggested_remedy_fits(n, available, dtype, rm):
    solver = SolverParams(dtype=dtype)
    budget = solver.memory_fraction * int(available)
    msg = dense_memory_message(n, solver, rm, available=int(available),
                               alternatives=dense_alternatives(n, rm))
    need = estimate_memory(n, dtype, rm)
    assert (msg is None) == (need <= budget)
    if msg is None:
        return
    half = estimate_memory(n, "float32", rm)
    assert ("'float32'" in msg) == (dtype == "float64" and half <= budget)
    assert ("'chebyshev'" in msg) == (not rm and chebyshev_minimum_bytes(n) <= budget)
    if "n_tls <= " in msg:
        k = int(msg.split("n_tls <= ")[1].split()[0])
        assert estimate_memory(k, dtype, rm) <= budget < estimate_memory(k + 1, dtype, rm)
    else:
        assert estimate_memory(1, dtype, rm) > budget


# ------------------------------------------------------------------------------------------------
# bench
# ------------------------------------------------------------------------------------------------

def test_bench_quick_default_is_quiet_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bench, "run_child", _no_child)
    assert bench.main(["--n-min", "4", "--n-max", "5"]) == 0
    out = capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    assert "not measured" in out and out.count("not measured") == 1  # one summary line
    assert "| 5 | 32 |" in out and "quick mode" in out


def test_bench_output_writes_where_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "run_child", _no_child)
    out = tmp_path / "sub" / "b.json"
    out.parent.mkdir()
    assert bench.main(["--n-min", "4", "--n-max", "4", "--variants", "eigh64", "pipeline64",
                 "--output", str(out)]) == 0
    rec = json.loads(out.read_text())
    assert rec["finished"] is True and set(rec["per_n"]["4"]["variants"]) == {"eigh64",
                                                                              "pipeline64"}
    assert rec["metadata"]["workload"]["clock"].startswith("process CPU")


def _no_child(spec, timeout=None):
    raise AssertionError("no child process may be started")


def test_bench_memory_checked_before_any_child(monkeypatch, capsys):
    monkeypatch.setattr(bench, "run_child", _no_child)
    monkeypatch.setattr(diagonalise, "available_memory", lambda: int(8 * GB))
    code = bench.main(["--full", "--n-min", "12", "--n-max", "16", "--variants", "eigh64"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--n-max 16" in err and "eigh64" in err and "N=15" in err and "--n-max 14" in err


def test_bench_dead_child_fails_the_run(monkeypatch, capsys, tmp_path):
    def killed(spec, timeout=None):
        return {"error": "child process was killed by SIGKILL (out of memory?)", "wall_s": 1.0,
                "peak_rss": 1}

    monkeypatch.setattr(bench, "run_child", killed)
    out = tmp_path / "b.json"
    code = bench.main(["--full", "--n-min", "4", "--n-max", "5", "--variants", "eigh64",
                 "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "eigh64 at N=4" in err and "SIGKILL" in err
    assert json.loads(out.read_text())["finished"] is False


@pytest.mark.parametrize("content,words", [
    ('{"benchmark": {}, "date": "x"}', ["not a manybody bench record", "'benchmark'"]),
    ("[1, 2]", ["a JSON list"]),
    ("not json", ["not JSON"]),
    ('{"metadata": {}, "per_n": {"x": {"variants": {}}}}', ["per_n keys"]),
    ('{"metadata": {}, "per_n": {"12": {"variants": {"eigh64": 1}}}}', ["malformed"]),
])
def test_bench_report_on_a_foreign_file(tmp_path, capsys, content, words):
    path = tmp_path / "foreign.json"
    path.write_text(content)
    assert bench.main(["--report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err
    for word in words:
        assert word in err
    assert path.read_text() == content  # not rewritten


@pytest.mark.parametrize("argv,option", [
    (["bench", "--n-max", "4.0"], "--n-max"),
    (["bench", "--n-min", "0"], "--n-min"),
    (["bench", "--repeats", "-1"], "--repeats"),
    (["bench", "--threads", "two"], "--threads"),
    (["run", "x.toml", "-o", "x.nc", "--jobs", "1.5"], "-j/--jobs"),
])
def test_cli_options_are_typed_and_named(capsys, argv, option):
    with pytest.raises(SystemExit) as info:
        if argv[0] == "bench":  # scripts/bench.py
            bench.main(argv[1:])
        else:
            main(argv)
    assert info.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err


def test_cli_real_option_helper():
    parse = v.cli_real(0.0, 1.0, low_open=True)
    assert parse("0.5") == 0.5
    for text in ("0", "nan", "inf", "1.5", "x"):
        with pytest.raises(Exception, match="expected"):
            parse(text)


def test_readme_documents_the_small_mode():
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    perf = text.split("## Performance", 1)[1].split("\n## ", 1)[0]
    assert "--n-max 8" in perf and "--output PATH" in perf


def test_observe_refuses_a_chebyshev_solve_that_cannot_fit_before_building():
    from manybody.simulation.observe import observe

    probe = Probe(frequencies=(0.1,), temperatures=(0.1,))
    with pytest.raises(MemoryError, match="n_tls=30 with the chebyshev solver needs at least"):
        observe(ModelParams(n_tls=30), 1, 0, probe, SolverParams(method="chebyshev"))


# --------------------------------------------------------------- probe axes (new-user findings)

@pytest.mark.parametrize("key, value, expected", [
    ("temperatures", [1e6], "must be below 1000 K"),
    ("frequencies", [5e9], "must be below 1000 K"),
    ("temperatures", [0.1, 0.05, 0.1], "must not repeat a value, got 0.1 twice"),
    ("frequencies", [0.1, 0.1], "must not repeat a value"),
    # one value given twice through rounding (session 30): not two temperatures
    ("temperatures", [0.05, 0.1, 0.1 * (1 + 1e-12)],
     f"got 0.1 and {0.1 * (1 + 1e-12)!r}, equal within 1e-09 relative"),
    ("temperatures", [-0.1, 0.1], "must be > 0 everywhere, got minimum -0.1"),
])
def test_probe_axes_refuse_unphysical_and_repeated_values(key, value, expected):
    from manybody.config.probe import Probe
    from manybody.runs.spec import probe_from_dict

    data = {"frequencies": [0.1], "temperatures": [0.05, 0.1], key: value}
    with pytest.raises(ValueError, match=re.escape(expected)) as info:
        probe_from_dict(data)
    assert f"probe.{key}" in str(info.value)
    with pytest.raises(ValueError, match=re.escape(expected)):
        Probe(**{"frequencies": (0.1,), "temperatures": (0.05, 0.1), key: tuple(value)})


def test_temperature_grid_with_one_point_needs_equal_ends():
    from manybody.runs.spec import probe_from_dict

    with pytest.raises(ValueError, match="x_min == x_max for count 1"):
        probe_from_dict({"frequencies": [0.1],
                         "temperatures": {"x_min": 0.2, "x_max": 10.0, "count": 1}})
    probe = probe_from_dict({"frequencies": [0.1],
                             "temperatures": {"x_min": 2.0, "x_max": 2.0, "count": 1}})
    assert probe.temperatures == pytest.approx((0.05,))


def test_one_temperature_may_be_a_scalar_like_one_frequency():
    from manybody.runs.spec import probe_from_dict

    probe = probe_from_dict({"frequencies": 0.1, "temperatures": 0.05})
    assert probe.frequencies == (0.1,) and probe.temperatures == (0.05,)


def test_run_refuses_to_overwrite_its_own_spec(tmp_path):
    from manybody.cli import main

    spec = tmp_path / "self.toml"
    spec.write_text('seed = 1\nrealisations = 1\n[model]\nn_tls = 2\n[probe]\nfrequencies = [0.1]\n'
                    'temperatures = [0.1]\nobservables = ["absorption"]\n')
    before = spec.read_bytes()
    assert main(["run", str(spec), "-o", str(spec), "--overwrite", "--no-progress"]) == 2
    assert spec.read_bytes() == before


def test_bench_quick_mode_measures_one_repetition_as_documented(tmp_path):

    out = tmp_path / "bench.json"
    assert bench.main(["--n-min", "4", "--n-max", "5", "--output", str(out)]) == 0
    record = json.loads(out.read_text())
    assert [record["per_n"][n]["repeats"] for n in ("4", "5")] == [1, 1]


def test_bench_large_with_a_smaller_n_max_is_refused(capsys):

    assert bench.main(["--large", "--n-max", "8"]) == 2
    assert "--large measures up to N = 14, but --n-max is 8" in capsys.readouterr().err


def test_params_store_the_validated_python_values():
    """numpy scalars and 0-d arrays are accepted and stored as plain float/int, so parameters
    serialise to JSON (results metadata) and compare like the numbers they are."""
    from manybody.config.model import ModelParams, TLSParams

    tls = TLSParams(asymmetry_max=np.array(0.3), tunnelling_min=np.float32(1e-3), tunnelling_max=1)
    assert type(tls.asymmetry_max) is float and type(tls.tunnelling_max) is float
    assert tls.asymmetry_max == 0.3
    params = ModelParams(n_tls=np.int64(4), tls=tls)
    assert type(params.n_tls) is int
    json.dumps(dataclasses.asdict(params))


def test_draw_realisation_names_the_wrong_argument():
    from manybody.config.model import ModelParams, TLSParams
    from manybody.simulation.ensembles import draw_realisation, realisation_rng

    params = ModelParams(n_tls=3, tls=TLSParams())
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator.*got int"):
        draw_realisation(params, 1)
    with pytest.raises(TypeError, match="params must be a ModelParams.*got dict"):
        draw_realisation({"n_tls": 3}, realisation_rng(1, 0))


def test_spec_file_with_a_byte_order_mark_reads_and_an_empty_one_is_named(tmp_path):
    import tomllib

    from manybody.runs.spec import RunSpec

    text = (Path(__file__).resolve().parents[1] / "examples" / "independent_tls.toml").read_text()
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert RunSpec.from_toml(bom).to_dict() == RunSpec.from_dict(tomllib.loads(text)).to_dict()
    empty = tmp_path / "empty.toml"
    empty.write_text("\n  \n")
    with pytest.raises(ValueError, match=f"{re.escape(str(empty))} is empty"):
        RunSpec.from_toml(empty)


def test_a_numeric_phonon_bath_can_be_swept_beside_a_preset_name():
    """model.equilibration.bath takes a preset name or K_ph (s^-1 K^-3); a sweep of numbers was
    refused as 'values must be strings' (session 25). The parameter's own check still applies."""
    model = {"n_tls": 3, "equilibration": {"measurement_time": 1e-3, "bath": 1e8}}
    spec = RunSpec.from_dict(_spec(model=model,
                                   sweep={"model.equilibration.bath": ["a-SiO2", 1e8, 200000000]}))
    baths = [params.equilibration.bath for _, params, _ in spec.points()]
    assert baths == ["a-SiO2", 1e8, 2e8]
    with pytest.raises(ValueError, match=r"equilibration\.bath.*must be > 0"):
        RunSpec.from_dict(_spec(model=model, sweep={"model.equilibration.bath": [1e8, -1.0]}))


def test_chebyshev_vector_count_messages_state_what_the_trace_accepts():
    """n_vectors = 0 said 'between 1 and 1000000' although the stochastic trace needs 2 (a
    tester, session 26)."""
    from manybody.config.solver import ChebyshevParams

    for n in (0, 1, -3):
        with pytest.raises(ValueError, match=r"must be >= 2 for a stochastic trace .* got "
                                             rf"{n}$"):
            ChebyshevParams(n_vectors=n)
    with pytest.raises(ValueError, match="between 1 and 1000000, got 0"):
        ChebyshevParams(n_vectors=0, trace="exact")
    assert ChebyshevParams(n_vectors=1, trace="exact").n_vectors == 1


@pytest.mark.parametrize("values, expected", [
    ([0.01, 0.03, 0.01 * (1 + 3e-10)], [(0.01, 0.01 * (1 + 3e-10))]),
    ([1e-300, 2e-300, 1e-300], [(1e-300, 1e-300)]),
    ([0.0, 1e-300], []),                     # distinct however small: not a repeat
    ([0.01, 0.0100001], []),                 # 1e-5 apart: two points
    ([-2.0, -2.0 * (1 + 1e-12), 2.0], [(-2.0 * (1 + 1e-12), -2.0)]),
    (["a", "b"], []),
])
def test_near_repeats_finds_values_equal_within_the_tolerance(values, expected):
    from manybody.support.validate import near_repeats

    assert near_repeats(values) == expected


def test_sweep_values_equal_within_rounding_are_refused():
    """A sweep axis whose values coincide to 1e-9 relative ran the same point twice under two
    coordinates (session 28's tester); values 1e-5 apart are two points."""
    from manybody.runs.spec import normalise_sweep

    with pytest.raises(ValueError, match=r"sweep\['model.coupling.strength'\] has repeated "
                                         r"values.*equal within 1e-09 relative"):
        normalise_sweep({"model.coupling.strength": [0.01, 0.010000000001]})
    assert normalise_sweep({"model.coupling.strength": [0.01, 0.0100001]})[
        "model.coupling.strength"] == (0.01, 0.0100001)

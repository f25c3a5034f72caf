"""Session 56: helper-183's break test of runs, specs and the Python API.

- The Chebyshev vector options were not warned about where the solver itself takes the exact
  trace (a tiny D); they were only with ``trace = "exact"`` written.
- A Ctrl-C while the command-line parser was being built was a traceback with exit status 1.
- ``RunSpec.point`` with a wrong index, ``RunSpec.from_toml`` given TOML text or bytes,
  ``dataset_spec`` on a file without (or with a damaged) ``spec`` attribute: raw Python errors.
- ``run_sweep(spec, overwrite=True)`` without an output was accepted in silence.
- Frequencies after the first, with no observable on a frequency axis, were not warned about.
"""

from __future__ import annotations

import copy

import pytest
import xarray as xr

from manybody.config.unused import unused_parameters
from manybody.runs.results import dataset_spec
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep

BASE = {
    "name": "t", "seed": 1, "realisations": 2,
    "model": {"n_tls": 4, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 0.001,
                                  "tunnelling_max": 0.3}},
    "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1, 0.2],
              "observables": ["absorption"],
              "broadening": {"kind": "gaussian", "width": 0.02}},
}


def _spec(n_tls: int = 4, chebyshev: dict | None = None, **probe) -> RunSpec:
    data = copy.deepcopy(BASE)
    data["model"]["n_tls"] = n_tls
    data["probe"].update(probe)
    if chebyshev is not None:
        data["solver"] = {"method": "chebyshev", "chebyshev": chebyshev}
    return RunSpec.from_dict(data)


def _unused_keys(spec: RunSpec) -> set[str]:
    (_, model, probe), = spec.points()
    return {key for key, _, _ in unused_parameters(model, probe, spec.solver)}


# ------------------------------------------------- vector options under the solver's exact trace


@pytest.mark.parametrize(("n_tls", "options", "unused"), [
    # D = 16: exact whatever the vectors
    (4, {"n_vectors": 4}, {"n_vectors"}),
    (4, {"n_vectors": 32, "target_error": 0.01}, {"n_vectors", "target_error"}),
    # D = 32: n_vectors = 32 is what makes it exact (8 vectors would sample it): it has an effect
    (5, {"n_vectors": 32}, set()),
    # ... and with target_error and the default max_vectors (128) each alone changes nothing
    (5, {"n_vectors": 32, "target_error": 0.01}, {"n_vectors", "target_error"}),
    # D = 64: without target_error 32 vectors sample it; without n_vectors max_vectors is 64
    (6, {"n_vectors": 32, "target_error": 0.01}, {"n_vectors"}),
    (5, {"target_error": 0.01, "max_vectors": 40}, {"max_vectors"}),
    # D = 128, nothing exact: the vector options all count
    (7, {"n_vectors": 16, "target_error": 0.01}, set()),
    # written out: every vector option is unused
    (7, {"trace": "exact", "n_vectors": 4}, {"n_vectors"}),
])
def test_vector_options_are_unused_where_the_trace_is_exact_without_them(n_tls, options, unused):
    found = _unused_keys(_spec(n_tls, options))
    assert {k.rsplit(".", 1)[1] for k in found if k.startswith("solver.chebyshev.")} == unused


def test_the_warning_names_the_solvers_own_exact_trace():
    (_, model, probe), = _spec(4, {"n_vectors": 4}).points()
    (key, value, reason), = unused_parameters(model, probe, _spec(4, {"n_vectors": 4}).solver)
    assert (key, value) == ("solver.chebyshev.n_vectors", 4)
    assert "at D = 16 the solver takes the exact trace with or without this option" in reason


# ------------------------------------------------------------------ frequencies without an axis


def test_frequencies_after_the_first_are_unused_without_a_frequency_axis():
    spec = _spec(frequencies=[0.1, 0.2], observables=["specific_heat", "spacing_ratio"])
    (_, model, probe), = spec.points()
    found = {k: (v, why) for k, v, why in unused_parameters(model, probe, spec.solver)}
    value, why = found["probe.frequencies"]
    assert value == [0.1, 0.2] and "no observable asked for has a frequency axis" in why
    # one frequency, or an observable on the frequency axis: nothing to say
    assert "probe.frequencies" not in _unused_keys(_spec(observables=["specific_heat"]))
    assert "probe.frequencies" not in _unused_keys(
        _spec(frequencies=[0.1, 0.2], observables=["specific_heat", "absorption"]))


# ------------------------------------------------------------------------- the Python API


def test_point_refuses_a_wrong_index_naming_the_shape():
    spec = RunSpec.from_dict({**copy.deepcopy(BASE),
                              "sweep": {"model.tls.asymmetry_max": [0.1, 0.2, 0.3]}})
    assert spec.point((2,))[0].tls.asymmetry_max == 0.3
    for index, error in (((5,), IndexError), ((0, 0), IndexError), ((), IndexError),
                         ((1.0,), TypeError), (0, TypeError), ((-1,), IndexError)):
        with pytest.raises(error, match=r"index must be a tuple of 1 integer\(s\), one per sweep "
                                        r"axis \(model\.tls\.asymmetry_max\), in \[0, n\) for the "
                                        r"shape \(3,\)"):
            spec.point(index)
    with pytest.raises(IndexError, match=r"the empty tuple \(\)"):
        _spec().point((0,))


def test_from_toml_given_text_or_bytes_says_what_it_takes(tmp_path):
    text = 'name = "t"\nseed = 1\n'
    with pytest.raises(ValueError, match=r"from_toml takes the path of a TOML file, got what "
                                         r"looks like TOML text.*RunSpec\.from_dict\(tomllib"):
        RunSpec.from_toml(text)
    with pytest.raises(TypeError, match="from_toml takes the path of a TOML file, got bytes"):
        RunSpec.from_toml(b"spec.toml")
    # a path holding '=' that does not exist is still named as missing
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunSpec.from_toml(str(tmp_path / "a=b.toml"))


def test_dataset_spec_of_a_dataset_without_or_with_a_damaged_spec_is_a_value_error():
    with pytest.raises(ValueError, match="has no 'spec' attribute"):
        dataset_spec(xr.Dataset())
    with pytest.raises(ValueError, match="its 'spec' attribute is not the JSON of a run"):
        dataset_spec(xr.Dataset(attrs={"spec": "{not json"}))
    with pytest.raises(ValueError, match="JSON of a list, not of a run specification"):
        dataset_spec(xr.Dataset(attrs={"spec": "[1, 2]"}))


def test_overwrite_without_an_output_is_refused_before_any_work():
    with pytest.raises(ValueError, match="overwrite=True needs an output location"):
        run_sweep(_spec(), overwrite=True)


# ------------------------------------------------------------------------- Ctrl-C while starting


def test_a_ctrl_c_while_the_parser_is_built_is_one_line_and_status_130(monkeypatch, capsys):
    from manybody.cli import app, main

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "build_parser", interrupted)
    assert main(["run", "spec.toml", "-o", "out.nc"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "manybody: interrupted while starting; nothing was written\n"

"""Run specifications: TOML parsing, validation naming the key, round trips, sweep points."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest

from manybody.config.model import ModelParams
from manybody.config.probe import Probe
from manybody.runs.spec import RunSpec, axis_name, temperature_grid

SPEC_TOML = """\
name = "coupling-sweep"
seed = 1234
realisations = 3
[model]
n_tls = 4
[model.tls]
asymmetry_max = 1.0
[model.coupling]
kind = "dipolar"
strength = 0.0
[sweep]
"model.coupling.strength" = [0.0, 0.01, 0.05]
"probe.broadening.width" = [0.004, 0.01]
[probe]
frequencies = [0.1]
temperatures = { x_min = 0.2, x_max = 10.0, count = 5 }
observables = ["absorption", "specific_heat", "spacing_ratio"]
[probe.broadening]
kind = "gaussian"
width = 0.004
[solver]
dtype = "float64"
"""


def base_dict() -> dict:
    return {
        "name": "t",
        "seed": 7,
        "realisations": 2,
        "model": {"n_tls": 4, "coupling": {"kind": "gaussian", "strength": 0.0}},
        "sweep": {"model.coupling.strength": [0.0, 0.02]},
        "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1]},
    }


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC_TOML)
    return path


def test_toml_parses_into_typed_objects(spec_file):
    spec = RunSpec.from_toml(spec_file)
    assert spec.name == "coupling-sweep" and spec.seed == 1234 and spec.realisations == 3
    assert isinstance(spec.model, ModelParams) and spec.model.n_tls == 4
    assert spec.model.coupling.kind == "dipolar"
    assert list(spec.sweep) == ["model.coupling.strength", "probe.broadening.width"]
    assert spec.sweep["model.coupling.strength"] == (0.0, 0.01, 0.05)
    assert spec.dims == ("coupling_strength", "broadening_width")
    assert spec.shape == (3, 2) and spec.n_points == 6 and spec.n_tasks == 18
    assert spec.probe.observables == ("absorption", "specific_heat", "spacing_ratio")


def test_temperature_grid_is_frequency_over_log_spaced_x(spec_file):
    spec = RunSpec.from_toml(spec_file)
    t = np.array(spec.probe.temperatures)
    x = 0.1 / t
    assert t.size == 5 and np.all(np.diff(t) > 0)  # ascending in T
    assert x.max() == pytest.approx(10.0) and x.min() == pytest.approx(0.2)
    assert np.allclose(np.diff(np.log(x)), np.diff(np.log(x))[0])  # log-spaced
    assert temperature_grid(0.1, 1.0, 1.0, 1) == (pytest.approx(0.1),)


def test_round_trip_through_dict_and_json(spec_file):
    spec = RunSpec.from_toml(spec_file)
    again = RunSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.canonical_json() == spec.canonical_json()
    assert again.digest() == spec.digest() and hash(again) == hash(spec)
    assert list(again.sweep) == list(spec.sweep)  # axis order survives


def test_digest_changes_with_any_value():
    a = RunSpec.from_dict(base_dict())
    d = base_dict()
    d["sweep"]["model.coupling.strength"] = [0.0, 0.03]
    b = RunSpec.from_dict(d)
    assert a != b and a.digest() != b.digest()
    # integers given for float parameters are the same spec as floats
    d2 = base_dict()
    d2["sweep"]["model.coupling.strength"] = [0, 0.02]
    assert RunSpec.from_dict(d2) == a


def test_sweep_axis_order_matters():
    d = base_dict()
    d["sweep"] = {"model.coupling.strength": [0.0, 0.1], "model.n_tls": [3, 4]}
    a = RunSpec.from_dict(d)
    d["sweep"] = {"model.n_tls": [3, 4], "model.coupling.strength": [0.0, 0.1]}
    b = RunSpec.from_dict(d)
    assert a != b and a.dims == ("coupling_strength", "n_tls") and b.dims[0] == "n_tls"


def test_points_are_the_cartesian_product_in_c_order(spec_file):
    spec = RunSpec.from_toml(spec_file)
    points = list(spec.points())
    assert [p[0] for p in points] == [(i, j) for i in range(3) for j in range(2)]
    for (i, j), model, probe in points:
        assert model.coupling.strength == spec.sweep["model.coupling.strength"][i]
        assert probe.broadening.width == spec.sweep["probe.broadening.width"][j]
        assert isinstance(probe, Probe)
        assert model.tls == spec.model.tls and model.n_tls == 4


def test_n_tls_sweep_fills_missing_base_value():
    d = base_dict()
    del d["model"]["n_tls"]
    d["sweep"] = {"model.n_tls": [3, 5]}
    spec = RunSpec.from_dict(d)
    assert [m.n_tls for _, m, _ in spec.points()] == [3, 5]
    assert axis_name("model.n_tls") == "n_tls"


def test_nested_sweep_tables_are_flattened(tmp_path):
    text = SPEC_TOML.replace('"model.coupling.strength" = [0.0, 0.01, 0.05]',
                             "model.coupling.strength = [0.0, 0.01, 0.05]")
    path = tmp_path / "s.toml"
    path.write_text(text)
    assert "model.coupling.strength" in RunSpec.from_toml(path).sweep


@pytest.mark.parametrize(
    ("mutate", "exc", "words"),
    [
        (lambda d: d.pop("seed"), ValueError, ["seed", "required"]),
        (lambda d: d.update(seed=-1), ValueError, ["seed"]),
        (lambda d: d.update(seed="abc"), TypeError, ["seed", "integer"]),
        (lambda d: d.update(seed=1.5), TypeError, ["seed", "integer"]),
        (lambda d: d.update(realisations=0), ValueError, ["realisations"]),
        (lambda d: d.update(realisations=-3), ValueError, ["realisations"]),
        (lambda d: d.pop("realisations"), ValueError, ["realisations", "required"]),
        (lambda d: d.update(realisations=[2, 3, 4]), ValueError, ["realisations", "(2,)", "[2, 3, 4]"]),
        (lambda d: d.update(realisations=[2, 0]), ValueError, ["realisations", "between 1"]),
        (lambda d: d.update(realisations=[2.0, 3.5]), TypeError, ["realisations", "2.0 (a float)"]),
        (lambda d: d.update(realisations="many"), TypeError, ["realisations", "'many'"]),
        (lambda d: d.update(colour="red"), ValueError, ["'colour'", "valid keys", "seed", "sweep"]),
        (lambda d: d["model"].update(n_tsl=3), ValueError, ["'n_tsl'", "n_tls"]),
        (lambda d: d["model"]["coupling"].update(strenght=1), ValueError,
         ["'strenght'", "strength"]),
        (lambda d: d["probe"].update(kernel="x"), ValueError, ["'kernel'", "broadening"]),
        (lambda d: d["probe"].update(temperatures={"x_min": 1, "x_max": 2}), ValueError,
         ["count"]),
        (lambda d: d["probe"].update(temperatures={"x_min": 1, "x_max": 2, "count": -4}),
         ValueError, ["count"]),
        (lambda d: d["probe"].update(frequencies=[]), TypeError, ["frequencies"]),
        (lambda d: d["probe"].update(temperatures=[0.1, -1.0]), ValueError, ["temperatures"]),
        (lambda d: d["probe"].update(observables=["absorbtion"]), ValueError,
         ["observables", "absorbtion"]),
        (lambda d: d.update(solver={"dtype": "float16"}), ValueError, ["dtype"]),
        (lambda d: d.update(solver={"threads": 2}), ValueError, ["'threads'", "dtype"]),
        (lambda d: d["sweep"].update({"model.coupling.strength": []}), ValueError,
         ["model.coupling.strength", "non-empty"]),
        (lambda d: d["sweep"].update({"model.coupling.strength": 0.1}), TypeError,
         ["model.coupling.strength", "list"]),
        (lambda d: d["sweep"].update({"model.coupling.strength": [0.1, -0.1]}), ValueError,
         ["coupling.strength", ">= 0"]),
        (lambda d: d["sweep"].update({"model.coupling.strength": ["big"]}), TypeError,
         ["model.coupling.strength", "numbers"]),
        (lambda d: d["sweep"].update({"model.coupling.strenght": [1.0]}), ValueError,
         ["model.coupling.strenght", "valid keys", "model.coupling.strength"]),
        (lambda d: d["sweep"].update({"model.n_tls": [4, 2.5]}), TypeError, ["n_tls", "integer"]),
        (lambda d: d["sweep"].update({"model.random_matrix.weight": [1.0]}), ValueError,
         ["model.random_matrix.weight", "absent"]),
        (lambda d: d.update(name=""), TypeError, ["name"]),
    ],
)
def test_bad_specs_name_the_key(mutate, exc, words):
    d = base_dict()
    mutate(d)
    with pytest.raises(exc) as info:
        RunSpec.from_dict(d)
    message = str(info.value)
    for word in words:
        assert word in message, message


def test_sweep_over_absent_section_names_the_key():
    d = base_dict()
    del d["model"]["coupling"]
    with pytest.raises(ValueError, match=r"'model\.coupling\.strength'.*\[model\.coupling\]"):
        RunSpec.from_dict(d)


def test_toml_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        RunSpec.from_toml(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 3\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        RunSpec.from_toml(bad)


def test_python_construction_equals_toml(spec_file):
    from manybody.config.model import CouplingParams, TLSParams
    from manybody.config.probe import Broadening

    spec = RunSpec(
        name="coupling-sweep", seed=1234, realisations=3,
        model=ModelParams(n_tls=4, tls=TLSParams(asymmetry_max=1.0),
                          coupling=CouplingParams(kind="dipolar", strength=0.0)),
        sweep={"model.coupling.strength": [0.0, 0.01, 0.05],
               "probe.broadening.width": [0.004, 0.01]},
        probe=Probe(frequencies=(0.1,),
                    temperatures=temperature_grid(0.1, 0.2, 10.0, 5),
                    broadening=Broadening(kind="gaussian", width=0.004),
                    observables=("absorption", "specific_heat", "spacing_ratio")),
    )
    assert spec == RunSpec.from_toml(spec_file)
    with pytest.raises(AttributeError):
        spec.seed = 3  # frozen


def test_per_point_realisation_counts():
    d = base_dict()
    d["realisations"] = [2, 5]
    spec = RunSpec.from_dict(d)
    assert spec.realisations == (2, 5)
    assert spec.realisation_counts.tolist() == [2, 5]
    assert spec.max_realisations == 5 and spec.n_tasks == 7
    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["realisations"] == [2, 5]
    d["realisations"] = [3, 3]  # uniform per-point counts are the same spec as one integer
    same = RunSpec.from_dict(d)
    d["realisations"] = 3
    assert same == RunSpec.from_dict(d) and same.realisations == 3
    # two axes: nested lists in C order
    d["sweep"]["model.n_tls"] = [3, 4, 5]
    d["realisations"] = [[1, 2, 3], [4, 5, 6]]
    spec = RunSpec.from_dict(d)
    assert spec.shape == (2, 3) and spec.n_tasks == 21 and spec.max_realisations == 6
    d["realisations"] = [1, 2, 3, 4, 5, 6]
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        RunSpec.from_dict(d)
    # a boolean among the counts ran one realisation there (session 33), as a scalar is refused
    for flagged in ([[1, 2, 3], [4, 5, True]], [[1, 2, 3], [4, 5, np.True_]]):
        d["realisations"] = flagged
        with pytest.raises(TypeError, match="realisations must hold integer counts, got a "
                           "boolean"):
            RunSpec.from_dict(d)
    # a float or a string among counts of the right shape was told about the shape (session 35)
    for wrong, words in (([[1, 2, 3], [4, 5, 6.0]], r"got 6\.0 \(a float\) in .*; write 6"),
                         ([["1", 2, 3], [4, 5, 6]], r"got '1' \(a str\)"),
                         (np.array([[1, 2, 3], [4, 5, 6.5]]), r"got 1\.0 \(a float\)")):
        d["realisations"] = wrong
        with pytest.raises(TypeError, match="realisations must hold integer counts, " + words):
            RunSpec.from_dict(d)


def test_resized_changes_only_what_it_is_given():
    spec = RunSpec.from_dict(base_dict())
    assert spec.resized() == spec
    small = spec.resized(n_tls=3, sweep={"model.coupling.strength": [0.01]}, realisations=[5],
                         temperatures=(0.07,))
    assert small.model.n_tls == 3 and small.shape == (1,) and small.n_tasks == 5
    assert small.probe.temperatures == (0.07,) and small.probe.frequencies == spec.probe.frequencies
    assert small.seed == spec.seed and small.model.coupling == spec.model.coupling
    same = RunSpec.from_dict({**small.to_dict()})
    assert same.digest() == small.digest()
    with pytest.raises(ValueError, match="realisations"):
        spec.resized(realisations=[1, 2, 3])  # not the sweep's shape


def test_sweep_values_may_be_numpy_scalars():
    """A sweep built with np.arange was refused ('values must be numbers or strings, got
    np.int64(4)') while ModelParams takes np.int64 (a tester, session 26); numpy booleans and
    complex numbers are still refused."""
    from manybody.runs.spec import normalise_sweep

    assert normalise_sweep({"model.n_tls": list(np.arange(4, 8, 2))})["model.n_tls"] == (4, 6)
    strengths = normalise_sweep({"model.coupling.strength": [np.float32(0.5), np.int64(1)]})
    assert strengths["model.coupling.strength"] == (0.5, 1.0)
    assert all(type(x) is float for x in strengths["model.coupling.strength"])
    for bad in (np.bool_(True), np.complex128(1)):
        with pytest.raises(TypeError, match="values must be numbers or strings"):
            normalise_sweep({"model.coupling.strength": [bad]})


def test_near_repeats_are_found_on_a_mixed_axis_and_huge_values_do_not_overflow():
    """Session 31: an axis mixing preset names and numbers skipped the near-repeat check, and a
    sweep of +-1.7e308 printed numpy's overflow warning before its refusal."""
    import warnings

    d = base_dict()
    d["model"]["equilibration"] = {"bath": "a-SiO2"}
    d["probe"]["phonon_rate_prefactor"] = "a-SiO2"
    d["sweep"] = {"model.equilibration.bath": ["a-SiO2", 1e8, 1e8 * (1 + 1e-12)]}
    with pytest.raises(ValueError, match=r"sweep\['model.equilibration.bath'\] has repeated "
                       r"values"):
        RunSpec.from_dict(d)
    d = base_dict()
    d["sweep"] = {"model.coupling.strength": [-1.7e308, 1.7e308]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="coupling"):
            RunSpec.from_dict(d)


def test_a_grid_too_fine_to_hold_distinct_values_names_its_range_not_every_pair():
    """Session 31: x_min = 1, x_max = 1 + 1e-8, count = 50 listed all 49 generated pairs in one
    line; now the three numbers are named. A list with many repeats names three and a count."""
    d = base_dict()
    d["sweep"] = {}
    d["probe"]["temperatures"] = {"x_min": 1.0, "x_max": 1.0 + 1e-8, "count": 50}
    with pytest.raises(ValueError, match=r"probe.temperatures \(x_min, x_max, count\): 50 "
                       r"log-spaced values from 1.0 to 1.00000001 are closer than 1e-09"):
        RunSpec.from_dict(d)
    d["probe"]["temperatures"] = [0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4]
    with pytest.raises(ValueError, match=r"got 0.1 twice; 0.2 twice; 0.3 twice; and 1 more "
                       r"pair\(s\); give each once"):
        RunSpec.from_dict(d)
    d["probe"]["temperatures"] = {"x_min": 1.0, "x_max": 2.0, "count": 100_000}
    assert len(RunSpec.from_dict(d).probe.temperatures) == 100_000  # fine grids still taken


@pytest.mark.parametrize("table, key, value, words", [
    ("tls", "asymmetry_max", "10 mK", r"^model\.tls\.asymmetry_max must be a real number"),
    ("stress", "deformation_potential", -1.0, r"^model\.stress\.deformation_potential must be > 0"),
])
def test_a_bad_model_value_names_the_spec_key(table, key, value, words):
    """'asymmetry_max = "10 mK"' under [model.tls] was reported as tls.asymmetry_max, while a typo
    in the same table said "in model.tls" (a new user, session 34)."""
    data = tomllib.loads(SPEC_TOML)
    data["model"].setdefault(table, {})[key] = value
    with pytest.raises((TypeError, ValueError), match=words):
        RunSpec.from_dict(data)


def test_a_random_matrix_table_must_give_its_weight():
    """An empty [model.random_matrix] table added a 1 K GOE block (the dataclass default), above
    every TLS energy, without a word (a new user, session 35); a swept weight fills it."""
    from manybody.runs.spec import RunSpec

    base = {"name": "rm", "seed": 1, "realisations": 2,
            "model": {"n_tls": 3, "random_matrix": {}},
            "probe": {"frequencies": [0.1], "temperatures": [0.1], "observables": ["absorption"]}}
    with pytest.raises(ValueError, match=r"^model\.random_matrix\.weight is required: the "
                                         r"block's energy scale in K"):
        RunSpec.from_dict(base)
    with pytest.raises(ValueError, match=r"random_matrix\.weight is required"):
        RunSpec.from_dict({**base, "model": {"n_tls": 3, "random_matrix": {"kind": "flat"}},
                           "sweep": {"model.random_matrix.kind": ["flat", "goe"]}})
    swept = RunSpec.from_dict({**base, "sweep": {"model.random_matrix.weight": [0.05, 0.1]}})
    assert [model.random_matrix.weight for _, model, _ in swept.points()] == [0.05, 0.1]
    given = RunSpec.from_dict({**base, "model": {"n_tls": 3, "random_matrix": {"weight": 0.2}}})
    assert given.model.random_matrix.weight == 0.2


def test_a_warning_about_many_swept_values_lists_a_few():
    """A swept width of 1000 values made one 8 kB warning line (a new user, session 35)."""
    import warnings

    from manybody.runs.spec import listed, preflight

    d = base_dict()
    d["sweep"] = {"probe.broadening.width": [round(0.05 + 1e-4 * i, 4) for i in range(1000)]}
    d["realisations"] = 1
    spec = RunSpec.from_dict(d)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(spec)
    texts = [str(w.message) for w in caught if "probe.broadening.width" in str(w.message)]
    assert len(texts) == 1 and len(texts[0]) < 400, texts
    assert "0.05, 0.0501, 0.0502, ..., 0.1498, 0.1499 (1000 values)" in texts[0]
    assert listed(["1", "2"]) == "1, 2"


def test_a_bad_probe_value_names_its_spec_key():
    """'phonon_rate_prefactor must be > 0' lacked the probe. of the spec's key (session 35)."""
    from manybody.runs.spec import probe_from_dict

    with pytest.raises(ValueError, match=r"^probe\.phonon_rate_prefactor must be > 0, got -1"):
        probe_from_dict({"frequencies": [0.1], "temperatures": [0.1],
                         "observables": ["absorption", "relaxation_absorption"],
                         "phonon_rate_prefactor": -1})


@pytest.mark.parametrize(("values", "units"), [
    ([1e8, 1e9], "s^-1 K^-3"),
    (["a-SiO2", 1e8], "s^-1 K^-3 for the numbers (K_ph); the names are material presets"),
    (["a-SiO2"], "1"),
])
def test_a_swept_bath_given_as_numbers_has_the_units_of_k_ph(values, units):
    """A numeric model.equilibration.bath axis was labelled '1' (dimensionless) in the results
    file and by info (a helper, session 36)."""
    from manybody.runs.spec import axis_units

    d = base_dict()
    d["model"]["equilibration"] = {"bath": "a-SiO2"}
    d["probe"]["phonon_rate_prefactor"] = "a-SiO2"
    d["sweep"] = {"model.equilibration.bath": values}
    assert axis_units("model.equilibration.bath", RunSpec.from_dict(d)) == units


@pytest.mark.parametrize(("frequencies", "observables", "warns"), [
    ([0.2, 100.0], ["absorption"], True),      # 100 K for TLS of < 0.43 K: mK typed as K
    ([0.2, 5.0], ["absorption"], True),        # 5 GHz typed as 5 K (a helper, session 36)
    # far above every line the velocity shift is the tails' too: warned alike since session 62
    # (bt220 F5; below the lines, the ultrasonic regime, it is not: tests/test_api_faults_s62.py)
    ([0.2, 100.0], ["velocity_shift"], True),
    ([0.2, 0.8], ["absorption"], False),       # above some realisations' lines: an ensemble's
])
def test_a_probe_frequency_far_above_the_model_warns_at_preflight(frequencies, observables,
                                                                   warns):
    """w = 100 K for three TLS of <= 0.42 K ran without a word and gave Q^-1 ~ 1e-9 (a helper,
    session 36). A per-realisation warning fired on ensembles of one or two TLS whose lines
    miss w, as they should; the preflight compares with the model's energy scale instead."""
    import warnings

    d = base_dict()
    d["model"]["tls"] = {"asymmetry_max": 0.3, "tunnelling_max": 0.3}
    d["probe"].update(frequencies=frequencies, observables=observables)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RunSpec.from_dict(d).check()
    far = [str(w.message) for w in caught if "far above every transition" in str(w.message)]
    assert bool(far) == warns, far
    if warns:
        assert "lines reach about 0.424 K" in far[0], far
        assert f"{observables[0].replace('_', ' ')} there comes" in far[0], far
        assert "1 GHz is 0.048 K" in far[0]


@pytest.mark.parametrize(("stress", "model", "warns"), [
    ({}, {}, True), ({"two_body": 1.0}, {}, False), ({"random_matrix": 0.5}, {}, False),
    ({}, {"random_matrix": {"kind": "goe", "weight": 0.05}}, False),
    ({}, {"coupling": {"kind": "gaussian", "strength": 0.01, "components": ["zz", "xx"]}},
     False)])
def test_the_frequency_preflight_counts_the_flips_a_stress_can_make(stress, model, warns):
    """A two-body stress drives lines of two flips and a random-matrix stress any pair of
    levels: 1.2 K on four TLS of <= 0.42 K is resonant with them (session 36's review)."""
    import warnings

    d = base_dict()
    d["model"]["tls"] = {"asymmetry_max": 0.3, "tunnelling_max": 0.3}
    d["model"]["stress"] = stress
    d["model"].update(model)
    if "coupling" in model:
        d.pop("sweep")
    d["probe"].update(frequencies=[0.2, 1.2], observables=["absorption"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RunSpec.from_dict(d).check()
    assert any("far above every transition" in str(w.message) for w in caught) == warns


def _point_warnings(d: dict) -> list[str]:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RunSpec.from_dict(d).check()
    return [str(w.message) for w in caught if "far above" in str(w.message)]


def test_a_point_warning_names_the_sweep_points_it_applies_to():
    """The preflight's per-point warnings (here: a probe far above the spectrum) say at which
    sweep points (a run's far-above warning did not; a tester, session 38), once per message."""
    d = base_dict()
    d["model"] = {"n_tls": 4, "tls": {"asymmetry_max": 0.3, "tunnelling_max": 0.3}}
    d["probe"]["frequencies"] = [5.0]
    d["probe"]["observables"] = ["absorption"]
    d["sweep"] = {"model.tls.asymmetry_max": [0.01, 0.3, 30.0], "model.n_tls": [3, 4]}
    said = _point_warnings(d)
    assert len(said) == 2  # two transition scales (0.3 and 0.424 K), each at two points
    assert said[0].endswith("(at 2 of 6 sweep points: model.tls.asymmetry_max=0.01, "
                            "model.n_tls=3; model.tls.asymmetry_max=0.01, model.n_tls=4)")
    assert "asymmetry_max=0.3, model.n_tls=3;" in said[1]
    # one point of the sweep
    d["sweep"] = {"model.tls.asymmetry_max": [0.01, 30.0]}
    (said,) = _point_warnings(d)
    assert said.endswith("(at sweep point model.tls.asymmetry_max=0.01)")
    # every point, and no sweep at all
    d["sweep"] = {"model.n_tls": [3, 4]}
    assert _point_warnings(d)[0].endswith("(at every sweep point)")
    del d["sweep"]
    (said,) = _point_warnings(d)
    assert said.endswith("GHz is 0.048 K)")

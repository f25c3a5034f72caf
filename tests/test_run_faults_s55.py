"""Faults of the run specification's surface found by session 55's break test (helper-176), each
with the right behaviour.

- A repeated whole number on a sweep axis was shown as a float: "[3, 3] (3.0 twice)".
"""

from __future__ import annotations

import numpy as np
import pytest

from manybody.runs.spec import normalise_sweep
from manybody.support import validate as v


def test_a_repeated_whole_number_is_shown_as_given():
    with pytest.raises(ValueError, match=r"\[3, 3\] \(3 twice\); give each once"):
        normalise_sweep({"model.n_tls": [3, 3]})
    with pytest.raises(ValueError, match=r"\(0\.01 twice\)"):
        normalise_sweep({"model.coupling.strength": [0.01, 0.02, 0.01]})


def test_near_repeats_keep_the_numbers_as_given_and_find_the_same_pairs():
    assert v.near_repeats([3, 5, 3]) == [(3, 3)]
    assert v.near_repeats(np.array([2, 1, 2])) == [(2, 2)]
    assert v.near_repeats([0.1, 0.1 * (1 + 1e-12), 0.2]) == [(0.1, 0.1 * (1 + 1e-12))]
    assert v.near_repeats([1, 2.0, 3]) == []
    assert v.describe_repeats(v.near_repeats([7, 7.0])) == "7 twice"


@pytest.mark.parametrize(("body", "words"), [
    ("[model]\nn_tls = 1\n", "probe.observables entry 'spacing_ratio'"),
    ("[model]\nn_tls = 3\n[sweep]\n\"model.n_tls\" = [1, 3]\n",
     "sweep point model.n_tls=1: probe.observables entry 'spacing_ratio'"),
    ("[model]\nn_tls = 16\n", "needs about"),  # dense ED's memory refusal
], ids=["n_tls 1", "a sweep point", "memory"])
def test_a_refused_sweep_point_is_named_by_its_spec_file(body, words, tmp_path, capsys):
    """helper-176 F3: these refusals began "run specification: " or "sweep point ...", where
    every other refusal of a spec begins with its file."""
    from manybody.cli import main

    spec = tmp_path / "mine.toml"
    spec.write_text('seed = 1\nrealisations = 1\n' + body + '[probe]\nfrequencies = [0.1]\n'
                    'temperatures = [0.1]\nobservables = ["spacing_ratio"]\n'
                    '[solver]\nmethod = "dense"\n')
    assert main(["run", str(spec), "-o", str(tmp_path / "o.nc")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"manybody run: error: {spec}: ") and words in err, err
    assert "run specification:" not in err and not (tmp_path / "o.nc").exists()


@pytest.mark.parametrize("given", [np.float32(0.3), np.array(0.3, dtype=np.float32),
                                   np.float16(0.3)], ids=["float32", "0-d float32", "float16"])
def test_a_narrow_float_parameter_is_the_number_written(given):
    """helper-176 F4: np.float32(0.3) was stored as 0.30000001192092896, so a spec built from it
    had another digest than the same spec written 0.3; float64 and Python floats are as given."""
    from manybody.config.model import TLSParams
    from manybody.runs.spec import RunSpec

    tls = TLSParams(asymmetry_max=given, tunnelling_min=1e-3, tunnelling_max=0.3)
    assert tls.asymmetry_max == 0.3 and type(tls.asymmetry_max) is float

    def spec(value):
        return RunSpec.from_dict({"seed": 1, "realisations": 1, "model": {"n_tls": 2, "tls": {
            "asymmetry_max": value, "tunnelling_min": 1e-3, "tunnelling_max": 0.3}},
            "probe": {"frequencies": [0.1], "temperatures": [0.1]}})

    assert spec(given).digest() == spec(0.3).digest()
    assert v.real("x", np.float64(0.30000001192092896)) == 0.30000001192092896
    assert v.real("x", np.float32(1e-30)) == 1e-30 and v.real("x", np.float32(3e38)) == 3e38
    with pytest.raises(ValueError, match="finite"):
        v.real("x", np.float32("nan"))


def test_the_probe_axes_of_a_spec_take_numpy_arrays_as_the_sweep_does():
    """helper-176 F5: RunSpec.from_dict took arrays for sweep lists and refused them for
    probe.frequencies and probe.temperatures ("got array([0.1])")."""
    from manybody.runs.spec import RunSpec

    def spec(**probe):
        return RunSpec.from_dict({"seed": 1, "realisations": 1, "model": {"n_tls": 2},
                                  "sweep": {"model.n_tls": np.array([2, 3])}, "probe": probe})

    listed = spec(frequencies=[0.1], temperatures=[0.1, 0.2], observables=["absorption"])
    arrays = spec(frequencies=np.array([0.1]), temperatures=np.array([0.1, 0.2]),
                  observables=np.array(["absorption"]))
    assert arrays == listed and arrays.probe.temperatures == (0.1, 0.2)
    with pytest.raises(TypeError, match=r"probe\.temperatures must be a non-empty list"):
        spec(frequencies=[0.1], temperatures=np.array([[0.1]]))
    with pytest.raises(TypeError, match=r"probe\.temperatures must be a non-empty list"):
        spec(frequencies=[0.1], temperatures=np.array([]))


def test_couplings_of_a_single_tls_are_said_to_change_nothing():
    """helper-178: a sweep of coupling.strength at N = 1 gave identical points without a word
    (one TLS has no pair); at N = 2 the couplings act and nothing is said."""
    import warnings

    from manybody.runs.spec import RunSpec, preflight

    def said(n_tls):
        spec = RunSpec.from_dict({
            "seed": 1, "realisations": 2,
            "model": {"n_tls": n_tls, "coupling": {"kind": "dipolar", "strength": 0.1}},
            "sweep": {"model.coupling.strength": [0.0, 0.1]},
            "probe": {"frequencies": [0.1], "temperatures": [0.1], "observables": ["absorption"]}})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            preflight(spec)
        return [str(w.message) for w in caught if "coupling" in str(w.message)]

    assert any("model.coupling.strength" in m and "model.n_tls = 1: one TLS has no pair" in m
               for m in said(1))
    assert not said(2)


def test_a_damaged_results_file_in_a_study_folder_is_said_to_be_recomputed_when_moved(tmp_path):
    """helper-178: the study refused a truncated dipolar.nc advising to restore it from a copy
    or rewrite it with xarray (which cannot read it); the study computes that file, so moving it
    away is the remedy."""
    from manybody.runs.spec import RunSpec
    from manybody.study.run import _results

    path = tmp_path / "dipolar.nc"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40)  # an HDF5 signature, then nothing
    spec = RunSpec.from_dict({"seed": 1, "realisations": 1, "model": {"n_tls": 2},
                              "probe": {"frequencies": [0.1], "temperatures": [0.1]}})
    with pytest.raises(ValueError, match=r"is not a readable netCDF4/HDF5 results file.*The study "
                       r"computes this file: delete it \(or move it away\) and rerun the study "
                       r"to compute 'dipolar' again"):
        _results("dipolar", spec, path, "default", say=lambda text: None)
    assert path.read_bytes().startswith(b"\x89HDF")  # nothing removed or rewritten


def test_info_on_a_copied_checkpoint_says_its_command_resumes_the_original(tmp_path):
    """helper-178: info on a checkpoint copied under a new name said it writes the copy's file
    and gave the original's command, which resumes the original's checkpoint."""
    from pathlib import Path

    from manybody.cli.info import _moved_note, _recorded_output

    argv = ["/venv/bin/manybody", "run", "s.toml", "-o", "a.nc", "--chunk-size", "1"]
    assert _recorded_output(argv) == "a.nc"
    assert _recorded_output(["manybody", "run", "s.toml", "--output=x/a.nc"]) == "x/a.nc"
    assert _recorded_output(["manybody", "run", "s.toml", "-oa.nc"]) == "a.nc"
    note = _moved_note(argv, str(tmp_path), tmp_path / "b.nc")
    assert "this checkpoint was copied or moved" in note and "give -o" in note
    assert str(tmp_path / "a.nc") in note and "b.nc" in note
    assert _moved_note(argv, str(tmp_path), tmp_path / "a.nc") == ""
    assert _moved_note(["manybody", "study", "-o", "d"], str(tmp_path), Path("x.nc")) == ""


@pytest.mark.parametrize("kind", ["array", "list of scalars", "tuple"])
def test_float32_probe_axes_and_sweep_values_are_the_numbers_written(kind):
    """helper-181 F6: float32 temperatures became 0.30000001192092896 and a float32 sweep of the
    coupling strength ran at 0.009999999776482582, so the digest differed from the same spec in
    TOML and .sel(temperature=0.3) missed."""
    from manybody.config.probe import Probe
    from manybody.runs.spec import RunSpec

    def spec(temperatures, strengths):
        return RunSpec.from_dict({
            "seed": 1, "realisations": 1, "model": {"n_tls": 2, "coupling": {"strength": 0.01}},
            "sweep": {"model.coupling.strength": strengths},
            "probe": {"frequencies": [0.1], "temperatures": temperatures}})

    f32 = {"array": lambda xs: np.array(xs, dtype=np.float32),
           "list of scalars": lambda xs: [np.float32(x) for x in xs],
           "tuple": lambda xs: tuple(np.float32(x) for x in xs)}[kind]
    plain = spec([0.3, 0.1], [0.01, 0.02])
    single = spec(f32([0.3, 0.1]), f32([0.01, 0.02]))
    assert single.probe.temperatures == (0.3, 0.1)
    assert single.sweep["model.coupling.strength"] == (0.01, 0.02)
    assert single.digest() == plain.digest()
    assert spec(np.float32(0.3), [0.01]).probe.temperatures == (0.3,)
    assert Probe(frequencies=f32([0.1]), temperatures=f32([0.3])).temperatures == (0.3,)
    assert v.written_numbers(np.array([1e-30, np.inf], dtype=np.float32)).tolist() == [1e-30,
                                                                                        np.inf]


_FINALIZER_SCRIPT = '''
import gc, os, signal, sys, threading, time
from manybody.cli.signals import script_main

signal.signal(signal.SIGINT, signal.default_int_handler)  # a runner in the background, or
signal.signal(signal.SIGHUP, signal.SIG_DFL)  # under nohup, leaves them ignored, which stays so


class Slow:
    def __del__(self):  # the stop lands here, where Python swallows what a handler raises
        start = time.monotonic()
        while time.monotonic() - start < 0.5:
            pass


def main():
    threading.Timer(0.2, lambda: os.kill(os.getpid(), getattr(signal, sys.argv[1]))).start()
    cycle = Slow()
    cycle.self = cycle
    del cycle
    gc.collect()
    time.sleep(2.0)
    print("ran to its end", file=sys.stderr)
    return 0


raise SystemExit(script_main(main))
'''


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_stop_that_lands_in_a_finalizer_still_stops_the_script(tmp_path, signame):
    """A CI run (session 55): SIGTERM to the golden-set script at 4 s and it exited 0, run to its
    end. A stop raised while Python runs a finalizer (a __del__ run by the collector) is swallowed
    there ("Exception ignored in ..."); it is now delivered again once the finalizer returns."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "finalizer.py"
    script.write_text(_FINALIZER_SCRIPT)
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(script), signame], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 128 + getattr(signal, signame), proc.stderr
    assert "ran to its end" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("finalizer.py: interrupted")

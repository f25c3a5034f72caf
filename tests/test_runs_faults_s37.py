"""Faults of `manybody run` / `manybody info` found by a tester in session 37: the provenance of a
resumed run (every code version and every stretch), the order of the tasks (realisation 0 of
every sweep point first) and what a run refused by a realisation keeps, a negative zero in a
spec, an output named '-', a results file not named .nc in a folder given to info."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from manybody.cli import main
from manybody.cli.info import describe_checkpoint
from manybody.runs import checkpoint as checkpoint_module
from manybody.runs.checkpoint import checkpoint_dir
from manybody.runs.lifecycle import interrupted_summary
from manybody.runs.results import describe, load_results
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.runs.tasks import plan_chunks
from manybody.simulation import observe as pipeline

SPEC = {
    "name": "s37",
    "seed": 3,
    "realisations": 3,
    "model": {"n_tls": 4, "coupling": {"kind": "dipolar", "strength": 0.0}},
    "sweep": {"model.coupling.strength": [0.0, 0.02]},
    "probe": {"frequencies": [0.1], "temperatures": [0.1, 0.4],
              "observables": ["absorption", "specific_heat"], "broadening": {"width": 0.02}},
}

TOML = """name = "s37"
seed = 3
realisations = 3
[model]
n_tls = 4
[model.coupling]
kind = "dipolar"
strength = 0.0
[sweep]
"model.coupling.strength" = [0.0, 0.02]
[probe]
frequencies = [0.1]
temperatures = [0.1, 0.4]
observables = ["absorption", "specific_heat"]
[probe.broadening]
width = 0.02
"""


def make_spec(**changes) -> RunSpec:
    return RunSpec.from_dict({**SPEC, **changes})


def _interrupt_after(n):
    def progress(done, total):
        if done >= n:
            raise KeyboardInterrupt
    return progress


def _task_realisations(out) -> int:
    """Realisations held by the task files of the checkpoint of ``out``."""
    files = checkpoint_module.Checkpoint(checkpoint_dir(out), make_spec(), 1).files()
    return sum(stop - start for _, start, stop in files.values())


# ----------------------------------------------------------------------------- 1. code versions


def test_a_resume_by_another_code_version_is_recorded_in_the_results(tmp_path, monkeypatch):
    """The checkpoint was written by 0.0.9 (abc1234) and resumed by this version: the results
    file names both, with the realisations each computed, and info says it is mixed; the
    attributes manybody_version and git_commit stay (this version's)."""
    out = tmp_path / "run.nc"
    with monkeypatch.context() as m:  # the first stretch runs "another version"
        m.setattr(checkpoint_module, "code_version", lambda: "0.0.9 (abc1234)")
        m.setattr(checkpoint_module, "package_version", lambda name: "0.0.9")
        m.setattr(checkpoint_module, "git_state", lambda: ("abc1234", "false"))
        with pytest.raises(KeyboardInterrupt):
            run_sweep(make_spec(), output=out, progress=_interrupt_after(2), chunk_size=1)
    first = _task_realisations(out)
    with pytest.warns(RuntimeWarning, match="written by manybody 0.0.9"):
        ds = run_sweep(make_spec(), output=out)
    versions = json.loads(ds.attrs["code_versions"])
    assert [v["manybody_version"] for v in versions][0] == "0.0.9"
    assert versions[0] == {"manybody_version": "0.0.9", "git_commit": "abc1234",
                           "git_dirty": False, "realisations": first}
    assert len(versions) == 2 and versions[1]["realisations"] == 6 - first
    assert versions[1]["manybody_version"] == ds.attrs["manybody_version"]
    assert versions[1]["git_commit"] == ds.attrs["git_commit"]
    text = describe(load_results(out), out)
    assert "MIXED: realisations computed by 2 code versions, 0.0.9 (abc1234)" in text


# ----------------------------------------------------------------------------- 2. stretches


def test_a_stretch_killed_before_any_task_finished_is_listed_with_its_time_unknown(tmp_path):
    """kill -9 before the first task finished: the stretch vanished from run_stretches and the
    total wall time was a silent lower bound (a tester, session 38). It is listed as 'killed'
    with no time, computed nothing (no MIXED code versions), and info says the total is a lower
    bound."""
    out = tmp_path / "run.nc"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(make_spec(), output=out, progress=_interrupt_after(2), chunk_size=1)
    meta_path = checkpoint_dir(out) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["stretches"].append({**meta["stretches"][0], "git_commit": "another", "wall_time_s": None,
                              "tasks_computed": None, "outcome": "running"})
    meta_path.write_text(json.dumps(meta))  # as kill -9 before any task leaves it
    ds = run_sweep(make_spec(), output=out)
    stretches = json.loads(ds.attrs["run_stretches"])
    assert [s["outcome"] for s in stretches] == ["interrupted", "killed", "finished"]
    assert stretches[1]["wall_time_s"] is None and stretches[1]["tasks_computed"] == 0
    assert len(json.loads(ds.attrs["code_versions"])) == 1
    assert ds.attrs["wall_time_total_s"] == pytest.approx(
        stretches[0]["wall_time_s"] + stretches[2]["wall_time_s"])
    text = describe(load_results(out), out)
    assert "a lower bound: 1 killed before any task finished" in text and "MIXED" not in text


def test_every_stretch_of_a_resumed_run_is_recorded(tmp_path):
    """Interrupted, killed outright (no end recorded), resumed: run_stretches lists the three
    with the realisations each computed (counted from the task files), wall_time_total_s adds
    the recorded times; n_jobs, backend and wall_time_s are the last stretch's, and info says so."""
    out = tmp_path / "run.nc"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(make_spec(), output=out, progress=_interrupt_after(2), chunk_size=1)
    after_first = _task_realisations(out)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(make_spec(), output=out, progress=_interrupt_after(4), chunk_size=1)
    after_second = _task_realisations(out)
    meta_path = checkpoint_dir(out) / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert [s["outcome"] for s in meta["stretches"]] == ["interrupted", "interrupted"]
    recorded = meta["stretches"][1]["wall_time_s"]  # its real end, which kill -9 loses
    meta["stretches"][1].update(wall_time_s=None, tasks_computed=None, outcome="running")
    meta_path.write_text(json.dumps(meta))  # as kill -9 leaves it
    ds = run_sweep(make_spec(), output=out)
    stretches = json.loads(ds.attrs["run_stretches"])
    assert [s["tasks_computed"] for s in stretches] == [after_first, after_second - after_first,
                                                        6 - after_second]
    # the killed stretch's time is taken to its last finished task (it was left out, and the
    # total a silent lower bound: session 37's note)
    assert [s["outcome"] for s in stretches] == ["interrupted", "killed", "finished"]
    killed = stretches[1]
    assert killed["wall_time_note"] == "to its last finished task"
    assert 0 < killed["wall_time_s"] <= recorded
    assert stretches[-1]["backend"] == ds.attrs["backend"] == "loky"
    assert stretches[-1]["n_jobs"] == ds.attrs["n_jobs"] == 1
    assert stretches[-1]["wall_time_s"] == ds.attrs["wall_time_s"]
    assert ds.attrs["wall_time_total_s"] == pytest.approx(sum(s["wall_time_s"] for s in stretches))
    assert ds.attrs["tasks_resumed"] == after_second  # the existing attributes stay
    text = describe(load_results(out), out)
    assert "wall_time_s: " in text and "(the last of 3 stretches of the run" in text
    assert "MIXED" not in text


def test_an_interrupt_after_every_realisation_finished_says_they_are_all_done(tmp_path):
    out = tmp_path / "run.nc"
    with pytest.raises(KeyboardInterrupt) as caught:
        run_sweep(make_spec(), output=out, progress=_interrupt_after(6))
    kept = caught.value.kept
    assert kept.startswith("all 6 realisations had finished and are kept in the checkpoint")
    assert "rerun the same command to write it (nothing is computed again)" in kept
    assert "to continue" not in kept
    ds = run_sweep(make_spec(), output=out)
    assert ds.attrs["tasks_resumed"] == 6 and out.is_file()


def test_interrupted_summary_tells_apart_all_done_and_some_left():
    class Where:
        directory = "x.nc.checkpoint"

    assert "rerun the same command to continue" in interrupted_summary(3, 6, 0, Where)
    assert "nothing is computed again" in interrupted_summary(6, 6, 2, Where)


# ----------------------------------------------------------------------------- 3. failed points


def test_realisation_zero_of_every_point_is_dispatched_first():
    pending = [(p, r) for p in range(3) for r in range(5)]
    chunks = plan_chunks(pending, {0: 1, 1: 3, 2: 10})
    assert chunks[:3] == [(0, 0, 1), (1, 0, 1), (2, 0, 1)]
    assert all(start > 0 for _, start, _ in chunks[3:])
    assert sorted((p, r) for p, a, b in chunks for r in range(a, b)) == pending
    # the other chunks keep the bounds they had: 1-3 and 3-5 at size 3
    assert (1, 1, 3) in chunks and (1, 3, 5) in chunks and (2, 1, 5) in chunks
    # a resume whose realisations 0 are done: no single task
    assert plan_chunks([(0, 1), (0, 2)], {0: 4}) == [(0, 1, 3)]


def test_the_new_order_gives_the_same_numbers(monkeypatch):
    """Realisation 0 of every point runs first; each realisation's numbers are those of its own
    generator, bit for bit, whatever the order and the chunks."""
    order = []
    real = pipeline.observe

    def recording(params, seed, r, probe, solver=None):
        order.append((params.coupling.strength, r))
        return real(params, seed, r, probe, solver)

    monkeypatch.setattr(pipeline, "observe", recording)
    ds = run_sweep(make_spec(), chunk_size=3)
    assert order[:2] == [(0.0, 0), (0.02, 0)]
    monkeypatch.setattr(pipeline, "observe", real)
    spec = make_spec()
    for p, (_, model, probe) in enumerate(spec.points()):
        for r in range(3):
            alone = real(model, spec.seed, r, probe, spec.solver)
            for name in ("absorption", "specific_heat"):
                assert ds[name].values[p, r].tobytes() == np.asarray(alone[name]).tobytes()


def _refusing_point_1(monkeypatch):
    real = pipeline.observe

    def refusing(params, seed, r, probe, solver=None):
        if params.coupling.strength > 0:
            raise ValueError("temperature 0.1 K is below what the chebyshev solver resolves")
        return real(params, seed, r, probe, solver)

    monkeypatch.setattr(pipeline, "observe", refusing)


def test_a_refusal_at_a_later_point_comes_early_and_names_the_checkpoint(tmp_path, monkeypatch,
                                                                         capsys):
    """Point 1 refuses its realisations: the run stops after realisation 0 of point 0 (not after
    all of point 0), says where that is kept and that a corrected spec starts again with
    --overwrite; the checkpoint records the failure, info does not offer a plain rerun, and
    --overwrite with the corrected spec starts over."""
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(TOML)
    monkeypatch.chdir(tmp_path)
    _refusing_point_1(monkeypatch)
    status = main(["run", str(spec_path), "-o", "out.nc", "--no-progress", "--chunk-size", "3"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert "sweep point 1 (model.coupling.strength=0.02), realisation 0: temperature" in err
    assert ("the 1 realisation(s) that finished are kept in the checkpoint 'out.nc.checkpoint', "
            "but a changed spec cannot resume them: correct the spec and pass --overwrite to "
            "start again") in err
    assert _task_realisations(tmp_path / "out.nc") == 1
    meta = json.loads((tmp_path / "out.nc.checkpoint" / "meta.json").read_text())
    assert meta["failed"]["error"].startswith("ValueError: sweep point 1")
    assert "kept in the checkpoint" not in meta["failed"]["error"]
    assert meta["stretches"][-1]["outcome"] == "failed"
    text = describe_checkpoint(tmp_path / "out.nc.checkpoint")
    assert "FAILED: ValueError: sweep point 1" in text
    assert "to resume: not by a plain rerun" in text and "start again with --overwrite" in text
    # the corrected spec: refused without --overwrite, which names the way out
    fixed = tmp_path / "fixed.toml"
    fixed.write_text(TOML.replace("temperatures = [0.1, 0.4]", "temperatures = [0.2, 0.4]"))
    assert main(["run", str(fixed), "-o", "out.nc", "--no-progress"]) == 2
    assert "pass --overwrite to discard them and start over" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    with pytest.warns(RuntimeWarning, match="of another spec; discarded"):
        assert main(["run", str(fixed), "-o", "out.nc", "--no-progress", "--overwrite"]) == 0
    ds = load_results(tmp_path / "out.nc")
    assert ds.attrs["tasks_resumed"] == 0 and ds["temperature"].values.tolist() == [0.2, 0.4]
    assert not (tmp_path / "out.nc.checkpoint").exists()


def test_overwrite_still_resumes_a_checkpoint_of_the_same_spec(tmp_path):
    out = tmp_path / "run.nc"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(make_spec(), output=out, progress=_interrupt_after(2), chunk_size=1)
    kept = _task_realisations(out)
    ds = run_sweep(make_spec(), output=out, overwrite=True)
    assert ds.attrs["tasks_resumed"] == kept > 0


def test_a_failure_that_is_no_refusal_of_a_realisation_is_not_recorded_as_one(tmp_path):
    """Only a realisation's refusal repeats on a rerun of the same spec: another error keeps the
    usual resume hint."""
    out = tmp_path / "run.nc"

    def failing(done, total):
        if done >= 2:
            raise RuntimeError("something else")

    with pytest.raises(RuntimeError):
        run_sweep(make_spec(), output=out, progress=failing, chunk_size=1)
    meta = json.loads((checkpoint_dir(out) / "meta.json").read_text())
    assert "failed" not in meta and meta["stretches"][-1]["outcome"] == "failed"
    assert "compute the rest" in describe_checkpoint(checkpoint_dir(out))
    assert "not by a plain rerun" not in describe_checkpoint(checkpoint_dir(out))


# ----------------------------------------------------------------------------- 4. cosmetic


def test_a_negative_zero_in_a_spec_is_a_zero():
    spec = make_spec(sweep={"model.coupling.strength": [-0.0, 0.02]},
                     model={"n_tls": 4, "coupling": {"kind": "dipolar", "strength": -0.0}})
    value = spec.sweep["model.coupling.strength"][0]
    assert value == 0.0 and math.copysign(1.0, value) == 1.0
    assert math.copysign(1.0, spec.model.coupling.strength) == 1.0
    assert "-0" not in spec.canonical_json()
    # built from the constructor's sweep too
    direct = RunSpec(name="x", seed=1, model=spec.model, probe=spec.probe,
                     sweep={"model.coupling.strength": (-0.0, 0.02)})
    assert math.copysign(1.0, direct.sweep["model.coupling.strength"][0]) == 1.0


def test_an_output_named_dash_is_refused(tmp_path, monkeypatch, capsys):
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(TOML)
    monkeypatch.chdir(tmp_path)
    status = main(["run", str(spec_path), "-o", "-", "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert ("--output '-': manybody writes its results to a file, not to standard output; give "
            "a file name") in err
    assert not (tmp_path / "-").exists() and not (tmp_path / "-.checkpoint").exists()
    with pytest.raises(ValueError, match="output '-'"):
        run_sweep(make_spec(), output="-")


def test_info_on_a_folder_finds_a_results_file_by_its_content(tmp_path, capsys):
    folder = tmp_path / "runs"
    folder.mkdir()
    run_sweep(make_spec(realisations=1), output=folder / "x.nc.checkpoint")
    (folder / "notes.txt").write_text("x")
    status = main(["info", str(folder)])
    err = capsys.readouterr().err
    assert status == 2 and "none of them a results file" not in err
    assert ("1 netCDF/HDF5 file(s) not named .nc (x.nc.checkpoint; results files if manybody "
            "wrote them): give one") in err
    status = main(["info", str(tmp_path)])  # one level down
    err = capsys.readouterr().err
    assert status == 2 and "runs/x.nc.checkpoint" in err
    assert main(["info", str(folder / "x.nc.checkpoint")]) == 0
    assert "run: 's37'" in capsys.readouterr().out


def test_realisations_copied_from_an_earlier_run_keep_its_code_version(tmp_path):
    """A study copies the realisations of identical points from finished results: the results
    name the donor's code version for them (here a donor file that says 0.0.9)."""
    from manybody.runs.reuse import seed_checkpoint

    donor = run_sweep(make_spec(name="donor", realisations=2))
    donor.attrs.update(manybody_version="0.0.9", git_commit="abc1234")
    recipient = make_spec(name="recipient", sweep={"model.coupling.strength": [0.02, 0.05]})
    out = tmp_path / "recipient.nc"
    assert seed_checkpoint(recipient, out, [donor]) == {"donor": 2}
    ds = run_sweep(recipient, output=out)
    versions = json.loads(ds.attrs["code_versions"])
    assert {k: versions[0][k] for k in ("manybody_version", "git_commit", "realisations")} == {
        "manybody_version": "0.0.9", "git_commit": "abc1234", "realisations": 2}
    assert versions[1]["realisations"] == 4
    stretches = json.loads(ds.attrs["run_stretches"])
    assert stretches[0]["outcome"] == "copied from the finished results of 'donor'"


def test_a_resume_after_an_edit_at_the_same_commit_is_mixed(tmp_path, monkeypatch):
    """The same version and commit, the first stretch clean and the resume with uncommitted
    changes: one code_versions entry for all realisations and no MIXED before (a tester,
    session 39); now two entries and info says MIXED, naming the uncommitted changes."""
    out = tmp_path / "run.nc"
    with monkeypatch.context() as m:
        m.setattr(checkpoint_module, "git_state", lambda: ("abc1234", "false"))
        with pytest.raises(KeyboardInterrupt):
            run_sweep(make_spec(), output=out, progress=_interrupt_after(2), chunk_size=1)
    meta_path = checkpoint_dir(out) / "meta.json"
    meta = json.loads(meta_path.read_text())
    commit = meta["stretches"][0]["git_commit"]
    with monkeypatch.context() as m:
        m.setattr(checkpoint_module, "git_state", lambda: (commit, "true"))
        import manybody.runs.results as results_module
        m.setattr(results_module, "git_state", lambda: (commit, "true"))
        ds = run_sweep(make_spec(), output=out)
    versions = json.loads(ds.attrs["code_versions"])
    assert [v["git_dirty"] for v in versions] == [False, True]
    assert {v["git_commit"] for v in versions} == {"abc1234"}
    text = describe(load_results(out), out)
    assert "MIXED: realisations computed by 2 code versions" in text
    assert "uncommitted changes" in text

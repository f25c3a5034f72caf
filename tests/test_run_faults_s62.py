"""Session 62, a break test of `manybody run` (bt218): a sweep of 3e7 realisations passed every
check and grew to 5 GB planning its tasks (F2), and 10 000 dense realisations at N = 14 started
without a word of their cost (F3)."""

from __future__ import annotations

import json
import time

import pytest

from manybody.cli.app import main
from manybody.cli.run import _say_dense_cost
from manybody.runs.checkpoint import checkpoint_dir
from manybody.runs.spec import (
    ARRAY_OVERHEAD,
    REALISATION_OVERHEAD,
    RunSpec,
    bookkeeping_bytes,
    check_results_size,
)
from manybody.runs.sweep import run_sweep
from manybody.simulation.solvers.dense import DENSE_CPU_SECONDS, dense_cpu_seconds


def _spec(realisations: int, n_tls=(4, 5, 6), observables=("absorption",)) -> RunSpec:
    return RunSpec.from_dict({
        "name": "big", "seed": 1, "realisations": realisations,
        "model": {"n_tls": n_tls[0], "coupling": {"kind": "gaussian", "strength": 0.01}},
        "sweep": {"model.coupling.strength": [0.01 * (k + 1) for k in range(10)],
                  "model.n_tls": list(n_tls)},
        "probe": {"frequencies": [0.1], "temperatures": [0.1], "observables": list(observables)},
    })


def test_the_bookkeeping_of_many_small_realisations_is_counted():
    spec = _spec(1000)
    assert bookkeeping_bytes(spec) == 30_000 * (REALISATION_OVERHEAD + ARRAY_OVERHEAD)
    two = _spec(1000, observables=("absorption", "velocity_shift"))
    assert bookkeeping_bytes(two) == 30_000 * (REALISATION_OVERHEAD + 2 * ARRAY_OVERHEAD)


def test_a_sweep_of_too_many_realisations_in_all_is_refused_before_any_work(tmp_path, capsys):
    """3e7 realisations of one number each (1e6 per point, within the per-point limit)."""
    spec = _spec(1_000_000)
    with pytest.raises(MemoryError, match=r"asks for 30,000,000 realisations in all \(30 sweep "
                       r"point\(s\), up to 1,000,000 each\).*600 bytes.*18 GB in all.*fewer "
                       r"realisations"):
        check_results_size(spec, available=24e9)
    check_results_size(_spec(10_000), available=24e9)  # 0.18 GB of bookkeeping: runs
    path = tmp_path / "big.toml"
    path.write_text(_toml(10_000_000))  # 180 GB of bookkeeping: refused on any workstation
    started = time.perf_counter()
    status = main(["run", str(path), "-o", str(tmp_path / "big.nc"), "--no-progress"])
    assert status == 2 and time.perf_counter() - started < 60
    err = capsys.readouterr().err
    assert "asks for 300,000,000 realisations in all" in err and "note:" not in err
    assert list(tmp_path.iterdir()) == [path]  # nothing written


def _toml(realisations: int) -> str:
    strengths = ", ".join(f"{0.01 * (k + 1):g}" for k in range(10))
    return (f'name = "big"\nseed = 1\nrealisations = {realisations}\n[model]\nn_tls = 4\n'
            '[model.coupling]\nkind = "gaussian"\nstrength = 0.01\n[sweep]\n'
            f'"model.coupling.strength" = [{strengths}]\n"model.n_tls" = [4, 5, 6]\n[probe]\n'
            'frequencies = [0.1]\ntemperatures = [0.1]\nobservables = ["absorption"]\n')


def test_dense_cost_model_follows_the_benchmark_and_eighs_cube():
    assert dense_cpu_seconds(13) == DENSE_CPU_SECONDS[13][0]
    assert dense_cpu_seconds(14) == pytest.approx(8 * DENSE_CPU_SECONDS[13][0])
    assert dense_cpu_seconds(13, "float32") < dense_cpu_seconds(13)
    assert dense_cpu_seconds(4) == DENSE_CPU_SECONDS[4][0] < DENSE_CPU_SECONDS[8][0] / 30
    assert dense_cpu_seconds(1) == DENSE_CPU_SECONDS[2][0]  # the overhead of a small solve
    costs = [dense_cpu_seconds(n) for n in range(1, 16)]
    assert costs == sorted(costs)  # never less for more TLS


def test_a_long_dense_run_is_told_its_cost_and_the_stop_latency_of_one_job(capsys):
    spec = _spec(1000, n_tls=(13, 14))
    _say_dense_cost(spec, jobs=1)
    err = capsys.readouterr().err
    assert "this run does 20,000 dense diagonalisations up to N = 14" in err
    assert "CPU-hours" in err and "with --jobs 1 a stop" in err and "--jobs 2 stops" in err
    _say_dense_cost(spec, jobs=2)
    assert "with --jobs 1" not in capsys.readouterr().err
    _say_dense_cost(_spec(100), jobs=1)  # seconds of work: nothing to say
    assert capsys.readouterr().err == ""


# F1: a stretch interrupted before any task finished -------------------------------------------


def test_a_resume_interrupted_before_any_task_finished_stays_in_the_record(tmp_path):
    """It vanished from run_stretches and its time from wall_time_total_s (bt218 F1)."""
    spec = RunSpec.from_dict({
        "name": "s", "seed": 2, "realisations": 6, "model": {"n_tls": 3},
        "probe": {"frequencies": [0.1], "temperatures": [0.1], "observables": ["absorption"]}})
    out = tmp_path / "run.nc"

    def interrupt_after(n):
        def progress(done, total):
            if done >= n:
                raise KeyboardInterrupt
        return progress

    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, output=out, progress=interrupt_after(2), chunk_size=1)
    meta_path = checkpoint_dir(out) / "meta.json"
    meta = json.loads(meta_path.read_text())
    # what a resume interrupted while its workers started records (end_stretch, 0 computed)
    meta["stretches"].append({**meta["stretches"][0], "n_jobs": 2, "wall_time_s": 3.0,
                              "tasks_computed": 0, "outcome": "interrupted"})
    meta_path.write_text(json.dumps(meta))
    ds = run_sweep(spec, output=out)
    stretches = json.loads(ds.attrs["run_stretches"])
    assert [s["outcome"] for s in stretches] == ["interrupted", "interrupted", "finished"]
    assert stretches[1]["tasks_computed"] == 0 and stretches[1]["n_jobs"] == 2
    assert ds.attrs["wall_time_total_s"] == pytest.approx(sum(s["wall_time_s"] for s in stretches))
    assert stretches[1]["wall_time_s"] == 3.0


def test_a_resume_is_told_the_cost_of_what_is_left(tmp_path, capsys):
    """A resume was told the whole run's cost, its checkpoint's realisations counted (session
    62's note): they are now left out and named."""
    spec = _spec(1000, n_tls=(13, 14))
    out = tmp_path / "run.nc"
    tasks = checkpoint_dir(out) / "tasks"
    tasks.mkdir(parents=True)
    (checkpoint_dir(out) / "meta.json").write_text(json.dumps({"spec_sha256": spec.digest()}))
    for name in ("p0_r0-600.npz", "p1_r0-400.npz", "p1_r400.npz", "p99_r0-5.npz", "notes.txt"):
        (tasks / name).write_bytes(b"")  # names only: nothing is loaded
    _say_dense_cost(spec, jobs=2, output=str(out))
    err = capsys.readouterr().err
    assert "this run does 18,999 dense diagonalisations (besides the 1,001 its checkpoint " \
           "holds) up to N = 14" in err, err
    (checkpoint_dir(out) / "meta.json").write_text(json.dumps({"spec_sha256": "another"}))
    _say_dense_cost(spec, jobs=2, output=str(out))  # another spec's checkpoint: all counted
    assert "this run does 20,000 dense diagonalisations up to" in capsys.readouterr().err


def test_info_tells_the_latest_command_that_resumed_the_run(tmp_path, capsys, monkeypatch):
    """A run resumed from a renamed copy of its spec (r4.toml, the same spec but for a
    comment) and stopped again: info still proposed the first command (a tester, bt225)."""
    from interrupted_runs import interrupted_command, interrupted_run

    text = ('name = "x"\nseed = 1\nrealisations = 8\n[model]\nn_tls = 3\n[probe]\n'
            'frequencies = [0.1]\ntemperatures = [0.02, 0.05]\nobservables = ["absorption"]\n')
    directory, spec = interrupted_command(tmp_path, monkeypatch, text, "s.toml")
    (tmp_path / "r4.toml").write_text("# renamed\n" + text)
    monkeypatch.setattr("sys.argv", ["manybody", "run", "r4.toml", "-o", "o.nc", "--no-progress"])
    interrupted_run(tmp_path / "r4.toml", "o.nc", after=6, chunk_size=2)
    assert main(["info", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "(manybody run r4.toml -o o.nc --no-progress)" in out, out
    assert "manybody run s.toml" not in out

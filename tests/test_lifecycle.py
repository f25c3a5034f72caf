"""Runs that survive their environment, with real processes and real signals: SIGTERM, a killed
parent (its loky workers must exit within seconds), a worker killed by the system, a full disk,
damaged checkpoint and results files, stale temporary files, file modes under the umask."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest
from interrupted_runs import interrupted_run

from manybody.cli import main
from manybody.runs.checkpoint import checkpoint_dir, spec_differences
from manybody.runs.results import load_results
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]

SPEC = """\
name = "lifecycle"
seed = 3
realisations = {realisations}
[model]
n_tls = 3
[model.coupling]
kind = "dipolar"
strength = 0.0
[sweep]
"model.coupling.strength" = [0.0, 0.02]
[probe]
frequencies = [0.1]
temperatures = {{ x_min = 0.5, x_max = 5.0, count = {count} }}
observables = ["absorption", "specific_heat"]
[probe.broadening]
kind = "gaussian"
width = 0.01
"""

#: Loaded by every Python process of a test run (the CLI process and its loky workers) through
#: PYTHONPATH: makes each realisation take MB_TEST_SLEEP seconds, and makes the worker process
#: that computes realisation MB_TEST_KILL_R of the second sweep point kill itself (SIGKILL, as
#: the out-of-memory killer does).
HOOK = '''
import os, time
if os.environ.get("MB_TEST_HOOK"):
    os.environ.setdefault("MB_TEST_MAIN", str(os.getpid()))
    import manybody.simulation.observe as _p
    _real = _p.observe
    def observe(params, seed, r, probe, solver=None):
        kill = os.environ.get("MB_TEST_KILL_R")
        if (kill is not None and r == int(kill) and params.coupling.strength != 0
                and str(os.getpid()) != os.environ["MB_TEST_MAIN"]):
            os.kill(os.getpid(), 9)
        time.sleep(float(os.environ.get("MB_TEST_SLEEP", "0")))
        return _real(params, seed, r, probe, solver)
    _p.observe = observe
'''


def write_spec(tmp_path: Path, realisations: int = 4, count: int = 3,
               name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(SPEC.format(realisations=realisations, count=count))
    return path


def hooked_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(HOOK)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hook_dir), str(ROOT)]),
               MB_TEST_HOOK="1", **settings)
    env.pop("MB_TEST_MAIN", None)
    return env


def default_signals() -> None:
    """In the child before exec: SIGINT and SIGHUP back to their defaults. A test runner's worker
    (pytest-xdist) may ignore them, and ignored signals are inherited, so the run would never see
    the Ctrl-C or hang-up these tests send (a user's terminal delivers them as set here)."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def start_run(spec_path: Path, out: Path, env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "manybody", "run", str(spec_path), "-o",
                             str(out), "--no-progress", *extra], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_signals)


def start_run_in_its_own_group(spec_path: Path, out: Path, env: dict[str, str],
                               *extra: str) -> subprocess.Popen:
    """:func:`start_run` in a new process group, as a terminal runs it: a signal to the group
    (os.killpg) reaches the run and its workers, not the test runner."""
    return subprocess.Popen([sys.executable, "-m", "manybody", "run", str(spec_path), "-o",
                             str(out), "--no-progress", *extra], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_signals, start_new_session=True)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.communicate()}")
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def workers_of(proc: subprocess.Popen) -> list[psutil.Process]:
    """The loky worker processes of a run (children running the loky worker entry point)."""
    return [c for c in psutil.Process(proc.pid).children(recursive=True)
            if "popen_loky_posix" in " ".join(c.cmdline())]


def assert_gone(processes: list[psutil.Process], within: float) -> float:
    start = time.monotonic()
    _, alive = psutil.wait_procs(processes, timeout=within)
    assert not alive, f"still alive after {within} s: {alive}"
    return time.monotonic() - start


def reference(spec_path: Path):
    return run_sweep(RunSpec.from_toml(spec_path), n_jobs=1)


def assert_same_numbers(a, b) -> None:
    for name in b.data_vars:
        assert np.array_equal(a[name].values, b[name].values), name


def chunks(out: Path) -> list[Path]:
    return sorted((checkpoint_dir(out) / "tasks").glob("*.npz"))


def held(path: Path) -> int:
    """Realisations a chunk file holds, by its name (p<point>_r<start>-<stop>.npz)."""
    start, stop = re.fullmatch(r"p\d+_r(\d+)-(\d+)\.npz", path.name).groups()
    return int(stop) - int(start)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- signals and dead processes ---------------------------------------------------------------
def _run_with_two_chunks_done(tmp_path: Path) -> tuple[Path, Path, subprocess.Popen]:
    """(spec, output, process) of a 12-realisation run on two workers, once two chunks are
    checkpointed and both workers are up."""
    spec_path = write_spec(tmp_path, realisations=6)
    out = tmp_path / "out.nc"
    proc = start_run(spec_path, out, hooked_env(tmp_path, MB_TEST_SLEEP="0.4"), "--jobs", "2",
                     "--chunk-size", "1")
    try:
        wait_for(lambda: len(chunks(out)) >= 2 and len(workers_of(proc)) == 2, proc)
    except BaseException:  # never leave the run behind when the wait fails
        proc.kill()
        raise
    return spec_path, out, proc


def test_sigterm_stops_workers_keeps_work_and_rerun_resumes(tmp_path, capsys):
    spec_path, out, proc = _run_with_two_chunks_done(tmp_path)
    try:
        workers = workers_of(proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert_gone(workers, within=5)
    kept = chunks(out)
    # the one line says how many realisations are kept, where, and how to go on (session 30;
    # before: "finished work is kept")
    assert one_line(err) == (
        f"manybody run: interrupted (SIGTERM); {len(kept)} of 12 realisations are kept in the "
        f"checkpoint {str(checkpoint_dir(out))!r}; rerun the same command to continue")
    assert 2 <= len(kept) < 12 and not out.exists()
    status = main(["run", str(spec_path), "-o", str(out), "--no-progress"])
    assert status == 0
    assert f"resumed {len(kept)}" in capsys.readouterr().out
    assert_same_numbers(load_results(out), reference(spec_path))


def test_sigterm_delivered_twice_still_ends_with_the_line(tmp_path):
    """``timeout`` signals the command, then its process group: two SIGTERMs milliseconds apart.
    The second, after the first had reset the default action, killed the run silently (exit
    143, no line, stretch recorded as killed, lock left; 1 run in 8 in a break test, session
    45, and every time with the two 5 ms apart)."""
    _, out, proc = _run_with_two_chunks_done(tmp_path)
    try:
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.005)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert one_line(err).startswith("manybody run: interrupted (SIGTERM); ")
    meta = json.loads((checkpoint_dir(out) / "meta.json").read_text())
    assert meta["stretches"][-1]["outcome"] == "interrupted"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_workers_exit_within_seconds_when_the_parent_dies(sig, tmp_path):
    """kill -9 of the run: its workers (both inside a long task) exit by themselves. SIGTERM and
    SIGHUP (terminal closed) stop the run like Ctrl-C, workers first."""
    spec_path = write_spec(tmp_path, realisations=2)
    out = tmp_path / "out.nc"
    proc = start_run(spec_path, out, hooked_env(tmp_path, MB_TEST_SLEEP="60"), "--jobs", "2",
                     "--chunk-size", "1")
    workers: list[psutil.Process] = []
    try:
        wait_for(lambda: len(list((checkpoint_dir(out) / "tasks").glob(".running-*"))) == 2,
                 proc)  # both workers are inside a 60 s task
        workers = workers_of(proc)
        assert len(workers) == 2
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)  # not communicate(): orphaned workers would hold its pipes open
        assert_gone(workers, within=5)
        assert proc.returncode == (-sig if sig == signal.SIGKILL else 128 + sig)
        if sig != signal.SIGKILL:
            err = proc.stderr.read()
            assert one_line(err) == (f"manybody run: interrupted ({signal.Signals(sig).name}); "
                                     "none of the 4 realisations had finished; nothing is kept")
    finally:
        proc.kill()
        for process in workers:  # never leave orphans behind, even when the test fails
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        proc.communicate()


def test_idle_workers_exit_too_when_the_parent_dies(tmp_path):
    """One task for two workers: the worker that never got a task exits as well."""
    spec_path = tmp_path / "one.toml"
    spec_path.write_text(SPEC.format(realisations=1, count=3).replace(
        '[sweep]\n"model.coupling.strength" = [0.0, 0.02]\n', ""))
    out = tmp_path / "out.nc"
    proc = start_run(spec_path, out, hooked_env(tmp_path, MB_TEST_SLEEP="60"), "--jobs", "2")
    assert_workers_exit_on_kill(
        proc, lambda: len(list((checkpoint_dir(out) / "tasks").glob(".running-*"))) == 1
        and len(workers_of(proc)) == 2)


def assert_workers_exit_on_kill(proc: subprocess.Popen, ready, count: int | None = None) -> None:
    """Once ``ready()``, kill -9 ``proc`` and check that its loky workers (``count`` of them,
    when given) exit within 5 s; never leaves orphans behind, even when the check fails."""
    workers: list[psutil.Process] = []
    try:
        wait_for(ready, proc)
        workers = workers_of(proc)
        assert count is None or len(workers) == count, workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert_gone(workers, within=5)
    finally:
        proc.kill()
        for process in workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        proc.communicate()


def test_worker_killed_by_the_system_is_one_line_and_rerun_resumes(tmp_path, capsys):
    spec_path = write_spec(tmp_path, realisations=4)
    out = tmp_path / "out.nc"
    proc = start_run(spec_path, out, hooked_env(tmp_path, MB_TEST_KILL_R="2"), "--jobs", "2",
                     "--chunk-size", "2")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    line = one_line(err)
    assert line.startswith("manybody run: error: a worker process died while computing")
    assert "sweep point 1 (model.coupling.strength=0.02), realisations 2-3" in line
    assert "(exit SIGKILL(-9); killed by the system, most often for lack of memory" in line
    assert "checkpointed" in line and "rerun the same command to resume" in line
    kept = chunks(out)
    assert kept and not out.exists()
    assert not list((checkpoint_dir(out) / "tasks").glob(".running-*"))
    assert main(["run", str(spec_path), "-o", str(out), "--no-progress"]) == 0
    assert f"resumed {sum(map(held, kept))}" in capsys.readouterr().out
    assert_same_numbers(load_results(out), reference(spec_path))


# -- full disk --------------------------------------------------------------------------------
def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                  if p.name.endswith((".tmp", ".probe")))


def test_full_disk_during_the_final_write(tmp_path, monkeypatch, capsys):
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    monkeypatch.setattr(os, "fsync", no_space)  # only the final write syncs
    status = main(["run", str(spec_path), "-o", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1
    assert one_line(err) == (
        f"manybody run: error: out of disk space writing {str(out)!r}; finished work is kept in "
        f"the checkpoint {str(checkpoint_dir(out))!r}; free some space and rerun the same "
        "command to resume")
    assert not out.exists() and leftovers(tmp_path) == []
    assert len(chunks(out)) > 0
    monkeypatch.undo()
    assert main(["run", str(spec_path), "-o", str(out), "--no-progress"]) == 0
    assert "computed 0 realisation(s), resumed 8" in capsys.readouterr().out


def test_full_disk_during_checkpointing(tmp_path, monkeypatch, capsys):
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    real_savez = np.savez
    calls = []

    def savez_then_full(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            args[0].write(b"partial")
            no_space()
        real_savez(*args, **kwargs)

    monkeypatch.setattr(np, "savez", savez_then_full)
    status = main(["run", str(spec_path), "-o", str(out), "--no-progress", "--chunk-size", "1"])
    err = capsys.readouterr().err
    assert status == 1
    line = one_line(err)
    assert "out of disk space writing" in line and "tasks" in line
    assert "finished work is kept" in line and "rerun the same command" in line
    assert len(chunks(out)) == 2 and leftovers(tmp_path) == [] and not out.exists()
    monkeypatch.undo()
    assert main(["run", str(spec_path), "-o", str(out), "--no-progress"]) == 0
    assert "resumed 2" in capsys.readouterr().out
    assert_same_numbers(load_results(out), reference(spec_path))


def test_later_run_removes_only_our_stale_temporary_files(tmp_path, capsys):
    spec_path = write_spec(tmp_path, realisations=1)
    out = tmp_path / "out.nc"
    tasks = checkpoint_dir(out) / "tasks"
    tasks.mkdir(parents=True)
    ours = [tmp_path / ".out.nc.k3j_x9q2.tmp", tmp_path / ".out.nc.ab12cd34.probe",
            tasks / "p000000_r000000-000001.npz.zz9_ab12.tmp",
            checkpoint_dir(out) / "meta.json.q1w2e3r4.tmp", tasks / ".running-999999999"]
    users = [tmp_path / ".out.nc.mine.tmp", tmp_path / "notes.tmp", tmp_path / "out.nc.bak",
             tmp_path / ".other.nc.abcdefgh.tmp"]
    for path in ours + users:
        path.write_text("x")
    assert main(["run", str(spec_path), "-o", str(out), "--no-progress"]) == 0
    assert out.is_file() and not checkpoint_dir(out).exists()
    assert not any(p.exists() for p in ours)
    assert all(p.read_text() == "x" for p in users)


# -- damaged files ----------------------------------------------------------------------------
def interrupted_checkpoint(tmp_path: Path, spec_path: Path, out: Path) -> None:
    interrupted_run(spec_path, out, after=4, chunk_size=2)


def test_damaged_checkpoint_chunks_are_recomputed_with_a_warning(tmp_path, caplog):
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    interrupted_checkpoint(tmp_path, spec_path, out)
    # realisation 0 of each point is a chunk of its own (session 37): the second is one of two
    first = chunks(out)[0]
    second = next(p for p in chunks(out) if held(p) == 2)
    intact = sum(held(p) for p in chunks(out) if p not in (first, second))
    first.write_bytes(first.read_bytes()[:40])  # truncated: BadZipFile
    with np.load(second) as data:  # readable, but fewer realisations than its name says
        np.savez(second, **{k: v[:1] if v.ndim else v for k, v in data.items()})
    ds = run_sweep(RunSpec.from_toml(spec_path), output=out)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(str(first) in m and "damaged" in m and "recomputed" in m for m in warned), warned
    assert any(str(second) in m and "holds 1 realisations" in m for m in warned), warned
    assert ds.attrs["tasks_resumed"] == intact
    assert_same_numbers(load_results(out), reference(spec_path))


@pytest.mark.parametrize("damage", ["truncated", "not json", "list", "binary", "no spec"])
def test_damaged_checkpoint_meta_is_one_line(damage, tmp_path, capsys):
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    interrupted_checkpoint(tmp_path, spec_path, out)
    kept = len(chunks(out))
    meta = checkpoint_dir(out) / "meta.json"
    text = meta.read_text()
    meta.write_bytes({"truncated": text[:30].encode(), "not json": b"hello",
                      "list": b"[1, 2]", "binary": b"\xff\xfe\x00",
                      "no spec": b'{"version": 2}'}[damage])
    status = main(["run", str(spec_path), "-o", str(out), "--no-progress"])
    line = one_line(capsys.readouterr().err)
    assert status == 2
    assert f"checkpoint file {str(meta)!r} is damaged" in line
    assert f"Delete the checkpoint directory {str(checkpoint_dir(out))!r}" in line
    assert len(chunks(out)) == kept  # nothing deleted on the user's behalf


def test_finished_tasks_without_their_meta_file_are_refused(tmp_path, capsys):
    """A checkpoint whose meta.json was deleted was taken over by a run of another seed: a file
    saying seed 2 held seed-1 disorder (a new user, session 35). Refused, nothing deleted, and
    info says it cannot be resumed."""
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    interrupted_checkpoint(tmp_path, spec_path, out)
    (checkpoint_dir(out) / "meta.json").unlink()
    files = {path: path.read_bytes() for path in chunks(out)}
    other = write_spec(tmp_path, name="other.toml")
    other.write_text(other.read_text().replace("seed = ", "seed = 9", 1))
    assert main(["run", str(other), "-o", str(out), "--no-progress"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "holds finished task files but no meta.json" in line and "delete the checkpoint" in line
    assert {path: path.read_bytes() for path in chunks(out)} == files and not out.exists()
    assert main(["info", str(checkpoint_dir(out))]) == 0
    assert "to resume: not possible" in capsys.readouterr().out


def test_a_task_file_under_another_name_is_recomputed(tmp_path, caplog):
    """Task files say which spec, sweep point and realisations they hold: one copied under
    another point's name was resumed as that point's (a new user, session 35)."""
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    interrupted_checkpoint(tmp_path, spec_path, out)
    first = chunks(out)[0]
    point = int(first.name[1:7])
    moved = first.with_name(f"p{point + 1:06d}" + first.name[7:])
    moved.unlink(missing_ok=True)
    moved.write_bytes(first.read_bytes())
    ds = run_sweep(RunSpec.from_toml(spec_path), output=out)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(str(moved) in m and f"sweep point {point}," in m and "recomputed" in m
               for m in warned), warned
    assert ds.attrs["tasks_resumed"] == 4
    assert_same_numbers(load_results(out), reference(spec_path))


def test_changed_spec_names_the_dotted_key_with_old_and_new_values(tmp_path, capsys):
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    interrupted_checkpoint(tmp_path, spec_path, out)
    changed = write_spec(tmp_path, count=5, name="changed.toml")
    assert main(["run", str(changed), "-o", str(out), "--no-progress"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "(changed: probe.temperatures ([0.02, 0.0632456, 0.2] -> [0.02, ..., 0.2] " \
        "(5 values)));" in line, line
    assert "model" not in line.split("changed:")[1]


def test_spec_differences_are_dotted_leaves():
    old = {"seed": 1, "model": {"n_tls": 4, "coupling": {"strength": 0.0, "kind": "dipolar"}},
           "probe": {"frequencies": [0.1]}}
    new = {"seed": 1, "model": {"n_tls": 5, "coupling": {"strength": 0.1, "kind": "dipolar"}},
           "probe": {"frequencies": [0.1]}, "solver": {"method": "dense"}}
    diffs = spec_differences(old, new)
    assert [(k, a, b) for k, a, b in diffs if k != "solver"] == [
        ("model.coupling.strength", 0.0, 0.1), ("model.n_tls", 4, 5)]
    assert [k for k, _, _ in diffs] == ["model.coupling.strength", "model.n_tls", "solver"]
    assert spec_differences(old, json.loads(json.dumps(old))) == []


@pytest.fixture(scope="module")
def good_file(tmp_path_factory) -> bytes:
    """The bytes of a small results file."""
    tmp_path = tmp_path_factory.mktemp("good")
    good = tmp_path / "good.nc"
    run_sweep(RunSpec.from_toml(write_spec(tmp_path, realisations=1)), output=good)
    return good.read_bytes()


@pytest.mark.parametrize("damage", ["truncated", "header", "signature", "empty", "text",
                                    "directory", "fifo", "plain hdf5"])
def test_info_on_damaged_or_foreign_files_is_one_line(damage, good_file, tmp_path, capsys):
    data = good_file
    bad = tmp_path / "bad.nc"
    if damage == "truncated":
        bad.write_bytes(data[:len(data) // 2])
    elif damage == "header":
        bad.write_bytes(data[:100] + bytes(100) + data[200:])
    elif damage == "signature":
        bad.write_bytes(bytes(8) + data[8:])
    elif damage == "empty":
        bad.write_bytes(b"")
    elif damage == "text":
        bad.write_text("time,loss\n1,2\n")
    elif damage == "directory":
        bad.mkdir()
    elif damage == "fifo":
        os.mkfifo(bad)
    else:
        import h5py

        with h5py.File(bad, "w") as f:
            f["x"] = [1, 2]
    status = main(["info", str(bad)])
    line = one_line(capsys.readouterr().err)
    assert status == 2 and str(bad) in line
    expected = {"directory": "is a directory", "fifo": "not a regular file",
                "plain hdf5": "not a manybody results file",
                # named by what they are, not "damaged" (a second break test, session 35)
                "empty": "is an empty file, not a results file",
                "text": "is a text file, not a results file"}
    # a file that carries its checksum is known to be damaged, not perhaps of another format
    # (session 48); one without (written before) is still read by HDF5 and named as before
    assert expected.get(damage, "is damaged: its bytes changed after it was written") in line, line


def test_info_on_damaged_header_in_a_real_process(good_file, tmp_path):
    """The h5netcdf half-open file must not print "Exception ignored" noise at exit."""
    data = good_file
    bad = tmp_path / "bad.nc"
    bad.write_bytes(data[:100] + bytes(100) + data[200:])
    proc = subprocess.run([sys.executable, "-m", "manybody", "info", str(bad)], text=True,
                          capture_output=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 2
    assert "damaged" in one_line(proc.stderr)


# -- file modes -------------------------------------------------------------------------------
@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_written_files_respect_the_umask(mask, tmp_path):
    from manybody.support.files import atomic_write  # what fit-data writes through

    old = os.umask(mask)
    try:
        spec_path = write_spec(tmp_path, realisations=2)
        out = tmp_path / "out.nc"
        interrupted_checkpoint(tmp_path, spec_path, out)
        kept = len(chunks(out))
        modes = {p.name: p.stat().st_mode & 0o777
                 for p in [checkpoint_dir(out) / "meta.json", *chunks(out)]}
        run_sweep(RunSpec.from_toml(spec_path), output=out)
        modes[out.name] = out.stat().st_mode & 0o777
        atomic_write(tmp_path / "fit_table.txt", lambda f: f.write(b"x"))
        sys.path.insert(0, str(ROOT / "scripts"))
        try:
            import bench
            import bench_chebyshev
        finally:
            sys.path.remove(str(ROOT / "scripts"))
        bench._write_record(tmp_path / "bench.json", {})
        bench_chebyshev._save(tmp_path / "bench_chebyshev.json", {})
        for name in ("fit_table.txt", "bench.json", "bench_chebyshev.json"):
            modes[name] = (tmp_path / name).stat().st_mode & 0o777
    finally:
        os.umask(old)
    assert len(modes) == 5 + kept
    assert modes == dict.fromkeys(modes, 0o666 & ~mask)


def test_checkpoint_files_respect_the_umask(tmp_path):
    old = os.umask(0o002)
    try:
        spec_path = write_spec(tmp_path, realisations=2)
        out = tmp_path / "out.nc"
        interrupted_checkpoint(tmp_path, spec_path, out)
    finally:
        os.umask(old)
    for path in [checkpoint_dir(out) / "meta.json", *chunks(out)]:
        assert path.stat().st_mode & 0o777 == 0o664, path


# -- progress and help ------------------------------------------------------------------------
def test_progress_bar_shows_the_spec_name_before_the_first_task(tmp_path):
    spec_path = write_spec(tmp_path, realisations=2)
    proc = subprocess.Popen([sys.executable, "-m", "manybody", "run", str(spec_path), "-o",
                             str(tmp_path / "o.nc"), "--jobs", "1"],
                            env=hooked_env(tmp_path, MB_TEST_SLEEP="30"),
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    try:
        wait_for(lambda: (tmp_path / "o.nc.checkpoint" / "meta.json").exists(), proc)
        time.sleep(1.5)  # inside the first (30 s) task
        proc.send_signal(signal.SIGINT)
        # generous: it returns in a few seconds, but a loaded 2-core machine once needed > 30 s
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert "lifecycle:   0%" in err and "0/4" in err, err
    assert "interrupted; none of the 4 realisations had finished; nothing is kept" in err


@pytest.mark.parametrize("command", [[], ["run"], ["info"], ["study"], ["fit-data"]])
def test_help_has_no_rest_markup(command, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    text = capsys.readouterr().out
    assert "usage: manybody" in text
    for markup in ("``", ":func:", ":mod:", ":class:", ":meth:"):
        assert markup not in text, (markup, text)


def test_progress_clock_keeps_running_until_the_bar_closes():
    """On a terminal the bar is redrawn every interval while no task has finished yet."""
    from manybody.runs.sweep import _keep_ticking

    class Bar:
        n, total, disable, draws = 0, 4, False, 0

        def refresh(self):
            self.draws += 1

    bar = Bar()
    _keep_ticking(bar, interval=0.01)
    deadline = time.monotonic() + 10
    while bar.draws < 5:
        assert time.monotonic() < deadline, bar.draws
        time.sleep(0.01)
    bar.disable = True  # tqdm's close()
    time.sleep(0.1)
    draws = bar.draws
    time.sleep(0.1)
    assert bar.draws == draws


def test_info_prints_every_provenance_attribute(good_file, tmp_path, capsys):
    from manybody.runs.results import save_results

    path = tmp_path / "good.nc"
    path.write_bytes(good_file)
    ds = load_results(path)
    ds.attrs["added_by_another_tool"] = "yes"
    save_results(ds, path, overwrite=True)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    provenance = out.split("  provenance:\n")[1]
    for key in set(ds.attrs) - {"title", "name", "finished", "schema_version"}:
        assert f"\n    {key}: " in "\n" + provenance, key
    assert "openblas" in provenance and "python_version: 3." in provenance
    assert "    added_by_another_tool: yes" in provenance


def test_study_figures_respect_the_umask(tmp_path):
    """Figures (and the study's summaries, plain write_text) are made with the user's umask."""
    from matplotlib.figure import Figure

    from manybody.support.style import save_figure

    old = os.umask(0o027)
    try:
        paths = save_figure(Figure(), tmp_path / "figures", "test")
    finally:
        os.umask(old)
    assert [p.stat().st_mode & 0o777 for p in paths] == [0o640, 0o640]


def test_worker_death_message_tells_a_crash_from_a_kill():
    from manybody.runs.lifecycle import worker_died

    spec = RunSpec.from_dict({"name": "x", "seed": 1, "realisations": 1,
                              "model": {"n_tls": 3}, "probe": {"frequencies": [0.1],
                                                               "temperatures": [0.1]}})
    crash = str(worker_died(spec, None, "o.nc.checkpoint",
                             "...\nThe exit codes of the workers are {SIGSEGV(-11)}"))
    assert "(it crashed, exit SIGSEGV(-11))" in crash and "memory" not in crash
    assert "rerun the same command to resume" in crash
    lost = str(worker_died(spec, None, None, ""))
    assert "died in a task (killed by the system" in lost and "lost" in lost


def test_resource_tracker_warnings_are_quiet_in_loky_processes():
    """An interrupted run's workers are stopped and loky's resource tracker then warns about
    'leaked semlock objects' (it unlinks them itself): the -W option the run passes to loky's
    processes silences exactly those warnings (seen once as extra stderr lines after
    'interrupted (SIGHUP); finished work is kept'), and no other warning."""
    import subprocess
    import sys

    from manybody.runs.execution import RESOURCE_TRACKER_FILTER, quiet_resource_tracker

    quiet_resource_tracker()
    quiet_resource_tracker()
    assert sys.warnoptions.count(RESOURCE_TRACKER_FILTER) == 1
    code = ("import warnings; warnings.warn('resource_tracker: There appear to be 1 leaked "
            "semlock objects'); warnings.warn('resource_tracker: /loky-1: FileNotFoundError'); "
            "warnings.warn('another warning')")
    err = subprocess.run([sys.executable, "-W", RESOURCE_TRACKER_FILTER, "-c", code],
                         capture_output=True, text=True, check=True).stderr
    assert "resource_tracker" not in err and "another warning" in err


def test_interrupted_summary_counts_what_is_kept(tmp_path):
    """The interrupted run's one line: realisations kept of the total, those a resume brought,
    the checkpoint and how to go on; nothing kept without an output or before the first
    realisation finished."""
    from types import SimpleNamespace

    from manybody.runs.lifecycle import interrupted_summary

    where = SimpleNamespace(directory=tmp_path / "o.nc.checkpoint")
    line = interrupted_summary(7, 12, 3, where)
    assert line == (f"7 of 12 realisations (3 of them from an earlier run) are kept in the "
                    f"checkpoint {str(where.directory)!r}; rerun the same command to continue")
    assert interrupted_summary(0, 12, 0, where) == (
        "none of the 12 realisations had finished; nothing is kept")
    assert "no output file" in interrupted_summary(5, 12, 0, None)
    assert "nothing is kept" in interrupted_summary(5, 12, 0, None)


def _stop_group(proc: subprocess.Popen, workers=()) -> None:
    """Kill a run started by :func:`start_run_in_its_own_group` and its workers, whatever state
    a failed test left them in (never orphans)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for process in workers:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    proc.communicate()


@contextlib.contextmanager
def _both_workers_busy(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, list]]:
    """A run (2 points x 2 realisations) in its own process group whose two loky workers are
    both inside a 60 s task: yields the run's process and its workers; killed at the end."""
    spec_path = write_spec(tmp_path, realisations=2)
    out = tmp_path / "out.nc"
    proc = start_run_in_its_own_group(spec_path, out, hooked_env(tmp_path, MB_TEST_SLEEP="60"),
                                      "--jobs", "2", "--chunk-size", "1")
    workers: list[psutil.Process] = []
    try:
        wait_for(lambda: len(list((checkpoint_dir(out) / "tasks").glob(".running-*"))) == 2,
                 proc)
        workers = workers_of(proc)
        yield proc, workers
    finally:
        _stop_group(proc, workers)


def test_a_hangup_of_the_whole_terminal_is_one_line(tmp_path):
    """A closed terminal sends SIGHUP to the process group: loky's resource tracker died of it
    and the one loky started in its place printed a KeyError traceback for every semaphore and
    memmapping folder, after the one line (9 tracebacks; session 33). The tracker now ignores
    SIGHUP and ends with the run."""
    with _both_workers_busy(tmp_path) as (proc, workers):
        os.killpg(proc.pid, signal.SIGHUP)
        proc.wait(timeout=30)
        assert_gone(workers, within=5)
        err = proc.stderr.read()
        assert "Traceback" not in err, err
        assert one_line(err) == ("manybody run: interrupted (SIGHUP); none of the 4 realisations "
                                 "had finished; nothing is kept")


def test_ctrl_c_of_the_whole_terminal_with_dask_is_one_line(tmp_path):
    """Ctrl-C to the process group of a run on its own dask LocalCluster: every worker printed
    its KeyboardInterrupt traceback and dask a CancelledError warning per task, 64 lines
    around the one line (session 33). The workers now leave SIGINT and SIGHUP to the run."""
    pytest.importorskip("distributed")
    spec_path = write_spec(tmp_path, realisations=8)
    out = tmp_path / "out.nc"
    proc = start_run_in_its_own_group(spec_path, out, hooked_env(tmp_path, MB_TEST_SLEEP="0.5"),
                                      "--jobs", "2", "--chunk-size", "1", "--backend", "dask")
    try:
        wait_for(lambda: len(chunks(out)) >= 2, proc)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        line = one_line(err)
        assert line.startswith("manybody run: interrupted; ") and "are kept" in line, line
    finally:
        _stop_group(proc)


def _signal_set(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1], 16)
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_loky_workers_leave_ctrl_c_and_hangup_to_the_run(tmp_path):
    """A Ctrl-C to the process group while the workers still imported joblib printed their
    KeyboardInterrupt tracebacks (session 33): the workers start with SIGINT ignored and SIGHUP
    blocked, and the run's own process handles both (one line, exit 130)."""
    with _both_workers_busy(tmp_path) as (proc, workers):
        assert len(workers) == 2
        for worker in workers:
            assert _signal_set(worker.pid, "SigIgn") & (1 << (signal.SIGINT - 1))
            assert _signal_set(worker.pid, "SigBlk") & (1 << (signal.SIGHUP - 1))
        assert not _signal_set(proc.pid, "SigIgn") & (1 << (signal.SIGINT - 1))
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        assert_gone(workers, within=5)
        assert proc.returncode == 130
        assert one_line(proc.stderr.read()) == ("manybody run: interrupted; none of the 4 "
                                                "realisations had finished; nothing is kept")


def test_psutil_is_a_dependency_and_its_absence_is_named(monkeypatch):
    """Without psutil (it was only in the test extra) loky ends its workers with a pgrep
    subprocess that Ctrl-C kills too: a --jobs 2 run printed ~45 lines of tracebacks and hung 2
    times in 8 (a new user, session 34). It is a dependency; a missing one is warned about."""
    import importlib.util
    import tomllib

    from manybody.runs import execution

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert any(d.replace(" ", "").startswith("psutil") for d in project["project"]["dependencies"])
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "psutil" else real(name, *a))
    with pytest.warns(UserWarning, match=r"psutil is not installed .* may hang"):
        execution.warn_without_psutil()
    monkeypatch.setattr(importlib.util, "find_spec", real)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        execution.warn_without_psutil()


@pytest.mark.parametrize(("name", "words"), [
    ("summary.json", "is a JSON file (a study's summary.json"),
    ("spec.toml", "is a TOML file (a run specification? run it: manybody run"),
    ("loss.csv", "is a CSV table (measured data? fit it: manybody fit-data")])
def test_info_names_a_text_file_by_its_kind(tmp_path, capsys, name, words):
    """info called a healthy summary.json or run spec 'damaged or of another format ...; restore
    it from a copy' (a new user, session 35)."""
    path = tmp_path / name
    path.write_text('{"a": 1}\n')
    assert main(["info", str(path)]) == 2
    line = one_line(capsys.readouterr().err)
    assert words in line and "damaged" not in line, line


def test_info_reads_a_results_file_whatever_its_extension(tmp_path, capsys, good_file):
    path = tmp_path / "results.txt"
    path.write_bytes(good_file)
    assert main(["info", str(path)]) == 0


@pytest.mark.parametrize(("old", "new", "shown"), [
    ([0.02, 0.05, 0.1], [0.02, 0.05, 0.1000000001], "entry 2: 0.1 -> 0.1000000001"),
    ([0.1, 0.2, 0.3, 0.4, 0.5], [0.1, 0.2, 0.35, 0.4, 0.5], "entry 2: 0.3 -> 0.35"),
    (0.1, 0.1000000001, "0.1 -> 0.1000000001"),
    (0.1, 0.2, "0.1 -> 0.2"),
    ([0.1, 0.2], [0.1, 0.2, 0.3], "[0.1, 0.2] -> [0.1, 0.2, 0.3]"),
])
def test_a_change_is_shown_with_the_digits_that_tell_it_apart(old, new, shown):
    """A resume refused for probe.temperatures said "([0.02, 0.05, 0.1] -> [0.02, 0.05, 0.1])"
    (a helper, session 36)."""
    from manybody.runs.lifecycle import show_change
    assert show_change(old, new) == shown


#: Loaded by the study-summary process and its workers: every shape fit records its start and
#: then waits a minute (a fit in progress when the parent is killed).
FIT_HOOK = '''
import os, time
if os.environ.get("MB_TEST_FIT_HOOK"):
    import manybody.study.summary as _s
    def _slow(*args, **kwargs):
        open(os.path.join(os.environ["MB_TEST_FIT_HOOK"], f"fit-{os.getpid()}"), "w").close()
        time.sleep(60)
    _s._single_threaded_shape_row = _slow
'''


def _summarise_in_a_process(tmp_path: Path, hook: str, after: str = "",
                            **hook_env: str) -> subprocess.Popen:
    """A process that summarises a two-point sweep with two fitting workers (the study's
    summary), every process of it started with ``hook`` as its sitecustomize (active where
    ``hook_env`` is set), then runs ``after``."""
    spec_path = write_spec(tmp_path, realisations=2)
    out = tmp_path / "out.nc"
    run_sweep(RunSpec.from_toml(spec_path), output=out, n_jobs=1)  # two sweep points
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(hook)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hook_dir), str(ROOT)]), **hook_env)
    script = ("from manybody.runs.results import load_results\n"
              "from manybody.study.summary import summarise\n"
              f"summarise(load_results({str(out)!r}), 'x', n_jobs=2)\n" + after)
    # with the terminal's signals as a shell gives them: an xdist worker ignores SIGINT, and
    # an ignored SIGINT is inherited through exec (CI failed where a lone run passed)
    return subprocess.Popen([sys.executable, "-c", script], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_signals)


def test_study_fit_workers_exit_when_the_study_is_killed(tmp_path):
    """kill -9 of a study while it fitted the shapes (joblib workers of the summary) left two
    idle 160 MB workers adopted by init, where a sweep's workers exit within a second (a new
    user, session 36)."""
    proc = _summarise_in_a_process(tmp_path, FIT_HOOK, MB_TEST_FIT_HOOK=str(tmp_path))
    # both fits running
    assert_workers_exit_on_kill(proc, lambda: len(list(tmp_path.glob("fit-*"))) == 2, count=2)


SIGINT_HOOK = '''
import os, signal
if os.environ.get("MB_TEST_SIGINT_HOOK"):
    _ignored = int(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
    open(os.path.join(os.environ["MB_TEST_SIGINT_HOOK"], f"sigint-{os.getpid()}-{_ignored}"),
         "w").close()
'''


def test_study_fit_workers_start_deaf_to_the_terminals_ctrl_c(tmp_path):
    """The summary's fitting workers (joblib, loky) started with the terminal's SIGINT: a
    second Ctrl-C while they imported joblib printed two KeyboardInterrupt tracebacks after the
    study's one line (bt205 F17). They start with SIGINT ignored, as the sweep's do; the
    study's own process keeps its handler (each process records its SIGINT disposition at
    start-up, before Python could install a handler)."""
    seen = tmp_path / "seen"
    seen.mkdir()
    proc = _summarise_in_a_process(
        tmp_path, SIGINT_HOOK, MB_TEST_SIGINT_HOOK=str(seen),
        after="import signal\nassert signal.getsignal(signal.SIGINT) is signal.default_int_handler\n")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    records = {int(pid): flag == "1" for _, pid, flag in
               (name.split("-") for name in os.listdir(seen))}
    assert records.pop(proc.pid) is False, records  # the study's own process keeps Ctrl-C
    assert len(records) >= 2 and all(records.values()), records  # its two fitting workers


def test_warnings_start_a_line_of_their_own_under_a_progress_bar_in_a_log(tmp_path, capsys):
    """With stderr in a file, a realisation's warning was written onto the bar's line (after
    its '\\r'), so a log filtered of the bar's lines lost the warnings (a helper, session 36)."""
    spec_path = write_spec(tmp_path, realisations=2)  # a kernel that reaches no line: each
    spec_path.write_text(spec_path.read_text().replace("width = 0.01", "width = 1e-9"))  # warns
    assert main(["run", str(spec_path), "-o", str(tmp_path / "o.nc"), "--jobs", "1"]) == 0
    lines = capsys.readouterr().err.split("\n")
    warned = [ln for ln in lines if "warning (RuntimeWarning)" in ln]
    assert warned and any("realisation/s" in ln for ln in lines), lines  # a bar was drawn
    assert not [ln for ln in warned if "realisation/s" in ln or not ln.startswith("warning")], \
        warned

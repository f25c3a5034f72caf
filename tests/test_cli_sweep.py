"""``manybody run`` / ``manybody info``: a real kill -9 mid-sweep and resume, bad specs as one-line
errors with exit status 2, refusal of changed specs, and the info summary."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from manybody.cli import main
from manybody.runs.checkpoint import checkpoint_dir
from manybody.runs.results import load_results
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.simulation import observe as pipeline

SPEC = """\
name = "cli-test"
seed = 5
realisations = {realisations}
[model]
n_tls = {n_tls}
[model.coupling]
kind = "dipolar"
strength = 0.0
[sweep]
"model.coupling.strength" = [0.0, 0.02]
[probe]
frequencies = [0.1]
temperatures = {{ x_min = 0.5, x_max = 5.0, count = 4 }}
observables = ["absorption", "specific_heat", "spacing_ratio"]
[probe.broadening]
kind = "gaussian"
width = 0.01
"""
#: Attributes that legitimately differ between two runs of the same spec.
RUN_DEPENDENT = {"created", "wall_time_s", "tasks_resumed", "run_stretches", "wall_time_total_s"}


def write_spec(tmp_path: Path, realisations: int = 2, n_tls: int = 4, text: str | None = None,
               name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text if text is not None else SPEC.format(realisations=realisations,
                                                              n_tls=n_tls))
    return path


def run_cli(args, capsys):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_kill_9_mid_sweep_then_resume_matches_uninterrupted_run(tmp_path, monkeypatch, capsys):
    spec_path = write_spec(tmp_path, realisations=50, n_tls=7)
    out = tmp_path / "out.nc"
    tasks_dir = checkpoint_dir(out) / "tasks"
    proc = subprocess.Popen([sys.executable, "-m", "manybody", "run", str(spec_path), "-o",
                             str(out), "--jobs", "1", "--no-progress", "--chunk-size", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while len(list(tasks_dir.glob("*.npz"))) < 5:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no checkpoint files appeared"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    saved = sorted(tasks_dir.glob("*.npz"))
    assert 5 <= len(saved) < 34, len(saved)
    mtimes = {p.name: p.stat().st_mtime_ns for p in saved}
    chunks = [tuple(map(int, re.fullmatch(r"p(\d+)_r(\d+)-(\d+)\.npz", p.name).groups()))
              for p in saved]
    finished = {(point, r) for point, start, stop in chunks for r in range(start, stop)}
    # realisation 0 of each point is a task of its own, dispatched first (session 37): 0-0,
    # 1-2, then chunks of 3
    assert all(stop - start == {0: 1, 1: 2}.get(start, 3) for _, start, stop in chunks
               if stop < 50)

    computed = []
    real_observe = pipeline.observe

    def counting(params, seed, r, probe, solver=None):
        computed.append((0 if params.coupling.strength == 0 else 1, r))
        return real_observe(params, seed, r, probe, solver)

    monkeypatch.setattr(pipeline, "observe", counting)
    status, stdout, err = run_cli(["run", spec_path, "-o", out, "--no-progress"], capsys)
    assert status == 0, err
    # no finished realisation was recomputed, and every other one was computed once
    assert finished.isdisjoint(computed)
    assert len(computed) == len(set(computed)) == 100 - len(finished)
    assert f"resumed {len(finished)}" in stdout
    for p in saved:  # a file that survived would have the same mtime; the dir is gone
        assert not p.exists() or p.stat().st_mtime_ns == mtimes[p.name]
    assert not checkpoint_dir(out).exists()

    monkeypatch.undo()
    resumed = load_results(out)
    fresh = run_sweep(RunSpec.from_toml(spec_path), n_jobs=1)
    for name in fresh.variables:
        assert np.array_equal(resumed[name].values, fresh[name].values), name
        assert resumed[name].attrs == fresh[name].attrs
    for key, value in fresh.attrs.items():
        if key not in RUN_DEPENDENT:
            assert resumed.attrs[key] == value, key
    assert resumed.attrs["tasks_resumed"] == len(finished) and resumed.attrs["finished"] == 1


def test_run_and_info(tmp_path, capsys):
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    status, stdout, err = run_cli(["run", spec_path, "-o", out, "--no-progress"], capsys)
    assert status == 0, err
    assert "computed 4 realisation(s), resumed 0" in stdout
    status, stdout, err = run_cli(["info", out], capsys)
    assert status == 0, err
    for text in ("coupling_strength=2", "realisation=2", "temperature=4", "frequency=1",
                 "coupling_strength [K] <- model.coupling.strength: 0, 0.02",
                 "absorption (coupling_strength, realisation, temperature, frequency) [pi*C0]",
                 "specific_heat (coupling_strength, realisation, temperature) [k_B]",
                 "temperature [K]", "git_commit:", "seed: 5", "spawn_key=(r,)", "n_jobs: 1",
                 "backend: loky", "manybody_version:", '"name":"cli-test"'):
        assert text in stdout, text


def test_progress_bar_on_stderr(tmp_path):
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    proc = subprocess.run([sys.executable, "-m", "manybody", "run", str(spec_path), "-o",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "4/4" in proc.stderr and "wrote" in proc.stdout and out.is_file()


BAD_SPECS = {
    "missing seed": (SPEC.replace("seed = 5\n", ""), "seed"),
    "unknown key": (SPEC.replace("seed = 5\n", "seed = 5\ncolour = 3\n"), "'colour'"),
    # session 40: a key of another table is named where it belongs
    "key of another table": (SPEC.replace("seed = 5\n", "seed = 5\nwidth = 0.02\ndtype = 1\n"),
                             "; did you mean solver.chebyshev.dtype or solver.dtype for 'dtype', "
                             "probe.broadening.width "
                             "for 'width'?"),
    "key of another table in probe": (SPEC.replace("[probe]\n", "[probe]\nn_tls = 3\n"),
                                      "in probe; valid keys are frequencies, temperatures, "
                                      "observables, broadening, phonon_rate_prefactor, "
                                      "matrix_element_bins, saturation; did you mean "
                                      "model.n_tls for 'n_tls'?"),
    "unknown model key": (SPEC.replace("n_tls = {n_tls}", "n_tls = {n_tls}\nn_tsl = 3"),
                          "'n_tsl'"),
    "wrong type": (SPEC.replace("seed = 5", 'seed = "five"'), "seed"),
    "negative realisations": (SPEC.replace("realisations = {realisations}", "realisations = -2"),
                              "realisations"),
    "negative count": (SPEC.replace("count = 4", "count = -4"), "count"),
    "empty sweep": (SPEC.replace("[0.0, 0.02]", "[]"), "model.coupling.strength"),
    "unknown sweep key": (SPEC.replace('"model.coupling.strength"', '"model.coupling.strenght"'),
                          "model.coupling.strenght"),
    "bad toml": (SPEC.replace("seed = 5", "seed = = 5"), "not valid TOML"),
    # session 32: a NUL in the name passed and failed at the netCDF write, after all the work
    "NUL in the name": (SPEC.replace('"cli-test"', '"a\\u0000b"'),
                        "name must be printable text, got 'a\\x00b'"),
    "newline in the name": (SPEC.replace('"cli-test"', '"a\\nb"'),
                            "(control or unassigned character '\\n', U+000A)"),
    "long name": (SPEC.replace('"cli-test"', f'"{"n" * 201}"'),
                  "name must be at most 200 characters, got 201"),
    "histogram kernel for the chebyshev solver": (
        SPEC.replace('kind = "gaussian"\nwidth = 0.01', 'kind = "histogram"\nwidth = 0.01\n'
                     '[solver]\nmethod = "chebyshev"'), "broadening.kind"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_specs_fail_with_one_line_naming_the_key(case, tmp_path, capsys):
    text, key = BAD_SPECS[case]
    spec_path = write_spec(tmp_path, text=text.format(realisations=2, n_tls=4))
    out = tmp_path / "out.nc"
    status, stdout, err = run_cli(["run", spec_path, "-o", out], capsys)
    assert status == 2
    assert key in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not checkpoint_dir(out).exists()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["-o", "{tmp}/spec.toml/sub/out.nc"], ["is a file"]),
        (["-o", "/proc/out.nc"], ["cannot write"]),
        ([], ["output location is required"]),
        (["-o", "{tmp}/out.nc", "--resume"], ["nothing to resume"]),
        (["-o", "{tmp}/out.nc", "--scheduler", "tcp://127.0.0.1:1"], ["dask"]),
        (["-o", "{tmp}/out.nc", "--jobs", "64", "--blas-threads", "64"], ["cores"]),
    ],
)
def test_bad_output_and_options(extra, words, tmp_path, capsys):
    spec_path = write_spec(tmp_path)
    args = ["run", spec_path, *[a.format(tmp=tmp_path) for a in extra]]
    status, _, err = run_cli(args, capsys)
    assert status == 2
    for word in words:
        assert word in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_real_process_exit_status_and_no_traceback(tmp_path):
    spec_path = write_spec(tmp_path, text=SPEC.replace("seed = 5\n", "").format(
        realisations=2, n_tls=4))
    proc = subprocess.run([sys.executable, "-m", "manybody", "run", str(spec_path), "-o",
                           str(tmp_path / "o.nc")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "seed" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "manybody", "info", str(tmp_path / "none.nc")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_existing_output_and_changed_spec_refused(tmp_path, capsys):
    spec_path = write_spec(tmp_path)
    out = tmp_path / "out.nc"
    assert run_cli(["run", spec_path, "-o", out, "--no-progress"], capsys)[0] == 0
    before = out.read_bytes()
    status, _, err = run_cli(["run", spec_path, "-o", out], capsys)
    assert status == 2 and "--overwrite" in err and out.read_bytes() == before

    # leave a partial checkpoint behind, then change the spec
    out2 = tmp_path / "partial.nc"

    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    with pytest.raises(Stop):
        run_sweep(RunSpec.from_toml(spec_path), output=out2, progress=stop,
                      chunk_size=1)
    changed = write_spec(tmp_path, realisations=3, name="changed.toml")
    status, _, err = run_cli(["run", changed, "-o", out2], capsys)
    assert status == 2
    assert "changed" in err and "realisations" in err and "Traceback" not in err
    assert len(list((checkpoint_dir(out2) / "tasks").glob("*.npz"))) == 1
    # the original spec still resumes
    status, stdout, err = run_cli(["run", spec_path, "-o", out2, "--resume", "--no-progress"],
                                  capsys)
    assert status == 0 and "resumed 1" in stdout


def test_info_on_non_results_file(tmp_path, capsys):
    bogus = tmp_path / "x.nc"
    bogus.write_text("not netcdf")
    status, _, err = run_cli(["info", bogus], capsys)
    assert status == 2 and "is a text file, not a results file" in err and "Traceback" not in err


def test_output_directories_are_created(tmp_path, monkeypatch, capsys):
    spec_path = write_spec(tmp_path)
    monkeypatch.chdir(tmp_path)
    status, stdout, err = run_cli(["run", spec_path, "-o", "results/coupling.nc",
                                   "--no-progress"], capsys)
    assert status == 0, err
    assert "wrote results/coupling.nc" in stdout
    assert load_results(tmp_path / "results" / "coupling.nc").sizes["realisation"] == 2
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["coupling.nc"]


def test_cli_prints_warnings_as_one_line_and_restores_the_format():
    """A warning under a command is one line, its category and message: not the package's file,
    line number and echoed source line (a target_error warning printed
    '.../observe.py:77: RuntimeWarning: ...' and then 'raw = entry.respond(...)'); the format is
    restored after the command."""
    import warnings

    from manybody.cli import app

    before = warnings.formatwarning
    with app.one_line_warnings():
        text = warnings.formatwarning("rung T0=0.1 exceeds target_error", RuntimeWarning,
                                      "/x/manybody/simulation/observe.py", 77,
                                      "raw = entry.respond(...)")
    assert text == "warning (RuntimeWarning): rung T0=0.1 exceeds target_error\n"
    assert warnings.formatwarning is before
    # inside a sweep's task the realisation comes first
    from manybody.runs.lifecycle import computing

    with computing("sweep point 1 (model.n_tls=6), realisation 3"):
        text = app._one_line_warning("rung T0=0.1 exceeds target_error", RuntimeWarning, "f", 1)
    assert text == ("warning (RuntimeWarning): sweep point 1 (model.n_tls=6), realisation 3: "
                    "rung T0=0.1 exceeds target_error\n")


#: SPEC with the Chebyshev solver held to a target_error it cannot meet: every rung warns.
WARNING_SPEC = SPEC.format(realisations=2, n_tls=6).replace(
    'observables = ["absorption", "specific_heat", "spacing_ratio"]',
    'observables = ["absorption"]') + """\
[solver]
method = "chebyshev"
[solver.chebyshev]
target_error = 1e-6
max_vectors = 8
n_vectors = 4
"""


@pytest.mark.parametrize("jobs,backend", [("1", "loky"), ("2", "loky"), ("2", "dask")])
def test_warnings_of_a_run_are_one_line_naming_the_realisation_in_workers_too(tmp_path, jobs,
                                                                              backend):
    """A warning raised in a task (here: target_error missed, every rung of every realisation)
    is one line naming the sweep point and realisation (its repeats one line more), in loky's
    and a local dask cluster's worker processes as in the run's own (session 25: a worker
    printed the package's file, line number and echoed source, two lines each, and no line said
    which realisation it came from)."""
    if backend == "dask":
        pytest.importorskip("dask.distributed")
    spec = write_spec(tmp_path, text=WARNING_SPEC)
    proc = subprocess.run([sys.executable, "-m", "manybody", "run", str(spec), "-o",
                           str(tmp_path / "out.nc"), "--jobs", jobs, "--backend", backend,
                           "--no-progress"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    # 2 points x 2 realisations x 4 rungs: the first shown, the rest counted (session 35: one
    # identical line per realisation)
    assert len(lines) == 2, proc.stderr
    pattern = re.compile(r"warning \(RuntimeWarning\): sweep point [01] "
                         r"\(model\.coupling\.strength=(0|0\.02)\), realisation [01]: rung T0=")
    assert pattern.match(lines[0]), proc.stderr
    assert re.match(r"warning \(RuntimeWarning\): the warning 'rung T0=.*' \(shown once above, "
                    r"for sweep point [01] .*, realisation [01]\) was raised 16 times, by 4 "
                    r"realisations in all$", lines[1]), proc.stderr


def test_an_output_that_is_not_a_regular_file_is_refused_even_with_overwrite(tmp_path, capsys):
    """--overwrite replaced /dev/null with a regular file (session 25): an output that exists and
    is not a regular file (a device, FIFO or socket) is refused before anything is computed."""
    spec_path = write_spec(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    status, _, err = run_cli(["run", spec_path, "-o", fifo, "--overwrite", "--no-progress"],
                             capsys)
    assert status == 2 and "is not a regular file" in err and "Traceback" not in err
    assert fifo.is_fifo() and not checkpoint_dir(fifo).exists()


@pytest.mark.parametrize(("extra", "words"), [
    (["--chunk-size", "100000000"], "--chunk-size must be an integer between 1 and"),
    (["--jobs", "5000"], "--jobs must be an integer between 1 and 4096, got 5000"),
    (["--jobs", "2", "--blas-threads", "64"], "--jobs x --blas-threads = 2 x 64 exceeds"),
    (["--backend", "dask", "--scheduler", "notanaddress"],
     "--scheduler 'notanaddress' is not a dask scheduler address"),
])
def test_run_errors_name_the_options_not_the_library_arguments(tmp_path, capsys, extra, words):
    """The library's argument names (chunk_size, n_jobs, overwrite=True) were printed to
    command-line users (session 25)."""
    pytest.importorskip("dask.distributed")
    spec_path = write_spec(tmp_path)
    status, _, err = run_cli(["run", spec_path, "-o", tmp_path / "o.nc", "--no-progress",
                              *extra], capsys)
    assert status == 2 and words in err, err
    assert "n_jobs" not in err and "chunk_size" not in err
    (tmp_path / "old.nc").write_text("")
    status, _, err = run_cli(["run", spec_path, "-o", tmp_path / "old.nc", "--no-progress"],
                             capsys)
    assert status == 2 and "already exists; pass --overwrite to replace it" in err
    assert not list(tmp_path.glob("*.checkpoint"))


def test_a_file_where_the_checkpoint_goes_is_named(tmp_path, capsys):
    """'[Errno 20] Not a directory: ...checkpoint/tasks' before (a reviewer, session 25)."""
    spec_path = write_spec(tmp_path)
    checkpoint_dir(tmp_path / "o.nc").write_text("")
    status, _, err = run_cli(["run", spec_path, "-o", tmp_path / "o.nc", "--no-progress"], capsys)
    assert status == 2 and "is a file; move it away" in err and "Errno" not in err


def test_a_dangling_link_as_output_is_an_existing_output(tmp_path, capsys):
    """A symbolic link to a missing file was written over (the link replaced by the results)
    without --overwrite (session 25): it is an existing output, refused without --overwrite and
    replaced with it."""
    spec_path = write_spec(tmp_path)
    link = tmp_path / "out.nc"
    link.symlink_to(tmp_path / "missing.nc")
    status, _, err = run_cli(["run", spec_path, "-o", link, "--no-progress"], capsys)
    assert status == 2 and "a link to a missing file" in err and "--overwrite" in err
    assert link.is_symlink() and not checkpoint_dir(link).exists()
    status, _, err = run_cli(["run", spec_path, "-o", link, "--overwrite", "--no-progress"], capsys)
    assert status == 0, err
    assert link.is_file() and not link.is_symlink()


def test_a_scheduler_without_the_dask_backend_and_a_dangling_checkpoint_link_are_named(
        tmp_path, capsys):
    """'scheduler=... needs backend 'dask', got backend 'loky'' used the library's names, and a
    checkpoint location that is a link to a missing directory was '[Errno 17] File exists' (a
    reviewer, session 26)."""
    spec_path = write_spec(tmp_path)
    status, _, err = run_cli(["run", spec_path, "-o", tmp_path / "a.nc", "--scheduler",
                              "tcp://127.0.0.1:1", "--no-progress"], capsys)
    assert status == 2 and "--scheduler 'tcp://127.0.0.1:1' needs --backend dask" in err, err
    output = tmp_path / "b.nc"
    checkpoint_dir(output).symlink_to(tmp_path / "gone")
    status, _, err = run_cli(["run", spec_path, "-o", output, "--no-progress"], capsys)
    assert status == 2 and "is a link to a missing directory" in err and "Errno" not in err, err
    assert not output.exists()


@pytest.mark.parametrize("inside", ["notes.txt", "tasks/notes.txt", "sub/"])
def test_a_folder_of_the_user_where_the_checkpoint_goes_is_not_removed(tmp_path, capsys,
                                                                       inside):
    """`mkdir x.nc.checkpoint; echo precious > x.nc.checkpoint/notes.txt; manybody run ... -o
    x.nc` wrote x.nc and removed the folder with the notes (session 33): a folder without
    meta.json holding files this tool does not write is refused, untouched. What a killed run
    leaves (tasks/ with partial writes, the lock) is still taken."""
    spec_path = write_spec(tmp_path)
    folder = checkpoint_dir(tmp_path / "o.nc")
    target = folder / inside
    target.parent.mkdir(parents=True, exist_ok=True)
    if inside.endswith("/"):
        target.mkdir()
    else:
        target.write_text("precious")
    status, _, err = run_cli(["run", spec_path, "-o", tmp_path / "o.nc", "--no-progress"], capsys)
    assert status == 2, err
    assert "is a folder this tool did not write (no meta.json; it holds" in err, err
    assert inside.rstrip("/") in err
    assert target.exists() and not (tmp_path / "o.nc").exists()
    killed = checkpoint_dir(tmp_path / "k.nc")
    (killed / "tasks").mkdir(parents=True)
    (killed / "lock").write_text("")
    (killed / "tasks" / ".running-123").write_text("")
    (killed / "tasks" / "p000000_r000000-000002.npz.abc.tmp").write_text("")
    status, _, err = run_cli(["run", spec_path, "-o", tmp_path / "k.nc", "--no-progress"], capsys)
    assert status == 0, err
    assert (tmp_path / "k.nc").is_file() and not killed.exists()


def test_a_large_sweep_says_it_is_being_checked_before_the_silence(tmp_path, monkeypatch,
                                                                    capsys):
    """A 2e5-point sweep sat silent for a minute before its progress bar (every point is checked
    twice first; a new user, session 35): above ANNOUNCED_POINTS one line says so at once."""
    from manybody.cli import run as run_command

    spec = write_spec(tmp_path)  # 2 sweep points
    monkeypatch.setattr(run_command, "ANNOUNCED_POINTS", 1)
    run_command._say_when_checking_takes_long(str(spec))
    assert "checking 2 sweep points before any work" in capsys.readouterr().err
    monkeypatch.setattr(run_command, "ANNOUNCED_POINTS", 2)
    run_command._say_when_checking_takes_long(str(spec))
    run_command._say_when_checking_takes_long(str(tmp_path / "missing.toml"))  # RunSpec's to say
    assert capsys.readouterr().err == ""


def test_version_names_the_package_and_its_commit(capsys):
    """There was no `manybody --version` (a new user, session 37): it prints the version a
    results file records and, in a checkout, the commit."""
    import manybody
    from manybody.cli.app import main
    from manybody.support.provenance import git_commit_and_dirty

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"manybody {manybody.__version__}")
    commit, _ = git_commit_and_dirty()
    assert (commit in out) if commit else "git" not in out


@pytest.mark.parametrize(("method", "cached", "noted"), [
    ("chebyshev", False, True), ("chebyshev", True, False), ("dense", False, False),
    ("chebyshev_sparse", False, False)])
def test_a_run_says_when_the_chebyshev_kernels_will_compile(tmp_path, monkeypatch, capsys,
                                                            method, cached, noted):
    """The first Chebyshev run in a new checkout spent 20-27 s compiling with no word (the bar
    showed 27 s per realisation, then 0.5 s; a new user, session 37): a note says so before the
    run when the kernels are not in numba's cache. A run on the sparse operators (N <= 12 by
    default) compiles none of them: no note there (it was printed before every such run of
    3-5 s; a break test, session 54)."""
    import manybody.runs.sweep as sweep
    import manybody.simulation.solvers.chebyshev.compiled as compiled
    from manybody.cli.app import main

    spec = tmp_path / "spec.toml"
    spec.write_text('name = "c"\nseed = 1\nrealisations = 1\n[model]\nn_tls = 4\n'
                    '[probe]\nfrequencies = [0.1]\ntemperatures = [0.05, 0.1]\n'
                    f'[solver]\nmethod = "{method.removesuffix("_sparse")}"\n'
                    + ('[solver.chebyshev]\noperator = "matrix_free"\n'
                       if method == "chebyshev" else ""))
    monkeypatch.setattr(compiled, "kernels_cached", lambda: cached)

    def stop(*args, **kwargs):
        raise ValueError("stopped before any work")

    monkeypatch.setattr(sweep, "run_sweep", stop)
    assert main(["run", str(spec), "-o", str(tmp_path / "o.nc")]) == 2
    err = capsys.readouterr().err
    assert ("compiles its kernels on first use" in err) is noted, err


def test_kernels_cached_finds_the_cache_of_this_checkout(tmp_path, monkeypatch):
    from manybody.simulation.solvers.chebyshev import compiled

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiled, "__file__", str(tmp_path / "pkg" / "compiled.py"))
    assert not compiled.kernels_cached()
    (tmp_path / "deep" / "x").mkdir(parents=True)
    (tmp_path / "deep" / "x" / "run_kernel.step-12.py311.nbi").write_bytes(b"")
    assert compiled.kernels_cached()

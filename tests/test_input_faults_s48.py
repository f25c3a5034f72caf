"""Faults found in session 48 (items left open by session 47, then break tests of reproducible and
concurrent use and of the documentation's promises), each with the right behaviour."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# ------------------------------------------------ numba's disk cache failing at run time (s47)

_KERNEL_CALL = """
    import logging
    logging.basicConfig(format="%(levelname)s %(message)s")
    from manybody.simulation.observables.pair_kernels import line_kernel, pair_sum
    print(repr(line_kernel(0, 0.1, 1.0, 5.0)))
"""


def _call_kernel(cache_dir, limit_file_blocks=None):
    def limit_it():
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (512 * limit_file_blocks,) * 2)

    return subprocess.run([sys.executable, "-c", textwrap.dedent(_KERNEL_CALL)],
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=limit_it if limit_file_blocks else None,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)})


@pytest.mark.parametrize("damage", ["garbage index", "index is a folder", "garbage data",
                                    "file size limit"])
def test_a_cache_numba_cannot_read_or_write_is_a_miss_not_the_end_of_the_run(tmp_path, damage):
    """A cache numba finds but cannot use (another user's unreadable index, a full disk, a
    file-size limit, a corrupt file) ended every run in that error; now the kernel is compiled in
    memory, with one warning naming NUMBA_CACHE_DIR, and gives the same value."""
    cache = tmp_path / "cache"
    clean = _call_kernel(cache)
    assert clean.returncode == 0, clean.stderr
    assert "WARNING" not in clean.stderr
    if damage == "file size limit":
        for old in cache.rglob("*"):
            if old.is_file():
                old.unlink()
        damaged = _call_kernel(cache, limit_file_blocks=1)
    else:
        pattern = "*line_kernel*.nbc" if damage == "garbage data" else "*line_kernel*.nbi"
        files = list(cache.rglob(pattern))
        assert files
        for path in files:
            path.unlink()
            if damage == "index is a folder":
                path.mkdir()
            else:
                path.write_bytes(b"\x00not numba's pickle\xff" * 3)
        damaged = _call_kernel(cache)
    assert damaged.returncode == 0, damaged.stderr
    assert damaged.stdout == clean.stdout
    warnings = [line for line in damaged.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1, damaged.stderr
    assert f"disk cache of compiled kernels in {cache}" in warnings[0]
    assert "Traceback" not in damaged.stderr
    if damage == "file size limit":  # no room: the way out is another folder
        assert "set NUMBA_CACHE_DIR to a folder" in warnings[0]
        return
    # a damaged index is removed and written again: the next process reads the cache quietly
    # (it failed, warned and recompiled in every run; a second break test, session 48)
    assert "index file was removed" in warnings[0]
    again = _call_kernel(cache)
    assert again.returncode == 0 and again.stdout == clean.stdout
    assert "WARNING" not in again.stderr, again.stderr


# ------------------------------------------------ results files check their own bytes (s47)

@pytest.fixture(scope="module")
def sealed_results(tmp_path_factory):
    """A small results file written by save_results, and the Dataset it holds."""
    import numpy as np
    import xarray as xr

    from manybody.runs.results import save_results

    rng = np.random.default_rng(5)
    ds = xr.Dataset(
        {"absorption": (("temperature", "realisation"), rng.random((7, 3))),
         "label": (("temperature",), np.array([f"t{i}" for i in range(7)]))},
        coords={"temperature": np.linspace(0.01, 1.0, 7), "realisation": np.arange(3)},
        attrs={"spec": '{"name": "sealed", "seed": 1}', "seed": 1})
    path = tmp_path_factory.mktemp("sealed") / "r.nc"
    save_results(ds, path)
    return path, ds


def test_every_change_of_a_results_file_is_refused_before_hdf5_reads_it(sealed_results,
                                                                        tmp_path):
    """Zeroing 16 random bytes of a results file went unnoticed in 5 of 150 tries: a variable
    read back as NaN (its chunk index lost), a character of the stored spec changed (HDF5's
    global heap has no checksum); other damage made HDF5 loop for ever. Every change of the
    file's bytes is now refused, naming the file, before HDF5 parses it."""
    import numpy as np

    from manybody.runs.results import load_results

    path, ds = sealed_results
    data = path.read_bytes()
    loaded = load_results(path)
    assert loaded.identical(ds)  # the checksum attribute describes the file: dropped on reading
    rng = np.random.default_rng(48)
    bad = tmp_path / "bad.nc"
    for start in [*rng.integers(0, len(data) - 16, 120), 0, len(data) - 16]:
        damaged = bytearray(data)
        damaged[start:start + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
        assert damaged != data
        bad.write_bytes(bytes(damaged))
        with pytest.raises(ValueError, match=r"bad\.nc' is damaged: its bytes changed"):
            load_results(bad)
    for cut in (1, len(data) // 2):
        bad.write_bytes(data[:-cut])
        with pytest.raises(ValueError, match="is damaged"):
            load_results(bad)


def test_results_files_without_a_checksum_still_read_and_a_kept_attribute_is_named(
        sealed_results, tmp_path):
    """Files written before checksums (or by another program) are read unchecked; a file another
    program rewrote, keeping the attribute, is refused with the way out named, and that way
    works (deleting the attribute in place did not: HDF5 leaves its text in the file, a second
    break test, session 48)."""
    import h5py
    import xarray as xr

    from manybody.runs.results import FILE_CHECKSUM, load_results

    path, ds = sealed_results
    old = tmp_path / "old.nc"
    ds.to_netcdf(old, engine="h5netcdf")
    assert load_results(old).identical(ds)
    rewritten = tmp_path / "rewritten.nc"
    with xr.open_dataset(path, engine="h5netcdf") as kept:
        assert kept.attrs[FILE_CHECKSUM].startswith("manybody-results:")
        kept.load().to_netcdf(rewritten, engine="h5netcdf")
    edited = tmp_path / "edited.nc"
    edited.write_bytes(path.read_bytes())
    with h5py.File(edited, "a") as handle:
        del handle.attrs[FILE_CHECKSUM]
    for changed in (rewritten, edited):
        with pytest.raises(ValueError, match=r"write it anew without the attribute \(ds = "
                                             r"xarray\.load_dataset\(path\); del ds\.attrs"):
            load_results(changed)
        assert load_results(changed, verify=False).identical(ds)
    anew = xr.load_dataset(rewritten, engine="h5netcdf")  # the way the message gives
    del anew.attrs[FILE_CHECKSUM]
    anew.to_netcdf(tmp_path / "anew.nc", engine="h5netcdf")
    assert load_results(tmp_path / "anew.nc").identical(ds)
    with pytest.raises(TypeError, match="verify"):
        load_results(path, verify="no")


def test_content_that_quotes_the_checksum_tag_is_saved_and_checked(sealed_results, tmp_path):
    """A spec named 'manybody-results:sha256:' computed every realisation and then could not be
    saved ("holds its checksum text 4 times"), on every rerun (a second break test, session 48):
    each file's checksum text now carries a random nonce."""
    from manybody.runs.results import FILE_CHECKSUM, load_results, save_results

    path, ds = sealed_results
    quoting = ds.copy()
    quoting.attrs["spec"] = ('{"name": "manybody-results:sha256:' + "0" * 64 + '", "n": '
                             f'"{load_results(path, verify=False).attrs.get("spec")}"}}')
    with_tag = tmp_path / "quoting.nc"
    save_results(quoting, with_tag)
    first = with_tag.read_bytes()
    assert load_results(with_tag).identical(quoting)
    save_results(quoting, with_tag, overwrite=True)
    assert with_tag.read_bytes() != first  # another nonce, the same content
    assert FILE_CHECKSUM not in load_results(with_tag).attrs
    damaged = bytearray(with_tag.read_bytes())
    damaged[len(damaged) // 3] ^= 1
    with_tag.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="is damaged"):
        load_results(with_tag)


def test_the_seal_is_exactly_one_sha256_of_the_bytes():
    """seal/check_seal against hashlib directly; a text present twice is refused."""
    import hashlib

    from manybody.support.sealed_bytes import check_seal, placeholder, seal

    text = placeholder("t")
    assert text.startswith("t:") and text.endswith(":sha256:" + "0" * 64) and len(text) == 90
    data = b"head " + text.encode() + b" tail"
    sealed = seal(data, text)
    assert len(sealed) == len(data) and check_seal(sealed, "t") is True
    assert sealed.split(b":sha256:")[1][:64] == hashlib.sha256(data).hexdigest().encode()
    assert check_seal(b"head tail", "t") is None
    assert check_seal(sealed[:-1] + b"X", "t") is False
    assert check_seal(b"quoted t:" + b"0" * 16 + b":sha256:" + b"0" * 64 + b" " + sealed, "t") \
        is False  # the bytes changed: no text's checksum matches
    assert check_seal(sealed + b" t:" + b"0" * 16 + b":sha256:" + b"1" * 64, "t") is False
    unnonced = b"head t:sha256:" + b"0" * 64 + b" tail"  # the first sealed files' form
    first_form = unnonced.replace(b"0" * 64, hashlib.sha256(unnonced).hexdigest().encode())
    assert check_seal(first_form, "t") is True
    assert check_seal(first_form.replace(b"tail", b"tall"), "t") is False
    quoted = b"quoted t:" + b"0" * 16 + b":sha256:" + b"0" * 64 + b" " + data
    assert check_seal(seal(quoted, text), "t") is True
    with pytest.raises(ValueError, match="2 times, expected once"):
        seal(data + text.encode(), text)


# ------------------------------------------------ a stop signal while a finished run exits

_FINISHED_SPEC = """\
name = "finished"
seed = 3
realisations = 4
[model]
n_tls = 3
[sweep]
"model.coupling.strength" = [0.0, 0.02]
[model.coupling]
kind = "dipolar"
strength = 0.0
[probe]
frequencies = [0.1]
temperatures = { x_min = 0.5, x_max = 5.0, count = 3 }
observables = ["absorption"]
"""


def _finished_spec(folder):
    """The RunSpec of :data:`_FINISHED_SPEC` (8 realisations over 2 sweep points)."""
    from manybody.runs.spec import RunSpec

    path = folder / "spec.toml"
    path.write_text(_FINISHED_SPEC)
    return RunSpec.from_toml(path)


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_a_stop_after_the_wrote_line_leaves_a_finished_run_finished(tmp_path, stop):
    """After "wrote ..." the process lives on for about a second (loky's workers stopped, the
    interpreter shut down) with the command's handlers gone: SIGTERM there gave status 143 with
    no message, Ctrl-C loky's KeyboardInterrupt traceback, 6 times in 6 (a break test, session
    48). Now the status is the command's, 0, and the workers still go."""
    import contextlib
    import signal
    import time

    import psutil

    spec = tmp_path / "spec.toml"
    spec.write_text(_FINISHED_SPEC)
    out = tmp_path / "out.nc"

    def defaults():
        for sig in (signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)

    proc = subprocess.Popen([sys.executable, "-u", "-m", "manybody", "run", str(spec), "-o",
                             str(out), "-j", "2", "--no-progress"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=defaults)
    line = proc.stdout.readline()
    assert line.startswith("wrote"), (line, proc.communicate())
    workers = psutil.Process(proc.pid).children(recursive=True)
    # the same stop every 0.1 s until the process is gone: the last line, the command's return
    # and Python's shut-down, when Python has put the default actions back (a second break
    # test: 21 of 25 runs ended 143 there)
    signals = 0
    while proc.poll() is None and signals < 100:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(getattr(signal, stop))
        signals += 1
        time.sleep(0.1)
    rest, errors = proc.communicate(timeout=60)
    assert signals >= 2
    assert proc.returncode == 0, errors
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
    from manybody.runs.results import load_results

    assert int(load_results(out)["realisation_count"].sum()) == 8
    deadline = time.monotonic() + 30
    while any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers):
        assert time.monotonic() < deadline, "loky's workers outlived the finished run"
        time.sleep(0.1)


# ------------------------------------------------ a checkpoint removed under its lock (helper-145)

def test_a_run_that_locks_a_checkpoint_on_its_way_out_starts_again_at_the_path(tmp_path,
                                                                               monkeypatch):
    """A finished run released its checkpoint's lock and then deleted the folder: a second run
    (overwrite=True) that took the lock in between read half-deleted task files (471 warnings)
    and lost its own tasks/ folder to the first run's deletion (a traceback). The finishing run
    now renames the folder away under its lock; a run left holding the lock of the renamed folder
    starts again at the path. Here the second run opens the lock file just before the first
    run's removal, the interleaving of the race."""
    import fcntl

    from manybody.runs import checkpoint as checkpoint_module
    from manybody.runs.checkpoint import Checkpoint, checkpoint_dir

    spec = _finished_spec(tmp_path)
    directory = checkpoint_dir(tmp_path / "out.nc")
    first = Checkpoint(directory, spec, 1)
    first.open()
    (first.tasks / "finished-by-the-first-run.npz").write_bytes(b"x")
    real_flock = fcntl.flock
    calls = []

    def flock_after_the_first_run_finishes(handle, operation):
        if not calls:
            first.remove()  # renames the folder away, releases its lock, deletes it
        calls.append(operation)
        return real_flock(handle, operation)

    monkeypatch.setattr(checkpoint_module.fcntl, "flock", flock_after_the_first_run_finishes)
    second = Checkpoint(directory, spec, 1)
    second.open()
    assert len(calls) == 2  # the first lock was the renamed folder's: taken again at the path
    assert directory.is_dir() and not any(second.tasks.iterdir())
    assert not list(tmp_path.glob(".out.nc.checkpoint.removed-*"))
    with pytest.raises(FileExistsError, match="another run is using the checkpoint"):
        Checkpoint(directory, spec, 1).open()
    second.remove()
    assert not directory.exists() and not list(tmp_path.glob(".*removed-*"))


def test_a_removal_stopped_before_its_deletion_is_finished_by_the_next_run(tmp_path):
    from manybody.runs.checkpoint import Checkpoint, checkpoint_dir

    spec = _finished_spec(tmp_path)
    stale = tmp_path / ".out.nc.checkpoint.removed-123-456"
    (stale / "tasks").mkdir(parents=True)
    checkpoint = Checkpoint(checkpoint_dir(tmp_path / "out.nc"), spec, 1)
    checkpoint.open()
    assert not stale.exists()
    checkpoint.close()


# ------------------------------------------------ the public API's model argument (helper-146)

def _public_parameters(annotation):
    """(name, function, its parameters, parameter) for every parameter of a public function of
    ``manybody`` whose annotation mentions ``annotation``."""
    import inspect

    import manybody as mb

    for name in mb.__all__:
        function = getattr(mb, name)
        if inspect.isclass(function) or not callable(function):
            continue
        parameters = inspect.signature(function).parameters
        for parameter in parameters.values():
            if annotation in str(parameter.annotation):
                yield name, function, parameters, parameter


def test_every_public_function_taking_a_model_refuses_a_non_model_by_name():
    """frozen_fraction({}) was an AttributeError ('dict' object has no attribute
    'equilibration'), where every other public function taking params refused it by name. Every
    public function with a ModelParams parameter is tried here, found by its signature."""
    import inspect

    import numpy as np

    import manybody as mb

    probe = mb.Probe(frequencies=(0.1,), temperatures=(0.1,))
    other = {"rng": np.random.default_rng(0), "seed": 1, "realisations": 2, "realisation": 0,
             "temperatures": [0.1], "probe": probe, "solver": None}
    found = []
    for name, function, parameters, model in _public_parameters("ModelParams"):
        found.append(name)
        for bad in ({}, None, "canonical"):
            arguments = {p: other[p] for p, spec in parameters.items()
                         if p != model.name and spec.default is inspect.Parameter.empty}
            with pytest.raises(TypeError, match=rf"^{model.name} must be a ModelParams"):
                function(**{model.name: bad}, **arguments)
    assert {"frozen_fraction", "draw_realisation", "observe",
            "absorption_normalisation"} <= set(found)


# ------------------------------------------------ a stop just after a chunk's file is written

@pytest.mark.parametrize("chunks_before_the_stop", [1, 3])
def test_a_chunk_written_just_before_a_stop_is_counted_and_kept(tmp_path, monkeypatch,
                                                                 chunks_before_the_stop):
    """A stop after a chunk's file was written, before the run counted it, said one chunk fewer
    than the resume then took (871 of 900 kept, 881 resumed; helper-145), and with no chunk
    counted yet the checkpoint, holding that file, was removed as empty."""
    from manybody.runs.checkpoint import Checkpoint
    from manybody.runs.sweep import run_sweep

    spec = _finished_spec(tmp_path)
    out = tmp_path / "out.nc"
    real_write = Checkpoint.write
    written = []

    def write_then_stop(self, point, start, result, *raised):
        real_write(self, point, start, result, *raised)
        written.append((point, start))
        if len(written) == chunks_before_the_stop:
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "write", write_then_stop)
    with pytest.raises(KeyboardInterrupt) as stopped:
        run_sweep(spec, output=out, n_jobs=1, chunk_size=1, progress=False)
    kept = chunks_before_the_stop
    assert stopped.value.kept.startswith(f"{kept} of 8 realisations are kept"), stopped.value.kept
    monkeypatch.setattr(Checkpoint, "write", real_write)
    ds = run_sweep(spec, output=out, n_jobs=1, chunk_size=1, progress=False)
    assert int(ds.attrs["tasks_resumed"]) == kept


# ------------------------------------------------ damaged checkpoints, in words (helper-147)

def test_a_checkpoint_whose_tasks_folder_is_a_file_is_named_damaged(tmp_path):
    """A file where the checkpoint's tasks/ folder should be was "[Errno 17] File exists"."""
    from manybody.runs.checkpoint import Checkpoint, checkpoint_dir

    directory = checkpoint_dir(tmp_path / "out.nc")
    directory.mkdir()
    (directory / "tasks").write_text("not a folder")
    with pytest.raises(ValueError, match=r"is damaged: .*tasks' is a file, not a folder; delete"):
        Checkpoint(directory, _finished_spec(tmp_path), 1).open()


def test_a_task_file_of_other_bytes_is_recomputed_without_advice_to_unpickle(tmp_path, caplog):
    """A task file holding text was recomputed (right), with numpy's words "contains pickled
    (object) data ... load it unsafely using allow_pickle=" (misleading, and unsafe advice)."""
    import numpy as np

    from manybody.runs.checkpoint import load_task_file

    path = tmp_path / "p000000_r000000-000001.npz"
    for content in (b"plain text\n", b"\x80\x04K\x01.", b""):
        path.write_bytes(content)
        with pytest.raises(ValueError, match="not a numpy .npz archive") as refused:
            load_task_file(path, 1, False, None)
        assert "pickle" not in str(refused.value)
    np.savez(path, absorption=np.zeros((1, 3)))
    assert load_task_file(path, 1, False, None)["absorption"].shape == (1, 3)


# ------------------------------------------------ two runs of one output at its finish (helper-148)

def _open_after(monkeypatch, before_the_lock):
    """Checkpoint.open that first runs ``before_the_lock()`` (another run's step, in between)."""
    from manybody.runs.checkpoint import Checkpoint

    real_open = Checkpoint.open
    done = []

    def open_later(self, *args, **kwargs):
        if not done:
            done.append(True)
            before_the_lock()
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Checkpoint, "open", open_later)


def test_the_run_that_loses_the_lock_leaves_the_winners_checkpoint(tmp_path, monkeypatch):
    """The loser of the lock removed a checkpoint it thought it had created, the winner's: the
    winner then failed on its meta file (15 of 200 rounds; a break test, session 48)."""
    from manybody.runs.checkpoint import Checkpoint, checkpoint_dir
    from manybody.runs.sweep import _open_checkpoint

    spec = _finished_spec(tmp_path)
    out = tmp_path / "out.nc"
    winner = Checkpoint(checkpoint_dir(out), spec, 1)
    _open_after(monkeypatch, winner.open)
    with pytest.raises(FileExistsError, match="another run is using the checkpoint"):
        _open_checkpoint(spec, out, 1, resume=False)
    assert (winner.directory / "meta.json").is_file()
    winner.end_stretch(1.0, 0, "interrupted")  # the winner still writes its meta file
    winner.remove()


def test_an_output_finished_by_another_run_while_this_one_started_is_not_recomputed(
        tmp_path, monkeypatch):
    """A run that checked the output just before another run finished it took the freed lock,
    computed everything again and failed on "already exists", leaving a full checkpoint marked
    failed beside the good file (1 in 60 synchronised pairs; a break test, session 48)."""
    from manybody.runs.sweep import run_sweep

    spec = _finished_spec(tmp_path)
    out = tmp_path / "out.nc"
    _open_after(monkeypatch, lambda: out.write_bytes(b"the other run's results"))
    with pytest.raises(FileExistsError, match="was written by another run while this one "
                                              "started; nothing was computed"):
        run_sweep(spec, output=out, n_jobs=1, progress=False)
    assert out.read_bytes() == b"the other run's results"
    assert not (tmp_path / "out.nc.checkpoint").exists()


def test_every_public_function_taking_a_path_refuses_a_non_path_by_name():
    """load_results, save_results, read_loss_table and execute_study given None or a dict got
    Python's "expected str, bytes or os.PathLike object", naming no parameter (a second break
    test, session 48). Found by signature: every public function with a path parameter."""
    import inspect

    import xarray as xr

    other = {"ds": xr.Dataset(), "spec": None}
    found = []
    for name, function, parameters, parameter in _public_parameters("Path"):
        if name == "run_sweep":  # its output may be None (no file): tested in test_api_inputs
            continue
        found.append(name)
        for bad in (None, {"path": "x"}, 3):
            arguments = {p: other[p] for p, spec in parameters.items()
                         if p != parameter.name and spec.default is inspect.Parameter.empty}
            with pytest.raises(TypeError, match=rf"^{parameter.name} must be a file path"):
                function(**{parameter.name: bad}, **arguments)
    assert {"load_results", "save_results", "read_loss_table", "execute_study"} <= set(found)


@pytest.mark.parametrize("seed", [None, "abc", 1.5, -3, 2**70])
def test_frozen_fraction_checks_its_seed_without_equilibration_too(seed):
    import manybody as mb

    with pytest.raises((TypeError, ValueError), match="seed"):
        mb.frozen_fraction(mb.ModelParams(n_tls=3), seed, 2, [0.1])

"""The checkpoint of a run: one ``.npz`` per finished task in ``<output>.checkpoint/tasks/``, plus
the spec they belong to, so that a crash, Ctrl-C or ``kill -9`` loses nothing that had finished and
rerunning the same command skips finished realisations (whatever chunking wrote them)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import sys
import time
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from manybody.runs.lifecycle import ABSENT, Chunk, TaskKey, show_change
from manybody.runs.spec import RunSpec
from manybody.support import validate as v
from manybody.support.files import atomic_write, atomic_write_text
from manybody.support.provenance import code_version, git_state, now_utc, package_version

log = logging.getLogger(__name__)

#: What reading a damaged task file raises (truncated, empty, overwritten, foreign): such a file
#: is recomputed by a run and shown as damaged by ``manybody info``.
DAMAGED_FILE_ERRORS = (OSError, ValueError, EOFError, KeyError, IndexError, TypeError,
                       zipfile.BadZipFile, zlib.error, StopIteration)

#: Checkpoint layout version (stored in its meta file).
CHECKPOINT_VERSION = 2
#: Checkpoint file of a chunk: p<point>_r<start>-<stop>.npz (a single "_r<r>" is one realisation,
#: the layout of version 1).
CHUNK_FILE = re.compile(r"p(\d+)_r(\d+)(?:-(\d+))?\.npz")


def checkpoint_dir(output: str | Path) -> Path:
    """Directory holding the checkpoint of a run writing ``output``: ``<output>.checkpoint``."""
    output = Path(v.path("output", output))
    return output.with_name(output.name + ".checkpoint")


def finished_counts(output: str | Path | None, spec: Any) -> np.ndarray:
    """Realisations per sweep point (shape (n_points,)) already finished in the checkpoint of a
    run of ``spec`` writing ``output``, from the task files' names alone (nothing is loaded or
    locked): zeros when there is no checkpoint or one of another spec (which a resume would
    refuse or restart). For the cost a run announces: a resume was told the whole run's cost
    (session 62's note)."""
    counts = np.zeros(spec.n_points, dtype=np.int64)
    if output is None:
        return counts
    try:
        directory = checkpoint_dir(output)
        meta = json.loads((directory / Checkpoint.META).read_text(encoding="utf-8"))
        if meta.get("spec_sha256") != spec.digest():
            return counts
        names = [entry.name for entry in (directory / "tasks").iterdir()]
    except (OSError, ValueError, TypeError, AttributeError):
        return counts
    for name in names:
        match = CHUNK_FILE.fullmatch(name)
        if match and int(match.group(1)) < spec.n_points:
            start = int(match.group(2))
            counts[int(match.group(1))] += int(match.group(3) or start + 1) - start
    return np.minimum(counts, spec.realisation_counts.ravel())


def spec_differences(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) of every leaf where two spec dicts differ, e.g.
    ``("model.coupling.strength", 0.0, 0.1)``; a key missing on one side has the value
    ``ABSENT``. Lists are leaves (``probe.temperatures`` holds the resolved temperatures).
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            dotted = f"{prefix}.{key}" if prefix else str(key)
            out += spec_differences(old.get(key, ABSENT), new.get(key, ABSENT), dotted)
        return out
    return [] if old == new else [(prefix or "spec", old, new)]


#: Entries of a task file that say what it holds (the spec's digest, the sweep point, the first
#: realisation), checked against its name and the run when it is resumed: a task file copied under
#: another point's name was taken as that point's (a new user, session 35). Observables are named
#: without a leading underscore.
TASK_IDENTITY = ("_spec_sha256", "_point", "_first_realisation")
#: Entry of a task file naming the stretch of the run that computed it: its index in the meta
#: file's ``stretches`` (which code version, backend and jobs; session 37). Files without it
#: (written before) count as the first stretch's.
TASK_STRETCH = "_stretch"
#: Entry of a task file: the wall time (s) from its stretch's start to its writing. A stretch
#: killed outright (SIGKILL, power cut) records no end; its wall time is then taken to its last
#: finished task (session 37's note: the run's total wall time was a silent lower bound).
TASK_ELAPSED = "_stretch_elapsed_s"
#: The warnings the task's realisations raised, a JSON list of [category, message, where]: a
#: stretch killed outright (SIGKILL) records no summary at its end, and its warnings were lost
#: from the results file (session 54's note); they are rebuilt from its task files.
TASK_WARNINGS = "_warnings"
_TASK_EXTRAS = (TASK_STRETCH, TASK_ELAPSED, TASK_WARNINGS)


def stretch_record(backend: str | None = None, n_jobs: int | None = None,
                   scheduler: str | None = None) -> dict[str, Any]:
    """What a checkpoint records of one stretch of a run (from a start or resume to its end):
    the code that computed it and how; ``wall_time_s``, ``tasks_computed`` and ``outcome``
    ("running", then "finished", "interrupted" or "failed") are filled in when it ends."""
    commit, dirty = git_state()
    return {"code": code_version(), "manybody_version": package_version("manybody"),
            "git_commit": commit, "git_dirty": dirty, "backend": backend,
            "n_jobs": None if n_jobs is None else int(n_jobs),
            "scheduler": (scheduler or "LocalCluster") if backend == "dask" else None,
            "started": now_utc(), "wall_time_s": None, "tasks_computed": None,
            "outcome": "running"}


def _earlier_stretch(meta: dict[str, Any]) -> dict[str, Any]:
    """The stretch of a meta file written before stretches were recorded: its code, the rest
    unknown."""
    code = str(meta.get("code", "unknown"))
    version, _, commit = code.partition(" (")
    commit = commit.rstrip(")").removesuffix("+dirty") or "unknown"
    return {"code": code, "manybody_version": version or "unknown", "git_commit": commit,
            "git_dirty": "true" if code.endswith("+dirty)") else "unknown", "backend": None,
            "n_jobs": None, "scheduler": None, "started": None, "wall_time_s": None,
            "tasks_computed": None, "outcome": "unknown"}


#: Names this tool writes in a checkpoint's tasks/ folder: results, their partial writes and
#: the records of running tasks.
_OWN_TASK_FILE = re.compile(r"\.?[\w.-]*\.npz(\.[\w.-]*\.tmp)?|\.running-[\w.-]*")


def foreign_entries(directory: Path) -> list[str]:
    """Paths (relative to ``directory``) that this tool did not write, when the directory holds
    no meta.json: such a folder is not a checkpoint, and a run would have removed it with the
    user's files in it when it finished (session 33). Empty when meta.json exists, when the
    directory does not, or when every entry is one of ours (``tasks/`` with results, partial
    writes and task records, the lock, a partial meta.json: what a killed run leaves)."""
    directory = Path(directory)
    if not directory.is_dir() or (directory / Checkpoint.META).is_file():
        return []
    return entries_not_ours(directory)


def entries_not_ours(directory: Path) -> list[str]:
    """Paths (relative to ``directory``, a checkpoint) that this tool did not write: every
    entry but ``meta.json``, the lock, the spec's copy, their partial writes and ``tasks/``
    with its task files (:func:`foreign_entries` asks this of a folder without meta.json)."""
    foreign = []
    for entry in sorted(Path(directory).iterdir()):
        if entry.name == "lock" and entry.is_file() or _own_record(entry):
            continue
        if entry.name == "tasks" and entry.is_dir() and not entry.is_symlink():
            foreign += [f"tasks/{p.name}" for p in sorted(entry.iterdir())
                        if not (p.is_file() and _OWN_TASK_FILE.fullmatch(p.name))]
            continue
        foreign.append(entry.name)
    return foreign


def _own_record(entry: Path) -> bool:
    """Whether ``entry`` of a checkpoint is its meta.json or spec copy, or a partial write of
    either (``.meta.json.<random>.tmp``)."""
    names = (Checkpoint.META, Checkpoint.SPEC_COPY)
    return (entry.name in names and entry.is_file()) or (
        entry.name.lstrip(".").startswith(names) and entry.name.endswith(".tmp"))


def load_task_file(path: Path, size: int, single: bool,
                   identity: tuple[str, int, int] | None) -> dict[str, np.ndarray]:
    """The arrays of one task file, as a run accepts them, or one of DAMAGED_FILE_ERRORS saying
    why not: unreadable, its own record (:data:`TASK_IDENTITY`) not ``identity`` (spec digest,
    sweep point, first realisation: what its name and the run say; None skips this, for a
    checkpoint whose spec is unknown), or another number of realisations than its name's
    ``size``. ``manybody info`` uses the same test (it counted files a run recomputes as
    finished; a break test, session 45)."""
    if not zipfile.is_zipfile(path):  # np.load reads any other bytes as a pickle, which it
        # refuses with advice to "load it unsafely using allow_pickle=" (a second break test,
        # session 48): a task file is an .npz archive, and nothing else is loaded
        raise ValueError("not a numpy .npz archive (truncated, overwritten or another kind of "
                         "file)")
    with np.load(path, allow_pickle=False) as data:
        result = {name: data[name] for name in data.files}
    recorded = [result.pop(name, None) for name in TASK_IDENTITY]
    if TASK_STRETCH in result:
        result[TASK_STRETCH] = int(result[TASK_STRETCH])
    if TASK_ELAPSED in result:
        result[TASK_ELAPSED] = float(result[TASK_ELAPSED])
    if TASK_WARNINGS in result:
        result[TASK_WARNINGS] = json.loads(str(result[TASK_WARNINGS]))
    if recorded[0] is not None and identity is not None:
        own = (str(recorded[0]), int(recorded[1]), int(recorded[2]))
        if own != identity:
            raise ValueError(f"it records spec {own[0][:12]}..., sweep point {own[1]}, "
                             f"first realisation {own[2]}; its name and the run say "
                             f"{identity[0][:12]}..., {identity[1]}, {identity[2]}")
    if not single and any(len(a) != size for name, a in result.items()
                          if name not in _TASK_EXTRAS):
        raise ValueError(f"holds {len(next(iter(result.values())))} realisations, "
                         f"its name says {size}")
    return result


class Checkpoint:
    """Finished tasks of one run, one ``.npz`` per task, plus the spec they belong to.

    Parameters
    ----------
    directory : Path
        ``<output>.checkpoint``.
    spec : RunSpec
        The run; a checkpoint written by a different spec is refused.
    blas_threads : int
        BLAS threads per task (part of what fixes the numbers, so it must match too).
    """

    META = "meta.json"
    #: A copy of the spec's TOML text as the run read it (:meth:`open`).
    SPEC_COPY = "spec.toml"

    def __init__(self, directory: Path, spec: RunSpec, blas_threads: int) -> None:
        self.directory = Path(directory)
        self.tasks = self.directory / "tasks"
        self.spec = spec
        self.blas_threads = blas_threads
        self._lock: Any = None
        self._removing = False  # :meth:`remove` has begun
        self._in_place = False  # ... and deletes the directory under its own name
        self._keeping = False  # ... and keeps it for the files a user put into it
        self._digest = spec.digest()  # recorded in every task file and checked on resume
        #: the meta file's content, with this run's stretch last once open
        self.meta: dict[str, Any] = {}
        #: index of this run's stretch in ``meta["stretches"]`` (set by :meth:`open`)
        self.stretch = 0
        #: (point, realisation) -> index of the stretch that computed it, for loaded results
        self.origins: dict[TaskKey, int] = {}
        #: stretch index -> the latest TASK_ELAPSED of its task files (loaded results)
        self.elapsed: dict[int, float] = {}
        #: stretch index -> the warnings its loaded task files record, [category, message, where]
        self.task_warnings: dict[int, list[list[str]]] = {}
        self._opened = time.monotonic()

    def _meta(self) -> dict[str, Any]:
        # the command line and folder of the run, for info's "to resume" (it told a study's user
        # to run 'manybody run SPEC', and left out an --overwrite the run needed; session 36)
        return {"version": CHECKPOINT_VERSION, "spec_sha256": self._digest,
                "blas_threads": self.blas_threads, "code": code_version(),
                "spec": self.spec.to_dict(), "command": list(sys.argv), "cwd": os.getcwd(),
                "stretches": []}

    def exists(self) -> bool:
        return (self.directory / self.META).is_file()

    def open(self, stretch: dict[str, Any] | None = None, restart: bool = False) -> None:
        """Create or validate the checkpoint and lock it against a concurrent run.

        Parameters
        ----------
        stretch : dict, optional
            This run's record (:func:`stretch_record`), appended to the meta file's
            ``stretches``; a failure recorded by an earlier stretch is cleared.
        restart : bool
            Discard the finished tasks of a checkpoint written by another spec and start over
            (``overwrite=True``), rather than refusing it; one of this spec is resumed still.
        """
        self._lock = self._locked_directory()
        meta_path = self.directory / self.META
        if meta_path.is_file():
            self.meta = self._read_meta(meta_path)
            self._check(self.meta, restart)
            if sys.argv and sys.argv[0] not in ("", "-c", "-m"):
                # the latest command: a resume from a renamed copy of the spec was told the
                # first one (a tester, bt225); a session's (python -c) keeps the last command
                self.meta.update(command=list(sys.argv), cwd=os.getcwd())
        elif any(self.tasks.glob("*.npz")):
            # finished tasks whose spec is unknown (meta.json deleted, or not copied): a run of
            # another spec took them over, a seed-1 disorder in a file that says seed 2 (a new
            # user, session 35); meta.json is written before any task, so no run leaves this
            self.close()
            raise ValueError(
                f"checkpoint {str(self.directory)!r} holds finished task files but no "
                f"{self.META}: they cannot be matched to this run's spec. Restore "
                f"{self.META}, or delete the checkpoint directory to start over")
        else:
            self.meta = self._meta()
        if not isinstance(self.meta.get("stretches"), list):  # written before session 37
            self.meta["stretches"] = [_earlier_stretch(self.meta)]
        self.meta.pop("failed", None)  # this stretch tries again
        self.meta["stretches"].append(stretch or stretch_record())
        self.stretch = len(self.meta["stretches"]) - 1
        self._opened = time.monotonic()
        try:
            self._write_meta()
            if self.spec._text is not None:  # a spec read from standard input can be given again
                atomic_write_text(self.directory / self.SPEC_COPY, self.spec._text)
        except BaseException:
            self.close()
            raise
        # partial writes and task records of a killed run (our own names only; "*" matches the
        # leading dot of atomic_write's temporary names, and the older names without it)
        for pattern in ("*.npz.*.tmp", ".running-*"):
            for stale in self.tasks.glob(pattern):
                stale.unlink(missing_ok=True)
        for name in (self.META, self.SPEC_COPY):
            for stale in self.directory.glob(f"*{name}.*.tmp"):
                stale.unlink(missing_ok=True)

    def _locked_directory(self) -> Any:
        """Create the checkpoint directory if need be and lock it: the open lock file.

        The lock must be the one of the directory at the checkpoint's path: a run that finishes
        renames its checkpoint away under its lock (:meth:`remove`), so a run that opened the
        lock file just before is left holding the lock of a directory on its way out. It then
        starts again at the path. (The lock was released before the folder was deleted: a second
        run took it, read half-deleted task files, 471 warnings, and lost its own tasks/ folder
        to the first run's deletion, a 20-line traceback; a break test, session 48.)

        Raises
        ------
        FileExistsError
            Another run holds the lock.
        """
        for _ in range(20):
            try:
                self.tasks.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):  # a file where a folder should be
                raise ValueError(
                    f"checkpoint {str(self.directory)!r} is damaged: "
                    f"{str(self.tasks if self.directory.is_dir() else self.directory)!r} is a "
                    "file, not a folder; delete it (or the checkpoint directory) to start over"
                ) from None
            try:
                lock = open(self.directory / "lock", "w")  # noqa: SIM115 - held until close()
            except FileNotFoundError:  # renamed away between the mkdir and the open
                continue
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock.close()
                raise FileExistsError(
                    f"another run is using the checkpoint {str(self.directory)!r}; wait for it "
                    "to finish or stop it"
                ) from None
            try:
                same = os.path.samestat(os.fstat(lock.fileno()),
                                        os.stat(self.directory / "lock"))
            except FileNotFoundError:
                same = False
            if same:
                self._remove_stale_removals()
                return lock
            lock.close()  # the lock of a checkpoint being removed: start again at the path
        raise FileExistsError(f"the checkpoint {str(self.directory)!r} keeps being removed and "
                              "created by other runs; wait for them to finish")

    def _removal_name(self) -> Path:
        return self.directory.with_name(f".{self.directory.name}.removed-{os.getpid()}-"
                                        f"{time.monotonic_ns()}")

    def _remove_stale_removals(self) -> None:
        """Delete what a finished run renamed away and was stopped before deleting."""
        for stale in self.directory.parent.glob(f".{self.directory.name}.removed-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def _read_meta(self, meta_path: Path) -> dict[str, Any]:
        """The checkpoint's meta file, or a one-line error naming it and what to do."""
        try:
            meta = json.loads(meta_path.read_text())
            if not isinstance(meta, dict):
                raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
            if not isinstance(meta.get("spec"), dict) or "spec_sha256" not in meta:
                raise ValueError("no 'spec' or 'spec_sha256' entry")
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError too
            self.close()
            raise ValueError(
                f"checkpoint file {str(meta_path)!r} is damaged ({exc}); the finished tasks "
                "cannot be matched to the spec. Delete the checkpoint directory "
                f"{str(self.directory)!r} to start over"
            ) from None
        return meta

    def _write_meta(self) -> None:
        atomic_write_text(self.directory / self.META, json.dumps(self.meta, indent=1))

    def end_stretch(self, wall_time: float, computed: int, outcome: str,
                    error: str | None = None, refused: bool = False,
                    raised: list[dict[str, Any]] | None = None) -> None:
        """Record in the meta file how this run's stretch ended: its wall time, the realisations
        it computed, ``outcome`` ("interrupted", "aborted", "failed") and the ``error`` that
        ended it, and the warnings its realisations raised (``raised``,
        :meth:`manybody.runs.task_warnings.WarningDigest.summary`; the results file sums them
        over the stretches). A realisation's refusal (``refused``) is also the checkpoint's
        ``failed`` entry: a rerun of the same spec meets it again, and ``manybody info`` says
        so."""
        record = self.meta["stretches"][self.stretch]
        record.update(wall_time_s=float(wall_time), tasks_computed=int(computed),
                      outcome=outcome, warnings=list(raised or []))
        if error is not None:
            record["error"] = error
        if refused:
            self.meta["failed"] = {"error": error, "time": now_utc(), "code": record["code"]}
        self._write_meta()

    def _take_over(self) -> None:
        """This spec takes the checkpoint over: a new meta file (no finished task is left)."""
        self.meta = self._meta()
        try:
            self._write_meta()
        except BaseException:
            self.close()
            raise

    def _check(self, meta: dict[str, Any], restart: bool = False) -> None:
        if meta.get("spec_sha256") == self._digest \
                and meta.get("blas_threads") == self.blas_threads:
            if meta.get("code") != code_version():
                warnings.warn(
                    f"checkpoint {str(self.directory)!r} was written by manybody "
                    f"{meta.get('code')} and is resumed by {code_version()}; if the numerics "
                    "changed in between, old and new tasks may differ in the last bits",
                    RuntimeWarning, stacklevel=3)
            return
        if not any(self.tasks.glob("*.npz")):
            # nothing finished under the old spec (a run that failed or was stopped before its
            # first task): nothing can be mixed, so the corrected spec takes the checkpoint over
            self._take_over()
            return
        if restart:  # overwrite=True: the user starts over (a corrected spec; session 37)
            finished = sorted(self.tasks.glob("*.npz"))
            for path in finished:
                path.unlink(missing_ok=True)
            warnings.warn(
                f"checkpoint {str(self.directory)!r} held {len(finished)} task file(s) of another "
                "spec; discarded (overwrite), the run starts over", RuntimeWarning, stacklevel=3)
            self._take_over()
            return
        changed = [f"{key} ({show_change(a, b)})"
                   for key, a, b in spec_differences(meta.get("spec", {}), self.spec.to_dict())]
        if len(changed) > 6:
            changed[5:] = [f"and {len(changed) - 5} more"]
        threads = meta.get("blas_threads") != self.blas_threads
        self.close()
        if threads and not changed:  # the spec is the same: only the option differs
            raise ValueError(
                f"checkpoint {str(self.directory)!r} was written with blas_threads="
                f"{meta.get('blas_threads')} (BLAS thread counts change the last bits of the "
                f"numbers), this run has blas_threads={self.blas_threads}; rerun with "
                f"blas_threads={meta.get('blas_threads')}, or delete the checkpoint directory to "
                "start over")
        if threads:
            changed.append(f"blas_threads ({meta.get('blas_threads')} -> {self.blas_threads})")
        raise ValueError(
            f"the run specification changed since checkpoint {str(self.directory)!r} was written "
            f"(changed: {', '.join(changed) or 'unknown'}); finished tasks would be mixed with new "
            "ones. Rerun with the original spec, or pass overwrite=True (--overwrite) to discard "
            "them and start over"
        )

    def _path(self, point: int, start: int, stop: int) -> Path:
        return self.tasks / f"p{point:06d}_r{start:06d}-{stop:06d}.npz"

    def files(self) -> dict[Path, Chunk]:
        """Checkpoint files and the (point, start, stop) each holds."""
        out = {}
        for path in self.tasks.glob("*.npz"):
            match = CHUNK_FILE.fullmatch(path.name)
            if match:
                point, start, stop = match.groups()
                out[path] = (int(point), int(start), int(stop) if stop else int(start) + 1)
        return out

    def saved_keys(self, keys: list[TaskKey]) -> set[TaskKey]:
        """The realisations among ``keys`` that a task file of this checkpoint holds, by the
        files' names (nothing is read): what a resume takes, for the count an interrupted run
        reports. A stop that came after a chunk's file was written, before the run counted it,
        said one chunk fewer than the resume took (871 of 900 kept, 881 resumed; a break test,
        session 48)."""
        wanted = set(keys)
        return {(point, r) for point, start, stop in self.files().values()
                for r in range(start, stop) if (point, r) in wanted}

    def load(self, keys: list[TaskKey]) -> dict[TaskKey, dict[str, np.ndarray]]:
        """Results of the finished realisations among ``keys`` (unreadable files, and files
        whose own record of spec, point and realisations disagrees with their name and this
        spec, are recomputed)."""
        done: dict[TaskKey, dict[str, np.ndarray]] = {}
        wanted_keys = set(keys)
        wanted = set(self.spec.probe.observables)
        for path, (point, start, stop) in sorted(self.files().items()):
            if not any((point, r) in wanted_keys for r in range(start, stop)):
                continue
            single = CHUNK_FILE.fullmatch(path.name).group(3) is None  # version-1 layout
            result = self._read(path, stop - start, single, (self._digest, point, start))
            if result is None:
                continue
            stretch = result.pop(TASK_STRETCH, None)
            elapsed = result.pop(TASK_ELAPSED, None)
            raised = result.pop(TASK_WARNINGS, [])
            if raised:
                self.task_warnings.setdefault(0 if stretch is None else int(stretch),
                                              []).extend(raised)
            if elapsed is not None:
                index = 0 if stretch is None else int(stretch)
                self.elapsed[index] = max(self.elapsed.get(index, 0.0), elapsed)
            if not wanted <= set(result):
                continue
            for i, r in enumerate(range(start, stop)):
                if (point, r) in wanted_keys:
                    done[(point, r)] = {name: arr if single else arr[i] for name, arr in result.items()}
                    self.origins[(point, r)] = 0 if stretch is None else int(stretch)
        return done

    @staticmethod
    def _read(path: Path, size: int, single: bool, identity: tuple[str, int, int]
              ) -> dict[str, np.ndarray] | None:
        """The arrays of one task file, or None (with a logged warning) if it is damaged or its
        own record (:data:`TASK_IDENTITY`: spec digest, sweep point, first realisation; files of
        earlier versions have none) differs from ``identity``, what its name and the run say."""
        try:
            result = load_task_file(path, size, single, identity)
        except DAMAGED_FILE_ERRORS as exc:
            log.warning("checkpoint file %s is damaged (%s: %s); its realisations are "
                        "recomputed", path, type(exc).__name__, exc)
            return None
        return result

    def write(self, point: int, start: int, result: dict[str, np.ndarray],
              raised: list | tuple = ()) -> None:
        """Store one finished chunk (arrays stacked over its realisations) atomically, with the
        warnings its realisations raised (:class:`~manybody.runs.task_warnings.RecordedWarning`
        records, kept as :data:`TASK_WARNINGS`)."""
        stop = start + len(next(iter(result.values())))
        identity = dict(zip(TASK_IDENTITY, (np.array(self._digest), np.array(point),
                                            np.array(start)), strict=True))
        identity[TASK_STRETCH] = np.array(self.stretch)
        identity[TASK_ELAPSED] = np.array(time.monotonic() - self._opened)
        if raised:
            identity[TASK_WARNINGS] = np.array(json.dumps(
                [[w.category.__name__, w.message, w.where] for w in raised]))
        atomic_write(self._path(point, start, stop),
                     lambda fh: np.savez(fh, **result, **identity))

    def _users_files(self) -> list[str]:
        """The entries of the checkpoint this tool did not write (:func:`entries_not_ours`)."""
        try:
            return entries_not_ours(self.directory)
        except OSError:
            return []

    def _keep_users_files(self) -> None:
        """Where the checkpoint holds files this tool did not write (a user's notes put into
        it were deleted with it without a word; a tester, bt207): delete only its own files,
        keep the folder with theirs, and warn naming them (once)."""
        kept = self._users_files()
        warn = not self._keeping
        self._keeping = True
        tasks = self.directory / "tasks"
        with contextlib.suppress(OSError):
            for path in tasks.iterdir():
                if path.is_file() and _OWN_TASK_FILE.fullmatch(path.name):
                    path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            tasks.rmdir()  # only when empty: a user's file in it stays
        for entry in list(self.directory.iterdir()):
            if _own_record(entry):
                entry.unlink(missing_ok=True)
        self.close()
        (self.directory / "lock").unlink(missing_ok=True)
        if warn:
            shown = ", ".join(kept[:3]) + (f" and {len(kept) - 3} more" if len(kept) > 3 else "")
            warnings.warn(f"the checkpoint {str(self.directory)!r} held files manybody did not "
                          f"write ({shown}): its own files are deleted, the folder is kept with "
                          "them", UserWarning, stacklevel=3)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def remove(self) -> None:
        """Delete the checkpoint (after the final file is safely written): renamed away while
        its lock is held, so no other run finds it half-deleted (:meth:`_locked_directory`),
        then deleted. Files a user put into it are kept (:meth:`_keep_users_files`)."""
        if self._keeping or not self._removing and self._users_files():
            self._keep_users_files()  # (again after a stop: still only its own files)
            return
        if not self._removing:  # once: a second call (after a stop) finishes the first's
            # deletion (it renamed the original name again, failed, and left the renamed
            # directory behind; a tester, bt203)
            self._removing = True
            self._in_place = True  # until renamed
            try:
                os.rename(self.directory, self._removal_name())
                self._in_place = False
            except OSError:  # a file system that cannot rename it: delete in place
                pass
        self.close()
        if self._in_place:
            shutil.rmtree(self.directory, ignore_errors=True)
        for ours in self.directory.parent.glob(f".{self.directory.name}.removed-{os.getpid()}-*"):
            shutil.rmtree(ours, ignore_errors=True)

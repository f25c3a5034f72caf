"""``manybody info PATH``: what a results file holds and how it was made, or what a run's checkpoint
directory holds (how far the run got); on any other directory, what is in it that ``info`` reads.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import sys
import zipfile
from pathlib import Path
from typing import Any

from manybody.support import validate as v

#: Suffix of a run's checkpoint directory (:func:`manybody.runs.checkpoint.checkpoint_dir`).
CHECKPOINT_SUFFIX = ".checkpoint"
#: What ``info`` reads, for messages.
ACCEPTED = ("a results file written by manybody run (.nc) or the checkpoint directory of an "
            "unfinished run (<output>.checkpoint)")


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``manybody info``."""
    parser.add_argument("file", metavar="PATH", type=v.cli_path,
                        help="results file written by manybody run, or the checkpoint directory "
                             "(<output>.checkpoint) of an unfinished run")


def run(args: argparse.Namespace) -> int:
    """Describe a results file or a run's checkpoint directory; return the exit status.

    Raises
    ------
    FileNotFoundError
        No such file (naming the checkpoint of an unfinished run writing it, if there is one).
    IsADirectoryError
        A directory that is not a run's checkpoint: the message names what it holds that
        ``info`` reads (results files, checkpoints) or says that it holds none.
    ValueError
        Not a manybody results file, or a damaged checkpoint.
    """
    path = Path(args.file)
    checkpoint = _checkpoint_of(path)
    if checkpoint is not None:
        sys.stdout.write(describe_checkpoint(checkpoint, given=path) + "\n")
        return 0
    if path.is_dir():
        raise IsADirectoryError(_directory_message(path))
    lone = _lone_task_file(path)
    if lone:
        raise ValueError(lone)
    from manybody.runs.checkpoint import checkpoint_dir  # heavy: only when the command runs
    from manybody.runs.results import describe, load_results

    try:
        ds = load_results(path)
    except FileNotFoundError as exc:
        pending = checkpoint_dir(path)
        if _is_checkpoint(pending):
            raise FileNotFoundError(
                f"{exc}; the run writing it has not finished: its checkpoint is {str(pending)!r} "
                f"(manybody info {_quoted(pending)} tells how far it got)") from None
        raise
    if "schema_version" not in ds.attrs:
        from manybody.study.matrix_elements import describe_matrix_elements, is_matrix_element_file

        if is_matrix_element_file(ds):  # the study's pool, which `manybody study` points to
            sys.stdout.write(describe_matrix_elements(ds, args.file) + "\n")
            return 0
        raise ValueError(f"{args.file!r} is a netCDF/HDF5 file but not a manybody results file "
                         "(no schema_version attribute); give a file written by manybody run")
    sys.stdout.write(describe(ds, args.file) + "\n")
    return 0


# --------------------------------------------------------------------------- checkpoints


def _is_checkpoint(directory: Path) -> bool:
    """A run's checkpoint directory: it holds the run's ``meta.json``, or a ``tasks`` folder of
    task files, or is named ``<output>.checkpoint`` and holds either."""
    try:
        return directory.is_dir() and ((directory / "meta.json").is_file()
                                       or (directory / "tasks").is_dir())
    except OSError:
        return False


def _name(path: Path) -> str:
    """The directory's own name, also for '.' or '..'."""
    return path.name if path.name not in ("", ".", "..") else path.resolve().name


def _checkpoint_of(path: Path) -> Path | None:
    """The checkpoint directory ``path`` is (named ``<output>.checkpoint`` or holding a
    checkpoint's ``meta.json``), or is in (its ``meta.json``, ``lock``, ``spec.toml``, ``tasks``
    folder or a task file), or None."""
    if _is_checkpoint(path) and (_name(path).endswith(CHECKPOINT_SUFFIX)
                                 or (path / "meta.json").is_file()):
        return path
    parent = path.parent
    if path.name in ("meta.json", "lock", "tasks", "spec.toml") and _held_by_checkpoint(parent):
        return parent
    if parent.name == "tasks" and _held_by_checkpoint(parent.parent):
        return parent.parent
    return None


def _held_by_checkpoint(directory: Path) -> bool:
    """Whether ``directory`` is a checkpoint an entry of it names: by its name, or by its
    ``meta.json`` as :func:`_checkpoint_of` takes the directory itself (a checkpoint copied to
    another name was described, but its meta.json was "a JSON file ... not a results file" and
    its intact task files "damaged"; a tester, bt207)."""
    return _is_checkpoint(directory) and (_name(directory).endswith(CHECKPOINT_SUFFIX)
                                          or (directory / "meta.json").is_file())


def describe_checkpoint(directory: Path, given: Path | None = None) -> str:
    """Human-readable summary of a run's checkpoint: the run and its spec, how many tasks
    (sweep point, realisation) have finished out of how many, whether a run holds it now, and
    how to resume.

    Parameters
    ----------
    directory : Path
        ``<output>.checkpoint`` (:func:`manybody.runs.checkpoint.checkpoint_dir`).
    given : Path, optional
        The path the user gave, when it is a file or folder inside the checkpoint.

    Raises
    ------
    ValueError
        The checkpoint's ``meta.json`` is unreadable or not a checkpoint's (naming the file).
    """
    from manybody.runs.checkpoint import CHUNK_FILE  # heavy: only when the command runs
    from manybody.runs.spec import RunSpec

    meta_path = directory / "meta.json"
    meta: dict[str, Any] | None = None
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
            if not isinstance(meta, dict) or not isinstance(meta.get("spec"), dict):
                raise ValueError("no 'spec' entry")
        except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError too
            raise ValueError(f"{str(directory)!r} is a run's checkpoint, but its file "
                             f"{str(meta_path)!r} is damaged ({exc}); its finished tasks cannot be "
                             "matched to a spec (delete the directory to start the run over)"
                             ) from None
    name = _name(directory)
    output = (directory.resolve().with_name(name[:-len(CHECKPOINT_SUFFIX)])
              if name.endswith(CHECKPOINT_SUFFIX) and name != CHECKPOINT_SUFFIX else None)
    if output is not None and directory.name == name:
        output = directory.with_name(name[:-len(CHECKPOINT_SUFFIX)])
    lines = [f"{directory if directory.name == name else directory.resolve()}"]
    if given is not None and given != directory:
        lines.append(f"  ({given} is part of this checkpoint; info describes the whole)")
    lines.append("  a run's checkpoint: the finished tasks of an unfinished run (deleted when "
                 "the run completes; files a user put into it are kept)")
    if output is not None:
        state = "exists (an earlier run's?)" if output.exists() else "not written yet"
        lines.append(f"  writing: {output} ({state})")
    spec = None
    if meta is not None:
        spec_dict = meta["spec"]
        lines.append(f"  run: {spec_dict.get('name', '?')!r}  checkpoint layout "
                     f"{meta.get('version', '?')}  written by manybody {meta.get('code', '?')}  "
                     f"blas_threads: {meta.get('blas_threads', '?')}")
        lines.append(f"  spec_sha256: {meta.get('spec_sha256', '?')}")
        try:
            spec = RunSpec.from_record(spec_dict)
        except (ValueError, TypeError) as exc:
            lines.append(f"  spec: not readable by this version ({exc})")
    else:
        lines.append(f"  no meta.json: the run's spec is unknown ({meta_path} is missing)")
    done: set[tuple[int, int]] = set()
    by_stretch: dict[int, int] = {}  # realisations in the task files, by the stretch that wrote them
    n_files = 0
    damaged: list[str] = []  # task files a run would recompute (a truncated one crashed info)
    # the digest the run recorded, which its task files carry (recomputed from a spec that was
    # written by another version, or edited, every good file was called damaged; session 45)
    digest = (meta.get("spec_sha256") if meta is not None else None) or (
        spec.digest() if spec is not None else None)
    tasks = directory / "tasks"
    with contextlib.suppress(OSError):
        for file in sorted(tasks.glob("*.npz")):
            match = CHUNK_FILE.fullmatch(file.name)
            if match:
                stretch = _task_stretch(file, spec, digest)
                if stretch is None:
                    damaged.append(file.name)
                    continue
                n_files += 1
                point, start, stop = match.groups()
                stop = int(stop) if stop else int(start) + 1
                done.update((int(point), r) for r in range(int(start), stop))
                by_stretch[stretch] = by_stretch.get(stretch, 0) + stop - int(start)
    if spec is not None:
        counts = spec.realisation_counts.ravel()
        done = {(p, r) for p, r in done if p < counts.size and r < counts[p]}
        complete = sum(sum(1 for p, _ in done if p == i) == c for i, c in enumerate(counts))
        axes = ", ".join(f"{key} ({len(values)})" for key, values in spec.sweep.items())
        sizes = spec.sweep.get("model.n_tls")  # swept: not the base model's N (session 31)
        n_text = (f"N = {', '.join(map(str, sizes))} TLS (swept)" if sizes
                  else f"N = {spec.model.n_tls} TLS")
        lines.append(f"  sweep: {spec.n_points} point(s){': ' + axes if axes else ''}; "
                     f"realisations: {spec.to_dict()['realisations']}; {n_text}; "
                     f"observables: {', '.join(spec.probe.observables)}")
        # realisations, not "tasks": a task is a chunk of realisations (the README; session 35)
        lines.append(f"  finished: {len(done)} of {spec.n_tasks} realisation(s) (over every "
                     f"sweep point) in {n_files} task file(s); {complete} of {spec.n_points} "
                     "sweep point(s) complete")
    else:
        lines.append(f"  finished: {len(done)} realisation(s) (over every sweep point) in "
                     f"{n_files} task file(s)")
    if damaged:
        shown = ", ".join(damaged[:3]) + (f" and {len(damaged) - 3} more" if len(damaged) > 3 else "")
        lines.append(f"  damaged: {len(damaged)} task file(s) ({shown}) a run does not take "
                     "(unreadable, empty, short of realisations or observables, or another run's); "
                     "not counted above: a rerun recomputes their realisations")
        if given is not None and given.name in damaged:
            lines.append(f"  {given.name} is one of them: a rerun recomputes its realisations")
    lock_state = _lock_state(directory)
    lines += _stretch_lines(meta, held=lock_state.startswith("in use: yes"), written=by_stretch)
    lines.append(f"  {lock_state}")
    resume = _resume_hint(meta, output, directory)
    if spec is not None and len(done) >= spec.n_tasks:  # "to compute the rest" of nothing (bt203)
        resume = resume.replace("to compute the rest; finished tasks are kept",
                                "to write the results file (nothing is computed again)")
    failed = meta.get("failed") if meta is not None else None
    if isinstance(failed, dict):  # a plain rerun meets the same refusal (session 37)
        lines.append(f"  FAILED: {failed.get('error', '?')}")
        resume = ("not by a plain rerun: the run failed (above), and a rerun of the same spec "
                  "fails again at the same realisation. Correct the spec and start again with "
                  f"--overwrite (a changed spec cannot resume the {len(done)} finished "
                  "realisation(s)); if the cause is gone (e.g. memory freed), "
                  + resume.replace("to compute the rest; finished tasks are kept",
                                   "to compute the rest"))
    if meta is None and n_files:  # a run refuses it (runs.checkpoint: session 35)
        resume = (f"not possible: the finished tasks cannot be matched to a spec without "
                  f"meta.json; restore it, or delete {_quoted(directory)} to start over")
    lines.append(f"  to resume: {resume}")
    return "\n".join(lines)


def _task_stretch(file: Path, spec=None, digest: str | None = None) -> int | None:
    """The stretch of the run that wrote a task file (its ``_stretch`` entry; files written
    before stretches were recorded count as the first), or None for a file a run would not take:
    read and checked as a run reads it (:func:`manybody.runs.checkpoint.load_task_file`; with the
    run's ``spec`` also its identity and observables). A truncated file raised BadZipFile through
    info, and an empty one, one from another run or one short of realisations or observables
    were counted as finished (break tests, session 45)."""
    from manybody.runs.checkpoint import (
        CHUNK_FILE,
        DAMAGED_FILE_ERRORS,
        TASK_STRETCH,
        load_task_file,
    )

    match = CHUNK_FILE.fullmatch(file.name)
    if match is None:
        return None
    point, start, stop = match.groups()
    single = stop is None
    size = 1 if single else int(stop) - int(start)
    identity = None if digest is None else (str(digest), int(point), int(start))
    try:
        arrays = load_task_file(file, size, single, identity)
    except DAMAGED_FILE_ERRORS:
        return None
    if spec is not None and not set(spec.probe.observables) <= set(arrays):
        return None
    return int(arrays[TASK_STRETCH]) if TASK_STRETCH in arrays else 0


def _stretch_lines(meta: dict[str, Any] | None, held: bool = False,
                   written: dict[int, int] | None = None) -> list[str]:
    """One line on the stretches of the run the checkpoint records (each start or resume: code
    version, backend, jobs, how it ended), when there are any (session 37). A stretch still
    marked "running" while no run holds the lock was killed outright (SIGKILL, power cut) and
    recorded no end: it is shown as killed, with the realisations its task files hold
    (``written``: by stretch index), as the results file's ``run_stretches`` counts them; it
    read "? computed, running" (session 40)."""
    stretches = meta.get("stretches") if meta is not None else None
    if not isinstance(stretches, list) or not stretches:
        return []
    records = [r for r in stretches if isinstance(r, dict)]
    shown = []
    for i, record in enumerate(records):
        computed, outcome = record.get("tasks_computed"), record.get("outcome", "?")
        if outcome == "running" and not (i == len(records) - 1 and held):
            outcome = "killed (no end recorded)"
            if written is not None:
                computed = written.get(i, 0)
        if i >= len(records) - 4:
            shown.append(f"manybody {record.get('code', '?')}, {record.get('backend') or '?'} "
                         f"x {record.get('n_jobs') or '?'}, "
                         f"{'?' if computed is None else computed} computed, {outcome}")
    more = f" (the last 4 of {len(stretches)})" if len(stretches) > 4 else ""
    codes = {r.get("code") for r in stretches if isinstance(r, dict)}
    mixed = f" - {len(codes)} code versions" if len(codes) > 1 else ""
    return [f"  stretches of the run{more}{mixed}: " + "; ".join(shown)]


def _resume_hint(meta: dict[str, Any] | None, output: Path | None,
                 directory: Path | None = None) -> str:
    """How to resume: the command that wrote the checkpoint, as its meta.json records it (since
    session 36), with the checkpoint's copy of the spec for one read from a stream
    (:func:`_with_spec_copy`), else a ``manybody run`` line (with ``--overwrite`` when the output
    exists: the bare line was refused; a helper, session 36)."""
    argv = meta.get("command") if meta else None
    cwd = meta.get("cwd") if meta else None
    where = f" in {_quoted(cwd)}" if isinstance(cwd, str) else ""
    if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv) \
            and argv[0] not in ("", "-c", "-m"):  # python -c or a session: nothing to rerun
        argv, copied, replaced = _with_spec_copy(argv, cwd, directory, meta.get("spec_sha256"))
        if len(argv) >= 2 and argv[1] in ("run", "study") \
                and Path(argv[0]).name in ("manybody", "__main__.py"):
            command = shlex.join(["manybody", *argv[1:]])
        else:  # a script of the user's that calls run_sweep (its argv lacks the interpreter:
            # "('my script.py' spec.toml)" was no command; a helper, session 36)
            command = shlex.join(["python", *argv])
        if copied and replaced:
            return (f"{copied}: rerun{where} the command that wrote it with the copy ({command}) "
                    "to compute the rest; finished tasks are kept"
                    + _moved_note(argv, cwd, output, directory))
        if copied:  # the copy was edited: the command, once the spec is back
            return (f"{copied} ({command}{where}); finished tasks are kept"
                    + _moved_note(argv, cwd, output, directory))
        return (f"rerun{where} the command that wrote it ({command}) to compute the rest; "
                "finished tasks are kept" + _moved_note(argv, cwd, output, directory))
    shown = _quoted(output) if output is not None else "OUTPUT"
    overwrite = " --overwrite" if output is not None and output.exists() else ""
    return (f"rerun the same command (manybody run SPEC -o {shown}{overwrite}, or the same "
            "manybody study command for a study's spec) to compute the rest; finished tasks are "
            "kept")


def _with_spec_copy(argv: list[str], cwd: Any, directory: Path | None,
                    digest: Any = None) -> tuple[list[str], str, bool]:
    """A recorded ``manybody run`` command whose spec the rerun cannot read as the run started
    with it, with the checkpoint's copy of the spec in its place, what happened, and True;
    ``(argv, "", False)`` where the recorded command resumes as it stands.

    The spec cannot be replayed when it was read from a stream (/dev/stdin, a pipe, a process
    substitution: the command recorded /dev/stdin; a tester, bt196) or its file is gone, and is
    not the run's when its file was edited since the run started (another spec_sha256: the rerun
    refuses the checkpoint as another spec's; a tester, bt210). Where the checkpoint's copy does
    not give the run's ``digest`` either (edited, damaged: bt205 F14) or is gone (bt210), it is
    not recommended: ``(argv, why, False)``, ``why`` saying to put back the spec the run
    started with.
    """
    from manybody.cli import run
    from manybody.runs.checkpoint import Checkpoint

    if len(argv) < 3 or argv[1] != "run":
        return argv, "", False
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    run.configure(parser)
    try:
        spec = parser.parse_known_args(argv[2:])[0].spec
    except (argparse.ArgumentError, SystemExit):
        return argv, "", False
    stream = spec.startswith(("/dev/", "/proc/"))
    if not stream and not os.path.isabs(spec) and isinstance(cwd, str) and not os.path.isdir(cwd):
        return argv, "", False  # run elsewhere (another machine?): nothing to tell of its spec
    if run.spec_not_replayable(spec, cwd if isinstance(cwd, str) else None):
        how = "was read from" if stream else "is no longer at"
        problem = f"the spec {how} {_quoted(spec)}, which the recorded command does not replay"
    else:  # the file is there: the rerun reads it, unless it was edited since
        edited = _spec_changed(Path(cwd if isinstance(cwd, str) else ".") / spec, digest)
        if not edited:
            return argv, "", False
        problem = (f"the spec file {_quoted(spec)} {edited}: the recorded command would refuse "
                   "this checkpoint as another spec's")
    copy = None if directory is None else directory / Checkpoint.SPEC_COPY
    changed = ("is gone" if copy is not None and not copy.is_file()
               else "" if copy is None else _spec_changed(copy, digest))
    if copy is None or changed:
        where = ("" if copy is None else f", and the checkpoint's copy of it ({_quoted(copy)}) "
                 + (changed if changed == "is gone"
                    else f"{changed}: a rerun with it would not resume this checkpoint"))
        if stream:  # nothing to put back at /dev/stdin: the text is fed again (bt216 F4)
            return argv, (f"{problem}{where}: feed the command that wrote it the spec the run "
                          "started with again (its digest is spec_sha256 above)"), False
        return argv, (f"{problem}{where}: put back the spec the run started with (its digest is "
                      "spec_sha256 above) and rerun the command that wrote it"), False
    at = len(argv) - 1 - argv[::-1].index(spec)
    return ([*argv[:at], str(copy.resolve()), *argv[at + 1:]],
            f"{problem}; the checkpoint keeps the spec the run started with ({_quoted(copy)})", True)


def _spec_changed(spec: Path, digest: Any) -> str:
    """Why the spec file at ``spec`` (the run's own, or the checkpoint's copy of it) is not the
    spec of the run whose recorded ``digest`` (spec_sha256) is given: "" when it is (or no
    digest was recorded)."""
    from manybody.runs.spec import RunSpec

    if not isinstance(digest, str):
        return ""
    try:
        found = RunSpec.from_toml(spec).digest()
    except (OSError, ValueError, TypeError) as exc:
        return f"is no longer a readable spec ({exc})"
    if found == digest:
        return ""
    return "gives another spec_sha256 than the run recorded (edited since it started)"


def _recorded_output(argv: list[str]) -> str | None:
    """The -o/--output value of a recorded ``manybody run`` command line, None without one."""
    for i, arg in enumerate(argv):
        if arg in ("-o", "--output") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--output="):
            return arg.split("=", 1)[1]
        if arg.startswith("-o") and len(arg) > 2 and not arg.startswith("--"):
            return arg[2:]
    return None


def _moved_note(argv: list[str], cwd: Any, output: Path | None,
                directory: Path | None = None) -> str:
    """For a checkpoint copied or moved away from the output its command names: the rerun would
    resume the original's checkpoint, not this one (info said it writes the copy's file and
    gave the original's command; a break test, session 55). A copy under another name than
    ``<output>.checkpoint`` is found by no run: it is to be renamed (a tester, bt207)."""
    recorded = _recorded_output(argv) if len(argv) >= 2 and argv[1] == "run" else None
    if recorded is None:
        return ""
    base = Path(cwd) if isinstance(cwd, str) else Path.cwd()
    named = Path(recorded) if Path(recorded).is_absolute() else base / recorded
    if output is None:
        if directory is None:
            return ""
        return (f"; but this folder is not named <output>.checkpoint, so no run finds it: that "
                f"command resumes {_quoted(str(named) + CHECKPOINT_SUFFIX)}; to resume this one, "
                f"rename it to that name, or to OUT.nc{CHECKPOINT_SUFFIX} and give -o OUT.nc")
    if os.path.abspath(named) == os.path.abspath(output):
        return ""
    # the absolute path: the command runs in the recorded folder, where a path relative to
    # here names another file (a tester, bt216 F3)
    return (f"; but this checkpoint was copied or moved: that command writes {_quoted(named)} "
            f"and resumes its checkpoint, so to resume this one give -o "
            f"{_quoted(os.path.abspath(output))} in it")


def _lock_state(directory: Path) -> str:
    """Whether a run holds the checkpoint's lock now (a shared, non-blocking probe)."""
    lock = directory / "lock"
    if not lock.is_file():
        return "in use: no (no run has locked it)"
    try:
        with open(lock) as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return "in use: yes, a run holds its lock now"
            fcntl.flock(fh, fcntl.LOCK_UN)
    except OSError:
        return "in use: unknown (its lock file cannot be read)"
    return "in use: no (the run that wrote it has stopped)"


# --------------------------------------------------------------------------- other directories


def _task_identity(path: Path) -> tuple[str, int, int] | None:
    """(spec digest, sweep point, first realisation) a checkpoint's task file records, or None
    for a file that is not one (not an .npz archive, or without that record)."""
    import numpy as np

    from manybody.runs.checkpoint import TASK_IDENTITY

    try:
        if not (path.is_file() and zipfile.is_zipfile(path)):
            return None
        with np.load(path, allow_pickle=False) as data:
            if not all(name in data.files for name in TASK_IDENTITY):
                return None
            digest, point, first = (data[name] for name in TASK_IDENTITY)
            return str(digest), int(point), int(first)
    except (OSError, ValueError, zipfile.BadZipFile):
        return None


_OUT_OF_PLACE = ("outside the tasks folder of its run's checkpoint (<output>.checkpoint/tasks), "
                 "where no run reads it; put it back there to resume that run (the run's "
                 "spec_sha256, meta.json and spec.toml are in the checkpoint)")


def _lone_task_file(path: Path) -> str:
    """The refusal of a checkpoint's task file copied out of its checkpoint: it was called "a
    damaged netCDF file" (a tester, bt210); "" for any other file."""
    identity = _task_identity(path)
    if identity is None:
        return ""
    digest, point, first = identity
    return (f"{str(path)!r} is a task file of a run's checkpoint (spec_sha256 {digest[:12]}..., "
            f"sweep point {point}, realisations from {first}), not a results file; it is "
            + _OUT_OF_PLACE)


def _directory_message(path: Path) -> str:
    """What a directory that is not a checkpoint holds that ``info`` reads, and what to give."""
    try:
        entries = sorted(path.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        return (f"{str(path)!r} is a directory, and it cannot be listed ({exc.strerror or exc}); "
                f"info reads {ACCEPTED}")
    results = [p for p in entries if p.suffix == ".nc" and p.is_file()]
    # by content too: a results file named 'x.nc.checkpoint' or 'x.h5' was "none of them a
    # results file" (session 37)
    others = [p for p in entries[:200] if p.suffix != ".nc" and _is_netcdf(p)]
    checkpoints = [p for p in entries if _is_checkpoint(p)]
    found = []
    if results:
        shown = ", ".join(p.name for p in results[:6]) + (", ..." if len(results) > 6 else "")
        # the example is a netCDF file where one is (an empty 'a.nc' was the example; helper-178)
        example = next((p for p in results[:200] if _is_netcdf(p)), results[0])
        found.append(f"{len(results)} .nc file(s) ({shown}; results files if manybody wrote "
                     f"them): give one, e.g. manybody info {_quoted(example)}")
    if others:
        shown = ", ".join(p.name for p in others[:6]) + (", ..." if len(others) > 6 else "")
        found.append(f"{len(others)} netCDF/HDF5 file(s) not named .nc ({shown}; results files "
                     f"if manybody wrote them): give one, e.g. manybody info {_quoted(others[0])}")
    if checkpoints:
        shown = ", ".join(p.name for p in checkpoints[:3]) + (", ..." if len(checkpoints) > 3
                                                             else "")
        found.append(f"{len(checkpoints)} checkpoint(s) of unfinished runs ({shown}): give one, "
                     f"e.g. manybody info {_quoted(checkpoints[0])}")
    names = {p.name for p in entries}
    if "summary.md" in names or "summary.json" in names:
        found.append("a study's summary (summary.md, summary.json: read them directly)")
    if "fit_results.json" in names or "fit_table.txt" in names:
        found.append("fit-data output (fit_table.txt, fit_results.json: read them directly)")
    if not found:  # one level down: 'results/' holding 'results/x/x.nc'
        deeper = []
        for sub in (p for p in entries[:200] if p.is_dir()):
            with contextlib.suppress(OSError):
                deeper += [q for q in sorted(sub.iterdir()) if q.suffix == ".nc" and q.is_file()
                           or _is_checkpoint(q) and q.name.endswith(CHECKPOINT_SUFFIX)
                           or _is_netcdf(q)]
        if deeper:
            shown = ", ".join(str(q.relative_to(path)) for q in deeper[:4])
            found.append(f"in its folders: {shown}{', ...' if len(deeper) > 4 else ''}: give "
                         f"one, e.g. manybody info {_quoted(deeper[0])}")
    if found:
        return (f"{str(path)!r} is a directory, not a results file; info reads {ACCEPTED}. "
                f"Found in it: {'; '.join(found)}")
    tasks = [p for p in entries[:200] if p.suffix == ".npz" and _task_identity(p) is not None]
    if tasks:  # a checkpoint's tasks folder copied out of it (a tester, bt210)
        return (f"{str(path)!r} is a directory of {len(tasks)} task file(s) of a run's checkpoint "
                f"(e.g. {tasks[0].name}), not a results file or checkpoint; they are "
                + _OUT_OF_PLACE.replace("where no run reads it; put it back", "where no run "
                                        "reads them; put them back"))
    what = (f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, none of them a results "
            "file or checkpoint" if entries else "it is empty")
    return (f"{str(path)!r} is a directory ({what}); info reads {ACCEPTED}")


#: First bytes of the files ``info`` reads: HDF5 (netCDF4, what manybody run writes) and the
#: classic netCDF formats.
_NETCDF_SIGNATURES = (b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02", b"CDF\x05")


def _is_netcdf(path: Path) -> bool:
    """Whether ``path`` is a regular file that begins as a netCDF or HDF5 file (whatever its
    name)."""
    try:
        if not path.is_file():
            return False
        with open(path, "rb") as fh:
            return fh.read(8).startswith(_NETCDF_SIGNATURES)
    except OSError:
        return False


def _quoted(path: Path | str) -> str:
    """A path as one shell word, as the resume line's command quotes it (:func:`shlex.quote`):
    Python's repr put a name with a quote in double quotes, in which a pasted ``$HOME`` or
    backtick is expanded by the shell (a break test, bt196)."""
    return shlex.quote(str(path))

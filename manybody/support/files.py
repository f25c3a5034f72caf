"""Atomic file writing: a temporary file in the destination's folder, then one rename.

A reader never sees a half-written file and an interrupted write leaves the old file (or none).
One home for it: results files, checkpoints, summaries, fit-data outputs and benchmark records.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


def umask() -> int:
    """The process's file-creation mask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - not Linux (briefly changes the mask)
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def give_usual_mode(path: str | Path) -> None:
    """Set ``0666 & ~umask`` on a file made by ``tempfile.mkstemp`` (which creates it 0600), so
    that an atomically written file gets the permissions of any other file the user writes."""
    os.chmod(path, 0o666 & ~umask())


#: errno values of a write refused for lack of room: a full disk, an exceeded quota, the
#: file-size limit (``ulimit -f``: EFBIG ended in a traceback; a tester, session 39).
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _room_error(exc: BaseException | None) -> OSError | None:
    """The OSError of ``exc``'s chain that a lack of room raised, or None."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in NO_ROOM:
            return exc
        if isinstance(exc, OSError) and ("No space left on device" in str(exc)
                                         or "File too large" in str(exc)):
            return exc  # h5py reports HDF5's errno inside a plain message
        exc = exc.__cause__ or exc.__context__
    return None


def is_out_of_space(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is "no space left on device", "quota exceeded" or
    "file too large" (the file-size limit)."""
    return _room_error(exc) is not None


def room_reason(exc: BaseException | None) -> str:
    """What stopped a write for lack of room, in words: "out of disk space" (a full disk or
    quota) or "the file-size limit (ulimit -f) reached"."""
    err = _room_error(exc)
    if err is not None and (err.errno == errno.EFBIG or "File too large" in str(err)):
        return "the file-size limit (ulimit -f) reached"
    return "out of disk space"


#: The files of the :func:`output_set` being written in this context: (temporary, destination).
_OUTPUT_SET: contextvars.ContextVar[list[tuple[Path, Path]] | None] = contextvars.ContextVar(
    "manybody_output_set", default=None)


@contextlib.contextmanager
def atomic_destination(path: str | Path, *, fsync: bool = False,
                       before_replace: Callable[[], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically
    (inside :func:`output_set`: at the end of the set, with the set's other files).

    The temporary file is named ``.<name>.XXXXXXXX.tmp`` in the same folder (so the rename is
    atomic), gets the user's usual permissions, and is removed if anything fails or the block is
    interrupted (also while it is being created: a SIGTERM there left an empty temporary file
    that nothing removed; a break test, session 47). ``before_replace`` runs just before the
    rename (e.g. to refuse a file that appeared meanwhile by raising).
    """
    path = Path(path)
    staged = _OUTPUT_SET.get()
    tmp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
        os.close(fd)
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        give_usual_mode(tmp)
        if before_replace is not None:
            before_replace()
        if staged is not None:
            staged.append((tmp, path))
        else:
            os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise


def _replace_all(staged: list[tuple[Path, Path]]) -> None:
    """Rename every temporary file onto its destination. Interrupted half-way (Ctrl-C, SIGTERM),
    the remaining renames are still made, so that the set is whole, and then the interruption
    goes on; a rename that fails leaves its destination as it was and its temporary removed."""
    done = 0
    try:
        for tmp, path in staged:
            os.replace(tmp, path)
            done += 1
    except BaseException:
        for tmp, path in staged[done:]:
            with contextlib.suppress(OSError):
                os.replace(tmp, path)
            tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def output_set() -> Iterator[None]:
    """Files written atomically inside the block (:func:`atomic_destination`, and so
    :func:`atomic_write` and :func:`manybody.support.style.save_figure`) replace their
    destinations together when the block ends, or none of them does if it fails or is
    interrupted (their temporary files are then removed).

    An interrupted ``fit-data --overwrite`` left the new figures and results beside the old fit's
    table, and a fresh one a partial set that blocked its rerun (a break test, session 47)."""
    staged: list[tuple[Path, Path]] = []
    token = _OUTPUT_SET.set(staged)
    try:
        yield
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        _OUTPUT_SET.reset(token)
    _replace_all(staged)


def _temporary_name(path: Path, suffix: str) -> re.Pattern[str]:
    """Names of the temporary files made for ``path`` (mkstemp: 8 random chars)."""
    return re.compile(re.escape(f".{path.name}.") + r"[A-Za-z0-9_]{8}" + re.escape(suffix))


def remove_stale_temporaries(path: str | Path, suffixes: tuple[str, ...] = (".tmp",)
                             ) -> list[Path]:
    """Delete temporary files a killed atomic write of ``path`` left next to it
    (``.<name>.XXXXXXXX.tmp`` of :func:`atomic_destination`, and other ``suffixes`` a caller's
    own writes use; never any other file): results files (with their ``.probe``), and
    fit-data's outputs (a kill -9 while drawing left ``.fit_data.png.XXXXXXXX.tmp``, which no
    later fit removed; a break test, session 47).

    Call it only while no other process writes ``path``.
    """
    path = Path(path)
    removed = []
    with contextlib.suppress(OSError):
        for suffix in suffixes:
            pattern = _temporary_name(path, suffix)
            for entry in path.parent.iterdir() if path.parent.is_dir() else ():
                if pattern.fullmatch(entry.name) and entry.is_file():
                    entry.unlink(missing_ok=True)
                    removed.append(entry)
    if removed:
        log.info("removed %d temporary file(s) of a killed write: %s", len(removed),
                 ", ".join(map(str, removed)))
    return removed


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None], **options) -> None:
    """Call ``write(binary_file)`` on a temporary file, then rename it to ``path``."""
    with atomic_destination(path, **options) as tmp, open(tmp, "wb") as fh:
        write(fh)


def atomic_write_text(path: str | Path, text: str, **options) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda fh: fh.write(text.encode()), **options)


def atomic_write_bytes(path: str | Path, data: bytes, **options) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda fh: fh.write(data), **options)


def atomic_write_all(contents: dict[Path, bytes]) -> list[Path]:
    """Write several files as one step: every content to a temporary file beside its
    destination first, then one rename each.

    A failure while writing (a full disk, a missing folder) leaves none of the destinations
    changed and removes the temporary files; only the renames, which do not fail on one file
    system once the temporary files exist, come after the first destination changes.

    Parameters
    ----------
    contents : dict of Path -> bytes
        Destination -> content.

    Returns
    -------
    list of Path
        The destinations, in the order given.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in contents.items():
            path = Path(path)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((Path(name), path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            give_usual_mode(name)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    outer = _OUTPUT_SET.get()
    if outer is not None:  # inside an output_set: renamed with the set's other files
        outer.extend(staged)
    else:
        _replace_all(staged)
    return [path for _, path in staged]

"""What stands in the way of writing at a path, found before any work: links to missing targets
among its components, directories that cannot be searched or written, files where directories
are needed. One home for these checks, so that ``manybody run`` and ``manybody study`` say the
same thing about the same path (reviewers, sessions 25-27: ``File exists``, ``a file of that
name is in the way`` and ``[Errno 13]`` for a link to a missing directory and for permissions).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from manybody.support import validate

__all__ = ["created_directories", "dangling_link", "link_description", "nearest_existing",
           "refuse_text_as_path", "remove_created", "unwritable_reason"]


def _components(path: Path) -> list[Path]:
    """``a``, ``a/b``, ``a/b/c`` for ``a/b/c`` (the anchor ``/`` left out)."""
    parts = path.parts
    start = 1 if path.anchor else 0
    return [Path(*parts[:i + 1]) for i in range(start, len(parts))]


def dangling_link(path: str | os.PathLike) -> Path | None:
    """The first component of ``path`` (``path`` itself included) that is a symbolic link to a
    missing target (or a loop of links), or None.

    Components after a missing one are not looked at (nothing there exists), nor those that
    cannot be looked at for lack of permission (:func:`nearest_existing` names those).
    """
    for prefix in _components(Path(path)):
        try:
            os.lstat(prefix)
        except OSError:
            return None
        if os.path.islink(prefix):
            try:
                os.stat(prefix)
            except FileNotFoundError:
                return prefix
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return prefix
                return None
    return None


def link_description(link: Path, what: str = "directory") -> str:
    """``'dl' is a link to a missing directory ('/nonexistent/dir')``, or in a loop of links
    (``what``: what the link should have led to)."""
    try:
        target = os.readlink(link)
    except OSError:  # pragma: no cover - it was a link a moment ago
        target = "?"
    try:
        os.stat(link)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{str(link)!r} is a link in a loop of links ({target!r})"
    return f"{str(link)!r} is a link to a missing {what} ({target!r})"


def nearest_existing(path: str | os.PathLike) -> tuple[Path, str | None]:
    """The deepest existing directory among the parents of ``path`` (or ``path``'s parent), and
    why files cannot be created under it (None when they can be, as far as the metadata tell).

    Returns
    -------
    (Path, str or None)
        The directory, and a reason such as ``"'ro' cannot be searched (permission denied)"`` or
        ``"'afile' is a file, not a directory"``.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    ancestor = Path(path.anchor) if path.anchor else Path(".")
    for prefix in _components(parent):
        try:
            os.stat(prefix)
        except PermissionError:
            return ancestor, f"{str(ancestor)!r} cannot be searched (permission denied)"
        except FileNotFoundError:
            return ancestor, None
        except OSError as exc:
            if exc.errno == errno.ENOTDIR:
                return ancestor, f"{str(ancestor)!r} is a file, not a directory"
            return ancestor, f"{str(prefix)!r}: {exc.strerror or exc}"
        if not prefix.is_dir():
            return prefix, f"{str(prefix)!r} is a file, not a directory"
        ancestor = prefix
    try:  # the directory may be writable but not searchable (no execute permission)
        os.lstat(path)
    except PermissionError:
        return ancestor, f"{str(ancestor)!r} cannot be searched (permission denied)"
    except OSError:
        pass
    return ancestor, None


#: Bytes a run adds to an output's name for the files it writes beside it: its temporary
#: ``.<name>.XXXXXXXX.tmp`` (14) and its checkpoint ``<name>.checkpoint`` (11).
SIBLING_NAME_EXTRA = 14


def name_too_long_reason(path: str | os.PathLike, ancestor: str | os.PathLike,
                         extra: int = SIBLING_NAME_EXTRA) -> str | None:
    """Why ``path`` (or a file named after it, ``extra`` bytes longer) cannot be created on the
    file system of its existing ``ancestor``: a name longer than its NAME_MAX (255 bytes on
    most) or a path longer than its PATH_MAX; None when both fit. A 253-byte output name is
    legal, its checkpoint's is not: the run ended in a traceback (a new user, session 35)."""
    path = Path(path)
    try:
        name_max = os.pathconf(ancestor, "PC_NAME_MAX")
        path_max = os.pathconf(ancestor, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    for part in path.parts[:-1]:
        if len(os.fsencode(part)) > name_max:
            return (f"the folder name {part[:40]!r}... is {len(os.fsencode(part))} bytes long, "
                    f"more than the file system allows ({name_max})")
    name = len(os.fsencode(path.name))
    if name + extra > name_max:
        return (f"the file name is {name} bytes long; the run writes files named after it "
                f"{extra} bytes longer (its checkpoint and temporary file), and the file system "
                f"allows {name_max}: use a name of at most {name_max - extra} bytes")
    total = len(os.fsencode(os.path.abspath(path))) + extra
    if total > path_max:
        return f"the path is longer than the file system allows ({path_max} bytes)"
    return None


def unwritable_reason(directory: str | os.PathLike) -> str | None:
    """Why no file can be created in the existing ``directory``, or None when one can: a file
    is created there and removed (permission bits do not tell for root, ACLs or read-only
    mounts)."""
    directory = Path(directory)
    try:
        fd, probe = tempfile.mkstemp(prefix=".manybody.", suffix=".probe", dir=directory)
    except PermissionError:
        return f"cannot write in {str(directory)!r} (permission denied)"
    except OSError as exc:
        return f"cannot write in {str(directory)!r} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None


def refuse_standard_output(option: str, value: str | os.PathLike) -> None:
    """Refuse '-', the usual name of standard output, as an output folder (ValueError naming
    ``option``): ``manybody run -o -`` was refused while ``study -o -`` and ``fit-data --out -``
    made a folder named '-' (a break test, session 45)."""
    if os.fspath(value) == "-":
        raise ValueError(f"{option} '-': manybody writes its results into a folder, not to "
                         "standard output; give a folder name, or './-' for a folder named '-'")


def without_missing_detours(path: str | os.PathLike) -> Path:
    """``path`` without the steps into a missing directory and out again (``new/../out.nc`` ->
    ``out.nc``): a directory that does not exist is no link, so the two name the same place,
    but creating the output's parents made ``new`` and left it behind empty (a helper, session
    36). Other ``..`` are kept (through an existing link they lead elsewhere)."""
    kept: list[str] = []
    for part in Path(path).parts:
        if part == ".." and kept and kept[-1] != ".." and not Path(kept[-1]).anchor \
                and not os.path.lexists(Path(*kept)):
            kept.pop()
            continue
        kept.append(part)
    return Path(*kept) if kept else Path(".")


def created_directories(directory: str | os.PathLike) -> list[Path]:
    """The directories ``Path(directory).mkdir(parents=True)`` would create: ``directory`` and
    its missing parents, outermost first."""
    missing = []
    for prefix in _components(Path(directory)):
        if not os.path.lexists(prefix):
            missing.append(prefix)
    return missing


def remove_created(directories: list[Path]) -> None:
    """Remove ``directories`` (from :func:`created_directories`) that are still empty, innermost
    first, so that a refused or failed run leaves no empty folders behind."""
    for directory in reversed(directories):
        with contextlib.suppress(OSError):
            directory.rmdir()


def refuse_text_as_path(what: str, path: str | os.PathLike, *, name: str = "path",
                        text_use: str = "") -> None:
    """ValueError when ``path``, the path of ``what`` to read, is text instead: longer than a
    path can be (a pasted table or TOML text got the system's raw "[Errno 36] File name too
    long" with the whole text), with a line break and no such file ("loss table 'T,loss\\n...'
    not found"), or with a NUL character (a bare "embedded null byte"; a break test, bt185).
    ``text_use``: how to read such text instead, if there is a way."""
    if not isinstance(path, str | os.PathLike):
        return
    text = os.fspath(path)
    if not isinstance(text, str):
        return
    problem = None
    if "\0" in text:
        problem = "with a NUL character, which no path can hold"
    else:
        try:
            os.stat(text)
            return
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                problem = (f"of {len(os.fsencode(text))} bytes, longer than a file name or path "
                           "can be")
            elif "\n" in text or "\r" in text:
                problem = "with line breaks, and no file of that name exists"
        except ValueError:  # pragma: no cover - a NUL is caught above
            problem = "that is no valid path"
    if problem is None:
        return
    shown = text[:40] + ("..." if len(text) > 40 else "")
    raise ValueError(f"{name} must be the file path of the {what}, got text {problem} ({shown!r})"
                     + (f"; {text_use}" if text_use else ""))


def check_input_file(what: str, path: str | os.PathLike, *, name: str = "path",
                     text_use: str = "") -> Path:
    """``path`` as a Path if it is a regular file to read ``what`` from (e.g. "loss table").

    Raises
    ------
    IsADirectoryError
        It is a directory.
    FileNotFoundError
        Nothing is there (a dangling link is named as one).
    TypeError
        ``path`` not a str or os.PathLike (named ``name``).
    ValueError
        Something that is not a regular file: a device, a pipe or a socket (/dev/null was
        reported as "not found"; session 31); text given as the path
        (:func:`refuse_text_as_path`; ``name`` and ``text_use`` are its).
    """
    # None gave os' "expected str, bytes or os.PathLike object, not NoneType" (bt187)
    validate.path(name, path)
    refuse_text_as_path(what, path, name=name, text_use=text_use)
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{what} {str(p)!r} is a directory, not a file")
    if p.is_file():
        return p
    if p.exists():
        raise ValueError(f"{what} {str(p)!r} is not a regular file (a device, pipe or socket); "
                         "give a file")
    link = dangling_link(p)
    if link is not None:
        raise FileNotFoundError(f"{what} {str(p)!r} not found ({link_description(link, 'file')})")
    raise FileNotFoundError(f"{what} {str(p)!r} not found")


def check_input_folder(what: str, path: str | os.PathLike, *, name: str = "path") -> Path:
    """``path`` as a Path if it is a directory to read ``what`` from (e.g. "study folder"), the
    folder counterpart of :func:`check_input_file`. A missing folder or a file was read as a
    folder without results (the study's figures returned [] without a word; bt195).

    Raises
    ------
    TypeError
        ``path`` not a str or os.PathLike (named ``name``).
    NotADirectoryError
        It is a file (or something else that is no directory).
    FileNotFoundError
        Nothing is there (a dangling link is named as one).
    ValueError
        Text given as the path (:func:`refuse_text_as_path`).
    """
    validate.path(name, path)
    refuse_text_as_path(what, path, name=name)
    p = Path(path)
    if p.is_dir():
        return p
    if p.exists():
        raise NotADirectoryError(f"{name}: {what} {str(p)!r} is a file, not a folder")
    link = dangling_link(p)
    if link is not None:
        raise FileNotFoundError(f"{name}: {what} {str(p)!r} not found "
                                f"({link_description(link, 'folder')})")
    raise FileNotFoundError(f"{name}: {what} {str(p)!r} does not exist")

"""Stopping a command cleanly: SIGTERM and SIGHUP unwind like Ctrl-C, and the scripts' one line.

:func:`stop_signals_as_interrupt` is what ``manybody COMMAND`` runs under
(:func:`manybody.cli.app.main`); :func:`script_main` gives the scripts in ``scripts/`` the same
ending: Ctrl-C, SIGTERM and a full disk are one line on stderr and an exit status, never a
traceback (golden_set.py and canonical_velocity_slopes.py printed one for each; session 31).
"""

from __future__ import annotations

import _thread
import contextlib
import errno
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from manybody.support.files import NO_ROOM, room_reason

__all__ = ["NO_SPACE", "REFUSALS", "STOP_SIGNALS", "Terminated", "command_finished", "ignore_stop_signals",
           "last_line", "name_too_long_line", "no_space_line", "script_main",
           "stop_signals_as_interrupt"]


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread so that it unwinds like Ctrl-C (workers
    stopped, finished work kept); exit status 128 + the signal number, as the shell reports."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals that stop a command like Ctrl-C: kill's default, and the terminal being closed.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
#: What an interruption keeps when the code that stopped says nothing more (every output is
#: written atomically: whole or not at all).
KEPT_BY_DEFAULT = "files written before it are complete, none is half-written"
#: errno values of a full disk, an exceeded quota or the file-size limit (ulimit -f).
NO_SPACE = NO_ROOM


#: Seconds after a stop signal during which the same stop arriving again is ignored: ``timeout``
#: (and a scheduler killing the job's process group) signals the command and then its whole
#: group, so the main process gets SIGTERM twice, milliseconds apart. The second one, once the
#: first had reset the default action, killed the run silently: no "interrupted" line, the
#: stretch recorded as killed, its lock left (about 1 run in 8 under ``timeout``; a break test,
#: session 45).
REPEAT_GRACE = 2.0


@contextlib.contextmanager
def stop_signals_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` in the main thread for the duration of a
    command. Once: a stop signal within ``REPEAT_GRACE`` seconds of the first is the same stop
    delivered twice and is ignored; one after that, during the clean-up, takes the default
    action (a second ``kill`` ends a clean-up that hangs). A signal the user ignores (``nohup``
    ignores SIGHUP) stays ignored."""
    first: list[float] = []
    again: list[int] = []  # a stop swallowed in a finalizer, to be raised once more

    def handler(signum: int, frame: object) -> None:
        now = time.monotonic()
        if again:
            again.clear()
            raise Terminated(signum)
        if not first:
            first.append(now)
            raise Terminated(signum)
        if now - first[0] < REPEAT_GRACE:
            return
        for sig in STOP_SIGNALS:
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    previous = {}
    try:
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) != signal.SIG_IGN:
                previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    hook = sys.unraisablehook

    def redeliver(unraisable: Any) -> None:
        """A stop raised while Python ran a finalizer (``__del__``, a weakref callback) is
        swallowed there ("Exception ignored in ..."), and the command ran on to its end: a
        SIGTERM to the golden-set script exited 0 (a CI run, session 55). It is delivered again
        to the main thread from a timer thread (until it lands outside a finalizer)."""
        stop = unraisable.exc_value
        if not isinstance(stop, KeyboardInterrupt):
            hook(unraisable)
            return
        signum = stop.signum if isinstance(stop, Terminated) else signal.SIGINT
        if isinstance(stop, Terminated):
            again.append(signum)
        # from another thread: in this one the handler would run inside the finalizer again
        timer = threading.Timer(0.01, _thread.interrupt_main, args=(signum,))
        timer.daemon = True
        timer.start()

    if previous:
        sys.unraisablehook = redeliver
    try:
        yield
    finally:
        if previous:
            sys.unraisablehook = hook
        for sig, old in previous.items():
            signal.signal(sig, old)


#: Whether the running command has done its work (set by :func:`last_line`).
_finished = {"done": False}


def last_line(text: str) -> None:
    """Print a command's last line (``wrote ...``); its work is done from here on, so a stop that
    arrives while the line is printed or the command returns is not its failure: the command
    still ends with status 0 (:func:`command_finished`; it ended with 130 and "interrupted",
    a break test, session 48)."""
    _finished["done"] = True
    print(text)


def command_finished(reset: bool = False) -> bool:
    """Whether the running command has printed its :func:`last_line`; ``reset`` at a command's
    start (``main`` runs several commands in one process in the tests)."""
    if reset:
        _finished["done"] = False
    return _finished["done"]


def interrupted_line(prefix: str, exc: KeyboardInterrupt) -> tuple[str, int]:
    """The one line and the exit status (128 + signal) of an interruption."""
    signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
    how = f" ({signal.Signals(signum).name})" if signum != signal.SIGINT else ""
    kept = getattr(exc, "kept", KEPT_BY_DEFAULT)
    return f"{prefix}: interrupted{how}; {kept}", 128 + signum


def ignore_stop_signals() -> None:
    """Ignore SIGINT, SIGTERM and SIGHUP for the rest of the process: called once a command
    (:func:`manybody.cli.command_line`) or a script (:func:`script_main`) has finished its work.
    Python puts back the default action of every signal it handled while it shuts down, but an
    ignored signal stays ignored."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (ValueError, OSError):  # not the main thread
            pass


#: The library's refusals of bad input: one line and status 2 from a command or a script.
REFUSALS = (ValueError, TypeError, FileNotFoundError, FileExistsError, PermissionError,
            NotADirectoryError, IsADirectoryError)


def script_main(main: Callable[..., int | None], *args: object) -> int:
    """Run a script's ``main(*args)`` as a command: its exit status, or one line on stderr for
    Ctrl-C or SIGTERM/SIGHUP (status 130 / 143 / 129), for a full disk (status 1) and, as
    ``manybody COMMAND`` does (:func:`manybody.cli.app.main`), for the library's refusals of bad
    input (ValueError, TypeError, FileNotFoundError, FileExistsError, PermissionError,
    NotADirectoryError, IsADirectoryError: status 2; a script's --tmax outside the data, a
    single power for a saturation fit, a README that is not text ended in tracebacks; a tester,
    bt205).

    Use as ``raise SystemExit(script_main(main))`` under ``if __name__ == "__main__":``.
    """
    name = Path(sys.argv[0]).name or "script"
    as_script = sys._getframe(1).f_globals.get("__name__") == "__main__"
    try:
        with stop_signals_as_interrupt():
            status = int(main(*args) or 0)
        if as_script:  # its work is done: a stop while Python shuts down does not undo it
            ignore_stop_signals()  # (manybody.cli.command_line; a break test, session 48)
        return status
    except KeyboardInterrupt as exc:
        line, status = interrupted_line(name, exc)
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            print(line, file=sys.stderr)
        return status
    except REFUSALS as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            print(f"{name}: error: {name_too_long_line(exc)}", file=sys.stderr)
            return 2
        if exc.errno not in NO_SPACE:
            raise
        print(f"{name}: error: {no_space_line(exc)}", file=sys.stderr)
        return 1


def name_too_long_line(exc: OSError) -> str:
    """A file name longer than the file system allows (an info or fit-data path ended in a
    traceback, session 35): the name, shortened, and the way on."""
    name = str(exc.filename or "")
    shown = name if len(name) <= 80 else name[:38] + "..." + name[-39:]
    return (f"the file name {shown!r} ({len(os.fsencode(name))} bytes) is longer than the file "
            "system allows (usually 255 bytes per name); choose a shorter name")


def no_space_line(exc: OSError) -> str:
    """What a full disk (or exceeded quota) stopped: the file, the system's words, the way on."""
    where = f" writing {str(exc.filename)!r}" if exc.filename else ""
    reason = room_reason(exc)
    way = "raise the limit or write elsewhere" if "limit" in reason else "free some space"
    return (f"{reason}{where} ({exc.strerror}); nothing half-written is left: {way} and "
            "rerun")

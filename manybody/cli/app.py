"""Command line: ``manybody <command> ...``.

Each command lives in its own module, named in :data:`COMMANDS`, and provides
``configure(parser)`` (add its arguments) and ``run(args) -> int`` (do the work, return the exit
status). Command modules import no heavy library at import time (scipy's optimisers, QuSpin,
xarray, joblib, matplotlib come when a command runs), so ``manybody --help`` stays fast. Bad input
is reported as one line on stderr with exit status 2, never a traceback.
A run stopped by its environment (a worker killed by the system, a full disk) is one line with
exit status 1; Ctrl-C (130) and SIGTERM (143) stop the workers and keep finished work.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import re
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType

from manybody.cli import fit_data, info, run, study
from manybody.cli.errors import UserError
from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import (
    NO_SPACE,
    REFUSALS,
    command_finished,
    interrupted_line,
    name_too_long_line,
    no_space_line,
    stop_signals_as_interrupt,
)
from manybody.runs.lifecycle import CURRENT_TASK, RunAborted
from manybody.support.address_space import limit_hint

__all__ = ["COMMANDS", "UserError", "build_parser", "main", "one_line_warnings"]

#: command name -> (its module: configure(parser), run(args) -> int; one-line help)
COMMANDS: dict[str, tuple[ModuleType, str]] = {
    "study": (study, "run the built-in study: does TLS structure survive interactions?"),
    "run": (run, "run a sweep from a TOML run specification"),
    "info": (info, "describe a results file: contents and provenance"),
    "fit-data": (fit_data, "fit measured loss data (tanh(x/2) against 1 - e^-x) or, with "
                           "--velocity, the slopes of delta v/v (T)"),
}


#: What ``manybody --help`` says above the commands.
DESCRIPTION = ("Exact diagonalisation of interacting two-level systems in glasses below 1 K. "
               "Usage: manybody COMMAND ...; manybody COMMAND --help lists a command's options.")


#: reST inline markup in docstrings reused as help: ``literal``, :role:`target`, *emphasis*.
_MARKUP = re.compile(r"``(.+?)``|:[a-z:]+:`~?(.+?)`|(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])")


def plain(text: str) -> str:
    """Help text without reST markup (``manybody run`` -> manybody run, :func:`f` -> f)."""
    return _MARKUP.sub(lambda m: next(g for g in m.groups() if g is not None), text)


class PlainHelpFormatter(argparse.HelpFormatter):
    """argparse help with the reST markup of docstrings removed (descriptions, arguments)."""

    def _format_text(self, text: str) -> str:
        return super()._format_text(plain(text))

    def _expand_help(self, action: argparse.Action) -> str:
        return plain(super()._expand_help(action))


class _Version(argparse.Action):
    """``--version``: ``manybody 0.1.0`` and, in a git checkout, its commit (what a results file
    records); git is asked only when the option is given."""

    def __call__(self, parser, namespace, values, option_string=None):
        from manybody import __version__
        from manybody.support.provenance import git_commit_and_dirty

        commit, dirty = git_commit_and_dirty()
        where = (f" (git {commit}{', with uncommitted changes' if dirty else ''})" if commit
                 else "")
        print(f"manybody {__version__}{where}")  # stdout, as argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = ManybodyParser(prog="manybody", description=DESCRIPTION,
                            formatter_class=PlainHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="print the version (and the git commit of a checkout) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text,
                           formatter_class=PlainHelpFormatter)
        p.set_defaults(_command=name)
        module.configure(p)
        # after the command too ('manybody run SPEC -o X -v' was 'unrecognized arguments: -v',
        # a new user, session 35); SUPPRESS keeps a -v given before the command
        p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="log progress details (as before the command)")
    return parser


#: A value that argparse would take for an option because it starts with '-': '-80,-100'.
_NEGATIVE_VALUE = re.compile(r"-\.?\d")


def attach_negative_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``--powers -80,-100`` as ``--powers=-80,-100``: argparse reads a value that starts with
    '-' and is not a plain number as the next option ("expected one argument"; dBm powers are
    negative: session 31). Only for the options of the command that take one value."""
    subparsers = next((a for a in parser._actions
                       if isinstance(a, argparse._SubParsersAction)), None)
    command = next((word for word in argv if not word.startswith("-")), None)
    if subparsers is None or command not in subparsers.choices:
        return argv
    takes_value = {option for action in subparsers.choices[command]._actions
                   if action.nargs is None for option in action.option_strings}
    out: list[str] = []
    words = iter(argv)
    for word in words:
        out.append(word)
        if word == "--":
            out.extend(words)
            break
        if word in takes_value:
            value = next(words, None)
            if value is None:
                break
            if _NEGATIVE_VALUE.match(value):
                out[-1] = f"{word}={value}"
            else:
                out.append(value)
    return out


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a character the terminal's encoding lacks ('±',
        # 'ü') is escaped, not an error after every file was written (PYTHONIOENCODING=ascii
        # ended finished runs with exit 2; a break test, session 47)
        with contextlib.suppress(AttributeError, ValueError):  # not a text stream, or closed
            stream.reconfigure(errors="backslashreplace")
    try:  # a Ctrl-C while the parser is built or reads the words was a traceback, exit 1 (the
        # command's own handler below starts later; helper-183)
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
        args = parser.parse_args(attach_negative_values(parser, argv))
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")
        module, _ = COMMANDS[args._command]
        command_finished(reset=True)
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):
            print("manybody: interrupted while starting; nothing was written", file=sys.stderr)
        return 130
    try:
        with stop_signals_as_interrupt(), one_line_warnings():
            return int(module.run(args) or 0)
    except (UserError, *REFUSALS, MemoryError) as exc:
        # a MemoryError raised without words (an allocation under ulimit -v) printed nothing
        # after the colon (a break test, session 46)
        text = str(exc) or f"out of memory{limit_hint()}"
        print(f"manybody {args.command}: error: {text}", file=sys.stderr)
        return 2
    except Warning as exc:  # python -W error or PYTHONWARNINGS=error made one an exception: it
        # ended a study in a traceback, exit 1 (a break test, session 47)
        print(f"manybody {args.command}: error: a warning was turned into an error (python -W "
              f"error or PYTHONWARNINGS): {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if command_finished():  # a stop after the last line: the work is done
            return 0
        line, status = interrupted_line(f"manybody {args.command}", exc)
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            print(line, file=sys.stderr)
        return status
    except RunAborted as exc:
        print(f"manybody {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk while fit-data or info wrote (run and study name it
        if exc.errno == errno.ENAMETOOLONG:  # themselves, with their checkpoint: RunAborted)
            print(f"manybody {args.command}: error: {name_too_long_line(exc)}", file=sys.stderr)
            return 2
        if exc.errno in NO_SPACE:
            print(f"manybody {args.command}: error: {no_space_line(exc)}", file=sys.stderr)
            return 1
        if exc.filename is None or exc.errno not in PATH_ERRORS:  # a fault of the code or of
            raise  # the machine (EIO): not disguised
        # a path that cannot be read or written as asked (a loop of symbolic links inside a
        # folder, a read-only file system, a device): one line naming it (a tester, bt207)
        other = f" -> {exc.filename2!r}" if exc.filename2 is not None else ""
        print(f"manybody {args.command}: error: {exc.filename!r}{other}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2


#: OSError numbers that say a path the user gave cannot be used as asked (beside those of
#: :data:`~manybody.cli.signals.REFUSALS`' own classes): told in one line, status 2.
PATH_ERRORS = frozenset({errno.ELOOP, errno.EROFS, errno.ENXIO, errno.ENODEV})


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Warnings printed as :func:`_one_line_warning` while a command runs, each line once
    (restored after): the preflight checks every sweep point under ``catch_warnings``, which
    resets Python's once-per-place registry, so a model's warning came once per point and
    again for the spec (7 identical lines for 5 sweep points; a tester, bt207)."""
    before, before_show = warnings.formatwarning, warnings.showwarning
    shown: set[str] = set()

    def show_once(message, category, filename, lineno, file=None, line=None):
        text = _one_line_warning(message, category, filename, lineno, line)
        if text not in shown:  # the line as printed: a realisation's own warning keeps its
            shown.add(text)  # realisation in it, so each realisation's is still shown
            before_show(message, category, filename, lineno, file, line)

    warnings.formatwarning, warnings.showwarning = _one_line_warning, show_once
    try:
        yield
    finally:
        warnings.formatwarning, warnings.showwarning = before, before_show


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as one line for a command-line user: its category and message, not the
    package's file, line number and source line (a new user's break test, session 24: a
    target_error warning printed ``.../observe.py:77: RuntimeWarning: ...`` and then the echoed
    line ``raw = entry.respond(...)``). Inside a sweep's task the realisation comes first
    (:data:`~manybody.runs.lifecycle.CURRENT_TASK`; two workers' warnings were otherwise
    indistinguishable, session 25). Loky's workers print with this format too
    (:func:`manybody.runs.execution.start_worker`)."""
    where = CURRENT_TASK.get()
    return f"warning ({category.__name__}): {where + ': ' if where else ''}{message}\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

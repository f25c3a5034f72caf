"""The argument parser of ``manybody`` and of the scripts: argparse's, with options that take a
value refusing to be given twice (argparse keeps the last value without a word).

Imports argparse only, so scripts and ``manybody --help`` stay fast.
"""

from __future__ import annotations

import argparse

__all__ = ["ManybodyParser"]

#: Namespace attribute in which :class:`_StoreOnce` keeps the options given so far.
_GIVEN = "_options_given"


class _StoreOnce(argparse._StoreAction):
    """argparse's ``store`` for options, refusing one given twice: argparse keeps the last
    value, so ``--frequency 5GHz --frequency 6GHz`` fitted at 6 GHz without a word (a tester,
    session 40). Aliases (``-o``/``--output``) and abbreviations count as the same option."""

    def __call__(self, parser, namespace, values, option_string=None):
        if self.option_strings:
            given = namespace.__dict__.setdefault(_GIVEN, {})
            if self.dest in given:
                first_option, first_value = given[self.dest]
                parser.error(f"argument {'/'.join(self.option_strings)}: given twice "
                             f"({first_option} {first_value!s}, then {option_string} "
                             f"{values!s}); give it once")
            given[self.dest] = (option_string, values)
        super().__call__(parser, namespace, values, option_string)


class ManybodyParser(argparse.ArgumentParser):
    """ArgumentParser whose options taking a value refuse to be given twice
    (:class:`_StoreOnce`); its subcommand parsers are of this class too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)

    def parse_args(self, args=None, namespace=None):
        """As argparse's, with the closest option named for an unrecognised one ("unrecognized
        arguments: --frequncy; did you mean --frequency?"; a misspelt option was named alone)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}"
                       + _close_options(self, parsed, extras))
        return parsed

    def parse_known_args(self, args=None, namespace=None):
        parsed, extras = super().parse_known_args(args, namespace)
        parsed.__dict__.pop(_GIVEN, None)
        return parsed, extras


def _close_options(parser: argparse.ArgumentParser, parsed: argparse.Namespace,
                   extras: list[str]) -> str:
    """"; did you mean --frequency for --frequncy?" for the unrecognised words that resemble an
    option of ``parser`` or of the subcommand given (:func:`difflib.get_close_matches`)."""
    import difflib

    options = [o for action in parser._actions for o in action.option_strings]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(parsed, action.dest, None) or "")
            if chosen is not None:
                options += [o for a in chosen._actions for o in a.option_strings]
    close = []
    for word in extras:
        name = word.split("=", 1)[0]
        if name.startswith("--") and (match := difflib.get_close_matches(name, options, n=1,
                                                                          cutoff=0.7)):
            close.append(f"{match[0]} for {name}")
    return f"; did you mean {', '.join(close)}?" if close else ""

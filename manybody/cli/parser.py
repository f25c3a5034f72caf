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

    def parse_known_args(self, args=None, namespace=None):
        parsed, extras = super().parse_known_args(args, namespace)
        parsed.__dict__.pop(_GIVEN, None)
        return parsed, extras

"""The argument parser of ``manybody`` and of the scripts: argparse's, with options that take a
value refusing to be given twice (argparse keeps the last value without a word).

Imports argparse only, so scripts and ``manybody --help`` stay fast.
"""

from __future__ import annotations

import argparse
import difflib
import sys

__all__ = ["ManybodyParser", "option_given", "option_typed"]

#: Namespace attribute in which :class:`_StoreOnce` keeps the options given so far.
_GIVEN = "_options_given"

#: Namespace attribute holding the destinations of the options given on the command line, once
#: parsed (:func:`option_given`).
_GIVEN_DESTS = "_given_options"


def option_given(args: argparse.Namespace, dest: str, default=None) -> bool:
    """Whether the option storing into ``dest`` was given on the command line, even at its
    default value (``--seed 0`` without ``--simulate``, ``--sweep-layout db-deg`` without
    ``--sweeps``: compared with the default they looked absent, and were passed over without a
    word; helper-181 F5). A namespace not made by :class:`ManybodyParser` (built by hand) falls
    back to comparing the value with ``default``."""
    given = vars(args).get(_GIVEN_DESTS)
    if dest in (given or ()):
        return True
    return getattr(args, dest, default) != default


def option_typed(args: argparse.Namespace, dest: str, name: str) -> str:
    """The option string that set ``dest`` on the command line ('--background' of a
    ``--background``/``--no-background`` pair: the refusal named '--no-background' for a
    typed '--background'; helper-185), or ``name`` when it was not recorded."""
    return (vars(args).get(_GIVEN_DESTS) or {}).get(dest) or name


def _shown(value) -> str:
    """An option's value as typed: a list comma-separated, a path as text."""
    if isinstance(value, list | tuple):
        return ",".join(map(_shown, value))
    return str(value)


def _refuse_twice(action, parser, namespace, value, option_string) -> None:
    """parser.error when ``action``'s destination was given before on this command line with
    another option or value; records this one."""
    given = namespace.__dict__.setdefault(_GIVEN, {})
    raw = getattr(parser, "_raw_values", None)
    typed = " ".join(raw) if raw else _shown(value)  # as typed: '10mK', not 0.01
    if action.dest in given:
        first_option, first_typed = given[action.dest]
        if action.nargs in ("+", "*"):
            several = (f"; several values go in one, space-separated (e.g. {option_string} "
                       f"{first_typed} {typed})")
        elif "comma" in (action.help or "") or isinstance(value, list | tuple):
            several = (f"; several values go in one, comma-separated (e.g. {option_string}="
                       f"{first_typed},{typed})")
        else:
            several = ""
        parser.error(f"argument {'/'.join(action.option_strings)}: given twice "
                     f"({first_option} {first_typed}, then {option_string} {typed}); give it "
                     f"once{several}")
    given[action.dest] = (option_string, typed)


class _StoreOnce(argparse._StoreAction):
    """argparse's ``store`` for options, refusing one given twice: argparse keeps the last
    value, so ``--frequency 5GHz --frequency 6GHz`` fitted at 6 GHz without a word (a tester,
    session 40). Aliases (``-o``/``--output``) and abbreviations count as the same option."""

    def __call__(self, parser, namespace, values, option_string=None):
        if self.option_strings:
            _refuse_twice(self, parser, namespace, values, option_string)
        super().__call__(parser, namespace, values, option_string)


class _BooleanOnce(argparse.BooleanOptionalAction):
    """``--background``/``--no-background`` refusing both on one command line (the last won
    without a word; a tester, session 41); the same one twice is harmless."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.get(_GIVEN, {})
        if self.dest in given and given[self.dest][0] != option_string:
            parser.error(f"arguments {given[self.dest][0]} and {option_string} contradict each "
                         "other; give one of them")
        namespace.__dict__.setdefault(_GIVEN, {})[self.dest] = (option_string, None)
        super().__call__(parser, namespace, values, option_string)


class ManybodyParser(argparse.ArgumentParser):
    """ArgumentParser whose options taking a value refuse to be given twice
    (:class:`_StoreOnce`), whose ``--x``/``--no-x`` pairs refuse both (:class:`_BooleanOnce`),
    and which names the closest option for a misspelt one; its subcommand parsers are of this
    class too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)
        self.register("action", argparse.BooleanOptionalAction, _BooleanOnce)

    def parse_args(self, args=None, namespace=None):
        """As argparse's, with the closest option named for an unrecognised one ("unrecognized
        arguments: --frequncy; did you mean --frequency?"; a misspelt option was named alone),
        by the subcommand's parser when one was given (its usage, its name); a word that
        starts with a typographic dash ('\u2014frequency', pasted from a document) is named."""
        words = sys.argv[1:] if args is None else list(args)
        for i, word in enumerate(words):
            if isinstance(word, str) and word[:1] in _DASHES:
                first, last = _negative_run(words, i)
                option, values = (words[first - 1] if first else None), words[first:last]
                if isinstance(option, str) and option.startswith("--") and _negative_number(
                        option.partition("=")[2]):  # '--powers -80' arrives as '--powers=-80'
                    option, joined = option.split("=", 1)
                    values = [joined, *values]
                self.error(_pasted_dash(word, option, self._option_action(words, option),
                                        values))
            if (isinstance(word, str) and word.startswith("--") and "=" in word
                    and _pasted(word.partition("=")[2])):  # '--tmin=\u221250mK' (bt206 F4)
                name, _, typed = word.translate(_AS_HYPHEN).partition("=")
                refusal = _refused_value(self._option_action(words, name), typed)
                self.error(f"argument {word!r} holds {_pasted(word)}, not a hyphen (pasted "
                           "from a document?); " + (
                               f"type it as '{name}={typed}'" if refusal is None else
                               f"and read as {typed!r} it is refused: "
                               + _argument_refusal(name, refusal)))
            action = self._option_action(words, words[i - 1]) if i else None
            if (isinstance(word, str) and not word.startswith("-") and _pasted(word)
                    and action is not None and _refused_value(action, word) is not None):
                # inside a value its check refuses ('--frequency 5.6e\u22123K', '--band
                # 0,1e\u22123'): the refusal named no dash (a tester, bt229 F10); a file or a
                # column name with a dash in it is left alone
                option = words[i - 1]
                typed = word.translate(_AS_HYPHEN)
                refusal = _refused_value(action, typed)
                self.error(f"argument {word!r} holds {_pasted(word)}, not a hyphen (pasted from "
                           "a document?); " + (
                               f"type it as {typed!r}" if refusal is None else
                               f"and read as {typed!r} it is refused: "
                               + _argument_refusal(option, refusal)))
        parsed, extras = self.parse_known_args(words, namespace)
        if extras:
            chosen = _chosen_subparser(self, parsed)
            (chosen or self).error(f"unrecognized arguments: {' '.join(extras)}"
                                   + _close_options(chosen or self, extras, self))
        return parsed

    def _option_action(self, words: list, option: object) -> argparse.Action | None:
        """The action of ``option`` (a word like '--tmin') in the subcommand among ``words``, or
        in this parser; None when there is none."""
        if not (isinstance(option, str) and option.startswith("-")):
            return None
        parsers = [self] + [sub.choices[word] for sub in self._actions
                            if isinstance(sub, argparse._SubParsersAction)
                            for word in words if isinstance(word, str) and word in sub.choices]
        for parser in reversed(parsers):
            for action in parser._actions:
                if option in action.option_strings:
                    return action
        return None

    def error(self, message):
        """A pointer to ``--help`` and one line, ``prog: error: message`` (the last line, as
        before): argparse printed the
        whole usage first, ~25 lines for fit-data before the one line that mattered (bt197 F3);
        the commands' own errors are one line too."""
        self.exit(2, f"{self.prog}: see '{self.prog} --help' for the options\n"
                     f"{self.prog}: error: {message}\n")

    def _check_value(self, action, value):
        """As argparse's, with the closest choice named for a misspelt one ("invalid choice:
        'dipoler' (choose from ...); did you mean 'dipolar'?"; session 42: the choice was named
        alone, among 19 for ``study --only``)."""
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            choices = [str(c) for c in action.choices or ()]
            close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
            if not close:
                raise
            raise argparse.ArgumentError(action, f"{exc.message}; did you mean {close[0]!r}?"
                                         ) from None

    def _get_values(self, action, arg_strings):
        self._raw_values = list(arg_strings)  # the option's words as typed, for _refuse_twice
        return super()._get_values(action, arg_strings)

    def parse_known_args(self, args=None, namespace=None):
        parsed, extras = super().parse_known_args(args, namespace)
        given = parsed.__dict__.pop(_GIVEN, {})
        # a subcommand's parser ran first and left its own: the two are merged
        parsed.__dict__[_GIVEN_DESTS] = {**{dest: typed[0] for dest, typed in given.items()},
                                         **parsed.__dict__.get(_GIVEN_DESTS, {})}
        return parsed, extras


#: Typographic dashes that a pasted option may start with, and their names.
_DASHES = {"\u2014": "an em dash (\u2014)", "\u2013": "an en dash (\u2013)",
           "\u2212": "a minus sign (\u2212)", "\u2010": "a Unicode hyphen (\u2010)",
           "\u2011": "a non-breaking hyphen (\u2011)", "\u2012": "a figure dash (\u2012)",
           "\uff0d": "a fullwidth hyphen-minus (\uff0d)"}


#: Characters pasted from documents where a hyphen-minus is meant, inside a value: the minus
#: sign, the hyphen, the non-breaking hyphen, the figure dash, the en dash and the fullwidth
#: hyphen-minus (a tester, bt229 F10: U+2010 and U+FF0D were not recognised at all).
_HYPHEN_LIKE = {"\u2212": "a minus sign (\u2212)", "\u2010": "a Unicode hyphen (\u2010)",
                "\u2011": "a non-breaking hyphen (\u2011)", "\u2012": "a figure dash (\u2012)",
                "\u2013": "an en dash (\u2013)", "\uff0d": "a fullwidth hyphen-minus (\uff0d)"}
_AS_HYPHEN = {ord(c): "-" for c in _HYPHEN_LIKE}


def _pasted(word: str) -> str:
    """The name of the first hyphen-like character of :data:`_HYPHEN_LIKE` in ``word``, or ""."""
    return next((name for c, name in _HYPHEN_LIKE.items() if c in word), "")


def _negative_number(word: object) -> bool:
    """Whether ``word`` is a negative number, with a hyphen or a pasted dash ('-80', '\u2212100')."""
    return (isinstance(word, str) and word[:1] in ("-", *_DASHES)
            and word.lstrip("".join(_DASHES) + "-")[:1] in (*"0123456789", "."))


def _negative_run(words: list, i: int) -> tuple[int, int]:
    """The slice [first, last) of the negative numbers around ``words[i]`` ('--powers -80
    \u2212100 \u2212120': the three values), so that the option before them is ``words[first - 1]``."""
    first, last = i, i + 1
    while first > 0 and _negative_number(words[first - 1]):
        first -= 1
    while last < len(words) and _negative_number(words[last]):
        last += 1
    return first, last


def _pasted_dash(word: str, previous: object, action: argparse.Action | None = None,
                 values: list[str] | None = None) -> str:
    """The refusal of a word that starts with a typographic dash: a pasted option name
    ('\u2014frequency') is told '--frequency'; a pasted negative value ('\u2212100,\u2212120',
    '\u221250mK': a digit or '.' after the dash) is told with every dash made a hyphen and, after
    an option, in the ``--option=value`` form, as argparse takes a word starting with '-' for an
    option (a tester, bt206 F4: '--100,\u2212120' was suggested, which itself failed)."""
    start = (f"argument {word!r} starts with {_DASHES[word[0]]}, not a hyphen (pasted from a "
             f"document?)")
    body = word.lstrip("".join(_DASHES) + "-")
    if not (body[:1].isdigit() or body[:1] == "."):
        return f"{start}; type it as '--{body}'"
    dashes = {ord(d): "-" for d in _DASHES}
    value = word.translate(dashes)
    if (values and len(values) > 1 and action is not None and action.nargs is None
            and "comma" in (action.help or "")):
        # '--powers \u221280 \u2212100' as two words was told '--powers=-80', and -100 was
        # then an unrecognised argument (session 61's note): one word, comma-separated
        value = ",".join(w.translate(dashes) for w in values)
    refusal = _refused_value(action, value)
    if refusal is not None:
        # '--tmin −50mK' was told "type '--tmin=-50mK'", which --tmin then refused (no
        # temperature is negative; session 61's note): the option's own refusal instead
        return (f"{start}; and read as {value!r} it is refused: "
                + _argument_refusal(previous, refusal))
    if (isinstance(previous, str) and previous.startswith("--") and "=" not in previous
            and previous[2:3].isalpha()):
        return (f"{start}; type the value with hyphens, joined to its option by '=' (a value "
                f"starting with '-' is otherwise read as an option): '{previous}={value}'")
    return f"{start}; type it with hyphens: '{value}'"


def _argument_refusal(name: object, refusal: str) -> str:
    """'argument --tmin: refusal', without the name twice when the refusal starts with it."""
    return refusal if refusal.startswith(f"{name} ") else f"argument {name}: {refusal}"


def _refused_value(action: argparse.Action | None, value: str) -> str | None:
    """The message with which ``action``'s type refuses ``value`` (every word of an option that
    takes several, split on commas where the type reads lists), or None when it takes it or has
    no type. An option checked after parsing names its check as the action's ``checker``
    (:func:`checked_after_parsing`): '--gap −1' was told '--gap=-1', which the check then
    refused (a tester, bt223 F11)."""
    check = getattr(action, "checker", None) or getattr(action, "type", None)
    if action is None or not callable(check):
        return None
    try:
        check(value)
    except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
        return str(exc) or f"invalid value {value!r}"
    return None


def checked_after_parsing(action: argparse.Action, check) -> argparse.Action:
    """Name ``check`` (a function of the typed string that raises ValueError with the option's
    refusal) as the check of an option whose value is read after parsing, so that a pasted
    minus sign in it is told that refusal, not a form the option then refuses; returns the
    action."""
    action.checker = check
    return action


def _chosen_subparser(parser: argparse.ArgumentParser,
                      parsed: argparse.Namespace) -> argparse.ArgumentParser | None:
    """The parser of the subcommand given on the command line, or None."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(getattr(parsed, action.dest, None) or "")
    return None


def _short_aliases(top: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Short option -> the long options it stands for in any command of ``top`` (-o: --output)."""
    parsers = [top] + [p for a in top._actions if isinstance(a, argparse._SubParsersAction)
                       for p in a.choices.values()]
    aliases: dict[str, list[str]] = {}
    for parser in parsers:
        for action in parser._actions:
            shorts = [o for o in action.option_strings if not o.startswith("--")]
            longs = [o for o in action.option_strings if o.startswith("--")]
            for short in shorts:
                aliases.setdefault(short, []).extend(longs)
    return aliases


def _close_options(parser: argparse.ArgumentParser, extras: list[str],
                   top: argparse.ArgumentParser | None = None) -> str:
    """"; did you mean --frequency for --frequncy?" for the unrecognised words that resemble an
    option of ``parser`` (the subcommand's when one was given; :func:`difflib.get_close_matches`,
    or the same letters in another order), a single-dash '-frequency' included."""
    import difflib

    options = [o for action in parser._actions for o in action.option_strings
               if o.startswith("--")]
    close = []
    for word in extras:
        name = word.split("=", 1)[0]
        if top is not None and len(name) == 2 and name.startswith("-") and name[1].isalpha():
            # another command's short option ('fit-data -o': run's -o is --output)
            meant = [m for long in _short_aliases(top).get(name, [])
                     for m in difflib.get_close_matches(long, options, n=1, cutoff=0.6)]
            if meant:
                close.append(f"{meant[0]} for {name}")
            continue
        if not name.startswith("-") or name in options or len(name) < 3:
            continue
        spelt = name if name.startswith("--") else "-" + name
        match = difflib.get_close_matches(spelt, options, n=1, cutoff=0.7) or [
            o for o in options if sorted(o) == sorted(spelt)]
        if match:
            close.append(f"{match[0]} for {name}")
    units = [word for word in extras if word.lower() in _UNITS]
    hint = (f"; a unit on its own ({units[0]!r}): write a value and its unit without a space "
            f"(e.g. 5{units[0]})" if units else "")
    return (f"; did you mean {', '.join(close)}?" if close else "") + hint


#: Units that a value may carry (a value typed '5 GHz' leaves 'GHz' unrecognised).
_UNITS = {"hz", "khz", "mhz", "ghz", "k", "mk", "dbm", "db", "s", "ms", "us", "ns"}

"""Column names of measured tables, as experimentalists write them: the quantity, the unit or
scale its values are in, and conditions of the measurement written beside it.

:func:`parse_header` splits a name such as ``Qi (-80 dBm, x1e6)`` into the quantity (``qi``), its
scale (``x1e6``) and its conditions (``-80 dBm``); the functions below it tell which column holds
the temperature (and in which unit), the loss (as Q, Q^-1 or a loss tangent), its error and the
drive power, and convert a header's dimensionless scale (``ppm``, ``%``, ``1e-6``) to a factor.
Reading the files themselves (separators, decimal commas, cells, units rows) is
:mod:`manybody.measured.tables`, which uses these.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from manybody.support import validate
from manybody.units import HERTZ_PER_UNIT

__all__ = ["HEADER_SPELLINGS", "LOSS_START", "HeaderParts", "check_header", "dimensionless_scale",
           "ERROR_UNITS", "FREQUENCY_SPELLINGS", "error_is_fraction", "error_is_relative",
           "error_names_other", "error_subject",
           "header_power_unit", "header_temperature_unit", "header_unit", "is_expanded_uncertainty",
           "is_error_column", "is_power_column", "is_temperature", "loss_kind",
           "normalised_header", "parse_header", "plain_symbols", "scale_factor", "scale_unit",
           "scaled_errors",
           "strip_unit", "without_condition"]


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
#: Unicode minus and dashes before a number, the micro sign, blanks that are not spaces, and
#: subscript digits written plain ('f₀' is 'f0': 'f₀ − f (Hz)' and 'Δf/f₀ (Hz)' were "cannot tell
#: which column is the shift"; a tester, session 54).
#: Since helper-173 also the figure dash and em dash ('f0 ‒ f', 'f0 — f') and subscript letters
#: ('fᵣ₀ - fᵣ' is 'fr0 - fr'; they were "cannot tell which column is the shift"), and the dot
#: operator '⋅' as the middle dot ('dv/v ⋅ 10^6' was "a number without a unit"; helper-172).
_LOOKALIKES = str.maketrans({**{chr(0x2080 + d): str(d) for d in range(10)},
                             **dict(zip("ₐₑₒₓₕₖₗₘₙₚₛₜᵢᵣᵤᵥ", "aeoxhklmnpstiruv", strict=True)),
                             "\u2212": "-", "\u2013": "-", "\u2010": "-", "\u2011": "-",
                             "\u2012": "-", "\u2014": "-", "\u22c5": "\u00b7",
                             "\u03bc": "\u00b5", "\u00a0": " ", "\u2009": " ", "\u202f": " "})


#: What a header argument must be, for the messages of :func:`_headers`.
_HEADER_EXPECTED = "a string (a column name)"


def _headers(*names: str, optional: tuple[str, ...] = (),
             expected: str = _HEADER_EXPECTED) -> Callable[[Callable], Callable]:
    """Decorator: refuse a header argument (the parameters ``names``; those in ``optional`` may
    be None) that is not a string, in one line naming the function and the parameter, before any
    work. One check for every public function here: None, a number, NaN, a list or a DataFrame
    got "'NoneType' object has no attribute 'replace'" or "unhashable type" (bt195)."""

    def decorate(fn: Callable) -> Callable:
        params = list(inspect.signature(fn).parameters)
        checked = [(params.index(name), name) for name in names]

        @functools.wraps(fn)
        def with_checked_headers(*args, **kwargs):
            for index, name in checked:
                if index < len(args):
                    value = args[index]
                elif name in kwargs:
                    value = kwargs[name]
                else:
                    continue  # missing: Python's own message
                if not isinstance(value, str) and not (value is None and name in optional):
                    validate.instance(f"{fn.__name__}(): header {name}", value, str,
                                      expected + (" or None" if name in optional else ""))
            return fn(*args, **kwargs)

        for attribute in ("cache_info", "cache_clear", "cache_parameters"):  # an lru_cache's
            if hasattr(fn, attribute):
                setattr(with_checked_headers, attribute, getattr(fn, attribute))
        return with_checked_headers

    return decorate


def _as_written(name: str) -> str:
    """A header cell without its byte-order mark, quotes and surrounding blanks, case kept."""
    return name.replace("\ufeff", "").strip().strip('"').strip()


#: 'minus' between two operands is the operator: 'f0 minus f', 'f0_minus_f' are 'f0 - f' (it was
#: taken for a resonance frequency; a tester, session 54). Not after 'plus' ('plus minus': an
#: error's ±).
_WORD_MINUS = re.compile(r"(?<=\S)(?<!plus)[\s_]+minus[\s_]+(?=\S)", re.IGNORECASE)


@_headers("name")
def plain_symbols(name: str) -> str:
    """A header cell as written (case kept, so 'mHz' stays millihertz) with the look-alike
    characters of :func:`normalised_header` made plain: Unicode minus and dashes as '-',
    subscript digits and letters plain, a superscript 0 on a frequency ('f⁰') as 'f0', and a
    word 'minus' between operands as ' - '."""
    text = _WORD_MINUS.sub(" - ", _as_written(name).translate(_LOOKALIKES))
    return re.sub(r"(?<![A-Za-z])([fFνvV])\s*\u2070", r"\g<1>0", text)


@_headers("name")
def normalised_header(name: str) -> str:
    """Lower-case header with BOM, quotes and surrounding blanks removed, subscript digits plain
    (``'f₀'`` -> ``'f0'``) and a word 'minus' between operands as ``-``; superscripts written
    out (``'×10⁻⁶'`` -> ``'×10^-6'``, ``'Q⁻¹'`` -> ``'q^-1'``; '×10⁻⁶' was read as no scale, a
    reviewer, session 27), and the brackets of an exponent, a subscript or ``tan(δ)`` folded
    (``'10^(-6)'``, ``'Q_{i}^{-1}'``, ``'Q(-1)'``), so that every bracket left is an annotation."""
    text = re.sub(r"\+\s*/\s*-", "±", plain_symbols(name).lower())  # '+/-' (its '-' was cut; helper-179)
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+", lambda m: "^" + m.group(0).translate(_SUPERSCRIPTS), text)
    text = re.sub(r"\^\s*[\{\(]\s*([+-]?)\s*(\d+)\s*[\}\)]", r"^\1\2", text)
    text = re.sub(r"_\s*\{\s*([^{}()\[\]]*?)\s*\}", r"_\1", text)
    text = re.sub(r"(q[a-z_]*)\s*\(\s*-\s*1\s*\)", r"\1^-1", text)
    text = re.sub(r"\btan\s*\(\s*(delta|δ|d)\s*\)", r"tan \1", text).strip()
    text = _FREQUENCY_AT.sub(lambda m: f"{m.group(1)}_{_compact(m.group(2))}", text)
    return _ERROR_OF.sub(lambda m: " ".join(g.strip(" _") for g in m.groups() if g.strip(" _"))
                         if _names_quantity(m.group(3)) else m.group(0), text)


#: A frequency at a temperature, 'f(T)', 'f(T0)', 'f(T_ref)', 'f(0.01 K)', is read as 'f_t',
#: 'f_t0', ...: the bracket is the frequency's argument, not a unit ('f(T) - f0 (Hz)' was refused
#: as a shift without its unit, its '(T)' taken for one; a tester, session 52).
_FREQUENCY_AT = re.compile(r"(?<![a-z])(f(?:_?(?:0|r|res|c))?|ν)\s*\(\s*(t(?:_?[a-z0-9]+)?|[\d.]+\s*[mµu]?k)"
                           r"\s*\)")
#: The quantity of a shift column an error names: 'df', 'Δf_0', 'dv/v', 'df/f0', 'f - f0', 'shift'
#: ('sd(df) (Hz)' and 'u(dv/v) (ppb)' were read with the bracket as their unit, their own unit
#: lost; a tester, session 52).
_SHIFT_TARGET = (r"(?:(?:d|δ|delta)\s*_?\s*(?:f|v|ν)(?:_?(?:0|r))?(?:\s*/\s*(?:f|v)(?:_?0)?)?"
                 r"|f\s*-\s*f_?0|shift)(?![a-z0-9])")


#: An error word or a difference sign before its quantity in brackets: 'd(1/Qi)', 'δ(tan δ)',
#: 'sigma(1/Q)', 'err(Qc)' are read as 'd 1/qi', ... ('d(1/Qi)' was not an error column and
#: 'delta(tan δ)' a 'delta' column in units of tan δ; a second round, helper-156, session 50).
#: Also 'u(loss)', 'sd(Qi)', 'se(Qi)', 'e(Qi)' (the GUM's u, standard deviation and standard
#: error; they were not error columns, a tester, session 52).
#: A qualifier may stand between: 'u_rel(Qi)' (a relative error; since session 52), 'u_c(df)' (the
#: GUM's combined standard uncertainty; since session 54).
_ERROR_OF = re.compile(r"^(d|δ|delta|sigma|σ|err|error|std|stdev|stderr|sd|se|sem|u|e|unc|"
                       r"uncertainty)((?:[\s_]*(?:rel|relative|abs)|(?<=u)[\s_]*c)?)\s*[\(\[\{]"
                       r"([^()\[\]{}]*)"
                       r"[\)\]\}]")


def _names_quantity(text: str) -> bool:
    """Whether a bracket after an error word holds a quantity (the loss, a Q, the temperature,
    a frequency) rather than a unit ('(mK)', '(%)')."""
    t = text.strip()
    return bool(t) and bool(_TAN_DELTA.search(t) or _INVERSE_Q.search(t) or _Q_AUTO.match(t)
                            or _Q_OTHER.match(t) or is_temperature(t) or _FREQUENCY.match(t)
                            or re.fullmatch(_SHIFT_TARGET, t))


# A header is a quantity's name followed by annotations, in any order: the unit or scale its
# values are in ('(x1e6)', '[ppm]', '/1e6', ', 1e-6', 'x10^6') and conditions of the measurement
# ('@ -80 dBm', '(T = 20 mK)', ', n = 1e3 photons', '<n> ~ 10'). parse_header() splits it;
# anything it cannot place is a problem that the column's reader reports (session 28: 'Qi (-80
# dBm, x1e6)' was refused as "cannot tell which column is the loss", 'Qi at 1e6' read as a
# condition and its values taken as plain numbers).

#: A number: '-80', '.5', '1e3', '1.5 x 10^3', '10^3', '~10'.
_VALUE = (r"(?:[~≈]\s*)?(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:\s*e\s*[-+]?\d+|\s*[x×*·]\s*10\s*\^\s*[-+]?\d+)?"
          r"|[-+]?10\s*\^\s*[-+]?\d+)")
#: Units a measurement condition is given in: power, temperature, photon number, frequency,
#: voltage.
_CONDITION_UNIT = (r"(?:dbm|dbw|db|photons?|ph|mk|µk|uk|k|pw|nw|µw|uw|mw|w|ghz|mhz|khz|hz|"
                   r"vrms|mvrms|mv|µv|uv|nv|v)")
#: Names a condition is given by: P, P_in, Pin, T, T_mc, n, n_ph, <n>, f, f_0, power, ...
_CONDITION_NAME = (r"(?:[ptnfv](?:_[a-z0-9]+)?|pin|prf|pmw|tmc|tmxc|nph|f0|fr|vrms|power|"
                   r"temp|temperature|freq|frequency|photons?|photon\s+number|"
                   r"<\s*n[_a-z]*\s*>|⟨\s*n[_a-z]*\s*⟩|n̄)")
_RELATION = r"(?:=|~|≈|≃|:|≤|≥)"
#: A power of ten or ppm/ppb/%: the unit the values are in ('1e6', 'x10^6', '1 x 10^-6', 'ppm').
_SCALE_CORE = (r"(?:(?:1(?:\.0*)?\s*[x×*·]\s*)?(?:1(?:\.0*)?\s*e\s*[+-]?\d+|10\s*(?:\^|\*\*)\s*"
               r"[+-]?\d+)|ppm|ppb|%|percent)")
_SCALE_ITEM = re.compile(r"(?:in\s+|units?\s+of\s+)?(?:[x×*·/]\s*)?(?P<scale>" + _SCALE_CORE + ")")
_NAMED_CONDITION = re.compile(r"(?P<name>" + _CONDITION_NAME + r")\s*" + _RELATION + r"\s*"
                              + _VALUE + r"\s*[a-zµ°]*")
_ANY_NAMED = re.compile(r"(?P<name>[a-z<>⟨⟩][a-z0-9_<>⟨⟩ .]*?)\s*" + _RELATION + r"\s*" + _VALUE
                        + r"\s*[a-zµ°]*")
#: A number with a condition's unit, after a name or not, before words or not: '-80 dBm',
#: 'P -80 dBm', 'Pin: -80dBm', '-80 dBm input', '20 mK mixing chamber'.
_UNIT_CONDITION = re.compile(r"(?:" + _CONDITION_NAME + r"\s*" + _RELATION + r"?\s*)?" + _VALUE
                             + r"\s*" + _CONDITION_UNIT + r"(?:\s+[a-z]+)*")
_WORD_CONDITION = re.compile(r"(?:low|high|single|few|many)[-\s]?(?:power|photons?)"
                             r"(?:\s+(?:limit|regime))?|base\s+temperature")
_BARE_NUMBER = re.compile(_VALUE)
#: A scale at the end of a name or condition: 'qi x10^6', 'loss*1e-6', 'qi/1e6', 'tan d ppm',
#: 'loss_ppm', 'loss in %', 'loss%' (the name ends in a letter, digit or closing mark).
_TRAILING_SCALE = re.compile(
    r"(?:(?<=[a-z0-9δ>'])\s*[x×*·/]\s*|(?<=[a-z0-9δ>'])[\s_]+(?:in\s+)?(?:units?\s+of\s+)?|"
    r"(?<=[a-zδ])(?=%$))"
    r"(?P<scale>" + _SCALE_CORE + r")$")
#: A condition at the end of a name: 'qi -80dbm', 'qi_20mk', 'qi <n>~10', 'qi p=-80dbm'.
_TRAILING_CONDITION = re.compile(r"[\s_]+(?P<condition>" + _VALUE + r"\s*" + _CONDITION_UNIT
                                 + r"|" + _CONDITION_NAME + r"\s*" + _RELATION + r"\s*" + _VALUE
                                 + r"\s*[a-zµ°]*)$")
#: A number left after the name, apart from it: 'qi -80', 'loss 2' (not 'q^-1', 'q_0').
_TRAILING_NUMBER = re.compile(r"(?:\s+|_(?=[-+~≈]))(?P<number>" + _VALUE + r"(?:\s*[a-zµ°]+)?)$")
#: A scale before the name: '1e6 x tan d', '10^-6 loss'.
_LEADING_SCALE = re.compile(r"^(?P<scale>" + _SCALE_CORE + r")\s*[x×*·]?\s*(?=[a-z1/<⟨(δ])")
#: Separators between annotations: comma, semicolon, bar, &, 'and', and at/@ (a condition
#: follows).
_SEPARATOR = re.compile(r"\s*(,|;|\||&|(?<![a-z0-9_])and(?![a-z0-9_])|@|"
                        r"(?<![a-z0-9_])at(?![a-z0-9_])|_at_)\s*")
_AT = ("@", "at", "_at_")
_BRACKETS = re.compile(r"[\(\[\{]([^\(\)\[\]\{\}]*)[\)\]\}]")
#: What a header may hold, for messages.
HEADER_SPELLINGS = (
    "the quantity's name, then the unit its values are in, in brackets, after a comma or a "
    "slash ('Qi (x1e6)', 'Qi [10^6]', 'Qi/1e6', 'Qi, 1e6', '1/Qi (1e-6)', 'tan delta (ppm)'), "
    "and conditions with their unit or name ('@ -80 dBm', '(T = 20 mK)', ', n = 1e3 photons', "
    "'(<n> ~ 10)'), in any order: 'Qi (-80 dBm, x1e6)', '1/Qi (x1e-6) @ 20 mK'")


@dataclass(frozen=True)
class HeaderParts:
    """A column header split into its parts by :func:`parse_header`.

    Attributes
    ----------
    quantity : str
        The quantity's name, normalised (lower case, superscripts written out), without unit,
        scale or conditions: ``'Qi (-80 dBm, x1e6)'`` -> ``'qi'``.
    unit : str or None
        The unit or scale the values are in, compact and lower case (``'x1e6'``, ``'ppm'``,
        ``'mk'``), None without one.
    conditions : tuple of str
        Conditions of the measurement (``'-80 dbm'``, ``'t = 20 mk'``), not used in the values.
    problems : tuple of str
        Parts that cannot be placed, each saying what is ambiguous (``'at 1e6'``: a scale or a
        power?); a column whose header has problems is refused when it is used
        (:func:`check_header`).
    """

    quantity: str
    unit: str | None
    conditions: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _classify(item: str, sep: str) -> list[tuple[str, str]]:
    """(kind, text) of one annotation: kind "scale", "unit", "condition" or "problem" (text the
    reason); nothing for an empty item or a no-unit mark ('-', '1'). ``sep`` is what came
    before it (``'@'``, ``'at'``, ``','``, ``'('``...)."""
    t = item.strip()
    after_at = sep in _AT
    shown = repr(f"{sep} {t}" if after_at else t)
    if not t:
        return [("problem", f"nothing after '{sep}'")] if after_at else []
    scale = _SCALE_ITEM.fullmatch(t)
    if scale:
        if after_at:
            return [("problem", f"{shown} is a number without a unit after '{sep}': a scale "
                                "the values are in, or a condition (a power, a photon number)? "
                                "a condition needs its unit or name ('@ -80 dBm', '@ n = 1e6 "
                                "photons'), a scale goes in brackets or after a slash ('(x1e6)', "
                                "'/1e6')")]
        return [("scale", _compact(scale.group("scale")))]
    named = _NAMED_CONDITION.fullmatch(t)
    if named:
        return [("condition", t)]
    if _UNIT_CONDITION.fullmatch(t) or _WORD_CONDITION.fullmatch(t):
        return [("condition", t)]
    if t in ("-", "1") and not after_at:
        return []
    any_named = _ANY_NAMED.fullmatch(t)
    if any_named:
        return [("problem", f"{shown}: {any_named.group('name')!r} is not a condition this "
                            "reader knows (P, P_in, T, T_mc, n, n_ph, <n>, f, power, "
                            "temperature, photons), and a value with a name is not a scale")]
    if _BARE_NUMBER.fullmatch(t):
        return [("problem", f"{shown} is a number without a unit: not a power of ten (a scale "
                            "such as '1e6' or 'x10^6') nor a condition with its unit ('-80 dBm', "
                            "'20 mK', '10 photons') or name ('P = -80')")]
    trailing = _TRAILING_SCALE.search(t)
    if trailing:
        rest = _classify(t[:trailing.start()], sep)
        if rest and all(kind == "condition" for kind, _ in rest):
            return [*rest, ("scale", _compact(trailing.group("scale")))]
    if after_at:
        if not re.search(r"\d", t):
            return [("condition", t)]  # words: '@ base temperature', 'at low power'
        return [("problem", f"{shown} is not a condition this reader can read (a number with "
                            "a unit of power, temperature, photon number or frequency, or a "
                            "name = value)")]
    if re.search(r"\d", t):
        return [("problem", f"{shown} is neither a unit or scale nor a condition with its unit "
                            "or name")]
    return [("unit", _compact(t))]


@_headers("name")
@functools.lru_cache(maxsize=4096)
def parse_header(name: str) -> HeaderParts:
    """Split a column header into the quantity's name, the unit or scale of its values, and the
    conditions of the measurement.

    Annotations come in brackets (``(...)``, ``[...]``, ``{...}``, several items separated by
    ``,`` ``;`` or ``|``), after ``,`` ``;`` ``:`` or ``|``, after ``at``/``@`` (conditions
    only), or right after the name (``'Qi x10^6'``, ``'Qi/1e6'``, ``'tan d ppm'``,
    ``'Qi -80dBm'``, ``'Qi <n>~10'``). Each is a scale or unit (a power of ten, ppm, ppb, %,
    or a unit word such as ``mK``), a condition (a number with a unit of power, temperature,
    photon number, frequency or voltage; a known name = value, ``'P = -80'``, ``'<n> ~ 10'``;
    ``'low power'``), or a problem: a number without a unit (``'Qi at 1e6'``: a scale or a
    power?, ``'Qi (20)'``), an unknown name = value, two units, a scale before the name, nested
    brackets. Nothing is guessed: a part that could be read two ways is a problem.

    Parameters
    ----------
    name : str
        The header cell as written.

    Returns
    -------
    HeaderParts
    """
    n = normalised_header(name)
    problems: list[str] = []
    items: list[tuple[str, str]] = []

    def bracket(m: re.Match) -> str:
        if m.start() > 0 and n_now[m.start() - 1] in "_^":  # a subscript or exponent: the name's
            return m.group(1).replace(" ", "")
        for part, sep in _split(m.group(1), m.group(0)[0]):
            items.append((part, sep))
        return " "

    n_now = n
    text = _BRACKETS.sub(bracket, n_now)
    if re.search(r"[\(\)\[\]\{\}]", text):
        problems.append("nested or unbalanced brackets")
    pieces = _split(text, "")
    head = pieces[0][0]
    if ":" in head:  # 'Qi:1e6'
        head, rest = head.split(":", 1)
        pieces.insert(1, (rest, ":"))
    items = pieces[1:] + items
    head = head.strip()
    head_items: list[tuple[str, str]] = []
    while True:
        m = _TRAILING_SCALE.search(head)
        if m:
            head_items.append(("scale", _compact(m.group("scale"))))
            head = head[:m.start()].rstrip()
            continue
        m = _TRAILING_CONDITION.search(head)
        if m:
            head_items.append(("condition", m.group("condition").strip()))
            head = head[:m.start()].rstrip()
            continue
        break
    m = _TRAILING_NUMBER.search(head)
    if m and not re.fullmatch(r"[-+]?1", m.group("number").strip()):
        problems.append(f"{m.group('number')!r} after the name is a number without a unit: not "
                        "a power of ten (a scale such as '1e6') nor a condition with its unit "
                        "('-80 dBm', '20 mK', '10 photons')")
        head = head[:m.start()].rstrip()
    m = _LEADING_SCALE.match(head)
    if m:
        problems.append(f"a scale before the name ({m.group('scale')!r}): the values could be "
                        "the quantity times it or the quantity in units of it; write the unit "
                        "the values are in after the name, e.g. '(x1e6)' or '/1e6'")
        head = head[m.end():]
    found = head_items + [kind for part, sep in items for kind in _classify(part, sep)]
    units = [text for kind, text in found if kind in ("scale", "unit")]
    problems += [text for kind, text in found if kind == "problem"]
    if len(units) > 1:
        problems.append(f"{len(units)} scales or units ({', '.join(map(repr, units))}): the "
                        "values are in one")
    quantity = head.strip(" _,;:|").rstrip(" -") or n
    return HeaderParts(quantity, units[0] if len(units) == 1 else None,
                       tuple(text for kind, text in found if kind == "condition"),
                       tuple(problems))


def _split(text: str, opening: str) -> list[tuple[str, str]]:
    """The parts of ``text`` between separators, each with the separator before it (the first
    with ``opening``)."""
    tokens = _SEPARATOR.split(text)
    out = [(tokens[0], opening)]
    out += [(tokens[i + 1], tokens[i]) for i in range(1, len(tokens) - 1, 2)]
    return out


@_headers("column")
def check_header(src: str, column: str, what: str, shown: str | None = None) -> HeaderParts:
    """The parts of a column's header (:func:`parse_header`), or a ValueError naming the file,
    the header cell, what in it is ambiguous and the spellings that are read.

    Parameters
    ----------
    src, column : str
        The file (for messages) and the column's header.
    what : str
        The column's role for messages ("loss", "error of the loss", "shift").
    shown : str, optional
        The header as the user wrote it, named in the message when ``column`` is a form read
        from it (a shift's '-df/f (f_0)' read from 'Δf/f_0 = (f_0 - f)/f_0' was quoted, a header
        the user never wrote; helper-179).

    Raises
    ------
    ValueError
        A part of the header that could be read two ways or not at all: a number without a unit
        (``'Qi at 1e6'``, ``'Qi (20)'``), an unknown name = value, two scales, a scale before the
        name, nested brackets.
    """
    parts = parse_header(column)
    if parts.problems:
        raise ValueError(f"{src}: the header of the {what} column, {shown or column!r}, cannot be "
                         f"read without guessing: {'; '.join(parts.problems)}. A header is read as "
                         f"{HEADER_SPELLINGS}")
    return parts


@_headers("name")
def header_unit(name: str) -> str | None:
    """Unit written in a header: '(mK)', '[K]', '/ K', '_mK', ' in mK', '(x1e6)', '/1e6', ...,
    after its conditions are set aside (None if none)."""
    parts = parse_header(name)
    if parts.unit is not None:
        # '±' and '+/-' are no unit: 'df/f err (+/-)', 'df/f error (±ppm)' were refused as a
        # unit '±' and '±ppm' (helper-181)
        return re.sub(r"^±\s*", "", parts.unit) or None
    m = re.search(r"(?:[_/ ]|\bin\s)\s*(mk|k|dbm|mw|w|uw|nw)$", parts.quantity)
    return m.group(1) if m else None


@_headers("name")
def header_temperature_unit(name: str) -> str | None:
    unit = header_unit(name)
    if unit is None:
        return None
    unit = unit.replace(" ", "")
    return {"mk": "mK", "k": "K", "millikelvin": "mK", "kelvin": "K"}.get(unit, "?" + unit)


#: Words of a temperature column's name that are not its first: the word temperature or a T
#: anywhere ('Mixing chamber temperature', 'Fridge T'), or a fridge stage or thermometer ('MC
#: RuOx', 'MXC', 'still', 'Cernox'); with a temperature unit only (:func:`is_temperature`).
_TEMPERATURE_WORD = re.compile(
    r"^(?:t|temp|temperatur|temperature|température|temperatura|tmc|tmxc|tmix|"
    r"mc|mxc|mix|mixing|chamber|still|fridge|cryostat|cryo|bath|sample|stage|plate|base|"
    r"ruox|ruo2|ruo|cernox|cx|thermometer|thermo|therm)$")


@_headers("name")
def is_temperature(name: str) -> bool:
    """Whether a header names the temperature: it starts with 'T' or 'temp' ('T (mK)', 'T_MXC',
    'Temperatur'), or, with a temperature unit (mK or K), its words name a temperature or a
    fridge stage or thermometer anywhere ('Mixing chamber temperature [mK]', 'Fridge T (mK)',
    'MC RuOx (mK)'; they were "cannot tell which column is the temperature", bt219 F2): the word
    temperature (or temp) beside any others ('Probe temperature (K)'), else every word a T, a
    stage or a thermometer ('Tc (K)', 'Delta T (mK)' are none). Two such columns in one table
    are refused as ambiguous where a column is picked."""
    n = normalised_header(name)
    if re.match(r"^(temp|temperatur|temperature|t)\b|^t[_\(\[ ]|^t$|^temp", n):
        return True
    if header_temperature_unit(name) not in ("mK", "K"):
        return False
    quantity = re.sub(r"[_/ ]\s*(?:mk|k)$", "", strip_unit(name))  # 'RuOx_mK': unit glued by '_'
    words = [w for w in re.split(r"[\s_.\-:]+", quantity) if w]
    return bool(words) and (any(re.match(r"^(temp|temperatur|temperature|température|temperatura)$", w)
                                for w in words) or all(_TEMPERATURE_WORD.match(w) for w in words))


_INVERSE_Q = re.compile(
    r"(q_?(i|int|internal)?\s*\^?\s*\{?\s*-\s*1\}?|1\s*/\s*q|inverse\s*q|q_?inv|^loss\b|"
    r"internal\s+loss|^qi?\s*-1)")
_TAN_DELTA = re.compile(r"(tan\s*[\(_ ]?\s*(delta|δ|d)(?:\b|(?=_))|loss\s*tangent|tandelta|"
                        r"tand(?:\b|(?=_)))")
_Q_AUTO = re.compile(r"^(q|qi|q_i|qint|q_int|q\s*int|q\s*i|q\s*internal|q_internal|"
                     r"internal\s*q|internal\s+quality\s+factor|quality\s*factor)$")
_Q_OTHER = re.compile(
    r"^(ql|q_l|qc|q_c|qe|q_e|qload|qloaded|q_loaded|qcoupling|q_coupling|q0|q_0)$")
#: A loss or quality factor an error letter can stand before ('e_loss', 'eQi', 'u 1/Qi'): the
#: name must end there, so that 'equilibrium', 'energy' or 'eps' are not errors.
_ERROR_TARGET = (r"(?:q_?(?:i|int|internal|c|l|e|0|tot|load|loaded)?(?![a-z0-9])|1\s*/\s*q|"
                 r"loss(?![a-z])|tan\s*(?:delta|δ|d)(?![a-z])|tand(?![a-z]))")
#: An error letter glued to its Q needs the Q's subscript ('eQi', 'uQint'): a bare 'Eq', 'EQ' is
#: more likely an equaliser or equilibrium column (it was taken as the error of Qi; a tester,
#: session 52). Apart from it ('e_Q', 'u Qi', 'e_loss', 'u_rel Qi', 'e_df') any loss, Q or shift.
#: 'eQ' as written, a small e before a capital Q, is read by :func:`is_error_column`.
_ERROR_LETTER = (r"^(e|u)(?:[\s_]+(?:(?:rel|relative)[\s_]+)?(?=" + _ERROR_TARGET + "|" + _SHIFT_TARGET
                 + r")|(?=q_?(?:i|int|internal|c|l|e|0|tot|load|loaded)(?![a-z0-9])))")
#: A difference sign before a shift's name: 'ddf (Hz)', 'δΔf', 'd(df)', 'ddv/v' (an error of
#: 'df'; 'ddf (Hz)' beside 'df (Hz)' was not read; a tester, helper-165).
#: The GUM's combined standard uncertainty u_c: 'u_c', 'uc (Hz)', 'u_c(df)' (they were no error
#: column, dropped without a word; a tester, session 54).
_COMBINED = r"^u[\s_]?c(?![a-z0-9])"
_DIFFERENCE_OF_SHIFT = r"^(?:d|delta|δ)[\s_]*(?=(?:d|δ|delta)[\s_]*(?:f|v|ν)(?![a-z]))"
_ERROR = re.compile(r"(\berr(or|ors)?\b|_err|err$|\buncertaint|\bsigma\b|σ|±|\+/-|^sigma|"
                    r"^(d|delta|δ)[\s_]*(q|1\s*/\s*q|loss(?![a-z])|tan)|" + _DIFFERENCE_OF_SHIFT + "|"
                    + _ERROR_LETTER + r"|"
                    r"\bstd\b|\bstdev\b|\bstd\.?\s*dev|" + _COMBINED + ")")
_POWER = re.compile(r"(power|^p$|^p_|^p\s|^pin|dbm|photon|^n$|^<n>|^nph|^n_ph)")
_POWER_UNITS = ("dbm", "dbw", "w", "mw", "uw", "µw", "μw", "nw", "pw", "fw", "photons")
#: The start of a loss column's name, for saying why a column that looks like one is not read.
LOSS_START = re.compile(r"^(?:1\s*/\s*q|q_?(?:i|int|internal)?(?:\^-1)?(?![a-z0-9_])|"
                         r"tan\s*[_ ]?\s*(?:delta|δ|d)(?![a-z0-9])|tand(?![a-z0-9])|"
                         r"loss(?![a-z0-9_]))")


@_headers("name")
def strip_unit(name: str) -> str:
    """The quantity's name in a header, without its unit or scale (in brackets, after a comma
    or slash, or a scale word after the name: ``'tan d ppm'``, ``'Qi x 10^5'``) and without the
    conditions of the measurement (``'Qi at -100 dBm'``) (:func:`parse_header`)."""
    return parse_header(name).quantity


@_headers("name")
def loss_kind(name: str, explicit: bool = False) -> str | None:
    """'tan delta', 'Q^-1', 'Q' for a loss column, or None. Q_l/Q_c only when chosen explicitly.
    A condition after the name ('Qi at -100 dBm', 'Q @ 10 photons') is not part of it."""
    bare = strip_unit(name)
    if _TAN_DELTA.search(bare):
        return "tan delta"
    if _INVERSE_Q.search(bare):
        return "Q^-1"
    if _Q_AUTO.match(bare):
        return "Q"
    if explicit and (_Q_OTHER.match(bare) or bare.startswith("q")):
        return "Q"
    return None


#: 'std dev' before 'std' ('std dev df/f' named 'dev df/f'; helper-172).
_ERROR_WORDS = re.compile(r"\b(std\.?\s*dev|err|errs|error|errors|uncertainty|uncertainties|unc|stderr|sigma|"
                          r"σ|std|stdev|sd|se|sem|standard\s+deviation|rel|relative|fractional|frac)\b\.?|σ|±|\+/-")
_FRACTION_UNITS = ("rel", "rel.", "relative", "fraction", "frac")
_PERCENT_WORD = re.compile(r"\b(pct|percent)\b")


def _spaced(quantity: str) -> str:
    """A header's quantity with '_' as a blank, an error word glued to its quantity split off
    ('qierr' -> 'qi err': 'QiErr' beside '1/Qi' was not seen as an error of Q; a second round,
    helper-156) and the percent words ('pct', 'percent') dropped."""
    text = re.sub(r"(?<=[a-z0-9])(err|error|stderr|std|sigma|unc)$", r" \1",
                  quantity.replace("_", " "))
    return _PERCENT_WORD.sub(" ", text).strip()


#: 'sd' and 'se' (standard deviation, standard error: 'Qi_sd', 'se(Qi)') since session 52.
_ERROR_SPACED = re.compile(r"\b(sigma|std|stdev|unc|stderr|sd|se|sem)\b|^delta\s*q")
ERROR_UNITS = ("std", "sigma", "err", "error", "unc", "uncertainty", "stderr", "sd", "se", "sem")
_TEMPERATURE_UNITS = ("k", "mk", "µk", "uk")
#: Frequency units as written in a header (lower case) and their key in HERTZ_PER_UNIT: the words
#: and µ spellings too ('df (Hertz)', 'df (µHz)' were fitted as dimensionless df/f; a tester,
#: session 52). A loss has none: 'sd (Hz)' beside Qi is a frequency's spread.
FREQUENCY_SPELLINGS = {**{unit.lower(): unit for unit in HERTZ_PER_UNIT}, "µhz": "uhz",
                       "hertz": "hz", "microhertz": "uhz", "millihertz": "mHz",
                       "kilohertz": "khz", "megahertz": "mhz", "gigahertz": "ghz",
                       "terahertz": "thz"}
_RELATIVE = re.compile(r"\b(rel|relative|fractional|frac)\b")
_FREQUENCY = re.compile(r"^(f|f0|f_0|fr|f_r|fres|f_res|freq|frequency|resonance\s+frequency|w|ω|omega)$")


@_headers("name")
def error_subject(name: str) -> str:
    """The quantity an uncertainty column names, in lower case: 'qi' of 'Qi_err', 'dQi',
    'σQi' or 'Qi rel err', 't' of 'T_err', 'sigma_T', 'T std' or 'σ(T)', 'qi/qi' of 'dQi/Qi',
    '' of a bare 'sigma' or 'error' (:func:`error_names_other`)."""
    parts = parse_header(name)
    bare = _spaced(parts.quantity)
    bare = re.sub(r"^(d|delta|δ)\s*(?=q|1\s*/|loss(?![a-z])|tan)", "", bare)
    bare = re.sub(_COMBINED, "", bare).strip()  # u_c: 'u c df' -> 'df'
    bare = re.sub(_DIFFERENCE_OF_SHIFT, "", bare)  # 'ddf' -> 'df'
    if parts.unit is None:  # a unit after the name: 'sd_K', 'sd_mK', 'sigma_Hz' (helper-165)
        glued = re.search(r"(?:^|\s)(k|mk|µk|uk|" + "|".join(map(re.escape, FREQUENCY_SPELLINGS))
                          + r")$", bare)
        if glued and not _ERROR_WORDS.sub(" ", bare[:glued.start()]).strip(" -.:,;"):
            bare, parts = bare[:glued.start()], HeaderParts(parts.quantity, glued.group(1))
    bare = re.sub(r"^(e|u)\s*(?=(?:(?:rel|relative)\s+)?(?:" + _ERROR_TARGET + "|" + _SHIFT_TARGET
                  + "))", "", bare)  # 'e loss', 'eqi', 'u 1/qi', 'u rel qi', 'e df'
    if _names_expanded_alone(name):  # 'U95', 'k = 2', 'U (ppm)' name no quantity (session 54)
        bare = re.sub(r"^u$|(?<![a-z])k\s*=.*$", "", _EXPANDED_ALONE.sub("", bare))
    subject = re.sub(r"[\s\-.:,;]+", " ", _ERROR_WORDS.sub(" ", bare)).strip()
    unit = (parts.unit or "").strip().lower()
    if not subject and unit in _TEMPERATURE_UNITS:  # 'sd (K)': a spread of the temperature (it
        return "t"                                  # was refused as an error of Q; session 52)
    if not subject and unit and (is_temperature(unit) or _FREQUENCY.match(unit) or loss_kind(unit)
                                 or _Q_OTHER.match(unit)):  # 'σ(T)', 'err(Qc)': the bracket
        return unit                                         # names the quantity, not a unit
    return subject


@_headers("name")
def error_is_percent(name: str) -> bool:
    """An uncertainty column whose name says its values are percents of the values without a
    '(%)' unit: 'Qi_err_pct', 'dQi_percent' ('_pct' was read as absolute errors of Q; a second
    round, helper-156)."""
    return bool(_PERCENT_WORD.search(strip_unit(name).replace("_", " ")))


@_headers("name")
def error_is_fraction(name: str) -> bool:
    """An uncertainty column that holds fractions of the values without a unit saying so:
    'dQi/Qi', 'Qi_rel_err', 'relative error' (with '%' the unit says it; a break test, session
    50: 'dQi/Qi' = 0.005 was read as sigma_Q = 0.005)."""
    bare, unit = strip_unit(name).replace("_", " "), scale_unit(name)
    if error_is_percent(name):
        return False
    if unit in _FRACTION_UNITS or (_RELATIVE.search(bare) and (unit is None or unit in _NO_UNIT)):
        return True
    if unit is not None and unit not in _NO_UNIT:  # '(%)', '(ppm)': the unit says what it holds
        return False
    subject = error_subject(name)
    return bool(re.fullmatch(r"(\S+)\s*/\s*\1", subject))


#: Other quantities of a resonator fit that tables carry with their errors: a linewidth or decay
#: rate, the cable delay, the impedance-mismatch angle, the background ('kappa_err' was taken as
#: the loss's error when no kappa column was in the file; a second round, helper-156, session 50).
_RESONATOR_OTHER = re.compile(r"^(kappa|κ|gamma|γ|linewidth|line\s*width|fwhm|hwhm|bandwidth|bw|"
                              r"tau|τ|delay|phi|φ|phase|alpha|α|a|amp|amplitude|s21|snr|chi2?|"
                              r"chi\^?2|χ\^?2|redchi)(\s*\S*)$")


#: Words that qualify an error without naming a quantity: 'fit err', 'stat. error',
#: 'total uncertainty', '1 sigma'.
_GENERIC_ERROR_WORDS = {"fit", "fitted", "stat", "statistical", "sys", "syst", "systematic",
                        "total", "tot", "combined", "abs", "absolute", "mean", "1", "one", "2",
                        "two", "68", "95", "ci", "conf", "confidence", "standard", "of", "the",
                        "meas", "measured", "est", "estimated", "value", "y", "plus", "minus",
                        "lower", "upper", "sym", "symmetric", "random"}


@_headers("name", "value_name")
def error_names_other(name: str, value_name: str, columns) -> str | None:
    """What other quantity an uncertainty column names, or None when it names the value column,
    nothing, or (beside a loss column) a loss: the temperature ('T_err', 'sigma_T', 'T std'), a
    frequency ('f0_err'), another quality factor ('Qc_err'), a power, another column of the
    file, or beside a loss column anything but a loss ('f_r err', 'Qtot_err'). Such columns
    were taken as the loss's error, which gave 'neither law' at chi2/dof of 1e11 for clean tanh
    data (a break test, session 50)."""
    try:  # a string's letters, None or a number were no column names (bt195)
        names = None if isinstance(columns, str) else tuple(columns)
    except TypeError:
        names = None
    if names is None or not all(isinstance(c, str) for c in names):
        raise TypeError("error_names_other(): columns must be the table's column names (a list of "
                        f"strings), got {validate._describe(columns)}")
    columns = names
    subject = error_subject(name)
    value = strip_unit(value_name).replace("_", " ").strip()
    if (not subject and loss_kind(value_name) is not None
            and (scale_unit(name) or "") in FREQUENCY_SPELLINGS):
        return "a frequency"  # 'sd (Hz)' beside Qi, as 'sd (K)' is the temperature's (session 52)
    if error_is_fraction(name):  # 'dQi/Qi' names qi; 'u_rel(Qc)' names qc, not the value: it
        # was taken as the error of Qi beside a Qc column (a tester, session 52)
        subject = re.sub(r"^(\S+)\s*/\s*\1$", r"\1", subject)
    if not subject or subject == value:
        return None
    if loss_kind(value_name) is None and (loss_kind(subject) is not None
                                          or _Q_OTHER.match(subject.replace(" ", "_"))):
        # beside a shift, an error of Q or of a loss ('Qi_err', 'sd(1/Qi)', 'tan delta error')
        # was the shift's error: T_max +- 3.9e6 K (a tester, session 52)
        return "a loss or quality factor"
    others = {strip_unit(c).replace("_", " ").strip() for c in columns
              if c not in (name, value_name)}
    if is_temperature(subject) or re.match(r"^t ?(mix|mxc|mc|sample|stage|cryo|fridge|bath|"
                                           r"still|plate)\b", subject):
        return "the temperature"
    if _FREQUENCY.match(subject) or _FREQUENCY.match(subject.replace(" ", "_")):
        return "a frequency"  # 'sd(f_r)' ('f r') as 'sd(f)' (it was taken; helper-172)
    if _Q_OTHER.match(subject.replace(" ", "_")) or _Q_OTHER.match(subject.replace(" ", "")):
        return "another quality factor"
    if is_power_column(subject):
        return "a power"
    if _RESONATOR_OTHER.match(subject):
        return "another resonator parameter"
    if subject in others:
        return f"the column {subject!r}"
    if loss_kind(value_name) is not None and loss_kind(subject) is None and not (
            set(re.split(r"[\s./-]+", subject)) - {""} <= _GENERIC_ERROR_WORDS):
        # of a loss column only a loss's error is taken: the spellings of other quantities are
        # too many to list ('f_r err', 'Qtot_err', 'kc err', 'offset_err' were taken as errors
        # of Q; a second round, helper-159, session 51)
        return f"{subject!r}, not a loss"
    return None


@_headers("name")
def is_error_column(name: str) -> bool:
    """An uncertainty column: 'Qi error', 'Qi_err', 'dQi', 'sigma', 'std', 'uncertainty', '±Qi',
    'Qi_sigma', 'std_Qi', 'Qi_unc', 'delta_Qi', 'Qi (std)' (the last six since session 50),
    'Qi_sd', 'sd(Qi)', 'se(Qi)', 'u(loss)', 'e_loss', 'eQi' (since session 52; an 'e' or 'u' only
    right before a loss or a Q, so that 'e', 'energy', 'eps' stay other columns)."""
    bare = strip_unit(name)
    if re.match(r"[eu]Q(?![a-z0-9])", _as_written(name)):
        return True  # 'eQ' as written: a small e before a capital Q (not 'Eq', 'EQ')
    return bool(_ERROR.search(bare) or _ERROR_SPACED.search(bare.replace("_", " "))
                or (scale_unit(name) or "") in ERROR_UNITS or _names_expanded_alone(name))


#: An expanded uncertainty: a capital U before its quantity ('U(Qi)', 'U_df', 'U df'), the word
#: 'expanded', a coverage factor k = 2 ('Qi err (k=2)'), a multiple of sigma other than one
#: ('df err (2σ)', '2 sigma', '3sd') or a confidence level ('Qi err (95%)', '95 % CI', 'ci95').
#: In metrology U = k u, usually k = 2: it was taken as a standard uncertainty (a tester,
#: helper-165; the multiples and levels since session 53).
#: Not 'U_c', 'U c': the combined standard uncertainty u_c, as 'Uc' and 'u_c' are (the subscript
#: c names it; 'Uc (Hz)' was taken and 'U_c (Hz)' refused as expanded; helper-172).
_EXPANDED = re.compile(r"^U(?:\s*[\(\[\{]|[\s_]+(?![cC](?![A-Za-z0-9]))\S|(?=Q))")
_EXPANDED_WORDS = re.compile(
    r"\bexpanded\b|\bk\s*=\s*(?!1(?:\.0*)?\b)\d"
    r"|(?<![\d.])(?!1(?:\.0*)?(?![\d.]))\d+(?:\.\d+)?\s*[-*×x]?\s*(?:σ|sigma|sd|std|stdev)\b"
    r"|(?:σ|\bsigma|\bsd|\bstd|\bstdev)\s*[*×x·]\s*(?!1(?:\.0*)?(?![\d.]))\d"  # 'σ×2' (helper-179)
    r"|\b(?:two|three)[\s_-]*(?:σ|sigma|sd|std|stdev)\b"
    r"|(?<![\d.])9\d(?:\.\d+)?\s*%|\bci\s*_?\s*9\d|\bconfidence\b")


#: An expanded uncertainty named by its level or coverage factor alone, no error word before:
#: 'U95', 'U_95', 'err95', 'CI95', 'u95 (Hz)', '95% CI (Hz)', 'CI (95%)', 'k = 2', 'df (k = 2)'
#: (they were no error column, dropped without a word, or 'df (k = 2)' a second shift; a tester,
#: session 54); a multiple of sigma, a confidence interval, a half-width at a level: '2sd (Hz)',
#: 'confidence interval (Hz)', 'half-width 95% (Hz)' (dropped without a word; helper-172).
_EXPANDED_ALONE = re.compile(r"^(?:u|err|error|unc|uncertainty|ci)[\s_]*9\d(?:\.\d+)?(?![\d.])"
                             r"|^(?=.*(?<![a-z])(?:ci|confidence)(?![a-z]))"
                             r"(?=.*(?<![\d.])9\d(?:\.\d+)?(?![\d.]))"
                             r"|(?<![a-z])k\s*=\s*(?!1(?:\.0*)?(?![\d.]))\d"
                             r"|^(?!1(?:\.0*)?(?![\d.]))\d+(?:\.\d+)?\s*[-*×x]?\s*(?:σ|sigma|sd|std|stdev)"
                             r"(?![a-z])|(?<![a-z])confidence[\s_-]*(?:interval|bound|limit|band)"
                             r"|^(?=.*(?<![a-z])(?:half[\s_-]*width|interval|hw)(?![a-z]))"
                             r"(?=.*(?<![\d.])9\d(?:\.\d+)?\s*%)")


def _names_expanded_alone(name: str) -> bool:
    """Whether a header is an expanded uncertainty without an error word (:data:`_EXPANDED_ALONE`),
    or a capital U alone in a unit of frequency or a scale of a relative shift ('U (Hz)', 'U
    (ppm)'; 'U (V)' is a voltage)."""
    unit = scale_unit(name)
    bare_u = (strip_unit(name) == "u" and _as_written(name).startswith("U") and unit is not None
              and (unit in FREQUENCY_SPELLINGS or (unit not in _NO_UNIT
                                                   and scale_factor(unit) is not None)))
    return bare_u or bool(_EXPANDED_ALONE.search(normalised_header(name)))


@_headers("name")
def is_expanded_uncertainty(name: str) -> bool:
    """An uncertainty column holding an expanded uncertainty U = k u (k the coverage factor,
    usually 2), not a standard one: 'U(Qi)', 'U(df) (Hz)', 'U_dv/v', 'expanded uncertainty',
    'Qi err (k=2)', 'df err (2σ)', 'Qi err (95%)', '95 % CI'. The capital U is read as written."""
    raw = _as_written(name)
    return is_error_column(name) and bool(_EXPANDED.match(raw) or _names_expanded_alone(name)
                                          or _EXPANDED_WORDS.search(normalised_header(name)))


@_headers("name")
def is_power_column(name: str) -> bool:
    """A drive power or photon number column: 'Power (dBm)', 'P_in', 'photons', '<n>', or a
    column in dBm, W or photons. A condition in a header is not its unit: 'Qc @ -80 dBm' is not
    a power (it was taken for one, the Q_c values read as powers in dBm, session 28)."""
    parts = parse_header(name)
    if _HEATER.search(parts.quantity):  # a heater's power sets the temperature, not the drive:
        # 'Heater (mW)' stepped in blocks split one sweep into three curves (a tester, bt223 F6)
        return False
    return bool(_POWER.search(parts.quantity)) or parts.unit in _POWER_UNITS


#: Words of a heater's (not the drive's) power in a header: 'Heater (mW)', 'P_heater', 'htr'.
_HEATER = re.compile(r"heat|(?<![a-z])htr(?![a-z])")


#: Power units read after a power column's name without brackets ("power_pW", "Pin dBm").
_POWER_SUFFIXES = ("dbm", "dbw", "mw", "uw", "nw", "pw", "fw")


@_headers("name")
def header_power_unit(name: str) -> str:
    """The unit of a power column's header: "dBm", "dBW", "W", "mW", "uW", "nW", "pW", "fW",
    "photons" (a mean photon number), "dB(photons)" (10 log10 of it), "?" (none), or the
    unit as written, lower-cased. "P (dB(photons))" was read as a photon number (20 dB became
    13), and µW, pW, fW were refused (a break test, session 45)."""
    n = strip_unit(name)
    unit = header_unit(name)
    squeezed = name.lower().replace(" ", "")
    photons = "photon" in n or n in ("n", "<n>") or n.startswith(("nph", "n_ph"))
    if "db(photon" in squeezed or "dbphoton" in squeezed or (unit == "db" and photons):
        return "dB(photons)"
    if not unit:  # a unit written after the name without brackets: "power_pW", "Pin µW"
        last = re.split(r"[\s_]+", name.strip().lower())[-1]
        if last.replace("µ", "u").replace("μ", "u") in _POWER_SUFFIXES:
            unit = last
    if unit:
        unit = unit.replace("µ", "u").replace("μ", "u")
        return {"dbm": "dBm", "dbw": "dBW", "w": "W", "mw": "mW", "uw": "uW",
                "nw": "nW", "pw": "pW", "fw": "fW"}.get(unit, unit)
    if "dbm" in n:
        return "dBm"
    if "photon" in n or n in ("n", "<n>") or n.startswith("nph") or n.startswith("n_ph"):
        return "photons"
    return "?"


#: Scales of dimensionless numbers written as a header's unit (values shown x scale = value).
_DIMENSIONLESS_UNITS = {"ppm": 1e-6, "ppb": 1e-9, "%": 1e-2, "percent": 1e-2, "‰": 1e-3,
                        "permil": 1e-3, "permille": 1e-3}
_POWER_OF_TEN = re.compile(r"^(?:1(?:\.0*)?[x×*·])?(?:x|×|\*|·)?(?:1(?:\.0*)?e|10\^|10\*\*)"
                           r"([+-]?\d+)$")
_NO_UNIT = ("", "1", "-")
_PERCENT = ("%", "percent")


@_headers("name")
def without_condition(name: str) -> str:
    """The normalised header without the conditions of the measurement (``'Qi at -100 dBm'`` ->
    ``'qi'``, ``'Qi @ 10 photons (1e5)'`` -> ``'qi (1e5)'``): the condition is not the name
    of the quantity, nor its unit."""
    parts = parse_header(name)
    return parts.quantity if parts.unit is None else f"{parts.quantity} ({parts.unit})"


@_headers("name")
def scale_unit(name: str) -> str | None:
    """The unit of a dimensionless column's header, compact and lower case: in brackets
    (``'df/f (ppm)'``), after a comma or slash (``'Qi/1e6'``), or a scale word after the name
    (``'df/f ppm'``, ``'loss in %'``, ``'loss x 1e-6'``), conditions set aside
    (:func:`parse_header`); None without one."""
    unit = header_unit(name)
    return None if unit is None else unit.replace(" ", "")


@_headers("unit", optional=("unit",), expected="a string (a header's unit, e.g. 'ppm')")
def scale_factor(unit: str | None) -> float | None:
    """The factor of a compact scale (:func:`scale_unit`): None or no unit 1, ppm 1e-6, ppb
    1e-9, % 1e-2, a power of ten that power (``'x1e6'``, ``'10^-6'``, ``'1x10^5'``); None for any
    other unit."""
    if unit is None or unit in _NO_UNIT:
        return 1.0
    if unit in _DIMENSIONLESS_UNITS:
        return _DIMENSIONLESS_UNITS[unit]
    match = _POWER_OF_TEN.match(unit)
    return 10.0 ** int(match.group(1)) if match else None


@_headers("column")
def dimensionless_scale(src: str, column: str, what: str, allow_fractions: bool = True) -> float:
    """The factor turning the numbers of a dimensionless column into plain numbers, from the unit
    in its header (:func:`scale_unit`): none 1, ppm 1e-6, ppb 1e-9, % 1e-2, a power of ten such
    as ``(1e-6)``, ``(x10^-6)``, ``x 1e-6``, ``/1e6`` or ``[10^5]`` that number (the values
    shown are in units of it: ``Qi (x1e6)`` or ``Qi/1e6`` with 1.2 is Q = 1.2e6).

    Parameters
    ----------
    src, column : str
        The file (for messages) and the column's header.
    what : str
        The quantity, for messages ("loss", "quality factor", "shift").
    allow_fractions : bool
        False for a quality factor: only a power of ten is a unit of Q (ppm or % of a Q is not).

    Raises
    ------
    ValueError
        A header that cannot be read without guessing (:func:`check_header`: ``'Qi at 1e6'``,
        ``'Qi (20)'``, two scales), or any other unit (``Hz``, ``dB``, ...), naming the file and
        column (session 25: a ``df/f (ppm)`` or ``tan d (ppm)`` column was read as plain numbers,
        and the error column ``Qi error (%)`` as absolute errors of 1).
    """
    check_header(src, column, what)
    unit = scale_unit(column)
    factor = scale_factor(unit)
    if factor is not None and (allow_fractions or unit not in _DIMENSIONLESS_UNITS):
        return factor
    allowed = ("a power of ten such as (1e6) or (x10^5)" if not allow_fractions else
               "ppm, ppb, % or a power of ten such as (1e-6) or (x10^-6)")
    raise ValueError(f"{src}: column {column!r}: the unit in its header is not a unit of the "
                     f"{what} (a dimensionless number): give it as a plain number or in "
                     f"{allowed}")


@_headers("e_name", "value_name", optional=("value_name",))
def scaled_errors(src: str, e_name: str, e_values: np.ndarray, values: np.ndarray,
                  value_scale: float, what: str, value_name: str | None = None,
                  allow_fractions: bool = True) -> np.ndarray:
    """Errors in the units of the values (``values`` already scaled by ``value_scale``, the
    value column's unit) from the error column ``e_name``.

    Without a unit of its own the column is in the value column's unit, unless its name says it
    is relative (:func:`error_is_fraction`: a fraction of each value); in % it is a percent of
    each value, unless the value column (``value_name``) is itself in %, where it is in the same
    unit; in ppm, ppb or a power of ten it is in that unit (not for the error of a quality
    factor, ``allow_fractions=False``: a ppm of Q is refused as Q in ppm is).
    """
    unit = scale_unit(e_name)
    if error_is_fraction(e_name):
        return e_values * np.abs(values)
    if error_is_relative(e_name, value_name):
        return e_values * 1e-2 * np.abs(values)
    if (unit is None or unit in _NO_UNIT or unit in ERROR_UNITS or unit in ("abs", "absolute")
            or unit == error_subject(e_name)):
        # 'Qi (std)', 'σ(Qi)', 'Qi_err (abs)': the bracket names the statistic, the quantity or
        # that the errors are absolute, not a unit
        return e_values * value_scale
    return e_values * dimensionless_scale(src, e_name, f"error of a {what}", allow_fractions)


@_headers("e_name", "value_name", optional=("e_name", "value_name"))
def error_is_relative(e_name: str | None, value_name: str | None) -> bool:
    """Whether the error column holds percents of the values (:func:`scaled_errors`)."""
    if e_name is None:
        return False
    value_unit = scale_unit(value_name) if value_name is not None else None
    return ((scale_unit(e_name) in _PERCENT or error_is_percent(e_name))
            and value_unit not in _PERCENT)

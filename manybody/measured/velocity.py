"""Measured sound-velocity shifts delta v / v (T), or resonator df/f (T) at low frequency: the table
reader and the figure of :func:`manybody.laws.velocity.fit_velocity_slopes` on them.

A velocity table follows the loss-table conventions of :mod:`manybody.measured.tables` (``,`` ``;``
or tab separators, decimal commas, byte-order marks, ``#`` comments, a header line, temperature
in ``K`` or ``mK`` from the header or the cells) with a shift column named like ``dv/v``,
``delta v/v``, ``Δv/v``, ``velocity shift``, ``df/f``, ``Δf/f`` or ``frequency shift`` (a relative
shift: plain, or in ppm, ppb, % or a power of ten; |value| <= MAX_RELATIVE_SHIFT), or an absolute
shift with its frequency unit (``df (Hz)``, ``Δf (kHz)``, ``f(T) - f0 (Hz)``, ``shift_MHz``, ``df
(mHz)`` in millihertz; not a plain resonance frequency ``f (GHz)``) (values of either sign, kept in
the units of the column, e.g. ``dv/v (ppm)``), and an optional uncertainty column (``sigma``, ``dv/v
error``, ``sd(df) (Hz)``, ``u(dv/v) (ppb)``, ``ddf (Hz)``, ...) in the shift's units or its own
(converted: one reading of a frequency unit, :func:`frequency_unit`, for both). Anything it cannot
read is a ValueError naming the file, the column, the row and the value.

Since helper-165: a column naming a frequency itself (``f_meas``, ``fc (Hz)``, ``f1``, ``center
frequency``, ``resonance_frequency_GHz``), or whose values are plainly resonance frequencies, is
refused as the shift, chosen by name or not; the reference minus the frequency (``f0 - f (Hz)``,
``f_r0 - f_r``, ``f(T0) - f(T)``, ``f(0) - f(T)``; since session 53 also a negated shift,
``-dv/v``) is read with its sign flipped, as f - f0 (:attr:`VelocityTable.sign_flipped`); a
relative name with a unit of frequency (``df/f (Hz)``, ``dv/v (kHz)``) is refused; a shift named
as an absolute one with any scale of a relative one (``shift (1e-6)``, ``shift (‰)``) is df/f; an
expanded uncertainty (``U(df)``, k = 2) is refused as the error
(:func:`manybody.measured.tables.error_column_of`).

Since session 54: a reference at a named temperature (``f(10 mK) - f(T)``, ``f(T_min) - f``) is
read as ``f0 - f``, and so are ``f₀ − f`` and ``f0 minus f``
(:func:`manybody.measured.headers.normalised_header`); a positive power of ten on a relative shift
(``dv/v × 10⁶``) is refused naming it (values in units of 10^6, or the shift times 10^6?); an error
column naming a relative shift in a unit of frequency (``sd(df/f) (Hz)``) is refused; expanded
uncertainties named by their level alone (``U95``, ``CI95``, ``U (Hz)``, ``k = 2``) are refused and
the combined standard uncertainty ``u_c`` taken.

Since helper-172: a difference is found wherever it stands in the header, after a shift's name or
in brackets (``shift (f0 - f) (Hz)``, ``Δf = f0 - f (Hz)``, ``(f0 - f)/f0``, ``1 - f/f0``;
:func:`written_shift`); resonance frequencies are positive values reaching MIN_RESONANCE_HZ (1 MHz)
and never near 0 (RESONANCE_CLEARANCE), negative values of one sign a shift; a column of such positive
values chosen by name is read, with a warning.

Since helper-174: a reference with a comma in its subscript (``f_res,0 - f_res (Hz)``,
``f_{res,0} - f_{res}``) is a reference; a relative shift over the measured frequency (``f0/f -
1``, ``1 - f0/f``, ``(f0 - f)/f``) is read exactly as df/f0 = y/(1 - y), y = (f - f0)/f
(:func:`over_measured`, :func:`over_reference`); a shift counted downwards (``downshift (Hz)``,
``shift down``, ``frequency decrease``) is f0 - f and one counted upwards (``upshift``,
``frequency increase``) f - f0, refused when every value is negative (:func:`direction_of`); a
sign flip said in words (``df negated (Hz)``, ``Δf, sign reversed``) is read, a word that leaves
the sign unclear (``df_rev``, ``negative shift (Hz)``, ``Δf inverted``) refused naming it
(:func:`unclear_sign`); negative values of a resonance's size and nearly constant, or, given the
resonance frequency (``--frequency``), an absolute shift of half of it or more, are refused
(:func:`looks_negated_resonance`). Since helper-181 the values are judged as the shift the header
says (after the flip of 'f0 - f'), by comparison with ``--frequency`` alone when it is given, and
below 1 MHz only values constant to 1e-4 are a resonance (a shift referenced at a high
temperature, 562 kHz +- 300 Hz, is read; :func:`_refuse_resonance`); a measurement condition
('reverse sweep', 'inverted Q channel') is no sign word; a bare 'down' or 'up' after the shift's
symbol ('df_down (Hz)') is unclear.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from manybody.laws.inputs import in_window
from manybody.laws.velocity import VelocityFit
from manybody.measured import headers, outliers, tables
from manybody.support import validate as v
from manybody.support.paths import check_input_file
from manybody.support.style import PALETTE, new_figure, save_figure, styled
from manybody.units import FREQUENCY_SYMBOLS, HERTZ_PER_UNIT

_SHIFT = re.compile(r"((^|[^a-z])(d|δ|delta)\s*_?\s*(v|f)\s*(/|_)\s*(v|f)(_?0)?\b|velocity\s*shift|"
                    r"frequency\s*shift|fractional\s*(frequency|velocity)|^(dv|df|dvv|dff)$|"
                    r"^(?:fractional|relative)[\s_]*shift$)")


#: Largest |df/f0| or |dv/v| taken as a relative shift (TLS shifts are ~1e-5, a kinetic-inductance
#: fall near Tc a few %; a column in Hz read as a fraction gives hundreds: 1e-2 refused a 3 % fall,
#: a tester, session 34).
MAX_RELATIVE_SHIFT = 0.1
#: A column of positive values in Hz reaching MIN_RESONANCE_HZ whose smallest stays above
#: RESONANCE_CLEARANCE times their spread (max - min) is resonance frequencies, not a shift
#: (:func:`_looks_absolute`), unless chosen by name: a shift comes near 0 at its reference; a
#: resonance falling by up to 95 % near Tc never does.
MIN_RESONANCE_HZ = 1e6
RESONANCE_CLEARANCE = 0.05
_ACCEPTED = ", ".join(FREQUENCY_SYMBOLS.values())
#: The name of an absolute frequency shift, read as one with a frequency unit only: 'Δf',
#: 'delta f', 'df_r', 'f - f0', 'f-f_r', 'f(T) - f0', 'shift', 'f0 shift', 'resonance shift' (they
#: were refused as "cannot tell which column is the shift"; a tester, session 52); 'f(T) - f(T0)'
#: is read as 'f_t - f_t0' (:func:`manybody.measured.headers.normalised_header`). A plain 'f',
#: 'f_r' or 'fr' is the resonance frequency itself, not a shift.
_RESONANCE = (r"(?:f|fr|f_r|f0|f_0|fres|f_res|freq|frequency|resonance(?:\s+frequency)?|ω|omega|"
              r"ν|nu)")
#: The subscript of a frequency at a reference state, as :func:`manybody.measured.headers.
#: normalised_header` writes it: 'f0', 'f_ref', 'f_min', 'f(T0)' -> 'f_t0', 'f(T_min)' -> 'f_t_min',
#: 'f(10 mK)' -> 'f_10mk', 'f(0.01 K)' -> 'f_0.01k' ('f(10 mK) - f(T)' and 'f(T_min) - f(T)' were
#: not found as a shift; a tester, session 54).
_REFERENCE = r"(?:0|ref|min|max|base|t_?(?:0|ref|min|max|base)|\d+(?:\.\d+)?\s*[mµu]?k)"
#: A frequency, at a temperature or a reference or not: 'f', 'f_r', 'f_t', 'f_r_t', 'f0', 'f_r0',
#: 'f_r_10mk' ('f_r(10 mK) - f_r(T)').
_OPERAND = r"f(?:_?(?:r|res|c))?(?:_?(?:t|" + _REFERENCE + r"))?"
_FREQUENCY_SHIFT = re.compile(
    r"^(?:-\s*)?(?:(?:d|δ|delta)[\s_]*(?:f|ν|nu)(?:[\s_]*(?:0|r|res|c))?"
    r"|" + _OPERAND + r"\s*-\s*" + _OPERAND +
    r"|(?:" + _RESONANCE + r"[\s_]*)?shift|" + _RESONANCE + r"[\s_]*change)$")
_TRAILING_FREQUENCY_UNIT = re.compile(r"(?:[\s_]+(?:in[\s_]+)?|\s*/\s*)(" + "|".join(
    sorted(map(re.escape, headers.FREQUENCY_SPELLINGS), key=len, reverse=True)) + ")$")
#: 'mHz' as written (a small m, not all in lower case): millihertz.
_MILLIHERTZ = re.compile(r"(?<![A-Za-z])m\s*(?!hz)[hH][zZ](?![A-Za-z])")


#: A reference minus the frequency, 'f0 - f', 'f_0 - f', 'f_r0 - f_r', 'f(T0) - f(T)', 'f(10 mK) -
#: f(T)', 'f(T_min) - f': the shift with its sign reversed, read as -(f0 - f) = f - f0 (it was
#: taken with its sign unchanged; a tester, helper-165; a named temperature since session 54).
_REVERSED = re.compile(r"^f(?:_?(?:r|res|c))?_?" + _REFERENCE + r"\s*-\s*f(?:_?(?:r|res|c))?(?:_?t)?$")
#: Words that make a name a difference or a ratio, not a frequency: 'f - f0', 'Δf', 'df/f',
#: 'f_shift', 'detuning', 'fractional frequency'.
#: ('frequency decrease (Hz)' was said to hold an absolute frequency; helper-172)
_DIFFERENCE = re.compile(r"-|/|(?:^|[^a-z])(?:d|δ|delta)\s*_?\s*(?:f|ν|nu|v|ω)|shift|change|diff|"
                         r"decrease|increase|drop|soften|harden|stiffen|"
                         r"detuning|offset|deviation|pull|fractional|relative|\brel\b|ratio")
#: The name of a frequency itself: 'f', 'f0', 'fc', 'f1', 'f_meas', 'fr', 'f_res', 'freq',
#: 'center frequency', 'resonance_frequency', 'ν', 'ω' ('f_meas (Hz)', 'fc (Hz)', 'f1 (Hz)' and
#: 'resonance_frequency_GHz' chosen with --shift-column were fitted as shifts of 5e9 Hz; a
#: tester, helper-165).
_FREQUENCY_NAME = re.compile(
    r"^(?:f(?:\d+|0|r|c|res|meas|m|ctr|peak|p|obs|exp|data|t|ref)?(?:[\s]+[a-z0-9]+)*"
    r"|(?:ν|nu|ω|omega)(?:[\s]+[a-z0-9]+)*"
    r"|(?:[a-z0-9]+\s+)*(?:freq|frequency|frequencies|resonance|resonant|center|centre)"
    r"(?:\s+[a-z0-9]+)*)$")


def names_a_frequency(name: str) -> bool:
    """Whether a header names a frequency itself (a resonance, center or measured frequency),
    not a difference or ratio of frequencies: such a column holds no shift."""
    quantity = re.sub(r"[\s_]+", " ", frequency_unit(name)[0]).strip()
    return bool(quantity) and not _DIFFERENCE.search(quantity) and bool(
        _FREQUENCY_NAME.match(quantity))


#: The reference written as a condition of the first operand: 'f(0) - f(T)', 'f(T=0) - f',
#: 'f(10 mK) - f(T)' (the header's parser drops the bracket, leaving 'f - f_t': read with its
#: sign unchanged; a tester, session 53).
_REFERENCE_FIRST = re.compile(
    r"^f\w*\s*\(\s*(?:t\s*=\s*)?(?:0|ref|t_?0|t_?ref|\d+(?:\.\d+)?\s*m?k)\s*\)\s*-\s*f")
#: A negated shift: '-dv/v', '-df/f (ppm)' (the minus was dropped; a tester, session 53).
_NEGATED = re.compile(r"^-\s*(?=\S)")


#: The argument of a frequency at a reference state: 'f(0)', 'f(T0)', 'f(T_ref)', 'f(T = 0)',
#: 'f(T → 0)', 'f(10 mK)', 'f(base)', 'f(lowest T)'; and at the temperature of the row: 'f(T)'.
_REFERENCE_ARGUMENT = (r"(?:0|ref|min|max|base|lowest\s*t|t_?(?:0|ref|min|max|base|low)|"
                       r"t\s*(?:=|→|->)\s*[^()]+|[\d.]+\s*[mµu]?k)")
#: One operand of a written difference, in a header as written (lookalikes made plain): a
#: frequency ('f', 'ν', 'nu'; 'v' for a velocity) with a subscript or an argument; group 'ref'
#: set when it is the reference. Since helper-174 the reference may follow a comma or a dot in the
#: subscript ('f_res,0', 'f_{res,0}', 'f_r.0': they were split at the comma, "cannot tell which
#: column is the shift").
_WRITTEN_OPERAND = (r"(?:f|ν|nu|v)(?:_?\{?(?:r|res|c)\}?)?"
                    r"(?:(?:_|,\s?|\.)?\{?(?P<ref{0}>" + _REFERENCE.replace(r"\s*", " ?") + r")\}?"
                    r"|_?(?:t|meas|m|obs|data|exp)"
                    r"|\s*\(\s*(?:(?P<arg{0}>" + _REFERENCE_ARGUMENT + r")|t)\s*\))?")
_WRITTEN_DIFFERENCE = re.compile(
    r"(?P<open>[(\[]\s*)?(?<![\w.])(?P<a>" + _WRITTEN_OPERAND.replace("{0}", "a") + r")\s*-\s*(?P<b>"
    + _WRITTEN_OPERAND.replace("{0}", "b") + r")(?![^\W_]|\()(?(open)\s*[)\]])"
    r"(?P<ratio>\s*/\s*(?:f|ν|nu|v)[\w{}]*(?:\s*\(\s*(?:t|" + _REFERENCE_ARGUMENT + r")\s*\))?)?",
    re.IGNORECASE)
#: The reference of a ratio over it: 'f0', 'f_0', 'f_{0}', 'f(0)', 'f(T0)', 'f(T_ref)', 'f(20 mK)'.
_RATIO_OVER = r"(?:f|ν|v)(?:_?\{?0\}?(?![\w(])|\s*\(\s*" + _REFERENCE_ARGUMENT + r"\s*\))"
#: 1 - f/f0 (reversed) and f/f0 - 1 (not), relative shifts written as ratios; the measured
#: frequency may be written 'f(T)' and the reference 'f(0)', 'f(T0)' ('f(T)/f(0) - 1', '1 -
#: f(T)/f_0' were "cannot tell which column is the shift"; helper-179).
_WRITTEN_RATIO = re.compile(r"^(?:(?P<rev>1\s*-\s*)(?P<q>f|ν|v)\w*(?:\s*\(\s*t\s*\))?\s*/\s*"
                            + _RATIO_OVER + r"|(?P<q2>f|ν|v)\w*(?:\s*\(\s*t\s*\))?\s*/\s*"
                            + _RATIO_OVER + r"\s*-\s*1\b)", re.IGNORECASE)
#: The reference and the measured frequency (or velocity) of a ratio over the measured one.
_RATIO_REFERENCE = (r"(?:f|ν|nu|v)(?:_?\{?(?:r|res|c)\}?)?(?:(?:_|,\s?)?\{?(?:0|ref)\}?"
                    r"|\s*\(\s*" + _REFERENCE_ARGUMENT + r"\s*\))")
_RATIO_MEASURED = (r"(?:f|ν|nu|v)(?:_?\{?(?:r|res|c)\}?)?(?:_?\{?(?:t|meas|m|obs)\}?)?"
                   r"(?:\s*\(\s*t\s*\))?")
#: f0/f - 1 (reversed) and 1 - f0/f (not): relative shifts over the measured frequency f, not
#: over f0 (helper-174: "cannot tell which column is the shift"); read exactly, not to first
#: order (:func:`over_measured`).
_INVERSE_RATIO = re.compile(
    r"^(?:(?P<one>1\s*-\s*)(?P<a>" + _RATIO_REFERENCE + r")\s*/\s*" + _RATIO_MEASURED
    + r"|(?P<b>" + _RATIO_REFERENCE + r")\s*/\s*" + _RATIO_MEASURED + r"\s*-\s*1)(?![\w(])",
    re.IGNORECASE)
#: The words of a shift that may stand beside its written difference: 'Δf = f0 - f', 'shift (f0 -
#: f)', 'frequency shift f0-f', 'f0-f shift'.
_SHIFT_WORDS = re.compile(r"(?:(?:frequency|resonance|resonant)[\s_]+)?shift|^\s*(?:Δ|δ|delta|d)"
                          r"[\s_]*(?:f|ν|nu)(?:_?(?:0|r))?(?![a-z])|=", re.IGNORECASE)
#: The name of a relative shift beside a written difference: 'Δf/f_0 = (f_0 - f)/f_0' (refused
#: quoting '-df/f (f_0)'; helper-179); beside a difference without a ratio, 'Δf/f = f0 - f (ppm)',
#: the difference gives the sign and the name makes it relative (it was read unflipped: the
#: difference left beside '/f' made it "no shift's words"; helper-180).
_RELATIVE_WORDS = re.compile(r"^\s*(?:Δ|δ|delta|d)[\s_]*(?:f|ν|nu)(?:_?(?:0|r))?\s*/\s*(?:f|ν|nu)"
                             r"(?:_?(?:0|r))?(?![a-z])", re.IGNORECASE)


#: Words counting a shift downwards, positive where the frequency fell: 'downshift (Hz)', 'shift
#: down', 'frequency decrease', 'Δf down', 'resonance drop' (f0 - f), and upwards: 'upshift',
#: 'frequency increase' (f - f0). A fall or rise needs the frequency named ('drop (Hz)' alone may
#: be anything). They were "cannot tell which column is the shift" (helper-174).
_FREQUENCY_WORD = (r"(?:(?:resonance|resonant|resonator)[\s_-]+)?(?:frequency|freq)|resonance|f_?r|f_?res"
                   r"|f_?0|(?:Δ|δ|delta|d)[\s_]*(?:f|ν|nu)")
_DIRECTION = re.compile(
    r"^(?P<rel>(?:fractional|relative)[\s_-]+)?(?:(?:" + _FREQUENCY_WORD + r")[\s_-]*)?"
    r"(?:(?P<down>down(?:ward)?[\s_-]*shift|shift(?:ed)?[\s_-]*\(?\s*down(?:wards?)?\s*\)?)"
    r"|(?P<up>up(?:ward)?[\s_-]*shift|shift(?:ed)?[\s_-]*\(?\s*up(?:wards?)?\s*\)?))(?![^\W_])"
    r"|^(?P<rel2>(?:fractional|relative)[\s_-]+)?(?:" + _FREQUENCY_WORD + r")[\s_-]*"
    r"(?:(?P<down2>decrease|drop|fall|reduction|lowering|down(?:wards?)?)"
    r"|(?P<up2>increase|rise|up(?:wards?)?))(?![^\W_])", re.IGNORECASE)
#: A sign flip said in words: 'df negated (Hz)', 'Δf, sign reversed (Hz)', 'df × (-1) (Hz)'.
_SIGN_FLIP = re.compile(r"[\s_,]*(?<![^\W_])(?:negated|sign[\s_-]*(?:reversed|flipped|inverted|changed)"
                        r"|(?:reversed|flipped|inverted|opposite)[\s_-]*sign)(?![^\W_])"
                        r"|\s*[x×*·]\s*\(\s*-\s*1\s*\)", re.IGNORECASE)
#: A word that may or may not mean the sign is flipped: 'df_rev' (reversed sign, or a reverse
#: sweep?), 'negative shift' (the shift, which is negative, or minus the shift?), 'Δf inverted',
#: 'df_neg'. Refused naming it (:func:`unclear_sign`; helper-174).
_UNCLEAR_SIGN = re.compile(r"[\s_-]*(?<![^\W_])(?P<word>rev|reverse|reversed|inv|inverse|inverted|"
                           r"flipped|neg|negative|opposite)(?![^\W_])[\s_-]*", re.IGNORECASE)
#: An unclear word that says how the data were taken, not the shift's sign: 'reverse sweep',
#: 'inverted Q channel', 'sweep reversed', 'scan direction reversed' ('df/f reverse sweep' and 'df
#: (Hz, reverse sweep)' were refused as an unclear sign; helper-181). Set aside as a condition.
_SWEEP_WORD = r"(?:sweep|scan|direction|channel|order)s?"
_UNCLEAR_WORD = r"(?:rev|reverse|reversed|inv|inverse|inverted|flipped|neg|negative|opposite)"
_MEASUREMENT_CONDITION = re.compile(
    r"[\s_,]*(?<![^\W_])(?:" + _UNCLEAR_WORD + r"[\s_-]+(?:[^\W_]{1,3}[\s_-]+)?" + _SWEEP_WORD
    + r"(?:[\s_-]+(?:direction|order))?|" + _SWEEP_WORD + r"(?:[\s_-]+direction)?[\s_-]+"
    + _UNCLEAR_WORD + r")(?![^\W_])",
    re.IGNORECASE)
#: A bare 'down' or 'up' right after the shift's symbol, 'df_down (Hz)', 'Δf up (kHz)': a shift
#: counted downwards, or a down-sweep's export? ('df_down (Hz)' was read as f0 - f; helper-181).
#: Refused naming the word, as 'rev'; 'downshift', 'shift down', 'frequency decrease' are read.
_BARE_DIRECTION = re.compile(r"^(?:Δ|δ|delta|d)[\s_]*(?:f|ν|nu)(?:_?(?:0|r))?"
                             r"(?:\s*/\s*(?:f|ν|nu)(?:_?(?:0|r))?)?[\s_-]+(?P<word>down|up)(?![^\W_])",
                             re.IGNORECASE)


#: LaTeX commands of a shift's name, as the symbols they print.
_LATEX_SYMBOLS = {"delta": "δ", "Delta": "Δ", "nu": "ν", "omega": "ω", "times": "×", "cdot": "·",
                  "sigma": "σ"}
_LATEX_COMMAND = re.compile(r"\\(" + "|".join(_LATEX_SYMBOLS) + r")(?![A-Za-z])\s*")
#: The words and factors before a shift's name that negate it: 'minus df/f', 'negative of dv/v',
#: '(-1)*df', '-1 × Δf', and a negated bracket '-(df)', '−(Δf/f)'.
_LEADING_NEGATION = re.compile(r"^(?:minus|negative[\s_]+of)[\s_]+(?=\S)"
                               r"|^\(\s*-\s*1\s*\)\s*[x×*·]?\s*(?=[^\W\d_])|^-\s*1\s*[x×*·]\s*",
                               re.IGNORECASE)
_NEGATED_BRACKET = re.compile(r"^-\s*\(\s*(?P<q>[^()\-=]+?)\s*\)(?=\s*(?:[(\[,/]|in\s|$))")


def _spelled(name: str) -> str:
    """A shift header as written with its typesetting undone and a leading negation as '-': the
    wrappers of LaTeX, code or quotes removed ('$-\\delta f/f_0$', '`-df/f`', "'-df/f'"), LaTeX
    symbols as the characters they print ('\\Delta f' is 'Δf', '_{0}' '_0', '^{-6}' '^-6'), and
    'minus df/f', 'negative of df/f', '(-1)*df', '-(df)' as '-df/f', '-df' (the minus inside '$'
    or quotes was dropped and the word 'minus' read as no sign: the shift read with its sign
    wrong; helper-179). Look-alike characters plain (:func:`manybody.measured.headers.plain_symbols`)."""
    text = headers.plain_symbols(name)
    text = re.sub(r"[$`]", "", text).strip().strip("'\"").strip()
    text = _LATEX_COMMAND.sub(lambda m: _LATEX_SYMBOLS[m.group(1)], text)
    text = re.sub(r"([_^])\{\s*([^{}]*?)\s*\}", r"\1\2", text)
    text = re.sub(r"(?<=[fvν0])[\s_]+over[\s_]+(?=[fvν])", "/", text, flags=re.IGNORECASE)
    text = _LEADING_NEGATION.sub("-", text)
    if _MEASUREMENT_CONDITION.search(text):  # 'df (Hz, reverse sweep)' is 'df (Hz)'
        text = _MEASUREMENT_CONDITION.sub("", text)
        text = re.sub(r"\s+", " ", re.sub(r"[(\[]\s*[)\]]", " ", text)).strip()
    return _NEGATED_BRACKET.sub(lambda m: "-" + m.group("q"), text)


def direction_of(name: str) -> str | None:
    """'down' for a shift counted downwards ('downshift (Hz)', 'frequency decrease': f0 - f,
    positive where the frequency fell), 'up' for one counted upwards ('upshift', 'frequency
    increase': f - f0), None for any other header."""
    text = _spelled(name)
    found = _DIRECTION.match(text)
    if not found or _BARE_DIRECTION.match(text):
        return None
    return "down" if found.group("down") or found.group("down2") else "up"


def unclear_sign(name: str) -> str | None:
    """The word of a shift header that leaves its sign unclear ('rev' in 'df_rev (Hz)',
    'negative' in 'negative shift (Hz)'), None without one or when the rest is no shift."""
    text = _spelled(name)
    bare = _BARE_DIRECTION.match(text)
    if bare:  # 'df_down (Hz)'
        return bare.group("word") if shift_kind(without_unclear_sign(name)) else None
    found = _UNCLEAR_SIGN.search(_SIGN_FLIP.sub(" ", text))  # 'sign flipped' is clear
    if not found or _DIRECTION.match(text):
        return None
    return found.group("word") if shift_kind(without_unclear_sign(name)) else None


def without_unclear_sign(name: str) -> str:
    """A header without its word of :func:`unclear_sign` ('df_rev (Hz)' -> 'df (Hz)', 'df_down
    (Hz)' -> 'df (Hz)')."""
    text = _spelled(name)
    bare = _BARE_DIRECTION.match(text)
    if bare:
        return (text[:bare.start("word")].rstrip(" _-") + " " + text[bare.end("word"):]).strip()
    return _UNCLEAR_SIGN.sub(" ", text, count=1).strip()


def _direction_shift(text: str) -> str | None:
    """A header counted upwards or downwards as the plain shift: '-df (Hz)' for 'downshift (Hz)',
    'df/f (ppm)' for 'fractional frequency increase (ppm)'; None for any other, or with words
    beside it that are no shift's."""
    found = _DIRECTION.match(text)
    if not found or _BARE_DIRECTION.match(text):
        return None
    base = "df/f" if found.group("rel") or found.group("rel2") else "df"
    rest = text[found.end():].strip()
    rest = re.sub(r"^(?:in\s+|/\s*|_|,\s*)(\S+)$", r"(\1)", rest)  # 'in Hz', ', Hz' as '(Hz)'
    if headers.strip_unit(base + " " + rest) != base:
        return None
    down = found.group("down") or found.group("down2")
    return ("-" if down else "") + base + (" " + rest if rest else "")


def _is_reference(match: re.Match, which: str) -> bool:
    """Whether operand ``which`` ('a', 'b') of a written difference is the reference."""
    return bool(match.group(f"ref{which}") or match.group(f"arg{which}"))


def written_shift(name: str) -> str:
    """A shift header with its written difference or ratio as the plain shift it is: '-df (Hz)'
    for 'shift (f0 - f) (Hz)', 'Δf = f0 - f (Hz)', 'frequency shift f0-f (Hz)', '(f0 - f)/Hz',
    'f(T → 0) - f(T) (Hz)', 'ν0 - ν (Hz)'; 'df (Hz)' for 'f - f0 (Hz)'; '-df/f' for '(f0 - f)/f0'
    and '1 - f/f0'; '-dv/v' for '(v0 - v)/v0'. The name as given when it holds no such
    difference, a difference of two references or two rows, or words that are not a shift's;
    '' (no shift) for differences in both orders.

    A reversed difference after a shift word or in brackets was read with its sign unchanged,
    and many spellings of one ('f0 — f', 'f⁰ - f', 'f0 - f_meas', '(f0-f)/f0') were "cannot
    tell which column is the shift" (helper-172): the difference is found wherever it stands in
    the header, and read from here on by the rules of the plain names."""
    return _written(name)[0]


def over_measured(name: str) -> bool:
    """Whether a relative shift header is written over the measured frequency, not the
    reference: 'f0/f - 1', '1 - f0/f', '(f0 - f)/f', '(f - f0)/f(T)' (sign as in
    :func:`written_shift`). Its values y = (f - f0)/f are df/f0 = y/(1 - y) exactly."""
    return _written(name)[1]


def _written(name: str) -> tuple[str, bool]:
    """:func:`written_shift` and :func:`over_measured` of a header."""
    text = name = _spelled(name)  # also 'minus' as '-', '$-df/f$' as '-df/f'
    flip = _SIGN_FLIP.search(text)
    if flip:  # 'df negated (Hz)' is '-df (Hz)'
        rest = re.sub(r"[(\[]\s*[)\]]", " ", text[:flip.start()] + " " + text[flip.end():])
        plain, over = _written(re.sub(r"\s+", " ", rest).strip())  # '(negated)' leaves no '( )'
        if plain and shift_kind(plain):
            return (plain[1:].strip() if plain.startswith("-") else "-" + plain), over
        return name, False
    directed = _direction_shift(text)
    if directed:
        return directed, False
    inverse = _INVERSE_RATIO.match(text)
    if inverse:
        velocity = (inverse.group("a") or inverse.group("b"))[0].lower() == "v"
        return (("" if inverse.group("one") else "-") + ("dv/v" if velocity else "df/f")
                + text[inverse.end():], True)
    ratio = _WRITTEN_RATIO.match(text)
    if ratio:
        q = (ratio.group("q") or ratio.group("q2")).lower()
        rest = text[ratio.end():]
        return ("-" if ratio.group("rev") else "") + ("dv/v" if q == "v" else "df/f") + rest, False
    found = list(_WRITTEN_DIFFERENCE.finditer(text))
    orders = {(_is_reference(m, "a"), _is_reference(m, "b")) for m in found}
    if len(orders) > 1 and {(True, False), (False, True)} <= orders:
        return "", False  # 'shift (f0 - f) (f - f0)': both orders, no shift of either sign
    if len(found) != 1:
        return name, False
    m = found[0]
    first, second = _is_reference(m, "a"), _is_reference(m, "b")
    if first == second:
        return name, False
    velocity = m.group("a")[0].lower() == "v"
    divided = False
    if m.group("ratio"):
        divisor = m.group("ratio").split("/")[1].strip()
        divided = bool(re.fullmatch(_RATIO_MEASURED, divisor, re.IGNORECASE))
        if not (divided or re.fullmatch(_RATIO_REFERENCE, divisor, re.IGNORECASE)):
            return name, False
        base = "dv/v" if velocity else "df/f"
    elif velocity:
        return name, False
    else:
        base = "df"
    before = text[:m.start()]
    negated = re.search(r"(?:^|[\s=])-\s*$", before)  # '-(f - f0) (Hz)' is f0 - f
    if negated:
        before = before[:negated.start()]
    rest = (before + " " + text[m.end():]).strip()
    if _RELATIVE_WORDS.search(rest):
        rest, base = _RELATIVE_WORDS.sub(" ", rest), "df/f"
    rest = re.sub(r"[(\[]\s*[)\]]", " ", _SHIFT_WORDS.sub(" ", rest)).strip()
    rest = re.sub(r"^(?:in\s+|/\s*|_)(\S+)$", r"(\1)", rest)  # 'in Hz', '/Hz', '_Hz' as '(Hz)'
    if headers.strip_unit(base + " " + rest) != base:  # words beside it that are no shift's
        return name, False
    return ("-" if first != bool(negated) else "") + base + (" " + rest if rest else ""), divided


def is_reversed_difference(name: str) -> bool:
    """Whether a shift header is the reference minus the frequency ('f0 - f (Hz)', 'f(0) - f(T)')
    or a negated shift ('-dv/v'), whose values are read with their sign flipped."""
    name = written_shift(name)
    written = headers.normalised_header(name)  # lower case, Unicode minus and dashes as '-'
    return bool(_REVERSED.match(frequency_unit(name)[0]) or _REFERENCE_FIRST.match(written)
                or _NEGATED.match(written))


def names_a_ratio(name: str) -> bool:
    """Whether a header names a relative quantity ('df/f', 'dv/v', 'fractional shift', a
    velocity shift): its values have no unit of frequency."""
    q = frequency_unit(name)[0]
    return bool(re.search(r"(?:d|δ|delta)\s*_?\s*(?:v|f|ν)(?:_?\w*)?\s*/\s*(?:v|f|ν)|fractional|"
                          r"relative|\brel\b|velocity|^(?:dvv|dff)$|^(?:d|δ|delta)\s*_?\s*v\b", q))


def frequency_unit(name: str) -> tuple[str, str | None]:
    """The quantity of a header and the frequency unit its values are in, for a shift column and
    its error column alike.

    The unit is read from brackets (``'Δf (MHz)'``, ``'sd(df) (Hz)'``) or after the name
    (``'df_kHz'``, ``'shift Hz'``, ``'sigma_Hz'``). The prefix m is case-aware: ``mHz`` as
    written is millihertz, ``MHz`` (``MHZ``, ``Mhz``) megahertz; a unit all in lower case,
    ``mhz``, is megahertz as in the sweep reader and ``--frequency`` (headers typed in lower
    case write ``khz``, ``ghz`` alike; a shift in millihertz must say ``mHz``).

    Parameters
    ----------
    name : str
        The header cell as written.

    Returns
    -------
    quantity : str
        The quantity's name without its unit.
    unit : str or None
        A key of :data:`manybody.units.HERTZ_PER_UNIT` (``'hz'``, ``'khz'``, ``'mHz'``, ...), None
        without a frequency unit.
    """
    name = written_shift(name)
    quantity = headers.strip_unit(name)
    unit = (headers.header_unit(name) or "").replace(" ", "")
    trailing = _TRAILING_FREQUENCY_UNIT.search(quantity)  # 'df_khz', 'shift / khz'
    if trailing and not unit:
        quantity, unit = quantity[:trailing.start()].strip(), trailing.group(1)
    key = headers.FREQUENCY_SPELLINGS.get(unit.replace("μ", "µ"))
    if key == "mhz" and _MILLIHERTZ.search(name):  # the case was folded by strip_unit
        key = "mHz"
    return quantity, key


def is_frequency_shift(name: str) -> bool:
    """Whether a header names an absolute frequency shift (f - f0, Δf, shift) with its unit."""
    quantity, unit = frequency_unit(name)
    return unit is not None and bool(_FREQUENCY_SHIFT.match(quantity))


def shift_kind(name: str) -> str | None:
    """"delta v/v", "df/f", or "df" (an absolute frequency shift in Hz, kHz, MHz or GHz) for a
    shift column name, None for any other column."""
    if unclear_sign(name):  # found as a shift, to be refused naming the word
        return shift_kind(without_unclear_sign(name))
    name = written_shift(name)
    if is_frequency_shift(name):
        return "df"
    n = headers.strip_unit(name)
    if _FREQUENCY_SHIFT.match(n) and _is_relative_scale(headers.scale_unit(name)):
        # 'shift (ppm)', 'Δf (ppb)': a relative unit makes it df/f (session 52); 'shift (1e-6)',
        # 'shift (‰)' too (they were "cannot tell which column is the shift"; helper-165)
        return "df/f"
    if not _SHIFT.search(n):
        return None
    return "df/f" if re.search(r"f\s*(/|_)\s*f|^df|frequency|^(?:fractional|relative)[\s_]*shift",
                               n) else "delta v/v"


def _is_relative_scale(unit: str | None) -> bool:
    """Whether a header's unit is a scale of a relative shift (ppm, ppb, %, ‰, a power of ten):
    it makes a shift named as an absolute one ('shift', 'Δf', 'f - f0') relative, df/f."""
    return unit is not None and unit not in ("", "1", "-") and headers.scale_factor(unit) is not None


def _absolute_frequency_hint(columns: list[str]) -> str:
    """Why columns of plain resonance frequencies (``'f (GHz)'``, ``'f_r'``) are no shift, or ''."""
    absolute = [c for c in columns if names_a_frequency(c)]
    if not absolute:
        return ""
    return (f". Column(s) {', '.join(map(repr, absolute))} hold an absolute (resonance) "
            "frequency, not a shift: subtract the reference, f - f(T_ref), into a column "
            "such as 'df (Hz)', or divide by it into 'df/f'")


def _no_shift_message(src: str, columns: list[str]) -> str:
    """Why no column of a velocity table is a shift: an absolute frequency column is named (its
    values are not a shift: a table of f (GHz) was not to be fitted as one), and so is a shift's
    name without a unit (Δf of what unit?)."""
    text = (f"{src}: cannot tell which column is the shift (dv/v, delta v/v, df/f, velocity "
            "shift, or an absolute shift with its frequency unit: 'df (Hz)', 'Δf (kHz)', "
            f"'f - f0 (Hz)', 'shift_MHz'); columns found: {', '.join(map(repr, columns))}")
    unitless = [c for c in columns if frequency_unit(c)[1] is None
                and _FREQUENCY_SHIFT.match(headers.strip_unit(written_shift(c)))]
    # as written: 'f_res,0 - f_res' was "cannot tell" without a word on its unit (helper-174)
    text += _absolute_frequency_hint(columns)
    unknown = [c for c in columns if frequency_unit(c)[1] is None
               and _FREQUENCY_SHIFT.match(headers.strip_unit(c)) and headers.scale_unit(c)
               and headers.scale_factor(headers.scale_unit(c)) is None]
    if unknown:  # 'shift (ppt)': which thousand? (helper-165)
        text += (f". Column(s) {', '.join(f'{c!r} (unit {headers.scale_unit(c)!r})' for c in unknown)} "
                 f"name a shift in a unit that is neither a frequency unit ({_ACCEPTED}) nor a "
                 "scale of a relative shift (ppm, ppb, %, ‰ or a power of ten such as 1e-6)")
    if unitless:
        text += (f". Column(s) {', '.join(map(repr, unitless))} name a frequency shift without "
                 "its unit: write it in the header, e.g. 'df (Hz)' or 'f - f0 (kHz)'")
    return text


#: A variance: the word, or a squared unit ('std (ppm²)', 'var (Hz^2)'); its values are no
#: standard deviation (a 'std (ppm²)' column was read in ppm; helper-179).
_VARIANCE = re.compile(r"(?<![a-z])var(?:iance)?(?![a-z])|[a-z%]\s*(?:\^\s*2|\*\*\s*2)(?!\d)")
#: A column that looks like an uncertainty without being read as one: 'u(f)', 'variance',
#: 'Fehler', 'Unsicherheit', 'incertitude', 'erreur' ('+/-', 'u(f) (Hz)' were left unused without
#: a word; helper-179).
_LOOKS_UNCERTAIN = re.compile(r"^u\s*(?:\(|\s)|(?<![a-z])(?:var|variance|fehler|unsicherheit|"
                              r"incertitude|erreur|uncert\w*|err\w*|sigma|std\w*|sd)(?![a-z])|[σ±]")


def _refuse_variance(src: str, e_name: str) -> None:
    """Refuse an error column holding a variance (:data:`_VARIANCE`): the fit needs standard
    deviations, in the shift's unit."""
    if _VARIANCE.search(headers.normalised_header(e_name)):
        raise ValueError(f"{src}: error column {e_name!r} names a variance (the word, or a squared "
                         "unit): give the standard deviation, its square root, in the shift's "
                         "unit, e.g. 'sd (Hz)' or 'sd (ppm)', or ignore it (error_column=False, "
                         "--error-column none)")


def _warn_unused_uncertainty(src: str, columns, used: tuple[str, ...], s_name: str) -> None:
    """Warn about columns that look like an uncertainty (:data:`_LOOKS_UNCERTAIN`) but are not
    read as the shift's error and are not :func:`manybody.measured.headers.is_error_column`
    (those are warned about where the error column is chosen)."""
    unused = [c for c in columns if c not in used and not headers.is_error_column(c)
              and _LOOKS_UNCERTAIN.search(headers.normalised_header(c))]
    if unused:
        warnings.warn(f"{src}: column(s) {', '.join(map(repr, unused))} look like an uncertainty "
                      f"but are not used as the error of {s_name!r}: no error column; choose one "
                      "by name (error_column=, --error-column) if it is the standard deviation of "
                      "the shift", UserWarning, stacklevel=3)


def _errors_in_shift_units(src: str, e_name: str, sigma: np.ndarray, shift: np.ndarray,
                           s_name: str) -> np.ndarray:
    """The error column in the units of the shift column: as given without a unit of its own
    (or with the shift's); a percent of each |shift| (``(%)``, unless the shift is in % too) is
    refused (a shift's zero is arbitrary); else converted from its scale to the shift's
    (session 25: ``dv/v error (%)`` was read as absolute errors in the shift's unit by
    ``--velocity``)."""
    percent = headers.error_is_relative(e_name, s_name)
    if percent or headers.error_is_fraction(e_name):
        # a shift's zero is arbitrary (f(T) - f(T_ref)): a percent of each value gave points
        # near the zero tiny errors, chi2/dof 172 on exact TLS data (a new user, session 35);
        # a fraction ('u_rel(dv/v)', 'df_rel_err') was read as absolute errors (session 52)
        raise ValueError(f"{src}: column {e_name!r} gives errors as "
                         f"{'a percent' if percent else 'a fraction'} of each shift "
                         f"value, but a shift's zero is arbitrary (points near it would get "
                         "tiny errors); give absolute errors, in the shift's unit or with their "
                         "own (e.g. 'error (ppm)')")
    # one reading of a frequency unit for both columns, in brackets or after the name: 'sd(df)
    # (Hz)', 'df_err_Hz', 'sigma_Hz' were taken in the shift's kHz (a tester, session 52)
    e_hz, s_hz = frequency_unit(e_name)[1], frequency_unit(s_name)[1]
    subject = headers.error_subject(e_name)
    if e_hz is not None and names_a_ratio(subject):
        # 'sd(df/f) (Hz)' beside 'df (Hz)' was converted as Hz (a tester, session 54): the error
        # of a relative quantity has no unit of frequency, as the shift's 'df/f (Hz)' is refused
        raise ValueError(f"{src}: error column {e_name!r}: its name is the error of a relative "
                         f"shift ({subject}: a plain number) but its unit, "
                         f"{FREQUENCY_SYMBOLS[e_hz]}, is an absolute frequency: the name and the "
                         f"unit contradict; give the error of {s_name!r} as "
                         + (f"'sd(df) ({FREQUENCY_SYMBOLS[s_hz]})'" if s_hz is not None else
                            "'sd(df/f)' (plain, or in the shift's ppm, ...)"))
    if s_hz is not None and e_hz is None and "/" in subject and shift_kind(subject):
        # 'sd(df/f)' beside 'df (kHz)' was read in kHz (a third tester, session 52)
        raise ValueError(f"{src}: error column {e_name!r} is the error of a relative shift "
                         f"({subject}), but the shift column {s_name!r} is an absolute shift in "
                         f"{FREQUENCY_SYMBOLS[s_hz]}: give the errors in a unit of frequency "
                         f"({_ACCEPTED}), e.g. 'sd(df) ({FREQUENCY_SYMBOLS[s_hz]})'")
    if e_hz is not None and s_hz is not None:  # 'sigma (Hz)' beside 'df (kHz)'
        return sigma * HERTZ_PER_UNIT[e_hz] / HERTZ_PER_UNIT[s_hz]
    unit = headers.scale_unit(e_name)
    if e_hz is None and (unit is None or unit in ("", "1", "-") or unit in headers.ERROR_UNITS
                         or unit == headers.scale_unit(s_name)):
        return sigma  # no unit of its own ('sigma', 'Δf (std)'): the shift's
    if e_hz is not None or s_hz is not None:
        # the error column's unit is the wrong one: 'df (kHz)' with 'sigma (ppm)' blamed the shift
        shift_is = (f"an absolute shift in {FREQUENCY_SYMBOLS[s_hz]}" if s_hz is not None
                    else "a relative shift (df/f, dv/v)")
        raise ValueError(f"{src}: error column {e_name!r}: its unit is not one of the shift "
                         f"column {s_name!r}, {shift_is}; give the errors in a unit of "
                         + (f"frequency ({_ACCEPTED})" if s_hz is not None else
                            "the relative shift (a plain number, ppm, ppb, % or a power of ten)"))
    scale = _shift_scale(src, s_name)
    return sigma * _shift_scale(src, e_name, "error") / scale


def _looks_absolute(hertz_values: np.ndarray) -> bool:
    """Whether values in Hz are plainly resonance frequencies, not a shift: all positive, the
    largest at least MIN_RESONANCE_HZ, the smallest more than RESONANCE_CLEARANCE of their
    spread above 0, however far they fall.

    A resonance frequency is never negative; a shift's zero is its reference, within or near the
    data, and TLS shifts of a GHz resonator are kHz; a kinetic-inductance fall, which can reach
    MHz, is negative (f - f0 below f0) or, with the reference at the highest temperature, falls
    to 0. So negative values of one sign are a shift, however large (-10 to -15 MHz with a
    reference away from the data was refused as a resonance; helper-172), and positive values of
    MHz that never come near 0 are a resonance, falling by any fraction up to 95 % (the rule of
    session 54, within a factor 2 of each other, read a resonance falling by more than half as a
    shift of GHz; helper-172). A shift whose reference lies far below the data is read when the
    column is chosen by name (:func:`_refuse_resonance`). Positive values that are nearly
    constant (:func:`nearly_constant`: +500 kHz x (1 - df/f)) are a resonance too.
    """
    v = np.asarray(hertz_values, dtype=float)
    if v.size == 0 or not np.all(v > 0):
        return False
    return bool((v.max() >= MIN_RESONANCE_HZ and v.min() > RESONANCE_CLEARANCE * (v.max() - v.min()))
                or nearly_constant(v))


def over_reference(shift: np.ndarray, sigma: np.ndarray | None,
                   scale: float) -> tuple[np.ndarray, np.ndarray | None]:
    """A relative shift over the measured frequency, y = (f - f0)/f (values in units of
    ``scale``, as 'f0/f - 1' reads once its sign is flipped), as the shift over the reference,
    df/f0 = y/(1 - y), in the same units; its errors propagated, sigma/(1 - y)^2.

    Parameters
    ----------
    shift : numpy.ndarray
        y in units of ``scale`` (|y scale| <= MAX_RELATIVE_SHIFT, :func:`check_relative`).
    sigma : numpy.ndarray or None
        Errors of y in the same units.
    scale : float
        The column's scale (1e-6 for ppm).

    Returns
    -------
    shift, sigma : numpy.ndarray, numpy.ndarray or None
        df/f0 and its errors, in units of ``scale``.
    """
    y = shift * scale
    return (y / (1.0 - y)) / scale, None if sigma is None else sigma / (1.0 - y) ** 2


#: Values in Hz of one sign at least NEGATED_RESONANCE_HZ in size, all within RESONANCE_SPREAD of
#: the smallest, are a resonance frequency, or its negative, whatever the header and even when
#: chosen by name (a column of -5.0001 GHz under 'df (GHz)' was read as a shift of -5 GHz;
#: helper-174): a TLS shift of a GHz resonator is kHz, a kinetic-inductance fall of 100 MHz or
#: more moves by more than 10 % across the data.
NEGATED_RESONANCE_HZ = 1e8
RESONANCE_SPREAD = 0.1
#: With --frequency, an absolute shift of PLAUSIBLE_SHIFT_FRACTION of it or more is refused, and
#: no other rule of size applies: the column is decided by comparison with the resonance.
PLAUSIBLE_SHIFT_FRACTION = 0.5


#: Values of one sign of MIN_RESONANCE_HZ or more whose spread (max - min) is below
#: NEARLY_CONSTANT times their smallest size are a resonance frequency (or its negative): a shift
#: is near 0 at its reference or spreads about as far as it reaches, a resonance stays far from 0
#: against its spread (-100 MHz x (1 - df/f) was read as a shift below NEGATED_RESONANCE_HZ;
#: helper-179). Below MIN_RESONANCE_HZ a shift whose reference lies far from the data is common: a
#: GHz resonator referenced at a high temperature, f(T) - f(300 mK) = 562 kHz +- 300 Hz (spread
#: 1e-3 of the size), was refused as a resonance (helper-181). There only values constant to
#: TLS_CONSTANT are a resonance (-500 kHz x (1 - df/f) with df/f of TLS size, 1e-5 per e-fold of
#: T, spreads 2e-5 of itself; helper-179): a resonance measured over a TLS data set moves by less.
NEARLY_CONSTANT = 1e-2
TLS_CONSTANT = 1e-4


def nearly_constant(values: np.ndarray) -> bool:
    """Whether values in Hz are all of one sign and far from 0 against their spread, as a
    resonance frequency is: the spread below NEARLY_CONSTANT of their smallest size at
    MIN_RESONANCE_HZ or more, below TLS_CONSTANT at any size."""
    v = np.abs(np.asarray(values, dtype=float))
    one_sign = bool(v.size) and (np.all(np.asarray(values) > 0) or np.all(np.asarray(values) < 0))
    if not one_sign:
        return False
    spread, smallest = v.max() - v.min(), v.min()
    return bool(spread < TLS_CONSTANT * smallest
                or (smallest >= MIN_RESONANCE_HZ and spread < NEARLY_CONSTANT * smallest))


def plainly_resonance(hertz_values: np.ndarray) -> bool:
    """Whether values in Hz are plainly a resonance frequency or its negative: all of one sign,
    reaching NEGATED_RESONANCE_HZ in size and within RESONANCE_SPREAD of each other (a 100 MHz
    resonance dips below 100 MHz by its shift)."""
    v = np.abs(np.asarray(hertz_values, dtype=float))
    one_sign = bool(v.size) and (np.all(np.asarray(hertz_values) > 0)
                                 or np.all(np.asarray(hertz_values) < 0))
    return one_sign and bool(v.max() >= NEGATED_RESONANCE_HZ
                             and v.max() - v.min() <= RESONANCE_SPREAD * v.min())


def looks_negated_resonance(hertz_values: np.ndarray) -> bool:
    """Whether values in Hz are a resonance frequency negated: all negative, and plainly a
    resonance's size (:func:`plainly_resonance`) or nearly constant (:func:`nearly_constant`)."""
    v = np.asarray(hertz_values, dtype=float)
    return bool(v.size and np.all(v < 0)) and (plainly_resonance(v) or nearly_constant(v))


def _refuse_resonance(src: str, column: str, shift: np.ndarray, hertz: str,
                      frequency_hz: float | None, *, chosen: bool = False,
                      flipped: bool = False) -> None:
    """Refuse a shift column in a unit of frequency whose values are a resonance frequency, or
    its negative, not a shift.

    Given the resonance frequency (``frequency_hz``, --frequency), by comparison with it alone:
    |values| of half of it or more are refused. Without it, by the values: plainly a
    resonance's size (:func:`plainly_resonance`), refused even when chosen by name; nearly
    constant (:func:`nearly_constant`), or positive resonance frequencies once the header's sign
    flip is applied (``flipped``: 'f0 - f (Hz)' holds -(f - f0); :func:`_looks_absolute`), refused,
    or read with a warning when chosen by name (``chosen``, --shift-column). The rule was applied
    to the values as written, so 'f0 - f (Hz)' of -562 kHz, a shift referenced at a high
    temperature, had no way out (helper-181)."""
    hz = np.asarray(shift, dtype=float) * HERTZ_PER_UNIT[hertz]
    unit = FREQUENCY_SYMBOLS[hertz]
    k = int(np.argmax(np.abs(hz)))
    values = f"the values ({np.min(shift):g} to {np.max(shift):g} {unit})"
    if frequency_hz is not None:
        if abs(hz[k]) < PLAUSIBLE_SHIFT_FRACTION * frequency_hz:
            return
        raise ValueError(
            f"{src}: shift column {column!r}: its largest |value|, {abs(shift[k]):g} {unit} (data "
            f"row {k + 1}), is {abs(hz[k]) / frequency_hz:.3g} times the resonance frequency given "
            f"as frequency_hz ({frequency_hz:.6g} Hz), and a shift of a resonator stays below "
            f"{PLAUSIBLE_SHIFT_FRACTION:g} times its frequency: either frequency_hz is wrong (its "
            f"value or unit; a resonator shifted by {abs(hz[k]):.3g} Hz resonates far above that), "
            f"or the column holds the resonance frequency (or its negative), not a shift f - f0: "
            "subtract the reference f(T_ref) from it")
    negative = bool(np.all(hz < 0))
    if negative and plainly_resonance(hz):
        raise ValueError(
            f"{src}: shift column {column!r}, data row {k + 1}: {shift[k]:g} {unit}: {values} are "
            f"all negative, {NEGATED_RESONANCE_HZ:g} Hz or more in size and within "
            f"{RESONANCE_SPREAD:.0%} of each other: a resonance frequency negated, not a shift, "
            "which is near 0 at its reference; a shift f - f0 (e.g. 'df (Hz)') or df/f is "
            "expected: subtract the reference f(T_ref) from the resonance frequency f(T)")
    size = (f"a spread below {NEARLY_CONSTANT:g} of their size at {MIN_RESONANCE_HZ:g} Hz or "
            f"more, below {TLS_CONSTANT:g} at any size")
    as_shift = -hz if flipped else hz
    far = bool(np.all(as_shift > 0) and as_shift.max() >= MIN_RESONANCE_HZ
               and as_shift.min() > RESONANCE_CLEARANCE * (as_shift.max() - as_shift.min()))
    if far:
        signs = "all negative, and positive as the header reverses them" if negative else "all positive"
        why = (f"{signs}, of {MIN_RESONANCE_HZ:g} Hz or more, and never near 0, as resonance "
               "frequencies are")
    elif nearly_constant(hz) and negative:
        why = f"all negative and far from 0 against their spread ({size})"
    elif nearly_constant(hz):
        why = f"all positive and nearly constant ({size}), never near 0, as resonance frequencies are"
    else:
        return
    what = "a resonance frequency negated" if negative else "an absolute (resonance) frequency"
    if chosen:
        warnings.warn(f"{src}: shift column {column!r}, chosen by name, is read as a shift f - f0 "
                      f"although {values} are {why} (a shift comes near 0 at its reference, a "
                      f"kinetic-inductance fall negative); if it is {what}, subtract the "
                      "reference f(T_ref)", UserWarning, stacklevel=3)
        return
    escape = ("subtract the reference f(T_ref) from the resonance frequency; if it is a shift "
              "whose reference lies far from the data, give the resonance frequency "
              "(frequency_hz, --frequency: the column is then judged against it) or choose "
              "the column by name (shift_column, --shift-column)")
    if negative:
        raise ValueError(
            f"{src}: shift column {column!r}, data row {k + 1}: {shift[k]:g} {unit}: {values} are "
            f"{why}: {what}, not a shift, which is near 0 at its reference? {escape}")
    raise ValueError(
        f"{src}: shift column {column!r}, data row 1: {shift[0]:g} {unit}: {values} are {what}, "
        "not a shift: a shift f - f0 (e.g. 'df (Hz)', near 0 at the reference) or df/f is "
        f"expected ({why}); {escape}")


def _refuse_unclear_sign(src: str, column: str, values: np.ndarray) -> None:
    """Refuse a shift header whose sign is unclear (:func:`unclear_sign`: 'df_rev', 'negative
    shift (Hz)'), or counted downwards or upwards (:func:`direction_of`) with every value
    negative, which contradicts its name (an upshift everywhere under 'downshift', or f - f0
    written under it?)."""
    word = unclear_sign(column)
    example = "'f - f0 (Hz)' or 'f0 - f (Hz)'"
    if word:  # the header's word, not a value (a row's '-0' was quoted; helper-179)
        negated = ("'(f0 - f)/f0' or '-df/f'" if names_a_ratio(without_unclear_sign(column))
                   else f"{example}, or '-df (Hz)'")
        why = ("minus the shift, or the shift as it is: a reverse sweep, a negative shift?"
               if word.lower() not in ("down", "up") else
               f"the shift counted {word.lower()}wards, or the shift as it is of a "
               f"{word.lower()}-sweep?")
        raise ValueError(
            f"{src}: shift column {column!r}: its word {word!r} leaves the sign unclear ({why}): "
            f"write the difference it holds, {negated}")
    direction = direction_of(column)
    if direction and values.size and np.all(values < 0):
        held = "f0 - f, positive where the frequency fell" if direction == "down" else \
            "f - f0, positive where the frequency rose"
        raise ValueError(
            f"{src}: shift column {column!r}, data row 1: {values[0]:g}: its name counts the "
            f"shift {direction}wards ({held}) but every value is negative: the opposite shift at "
            f"every temperature, or the other difference under its name? write the difference "
            f"it holds, {example}")


def check_relative(source: str, column: str, shift: np.ndarray, scaled: np.ndarray,
                   inside: np.ndarray | None = None) -> None:
    """Refuse a relative shift (``scaled``, the column's values as plain fractions) beyond
    MAX_RELATIVE_SHIFT: a column in Hz without its unit in the header (a bare ``df`` of 5e9 Hz
    data was fitted as df/f = -4099 by ``--velocity``; a tester, session 52).

    ``inside`` (bool, the shape of ``shift``) marks the rows of the fit's window: only they are
    held to the cap (a kinetic-inductance fall of -15 % above --tmax was refused before the window
    could leave it out, while the same shift in MHz was read; session 55's note). A column that
    looks like resonance frequencies is refused whatever the window.

    Raises
    ------
    ValueError
        Naming the file, the column, the row and the value, asking for the unit.
    """
    beyond = np.flatnonzero(np.abs(scaled) > MAX_RELATIVE_SHIFT)
    if beyond.size and _looks_absolute(shift):  # 'f_meas' of 5e9 (helper-165)
        k = int(beyond[0])
        raise ValueError(
            f"{source}: shift column {column!r}, data row {k + 1}: {shift[k]:g} and the others "
            f"({np.min(shift):g} to {np.max(shift):g}) look like an absolute (resonance) frequency "
            "in Hz, not a shift: a shift f - f0 with its unit ('df (Hz)') or a relative df/f "
            f"(|df/f0| <= {MAX_RELATIVE_SHIFT:g}) is expected; subtract the reference f(T_ref)")
    if inside is not None:
        beyond = beyond[inside[beyond]]
    if beyond.size:
        # a column in Hz without a unit in its header was fitted as df/f0 = 624
        # (a tester, session 34)
        k = int(beyond[0])
        raise ValueError(
            f"{source}: shift column {column!r}, data row {k + 1}: {shift[k]:g} is not a "
            f"relative shift (|df/f0|, |dv/v| <= {MAX_RELATIVE_SHIFT:g} expected; TLS shifts are "
            "~1e-5): an absolute shift needs its frequency unit in the header ('df (Hz)', "
            "'f - f0 (kHz)'; fit-data --shift then divides it by --frequency into df/f0); a "
            "scale belongs in the header ('df/f (ppm)', 'dv/v (1e-6)')")


#: Smallest change over temperature of a measured relative shift (df/f0, dv/v): TLS shifts are
#: ~1e-7 ... 1e-4 and a resonator's frequency resolves ~1e-10 of f0 at best; a column whose
#: values span less than this after its header's scale has the wrong scale ('dv/v (ppm)' over
#: plain fractions of ~1e-5 read as 1e-11 without a word; bt219 F6).
MIN_RELATIVE_SPAN = 1e-9


def warn_tiny_relative(source: str, column: str, shift: np.ndarray, scale: float) -> None:
    """UserWarning when a relative shift column (its numbers ``shift`` as written, ``scale``
    its header's factor to fractions) spans less than MIN_RELATIVE_SPAN over the table, naming
    the header's scale: the mirror of :func:`check_relative`'s cap."""
    values = np.asarray(shift, dtype=float)
    if values.size < 2:
        return
    span = float(np.max(values) - np.min(values)) * scale
    if not 0 < span < MIN_RELATIVE_SPAN:
        return  # 0: an exactly constant column, refused or told where the fit sees it
    unit = headers.scale_unit(written_shift(column)) if scale != 1.0 else None
    read = (f"read with the header's scale {unit!r} ({scale:g}) as fractions spanning {span:.3g}"
            if unit else f"read as fractions spanning {span:.3g}")
    fix = (f"are the values plain fractions? then drop {unit!r} from the header" if unit
           else "is the column another quantity, or a scale missing from its header?")
    warnings.warn(f"{source}: shift column {column!r} holds {np.min(values):g} to "
                  f"{np.max(values):g}, {read}: no measured df/f0 or dv/v changes by less than "
                  f"{MIN_RELATIVE_SPAN:g} over temperature (TLS shifts are ~1e-5); {fix}",
                  UserWarning, stacklevel=3)


def _shift_scale(src: str, s_name: str, role: str = "shift") -> float:
    """The factor turning a relative shift column's numbers (or its error column's, ``role``
    "error") into fractions (its ppm, ppb, % or negative power of ten), or a ValueError naming
    the column and the units accepted for any other unit ('df (rad/s)' was fitted as a
    dimensionless df/f; a tester, session 52) and for a positive power of ten.

    A positive power of ten, ``'dv/v × 10⁶'``, ``'dv/v x 1e6'``, ``'dv/v*1e6'``, reads two ways:
    the values in units of 10^6, as ``'Qi (x1e6)'`` is read, or dv/v multiplied by 10^6 (ppm).
    The first makes every relative shift beyond MAX_RELATIVE_SHIFT; the second is not how the
    other tables read the scale. It was refused as "not a relative shift" without naming the
    scale read, while ``'dv/v [ppm]'`` was read (a tester, session 54): it is refused naming it.
    """
    written = written_shift(s_name)  # '(f0 - f)/f0' is '-df/f': its bracket is no unit
    dropped = _POWER_WITHOUT_CARET.search(headers.normalised_header(written))
    if dropped:  # 'dv/v x 10-6' was "not a relative shift ... a scale belongs in the header"
        power = dropped.group("power") or dropped.group("power2")
        raise ValueError(
            f"{src}: {role} column {s_name!r}: its scale {dropped.group(0).strip()!r} is no power "
            f"of ten as written (10 minus {power}?): for values in units of 10^-{power} write "
            f"'(1e-{power})' or '× 10^-{power}'" + (" or '(ppm)'" if power == "6" else ""))
    headers.check_header(src, written, role, shown=s_name)
    unit = headers.scale_unit(written)
    factor = headers.scale_factor(unit)
    if factor is None:
        raise ValueError(
            f"{src}: {role} column {s_name!r}: its unit {unit!r} is neither a frequency unit of "
            f"an absolute shift ({_ACCEPTED}: 'df (Hz)') nor a scale of a relative one (a plain "
            "number, ppm, ppb, % or a power of ten: 'df/f (ppm)'); an angular frequency (rad/s) "
            "is to be divided by 2π into Hz")
    if factor > 1:
        power = round(math.log10(factor))
        raise ValueError(
            f"{src}: {role} column {s_name!r}: its scale {unit!r} reads two ways: the "
            f"values in units of 10^{power} (as 'Qi (x1e6)' is read: a relative shift beyond "
            f"{MAX_RELATIVE_SHIFT:g}), or the relative shift multiplied by 10^{power}; write the "
            f"unit the values are in, e.g. '(1e-{power})'" + (" or '(ppm)'" if power == 6 else "")
            + " for df/f or dv/v times 10^" + str(power))
    return factor


#: A power of ten written without its caret, '10-6' for 10^-6, as a shift's scale: 'dv/v x 10-6',
#: 'df/f (10-6)' (helper-172: refused without naming the scale).
_POWER_WITHOUT_CARET = re.compile(r"(?:[x×*·]\s*)10\s*-\s*(?P<power>\d+)\s*$"
                                  r"|[(\[]\s*(?:[x×*·]\s*)?10\s*-\s*(?P<power2>\d+)\s*[)\]]")


@dataclass(frozen=True)
class VelocityTable:
    """A measured delta v / v (or df/f) curve read from one file, in file order.

    Attributes
    ----------
    temperature : numpy.ndarray
        T (K), > 0.
    shift : numpy.ndarray
        delta v / v or df/f in the units of its column (``units["shift"]``; None: as given).
    sigma : numpy.ndarray or None
        One-sigma errors of ``shift`` in the same units (an error column in % of the values, or
        with a scale of its own, converted), or None without an error column.
    kind : str
        "delta v/v", "df/f", or "df" for a column in a unit of frequency (Hz, kHz, MHz, GHz),
        an absolute shift that the slope fit takes in that unit.
    source, label : str
        Path of the file and its stem.
    columns : tuple of str
        All column names of the header.
    temperature_column, shift_column : str
        Columns used.
    error_column : str or None
        Uncertainty column used.
    units : dict
        "temperature" ("K" or "mK" as the file had it), "shift" (the unit in the shift header,
        e.g. "ppm", or None).
    sign_flipped : bool
        The column is the reference minus the frequency ('f0 - f (Hz)', 'downshift (Hz)',
        'f0/f - 1'): ``shift`` holds its values negated, f - f0 (a ratio over the measured
        frequency, 'f0/f - 1', also taken over the reference, :func:`over_reference`).
    """

    temperature: np.ndarray
    shift: np.ndarray
    sigma: np.ndarray | None
    kind: str
    source: str
    label: str
    columns: tuple[str, ...]
    temperature_column: str
    shift_column: str
    error_column: str | None
    units: dict
    sign_flipped: bool = False

    def as_fraction(self, frequency_hz: float | None = None,
                    window: tuple[float | None, float | None] = (None, None)
                    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The shift and its errors as plain fractions (``ppm``, ``%`` or a power of ten in the
        header converted, :func:`manybody.measured.headers.dimensionless_scale`): what a fit that
        compares the shift with a loss needs (a ``df/f (ppm)`` column was read as plain numbers
        by the joint loss-and-shift fit, a shift/loss ratio of 10^6; session 25).

        Parameters
        ----------
        frequency_hz : float, optional
            The resonance frequency (Hz, --frequency): an absolute shift (``kind`` "df") is
            divided by it into df/f0 (``--shift`` refused a shift in Hz given --frequency while
            ``--velocity`` read it; helper-181). The reader has refused a shift of half of it or
            more.
        window : (float or None, float or None)
            The fit's window (K): only its rows are held to MAX_RELATIVE_SHIFT
            (:func:`check_relative`).

        Returns
        -------
        shift, sigma : numpy.ndarray, numpy.ndarray or None
            Shape (n,) each; sigma None without an error column.

        Raises
        ------
        ValueError
            A unit that is not dimensionless (``(Hz)``, ...) without ``frequency_hz``, naming
            the file and column.
        """
        frequency_hz = v.optional_positive("frequency_hz (Hz)", frequency_hz)
        window = v.temperature_window("window", window)
        if self.kind == "df" and frequency_hz is not None:
            factor = HERTZ_PER_UNIT[self.units["shift"]] / frequency_hz
            # the cap of a relative shift, as df/f itself is held to (a 'df (Hz)' of 1e9 at 5 GHz,
            # df/f = 0.2, was fitted; helper-187)
            fraction = self.shift * factor
            beyond = np.flatnonzero((np.abs(fraction) > MAX_RELATIVE_SHIFT)
                                    & in_window(self.temperature, *window))
            if beyond.size:
                k = int(beyond[0])
                raise ValueError(
                    f"{self.source}: shift column {self.shift_column!r}, data row {k + 1}: "
                    f"{self.shift[k]:g} {FREQUENCY_SYMBOLS[self.units['shift']]} over the "
                    f"frequency {frequency_hz:g} Hz is df/f0 = {fraction[k]:.3g}, beyond the "
                    f"|df/f0| <= {MAX_RELATIVE_SHIFT:g} of a shift (TLS shifts are ~1e-5): check "
                    "the column's unit and frequency_hz")
            return fraction, None if self.sigma is None else self.sigma * factor
        if self.kind == "df":
            # in brackets or after the name alike: 'df_GHz' was taken as df/f0, 'df (GHz)'
            # refused (a tester, session 52)
            raise ValueError(
                f"{self.source}: column {self.shift_column!r}: the unit in its header, "
                f"{FREQUENCY_SYMBOLS[self.units['shift']]}, is not a unit of the shift (a "
                "dimensionless number) without frequency_hz: give the frequency f0 in Hz "
                "(frequency_hz; fit-data --shift passes --frequency) or divide the shift by f0 "
                "into 'df/f' (plain, or in ppm: 'df/f (ppm)')")
        scale = _shift_scale(self.source, self.shift_column)
        shift = self.shift * scale
        check_relative(self.source, self.shift_column, self.shift, shift,
                       in_window(self.temperature, *window))
        return shift, None if self.sigma is None else self.sigma * scale

    def metadata(self) -> dict:
        """JSON-ready description of where the numbers came from."""
        return {"source": self.source, "label": self.label, "columns": list(self.columns),
                "temperature_column": self.temperature_column,
                "shift_column": self.shift_column, "error_column": self.error_column,
                "kind": self.kind, "units": dict(self.units), "n_rows": int(self.temperature.size),
                "sign_flipped": self.sign_flipped}


def read_velocity_table(path: str | Path, temperature_column: str | None = None,
                        shift_column: str | None = None, *, temperature_unit: str | None = None,
                        error_column: str | None | bool = None,
                        frequency_hz: float | None = None,
                        window: tuple[float | None, float | None] = (None, None)
                        ) -> VelocityTable:
    """Read one delta v / v (or df/f) against temperature table.

    Parameters
    ----------
    path : str or Path
        Delimited text file with a header line (conventions of :mod:`manybody.measured.tables`).
    temperature_column, shift_column : str, optional
        Column names instead of the automatic choice.
    temperature_unit : {"K", "mK"}, optional
        Unit of the temperature column when neither its header nor its cells say.
    error_column : str, None or False
        Uncertainty column of the shift (its units). None: found by name when present; False:
        ignored.
    frequency_hz : float, optional
        The resonance frequency (Hz, --frequency): an absolute shift of half of it or more is
        refused (a resonance frequency, or its negative, is no shift of itself).
    window : (float or None, float or None)
        The fit's window (K, --tmin/--tmax; None: open): the cap on a relative shift
        (MAX_RELATIVE_SHIFT) applies to the rows inside it, so a kinetic-inductance fall of
        -15 % above --tmax is read (and left out by the fit's window) rather than refused.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        If the path is not a file.
    ValueError
        No, or an ambiguous, temperature/shift/error column (the columns found are listed),
        unparsable or non-finite cells, temperatures outside 0 < T < 1000 K, errors <= 0.
    """
    # '5GHz', [5e9], True, NaN, 0 or -5e9 as the frequency and '0.1,0.5', (0.1,), a reversed
    # pair as the window were taken or failed inside numpy (bt190)
    frequency_hz = v.optional_positive("frequency_hz (Hz)", frequency_hz)
    window = v.temperature_window("window", window)
    error_column = tables.check_column_options(error_column, temperature_unit,
                                               temperature_column=temperature_column,
                                               shift_column=shift_column)
    p = check_input_file("velocity table", path)
    grid = tables.read_grid(p, example="'Temperature (mK);df/f' (or dv/v)")
    src, columns = grid.src, grid.columns
    t_name = tables.pick_column("temperature", temperature_column,
                          [c for c in columns if headers.is_temperature(c)
                           and not headers.is_error_column(c)], columns, src)
    if t_name is None:
        raise ValueError(f"{src}: cannot tell which column is the temperature; columns found: "
                         f"{', '.join(map(repr, columns))}; name it e.g. 'Temperature (mK)' or "
                         "pass temperature_column='NAME'")
    s_name = tables.pick_column("shift (delta v/v, df/f or df)", shift_column,
                          [c for c in columns if c != t_name and shift_kind(c)
                           and not headers.is_error_column(c)], columns, src)
    if s_name is None:
        raise ValueError(_no_shift_message(src, columns))
    hertz = frequency_unit(s_name)[1]
    shift, _ = grid.column(s_name)
    hint = _absolute_frequency_hint([s_name])
    if hint:  # chosen by name: the same refusal as found by itself (session 52), with a value
        raise ValueError(f"{src}: shift column {s_name!r} is no shift (data row 1: {shift[0]:g}"
                         f"{' ' + FREQUENCY_SYMBOLS[hertz] if hertz else ''}; a shift f - f0 or "
                         f"df/f expected){hint}")
    if hertz is not None and names_a_ratio(s_name):
        # 'df/f (Hz)', 'dv/v (kHz)' were read as an absolute df (a tester, helper-165)
        raise ValueError(f"{src}: shift column {s_name!r}: its name is a relative shift (df/f, "
                         f"dv/v: a plain number) but its unit, {FREQUENCY_SYMBOLS[hertz]}, is an "
                         "absolute frequency: the name and the unit contradict; write 'df "
                         f"({FREQUENCY_SYMBOLS[hertz]})' for an absolute shift f - f0, or 'df/f' "
                         "(plain, ppm, ...) for a relative one")
    reversed_ = is_reversed_difference(s_name)
    if hertz is not None:
        _refuse_resonance(src, s_name, shift, hertz, frequency_hz, chosen=shift_column is not None,
                          flipped=reversed_)
    _refuse_unclear_sign(src, s_name, shift)  # after the resonance's refusals: they say more
    if reversed_:  # 'f0 - f (Hz)': read as f - f0 (helper-165)
        shift = -shift
    measured = over_measured(s_name)
    scale = _shift_scale(src, s_name) if measured else 1.0
    temperature, t_unit = tables.temperature_column_values(grid, t_name, temperature_unit)
    inside = in_window(temperature, *window)
    if measured:  # 'f0/f - 1': (f - f0)/f, not df/f0 (helper-174)
        check_relative(src, s_name, shift, shift * scale, inside)
    e_name = tables.error_column_of(grid, error_column, t_name, s_name, value_kind="shift")
    if e_name is None and error_column is not False:
        _warn_unused_uncertainty(src, columns, (t_name, s_name), s_name)
    tables.warn_isolated_temperature(src, t_name, temperature, t_unit)
    sigma = None
    if e_name is not None:
        _refuse_variance(src, e_name)
        sigma, _ = grid.column(e_name)
        bad = np.flatnonzero(sigma <= 0)
        if bad.size:
            raise ValueError(f"{src}: error column {e_name!r}: errors must be > 0, found "
                             f"{sigma[bad[0]]:g} in data row {bad[0] + 1}")
        sigma = _errors_in_shift_units(src, e_name, sigma, shift, s_name)
    if measured:
        shift, sigma = over_reference(shift, sigma, scale)
    unit = hertz or headers.header_unit(written_shift(s_name))
    # a column in Hz is an absolute shift df: its values were labelled df/f in the printed
    # maximum (a break test, session 50)
    kind = "df" if hertz is not None else shift_kind(s_name) or "delta v/v"
    if kind != "df":  # the 0.1 cap of the joint fit, here too (session 52)
        check_relative(src, s_name, shift, shift * _shift_scale(src, s_name), inside)
        warn_tiny_relative(src, s_name, shift, _shift_scale(src, s_name))
    _warn_lone_shifts(src, s_name, temperature, shift, t_unit,
                      set(tables.slipped_rows(temperature, t_unit)))
    return VelocityTable(
        temperature=temperature, shift=shift, sigma=sigma,
        kind=kind, source=src, label=p.stem,
        columns=tuple(columns), temperature_column=t_name, shift_column=s_name,
        error_column=e_name, units={"temperature": t_unit,
                                    "shift": unit}, sign_flipped=reversed_)


#: A shift lying more than LONE_SHIFT_FRACTION of the curve's span off the line (in ln T) through
#: its neighbouring temperatures, where the curve without it is smooth within
#: LONE_SHIFT_SMOOTH of its span and every other point follows its neighbours five times more
#: closely (:func:`manybody.measured.outliers.lone_offsets`; a coarsely sampled bend is no lone
#: point), is named: the loss tables' lone-point check (bt219 F1, F3), for the velocity and
#: frequency shifts.
LONE_SHIFT_FRACTION = 0.25
LONE_SHIFT_SMOOTH = 0.1
#: An end shift is judged only within this many times the spacing of its line's two points (in
#: ln T), not the loss tables' 4: a shift turns at its maximum, and a base point 10x below a
#: first point past T_max was named "100 % of the span below the line" (a tester, bt229 F7).
LONE_SHIFT_END_LEVER = 1.5


def _warn_lone_shifts(src: str, s_name: str, temperature: np.ndarray, shift: np.ndarray,
                      t_unit: str, named: set[int] = frozenset()) -> None:
    """UserWarning naming the rows of a shift (``shift`` in the column's units) that lies alone
    off the curve through its neighbouring temperatures (a typo, a failed resonator fit or a
    line cut short: one such point moves the slopes and T_max), unless its rows are among
    ``named`` (0-based; a temperature named as a unit slip)."""
    uniq, inverse = np.unique(temperature, return_inverse=True)
    mean = np.bincount(inverse, weights=shift) / np.bincount(inverse)
    span = float(np.ptp(mean)) if mean.size else 0.0
    if not span > 0:
        return
    lone = [(i, offset) for i, offset in outliers.lone_offsets(
                uniq, mean, LONE_SHIFT_FRACTION * span, LONE_SHIFT_SMOOTH * span, rest_max=True,
                end_lever=LONE_SHIFT_END_LEVER)
            if not named.intersection(np.flatnonzero(temperature == uniq[i]).tolist())]
    if not lone:
        return
    factor = 1e-3 if t_unit == "mK" else 1.0
    parts = []
    for i, offset in lone[:3]:
        rows = np.flatnonzero(temperature == uniq[i])
        parts.append(f"data row(s) {', '.join(str(r + 1) for r in rows[:5])}: {mean[i]:.4g} "
                     f"at {uniq[i] / factor:g} {t_unit} lies {abs(offset) / span:.0%} of "
                     f"the curve's span {'above' if offset > 0 else 'below'} the line (in ln T) "
                     "through its neighbouring temperatures")
    warnings.warn(f"{src}: shift column {s_name!r}, " + "; ".join(parts)
                  + f" (more than {LONE_SHIFT_FRACTION:.0%}, where the other points follow "
                  "theirs closely): a typo, a failed resonator fit or a line cut short? One such "
                  "point moves the slopes and T_max; it is fitted as given: correct or remove it",
                  UserWarning, stacklevel=3)


@styled
def plot_velocity_fit(fit: VelocityFit, temperature, shift, sigma, out: Path, name: str,
                      label: str = "delta v/v") -> list[Path]:
    """Figure: the data against T on a logarithmic axis (i.e. against ln T), the two fitted lines
    over their windows (dashed up to T_max), T_max with its error, and the 2 : -1 and 1 : -1
    references over the window above (slopes -below/2 and -below, starting where the fitted
    line above starts).

    Writes ``out/name.png`` and ``out/name.pdf`` atomically; returns the paths."""
    t = np.asarray(temperature, dtype=np.float64)
    fig = new_figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar(t, shift, yerr=sigma, fmt="o", color="0.3", ms=3.5, label="data", zorder=3)
    for side, (lo, hi), col in (("below", fit.window_below, PALETTE[0]),
                                ("above", fit.window_above, PALETTE[1])):
        slope, err = ((fit.below, fit.below_error) if side == "below"
                      else (fit.above, fit.above_error))
        span = np.geomspace(lo, hi, 50)
        ax.plot(span, fit.line(side, span), "-", color=col, lw=2,
                label=f"slope {side} {slope:+.3g} ± {err:.2g}")
        reach = np.geomspace(min(hi, fit.temperature_max), max(lo, fit.temperature_max), 30)
        ax.plot(reach, fit.line(side, reach), "--", color=col, lw=1)
    above = np.geomspace(*fit.window_above, 50)
    start = float(fit.line("above", fit.window_above[0]))
    for factor, style, text in ((0.5, ":", "2 : -1 reference"), (1.0, "-.", "1 : -1 reference")):
        ax.plot(above, start - factor * fit.below * np.log(above / fit.window_above[0]), style,
                color=PALETTE[2], lw=1.2, label=f"{text} (slope {-factor * fit.below:+.3g})")
    ax.axvline(fit.temperature_max, color="0.5", lw=0.8)
    ax.axvspan(max(fit.temperature_max - fit.temperature_max_error, t[0]),
               fit.temperature_max + fit.temperature_max_error, color="0.85", lw=0, zorder=0)
    ax.set_xscale("log")
    ax.set_xlabel("temperature T (K), logarithmic: ln T")
    ax.set_ylabel(label)
    ratio = (f"ratio {fit.ratio:.3g} ± {fit.ratio_error:.2g}" if math.isfinite(fit.ratio_error)
             else f"ratio {fit.ratio:.3g}")
    ax.set_title(f"T_max = {fit.temperature_max:.4g} ± {fit.temperature_max_error:.2g} K; "
                 f"{ratio} (2 : -1 is -2, 1 : -1 is -1)", fontsize=9)
    ax.legend(fontsize=7.5, loc="best")
    return save_figure(fig, out, name, formats=("png", "pdf"))


def refuse_repeated_temperatures(source: str, temperature: np.ndarray) -> None:
    """A shift table holds one curve: a temperature twice is refused (the --shift table took
    exact copies and a conflicting repeat 28 errors apart without a word, session 35)."""
    t = np.sort(np.asarray(temperature, dtype=float))
    repeated = t[1:][np.diff(t) == 0]
    if repeated.size:
        raise ValueError(f"{source}: temperature {repeated[0]:.6g} K appears more than "
                         "once; average repeated temperatures (with their errors) before fitting")

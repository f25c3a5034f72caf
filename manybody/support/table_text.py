"""Numbers with their errors in the Markdown tables of the study and the README."""

from __future__ import annotations

import math

#: Beyond this many decimals a number and its error are written in exponent form.
MAX_DECIMALS = 6


def plus_minus(value: float, error: float, digits: int = 2) -> str:
    """``value ± error`` with ``digits`` decimals, as "0.974 ± 0.017".

    "-" where the value is not finite; "v ± ?" where the error is not (infinite, or not
    computable, which a bare number would hide: a contrast of 8.44e137 whose error had
    overflowed read as exact, session 27); exponent form for numbers of 1000 or more (no
    80-digit fields). A non-zero error that rounds to 0 at ``digits`` decimals gets the decimals
    of its first significant digit ("0.3903 ± 0.0004"), or beyond :data:`MAX_DECIMALS` the
    exponent form with the value to that digit ("1.23456e+02 ± 1e-05"): "0.00 ± 0.00" read as
    an exact zero where a slope was 1.3e-5 ± 1.3e-5 (a tester, session 61). A negative error is
    shown as "± ?".
    """
    value, error = float(value) + 0.0, float(error)  # + 0.0: no "-0.000"
    if not math.isfinite(value):
        return "-"
    if not math.isfinite(error) or error < 0:  # a negative "error" is no standard deviation
        return f"{value:.3g} ± ?"
    if max(abs(value), error) >= 1e3:
        return f"{value:.3g} ± {error:.2g}"
    if error != 0 and round(error, digits) == 0:
        digits = -math.floor(math.log10(error))
        if digits > MAX_DECIMALS:  # exponent form, the value to the error's first digit
            # ('1.2e+02 ± 1e-07' hid 123.456 to 3.5; a tester, bt216)
            places = max(math.floor(math.log10(abs(value))) + digits, 1) if value else 1
            return f"{value:.{places}e} ± {error:.0e}"
    return f"{value:.{digits}f} ± {error:.{digits}f}"

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
    of its first significant digit ("0.3903 ± 0.0004"), or the exponent form beyond
    :data:`MAX_DECIMALS`: "0.00 ± 0.00" read as an exact zero where a slope was
    1.3e-5 ± 1.3e-5 (a tester, session 61).
    """
    value, error = float(value), float(error)
    if not math.isfinite(value):
        return "-"
    if not math.isfinite(error):
        return f"{value:.3g} ± ?"
    if max(abs(value), abs(error)) >= 1e3:
        return f"{value:.3g} ± {error:.2g}"
    if error != 0 and round(abs(error), digits) == 0:
        digits = -math.floor(math.log10(abs(error)))
        if digits > MAX_DECIMALS:
            return f"{value:.2g} ± {error:.1g}"
    return f"{value:.{digits}f} ± {error:.{digits}f}"

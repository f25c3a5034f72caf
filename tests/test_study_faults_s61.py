"""Session 61 (a tester, bt212 F2, F3): the study's tables printed a velocity slope of
1.3e-5 ± 1.3e-5 as "0.00 ± 0.00" and <r> as "0.390 ± 0.000", which read as exact; rows of the
tiny study without a goodness-of-fit test (p "-") gave "neither law" with nothing saying what
the verdict rested on."""

from __future__ import annotations

import math

import pytest

from manybody.study.summary import PointSummary, format_summary, read_summary, write_summary
from manybody.study.velocity_table import VelocitySummary, format_velocity_table
from manybody.support.table_text import plus_minus


@pytest.mark.parametrize("value, error, digits, text", [
    (0.974, 0.017, 3, "0.974 ± 0.017"),
    (1.013, 0.0096, 2, "1.01 ± 0.01"),
    (0.39012, 0.00046, 3, "0.3901 ± 0.0005"),
    (1.32e-5, 1.32e-5, 2, "0.00001 ± 0.00001"),
    (1.32e-9, 1.32e-9, 2, "1.3e-09 ± 1e-09"),
    (1.0, 0.0, 3, "1.000 ± 0.000"),  # an exact zero error is exact
    (8.44e137, math.inf, 2, "8.44e+137 ± ?"),
    (2500.0, 12.0, 2, "2.5e+03 ± 12"),
    (math.nan, 0.1, 2, "-"),
    (123.456, 1e-7, 2, "1.234560000e+02 ± 1e-07"),  # the value kept to the error's digit (bt216)
    (-2.28, 1e-8, 2, "-2.28000000e+00 ± 1e-08"),
    (1.0, -0.1, 2, "1 ± ?"),  # a negative error is no standard deviation
    (-0.0, 0.001, 3, "0.000 ± 0.001"),
])
def test_a_number_and_its_error_keep_the_errors_first_digit(value, error, digits, text):
    assert plus_minus(value, error, digits) == text


def test_no_nonzero_error_is_printed_as_zero():
    for exponent in range(-12, 3):
        for mantissa in (1.0, 4.9, 5.0, 9.99):
            error = mantissa * 10.0**exponent
            shown = plus_minus(0.1, error, 2).split(" ± ")[1]
            assert float(shown) > 0, (error, shown)


def _velocity_row() -> VelocitySummary:
    fields = {f: 0.5 for f in VelocitySummary.__dataclass_fields__
              if f not in ("study", "parameter", "value", "n_tls", "realisations", "note")}
    fields.update(slope_below=1.32e-05, slope_below_error=1.32e-05, ratio=-5.0e-4,
                  ratio_error=2.9e-3)
    return VelocitySummary(study="relaxation", parameter="strength", value=0.1, n_tls=4,
                           realisations=6, note="", **fields)


def test_the_velocity_table_shows_a_small_slope_and_its_error():
    table = format_velocity_table([_velocity_row()])
    assert "0.00001 ± 0.00001" in table and "-0.001 ± 0.003" in table, table
    assert "0.00 ± 0.00" not in table, table


def _row(method: str, reason: str = "", verdict: str = "neither law") -> PointSummary:
    return PointSummary(study="gaussian", parameter="strength", value=0.1, n_tls=4,
                        realisations=6, index=-0.999, index_error=math.nan, ratio=2.0,
                        ratio_error=0.1, spacing_ratio=0.39012, spacing_ratio_error=0.00046,
                        reduced_chi2_tls=2.4, reduced_chi2_generic=2.36, verdict=verdict,
                        p_value_method=method, verdict_reason=reason)


def test_rows_without_a_test_say_what_their_verdict_rests_on(tmp_path):
    rows = [_row("none", "the index ran to its bound"), _row("bootstrap", "p = 1e-5")]
    write_summary(tmp_path, rows, [])
    text = (tmp_path / "summary.md").read_text()
    assert 'Rows with p "-" have no goodness-of-fit test' in text, text
    assert "gaussian strength = 0.1: neither law (the index ran to its bound)" in text, text
    assert "p = 1e-5" not in text, text  # a tested row's reason is not listed
    assert "0.3901 ± 0.0005" in text and "± 0.000 |" not in text, text
    read, velocity = read_summary(tmp_path)
    assert read[0].verdict_reason == "the index ran to its bound"
    assert format_summary(read, velocity) == format_summary(rows, [])


def test_a_table_of_tested_rows_has_no_such_note(tmp_path):
    assert "goodness-of-fit test" not in format_summary([_row("bootstrap")], [])

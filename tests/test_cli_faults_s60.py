"""Session 60: fit-data's reports. "evidence: none" was printed beside AIC(generic) - AIC(tls)
= -12.8 where no law is preferred because the fits are unphysical (note_s59)."""

from __future__ import annotations

import numpy as np
import pytest

from manybody.laws.verdict import evidence_shown, prefer_law


def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


@pytest.mark.parametrize("delta_aic, blocked, shown", [
    (-12.8, True, "not weighed"), (25.0, True, "not weighed"), (3.0, True, "not weighed"),
    (1.5, True, "none"), (1.5, False, "none"), (3.0, False, "positive"),
    (-12.8, False, "very strong"), (float("nan"), True, "none"),
])
def test_evidence_is_not_weighed_where_a_blocked_fit_hides_a_large_difference(delta_aic, blocked,
                                                                               shown):
    _, evidence = prefer_law(delta_aic, blocked=blocked)
    assert evidence_shown(evidence, delta_aic) == shown


def test_a_rising_loss_report_does_not_say_evidence_none_beside_a_large_difference(tmp_path,
                                                                                  capsys):
    t = np.linspace(0.02, 0.6, 14)
    loss = 1e-6 * (1 + 2 * t) * (1 + 0.002 * np.random.default_rng(3).standard_normal(t.size))
    table = tmp_path / "rise.csv"
    table.write_text("T (mK),Qi\n" + "".join(f"{1e3 * a:.6g},{1 / b:.8g}\n"
                                             for a, b in zip(t, loss, strict=True)))
    assert _main([str(table), "--frequency", "5.62GHz", "--out", str(tmp_path / "o")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines()
                if x.startswith("preferred law:"))
    assert line.startswith("preferred law: none (AIC(generic) - AIC(tls) = -12."), line
    assert "evidence: not weighed; no law preferred: family fit: negative amplitude" in line, line


@pytest.mark.parametrize("text, kelvin", [("500\u03bcK", 5e-4), ("500\u00b5K", 5e-4)])
def test_micro_as_the_greek_mu_is_taken(text, kelvin):
    """'500μK' (Greek mu, U+03BC) was refused naming the look-alike micro sign (bt210)."""
    from manybody.cli.fit_data import temperature_argument

    assert float(temperature_argument(text)) == pytest.approx(kelvin)


def test_a_decimal_comma_is_named_not_read_as_a_unit():
    import argparse

    from manybody.cli.fit_data import temperature_argument

    with pytest.raises(argparse.ArgumentTypeError, match=r"got '0,5': a decimal comma; write the "
                                                         r"number with a decimal point \('0.5'\)"):
        temperature_argument("0,5")

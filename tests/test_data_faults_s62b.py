"""Session 62, second round on the loss-table fixes (a tester, bt223): a heater's power read as
the drive power (F6), a lone point missed beside a conflicting repeat (F1), the power of a lone
point unnamed (F7), a stray scale over a glass's plain losses (F9), a user's own 'flag' column
(F10), a quasiparticle climb after a fall not seen as a rising loss (F5)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from loss_tables import read_warnings

from manybody.cli import main
from manybody.laws.fit import rising_loss
from manybody.laws.inputs import LossCurve
from manybody.measured.headers import is_power_column
from manybody.measured.tables import curves_from_table, read_loss_table

W = 0.24  # 5 GHz in K
T = np.geomspace(0.02, 1.0, 15)


def _qi(t: np.ndarray = T, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 1 / ((1e-5 * np.tanh(W / t / 2) + 2e-6) * (1 + noise * rng.standard_normal(t.size)))


@pytest.mark.parametrize("header", ["Heater (mW)", "Heater power (uW)", "P_heater (mW)",
                                    "MXC heater (uW)", "htr (mW)"])
def test_a_heaters_power_is_not_the_drive_power(tmp_path, header):
    """Stepped in three blocks, it split one sweep into three curves ('undecided')."""
    assert not is_power_column(header)
    heater = np.repeat([0.001, 0.01, 1.0], 5)
    path = tmp_path / "h.csv"
    path.write_text(f"MC RuOx (mK),{header},Qi\n" + "".join(
        f"{1e3 * t:.5g},{h:g},{q:.6g}\n" for t, h, q in zip(T, heater, _qi(), strict=True)))
    table = read_loss_table(path)
    assert table.power is None and len(curves_from_table(table)) == 1


@pytest.mark.parametrize("header", ["Power (dBm)", "P_in (dBm)", "photons", "<n>"])
def test_drive_power_columns_are_still_powers(header):
    assert is_power_column(header)


def _write(path: Path, t, qi, power=None) -> Path:
    head = "T (K),Qi" + (",power (dBm)" if power is not None else "")
    rows = [f"{a:.6g},{q:.6g}" + (f",{p:g}" if power is not None else "")
            for a, q, p in zip(t, qi, power if power is not None else t, strict=True)]
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    return path


def test_a_lone_point_beside_a_conflicting_repeat_is_still_named(tmp_path):
    qi = _qi()
    t = np.append(T, T[10])
    qi = np.append(qi, qi[10] / 4)  # a repeat 4x off: the conflict
    qi[4] /= 5  # and a typo elsewhere
    found = read_warnings(_write(tmp_path / "a.csv", t, qi))
    assert any("different values at one temperature" in w for w in found), found
    lone = [w for w in found if "neighbouring temperatures" in w]
    assert len(lone) == 1 and "data row(s) 5:" in lone[0], found


def test_a_lone_point_of_a_power_sweep_names_its_power(tmp_path):
    t = np.tile(T, 2)
    qi = np.concatenate([_qi(seed=1) * 3, _qi(seed=2)])
    qi[15 + 6] /= 4
    found = read_warnings(_write(tmp_path / "p.csv", t, qi, [-80] * 15 + [-100] * 15))
    assert len(found) == 1 and "(at the power -100 dBm)" in found[0], found


@pytest.mark.parametrize("header, written", [
    ("tan d (ppm)", lambda loss: loss), ("1/Q (1e-6)", lambda loss: loss),
    ("Qi (1e6)", lambda loss: 1 / loss)])
def test_a_scale_over_a_glasses_plain_loss_is_doubted(tmp_path, header, written):
    """Amplitudes came out 1e6 too small without a word."""
    loss = 4e-4 * np.tanh(W / T / 2) + 1e-4
    path = tmp_path / "s.csv"
    path.write_text(f"T (K),{header}\n" + "".join(f"{t:.5g},{x:.6g}\n"
                                                  for t, x in zip(T, written(loss), strict=True)))
    found = read_warnings(path)
    assert len(found) == 1 and "is the scale right?" in found[0], found


def test_a_cavitys_scaled_q_or_a_glasses_scaled_loss_is_not_doubted(tmp_path):
    cavity = tmp_path / "c.csv"  # Q 1e10 written in units of 1e9: not plausible as plain Q
    cavity.write_text("T (K),Qi (1e9)\n" + "".join(f"{t:.5g},{q:.5g}\n"
                                                    for t, q in zip(T, 1e-9 * _qi() * 1e4,
                                                                    strict=True)))
    glass = tmp_path / "g.csv"
    glass.write_text("T (K),tan d (ppm)\n" + "".join(
        f"{t:.5g},{1e6 * (4e-4 * np.tanh(W / t / 2) + 1e-4):.5g}\n" for t in T))
    for path in (cavity, glass):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            read_loss_table(path)


def test_a_users_own_flag_column_without_a_reason_is_left_alone(tmp_path):
    """A 'flag' of 1 for a good row lost the good rows; only the tool's layout (flag, reason)."""
    path = tmp_path / "f.csv"
    path.write_text("T (K),Qi,flag\n" + "".join(f"{t:.6g},{q:.6g},1\n"
                                                for t, q in zip(T, _qi(), strict=True)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_loss_table(path).loss.size == T.size


def test_a_quasiparticle_climb_after_a_fall_is_a_rising_loss(tmp_path, capsys):
    """bt223 F5: the loss falls with the TLS, then climbs 5x over the top points: 'undecided: no
    temperature dependence detectable' with negative amplitudes and no hint; Kendall's tau over
    the whole curve saw no rise."""
    t = np.geomspace(0.02, 0.35, 16)
    rng = np.random.default_rng(4)
    loss = (1e-5 * np.tanh(W / t / 2) + 2e-6 + 0.01 * np.exp(-2.0 / t)) * (
        1 + 0.03 * rng.standard_normal(t.size))
    said = rising_loss([LossCurve(t, loss)])
    assert said is not None and said.startswith("the loss climbs"), said
    path = tmp_path / "qp.csv"
    path.write_text("T (K),Qi\n" + "".join(f"{a:.6g},{1 / x:.6g}\n"
                                           for a, x in zip(t, loss, strict=True)))
    assert main(["fit-data", str(path), "--frequency", "5GHz", "--out", str(tmp_path / "o")]) == 0
    verdict = next(line for line in capsys.readouterr().out.splitlines() if "verdict:" in line)
    assert "neither law" in verdict and "the loss climbs" in verdict, verdict
    # a clean tanh curve, noise and all, is no climb
    clean = (1e-5 * np.tanh(W / t / 2) + 2e-6) * (1 + 0.03 * rng.standard_normal(t.size))
    assert rising_loss([LossCurve(t, clean)]) is None

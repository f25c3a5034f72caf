"""Session 57 (a tester, bt190): fit-data options that changed nothing without a word, and a
file whose several drive powers --powers would have merged into one curve."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from loss_tables import saturating_loss_table


def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


def _loss_table(path: Path, powers=(-80.0,), power_column=True) -> Path:
    return saturating_loss_table(path, powers, header="Power (dBm)" if power_column else None)


@pytest.mark.parametrize("column", [["--power-column", "none"], ["--power-column", "Power (dBm)"]])
def test_power_column_beside_powers_is_noted_as_changing_nothing(tmp_path, capsys, column):
    a = _loss_table(tmp_path / "a_80dBm.csv")
    b = _loss_table(tmp_path / "b_100dBm.csv", powers=(-100.0,))
    argv = [str(a), str(b), "--frequency", "5.61989GHz", "--powers", "-80,-100"]
    assert _main([*argv, *column, "--out", str(tmp_path / "with")]) == 0
    err = capsys.readouterr().err
    assert "note: --power-column" in err and "changed nothing: --powers gives each file's power" in err
    assert "no power column was found" not in err  # one note, not two
    assert _main([*argv, "--out", str(tmp_path / "without")]) == 0
    assert "--power-column" not in capsys.readouterr().err
    fits = [json.loads((tmp_path / d / "fit_results.json").read_text()) for d in ("with", "without")]
    assert fits[0]["comparison"] == fits[1]["comparison"]


def test_powers_refuse_a_file_whose_column_holds_several_powers(tmp_path, capsys):
    both = _loss_table(tmp_path / "both.csv", powers=(-80.0, -100.0))
    other = _loss_table(tmp_path / "c_120dBm.csv", powers=(-120.0,))
    out = tmp_path / "o"
    assert _main([str(both), str(other), "--frequency", "5.61989GHz", "--powers", "-80,-120",
                  "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the power column 'Power (dBm)'" in err and "holds 2 drive powers (-100, -80 dBm)" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_velocity_frequency_note_does_not_call_the_frequency_a_divisor(tmp_path, capsys):
    t = np.geomspace(0.02, 1.5, 20)  # a maximum at 0.3 K
    path = tmp_path / "vel.csv"
    path.write_text("T (K),dv/v (ppm)\n" + "".join(
        f"{a:.6g},{10 * (np.log(a) - a / 0.3):.8g}\n" for a in t))
    assert _main([str(path), "--velocity", "--frequency", "5GHz", "--out",
                  str(tmp_path / "v")]) == 0
    err = capsys.readouterr().err
    assert "note: --frequency is recorded in velocity_results.json only" in err
    assert "only to bound a shift given in a unit of frequency" in err
    assert "divide" not in err


def test_the_index_spread_reports_progress_per_resample_and_the_same_spread():
    """fit-data --simulated --quasiparticle said nothing for minutes while 100 resamples were
    fitted (bt190): index_spread now calls ``progress`` after each one, fitted or skipped; the
    spread does not depend on it."""
    from manybody.study.loss_shift import index_spread

    t = np.geomspace(0.02, 0.5, 14)
    rng = np.random.default_rng(3)
    loss = 1e-3 + 2e-4 * np.tanh(0.1 / (2 * t))[None, :] + 1e-5 * rng.standard_normal((12, t.size))
    shift = (1e-4 * np.log(t / 0.1)[None, :] * (1 + 0.1 * rng.standard_normal((12, 1)))
             + 1e-6 * rng.standard_normal((12, t.size)))
    calls = []
    with_bar = index_spread(t, loss, shift, 0.1, {}, n_resamples=9, progress=calls.append)
    assert calls == [1] * 9
    assert index_spread(t, loss, shift, 0.1, {}, n_resamples=9) == with_bar
    with pytest.raises(TypeError, match="progress must be a function"):
        index_spread(t, loss, shift, 0.1, {}, n_resamples=9, progress=3)

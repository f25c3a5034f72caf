"""Session 59 (a tester, bt200): fit-data's messages. The order hint of --powers named
qint_100dBm and qint_80dBm whatever files were given; the --tmin/--tmax "in K" hint followed a
value written with its unit; a name's power that the column contradicts was not noted in a fit
that does not use the powers; a curve split by a jittering power column and emptied by the
window lost the --power-column none hint; two multi-power files refused as one measurement did
not name the shared curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest



def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


def _loss_table(path: Path, powers=(-80.0,), column=None, header="Power (dBm)") -> Path:
    """Q_i(T) of a TLS bath saturating with the power; ``column`` the power cell of each row
    (default: the row's drive power)."""
    t = np.linspace(0.02, 0.6, 12)
    rows = []
    for p in powers:
        q = 1.0 / (1e-6 * np.tanh(0.2697 / t / 2) / (1 + 10 ** ((p + 100) / 10)) ** 0.5 + 2e-7)
        cells = [f"{p:g}"] * t.size if column is None else column
        rows += [f"{1e3 * a:.6g},{c},{b:.8g}\n" for a, c, b in zip(t, cells, q, strict=True)]
    path.write_text(f"T (mK),{header},Qi\n" + "".join(rows))
    return path


# ------------------------------------------------------------------------------- F4 addendum
def test_the_order_hint_names_the_users_own_files(tmp_path, capsys):
    a = _loss_table(tmp_path / "qi_100dBm.csv", powers=(-100.0,))
    b = _loss_table(tmp_path / "qi_80dBm.csv", powers=(-80.0,))
    argv = ["--frequency", "5.61989GHz", "--powers=-80,-100", "--out", str(tmp_path / "o")]
    assert _main([str(a), str(b), *argv]) == 2  # text order, as a glob gives: the hint fits
    err = capsys.readouterr().err
    assert "(a shell glob sorts them as text: qi_100dBm.csv before qi_80dBm.csv)" in err, err
    assert _main([str(b), str(a), "--frequency", "5.61989GHz", "--powers=-100,-80", "--out",
                  str(tmp_path / "p")]) == 2  # not in text order: no glob to blame
    err = capsys.readouterr().err
    assert "follow the files in the order given on the command line; give" in err, err
    assert "shell glob" not in err and "qint_" not in err, err

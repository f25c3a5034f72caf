"""Loss tables written for fit-data's tests (tests/test_cli_faults_s57.py, s58, s59): Q_i(T) of a
TLS bath at 5.62 GHz (w = 0.2697 K) saturating with the drive power, 12 temperatures from 20 to
600 mK."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from manybody.measured.tables import read_loss_table


def saturating_loss_table(path: Path, powers=(-80.0,), column=None,
                          header: str | None = "Power (dBm)") -> Path:
    """Write "T (mK)", the power column ``header`` (None: no power column) and "Qi" at ``path``,
    one curve per drive power in ``powers`` (dBm; critical power -100 dBm, background 2e-7);
    ``column``: the power cells of each curve's rows (default: the curve's power). Return
    ``path``."""
    t = np.linspace(0.02, 0.6, 12)
    rows = []
    for p in powers:
        q = 1.0 / (1e-6 * np.tanh(0.2697 / t / 2) / (1 + 10 ** ((p + 100) / 10)) ** 0.5 + 2e-7)
        cells = [f"{p:g}"] * t.size if column is None else column
        rows += [f"{1e3 * a:.6g},{c},{b:.8g}\n" if header is not None else f"{1e3 * a:.6g},{b:.8g}\n"
                 for a, c, b in zip(t, cells, q, strict=True)]
    path.write_text((f"T (mK),{header},Qi\n" if header is not None else "T (mK),Qi\n")
                    + "".join(rows))
    return path


def read_warnings(path: Path) -> list[str]:
    """The messages of every warning read_loss_table(path) raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_loss_table(path)
    return [str(w.message) for w in caught]


def velocity_warnings(path: Path, header: str, temperatures, shifts) -> list[str]:
    """Write a shift table (``header`` of its two columns, rows of the two given arrays as
    written) at ``path`` and return the warnings ``read_velocity_table`` raises on it
    (tests/test_lone_points_s62.py, s63)."""
    from manybody.measured.velocity import read_velocity_table

    path.write_text(header + "\n" + "".join(f"{a:.5g},{b:.5g}\n" for a, b in
                                            zip(temperatures, shifts, strict=True)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_velocity_table(path)
    return [str(w.message) for w in caught]


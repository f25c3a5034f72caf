"""Measured-shift tables written for the reader's tests (tests/test_input_faults_s53.py, s54,
s54b): one temperature column "T (K)" and the given columns, one row per temperature."""

from __future__ import annotations

import numpy as np


def write_table(path, headers, columns, temperature: np.ndarray):
    """Write "T (K)" and ``headers`` as a CSV at ``path``, the columns' values to 12 digits;
    return ``path``."""
    path.write_text("T (K)," + ",".join(headers) + "\n" + "".join(
        f"{t:.6g}," + ",".join(f"{c[i]:.12g}" for c in columns) + "\n"
        for i, t in enumerate(temperature)), encoding="utf-8")
    return path

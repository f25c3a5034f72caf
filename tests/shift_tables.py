"""Measured-shift tables written for the reader's tests (tests/test_input_faults_s53.py, s54,
s54b): one temperature column "T (K)" and the given columns, one row per temperature."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from manybody.measured.velocity import read_velocity_table


def write_table(path, headers, columns, temperature: np.ndarray, sep: str = ","):
    """Write "T (K)" and ``headers`` as a CSV at ``path`` (``sep`` ';' for headers holding a
    comma: 'f_res,0 - f_res (Hz)'), the columns' values to 12 digits; return ``path``."""
    path.write_text(f"T (K){sep}" + sep.join(headers) + "\n" + "".join(
        f"{t:.6g}{sep}" + sep.join(f"{c[i]:.12g}" for c in columns) + "\n"
        for i, t in enumerate(temperature)), encoding="utf-8")
    return path


def log_shift_rows(scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """T (K), 40 points from 0.01 to 1 K, and a shift rising as ln T up to 0.1 K and falling
    twice as fast above, x ``scale`` (1e-5 per unit of ln T at scale 1)."""
    temperature = np.geomspace(0.01, 1.0, 40)
    u = np.log(temperature / 0.1)
    return temperature, scale * 1e-5 * (u - 2 * u * (temperature > 0.1))


def read_strict(path, **kw):
    """The table read with every warning an error (a reading that warns is not a clean one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_velocity_table(path, **kw)


def refusal(path, **kw) -> str:
    """The one-line message of a refused table (read as :func:`read_strict`)."""
    with pytest.raises(ValueError) as refused:
        read_strict(path, **kw)
    text = str(refused.value)
    assert "\n" not in text, text
    return text

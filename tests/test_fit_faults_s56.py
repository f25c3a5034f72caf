"""Session 56: helper-178's leftovers.

- The Kramers-Kronig ratio's spread over resamples was printed as a number (9.58e+06) where the
  loss amplitude crosses 0 among the resamples: the ratio is unbounded there.
- ``manybody info`` on a folder gave an empty '.nc' file as its example of a file to read.
"""

from __future__ import annotations

import math

import numpy as np

from manybody.study.loss_shift import KRAMERS_KRONIG, index_spread

T = np.geomspace(0.02, 0.5, 14)


def _per_realisation(loss_amplitude: float, seed: int = 3):
    rng = np.random.default_rng(seed)
    n = 12
    loss = (1e-3 + loss_amplitude * np.tanh(0.1 / (2 * T))[None, :]
            + 1e-5 * rng.standard_normal((n, T.size)))
    shift = (1e-4 * np.log(T / 0.1)[None, :] * (1 + 0.1 * rng.standard_normal((n, 1)))
             + 1e-6 * rng.standard_normal((n, T.size)))
    return loss, shift


def test_the_kramers_kronig_spread_is_unbounded_where_the_loss_amplitude_changes_sign():
    loss, shift = _per_realisation(0.0)
    spread, _ = index_spread(T, loss, shift, 0.1, {}, n_resamples=20)
    assert spread[KRAMERS_KRONIG] == math.inf


def test_the_kramers_kronig_spread_is_a_number_where_the_loss_amplitude_is_clear():
    loss, shift = _per_realisation(2e-4)
    spread, _ = index_spread(T, loss, shift, 0.1, {}, n_resamples=20)
    assert 0 < spread[KRAMERS_KRONIG] < 10


def test_info_on_a_folder_gives_a_netcdf_file_as_its_example(tmp_path, capsys):
    import xarray as xr

    from manybody.cli import main

    (tmp_path / "a_empty.nc").write_bytes(b"")
    xr.Dataset({"x": ("i", np.arange(3.0))}).to_netcdf(tmp_path / "b_results.nc")
    assert main(["info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "2 .nc file(s) (a_empty.nc, b_results.nc" in err
    assert "e.g. manybody info" in err and err.rstrip().endswith("b_results.nc"), err

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


def test_analyse_shape_names_the_nan_padding_of_a_results_file():
    import pytest
    import xarray as xr

    from manybody.laws.analysis import analyse_shape

    x = np.geomspace(0.3, 10, 8)
    q = np.tile(np.tanh(x / 2), (4, 1))
    q[3] = np.nan
    for given in (q, xr.DataArray(q, dims=("realisation", "x"))):
        with pytest.raises(ValueError, match=r"1 row\(s\) of NaN from end to end \(rows \[3\]\).*"
                                             r"realised"):
            analyse_shape(x, given)
    q[2, 0] = np.nan  # a NaN that is no padding: the finite-number refusal
    with pytest.raises(ValueError, match="must contain only finite numbers"):
        analyse_shape(x, q[:3])


def test_the_table_shows_no_chi2_per_dof_where_the_scatter_is_estimated():
    from manybody.cli.fit_data import format_table
    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws

    t = np.geomspace(0.02, 0.6, 14)
    y = 1e-6 * np.tanh(0.27 / (2 * t)) + 2e-7
    y = y * (1 + 0.05 * np.random.default_rng(0).standard_normal(t.size))
    rows = {line.split()[0]: line.split()[1] for line in
            format_table(compare_laws(LossCurve(t, y), 0.27)).splitlines()
            if line.split()[:1] in (["tls"], ["generic"], ["family"])}
    assert rows == {"tls": "-", "generic": "-", "family": "-"}
    given = format_table(compare_laws(LossCurve(t, y, 0.05 * y), 0.27))
    assert "no chi2/dof" not in given
    for line in given.splitlines():
        if line.split()[:1] == ["tls"]:
            assert float(line.split()[1]) > 0


def test_scatter_options_beside_sigma_are_warned_in_the_python_api():
    import warnings

    import pytest

    import manybody as mb
    from manybody.laws.inputs import LossCurve

    x = np.geomspace(0.2, 10, 12)
    rng = np.random.default_rng(0)
    q = np.tanh(x / 2) * (1 + 0.03 * rng.standard_normal(12)) + 0.02
    t, s = 0.1 / x, 0.03 * q
    plain = mb.fit_loss(t, q, 0.1, sigma=s)
    for options, name in ((dict(error_model="absolute"), "error_model='absolute'"),
                          (dict(scatter="common"), "scatter='common'"),
                          (dict(weights=mb.fit_loss(t, q, 0.1, law="tls")), "weights")):
        with pytest.warns(UserWarning, match=f"{name} has no effect: every curve carries sigma"):
            fit = mb.fit_loss(t, q, 0.1, sigma=s, **options)
        assert fit.parameters == plain.parameters  # what the warning says
    with warnings.catch_warnings():  # no warning of the comparison's own weights, nor without
        warnings.simplefilter("error")  # sigma
        mb.compare_laws(LossCurve(t, q, s), 0.1)
        mb.fit_loss(t, q, 0.1, error_model="absolute")
    power = np.array([-120, -110, -100, -90, -80, -70.0])
    loss = 1e-5 / np.sqrt(1 + 10 ** ((power + 100) / 10)) + 1e-6
    with pytest.warns(UserWarning, match="error_model='absolute' has no effect"):
        mb.fit_saturation(power, loss, sigma=0.01 * loss, scale="dB", error_model="absolute")


def test_fit_loss_shift_warns_of_options_its_mode_does_not_use():
    import warnings

    import pytest

    from manybody.laws.inputs import LossCurve, ShiftCurve
    from manybody.laws.joint import ModeOptionWarning, compare_loss_shift, fit_loss_shift

    rng = np.random.default_rng(3)
    x = np.geomspace(0.3, 10, 14)
    t = 0.1 / x
    curves = [LossCurve(t, amp * np.tanh(x / 2) * (1 + 0.02 * rng.standard_normal(14)) + 0.05,
                        label=f"c{j}") for j, amp in enumerate([1.0, 0.6])]
    shift = ShiftCurve(t, 1e-6 * np.log(t))
    plain = fit_loss_shift(curves, None, 0.1, law="tls", mode="loss")
    with pytest.warns(ModeOptionWarning, match="band, partner have no effect: mode 'loss'"):
        loss = fit_loss_shift(curves, None, 0.1, law="tls", mode="loss", band=(0.5, 2),
                              partner=1)
    assert loss.fit.parameters == plain.fit.parameters
    with pytest.warns(ModeOptionWarning, match="background, error_model have no effect: mode "
                                               "'shift'"):
        fit_loss_shift(curves, shift, 0.1, law="tls", mode="shift", background=False,
                       error_model="absolute")
    with warnings.catch_warnings():  # a comparison passes its options to every mode: no word
        warnings.simplefilter("error", ModeOptionWarning)
        compare_loss_shift(curves, shift, 0.1, band=(0.5, 2), partner=0)
        fit_loss_shift(curves, shift, 0.1, law="tls", mode="joint", band=(0.5, 2), partner=1)


def test_the_joint_fit_warns_of_an_error_model_beside_sigma_everywhere():
    import pytest

    from manybody.laws.inputs import LossCurve, ShiftCurve
    from manybody.laws.joint import fit_loss_shift

    x = np.geomspace(0.3, 10, 14)
    t = 0.1 / x
    y = np.tanh(x / 2) * (1 + 0.02 * np.random.default_rng(1).standard_normal(14)) + 0.05
    curve = LossCurve(t, y, 0.02 * y)
    shift = ShiftCurve(t, 1e-6 * np.log(t), np.full(14, 1e-8))
    plain = fit_loss_shift(curve, shift, 0.1, law="tls", mode="joint")
    with pytest.warns(UserWarning, match="error_model='absolute' has no effect"):
        fit = fit_loss_shift(curve, shift, 0.1, law="tls", mode="joint", error_model="absolute")
    assert fit.fit.parameters == plain.fit.parameters

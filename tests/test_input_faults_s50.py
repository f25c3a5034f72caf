"""Faults found in session 50 (break tests of the API as it is called from notebooks, of files as
other labs write them, of physics corners, and of fits at the scale users bring), each with the
right behaviour."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import manybody.laws.saturation as saturation

# ------------------------------------------- power sweeps with hundreds of temperatures


def _power_sweep_curves(n_temperatures: int, seed: int = 1) -> list:
    """Loss against drive power (dBm) at ``n_temperatures`` temperatures: tanh amplitude, Pc ~ T^2,
    beta = 1/2, a background, 3 % log-normal scatter and its errors given."""
    rng = np.random.default_rng(seed)
    power = np.linspace(-140.0, -80.0, 5)
    curves = []
    for temperature in np.linspace(0.02, 0.5, n_temperatures):
        critical = 1e-12 * (temperature / 0.05) ** 2
        loss = 1e-6 * np.tanh(0.24 / temperature) * (1 + 10 ** (power / 10) / critical) ** -0.5 + 2e-7
        curves.append((power, loss * np.exp(0.03 * rng.standard_normal(power.size)), 0.03 * loss))
    return curves


def test_a_joint_saturation_fit_beyond_the_dense_limit_agrees_with_the_dense_route(monkeypatch):
    """Session 50: the joint fit's dense SVD of every step grew as the cube of the number of
    temperatures (400 temperatures: 200 s; a break test, session 49). Beyond DENSE_PARAMETERS it
    takes sparse LSMR steps; the two routes must find the same optimum and errors."""
    curves = _power_sweep_curves(30)  # 30 x 3 + 1 = 91 parameters: the sparse route
    assert 3 * len(curves) + 1 > saturation.DENSE_PARAMETERS
    sparse_fit = saturation.fit_saturation_joint(curves, scale="dB")
    monkeypatch.setattr(saturation, "DENSE_PARAMETERS", 10**6)
    dense_fit = saturation.fit_saturation_joint(curves, scale="dB")
    assert sparse_fit.value("beta") == pytest.approx(0.5, abs=4 * sparse_fit.error("beta"))
    for stem in ("beta", "amplitude", "critical_power", "background"):
        for curve in (0, 17, 29) if stem != "beta" else (0,):
            difference = abs(sparse_fit.value(stem, curve) - dense_fit.value(stem, curve))
            assert difference < 1e-3 * dense_fit.error(stem, curve), (stem, curve)
            assert sparse_fit.error(stem, curve) == pytest.approx(dense_fit.error(stem, curve),
                                                                  rel=1e-3)
    assert sparse_fit.chi2 == pytest.approx(dense_fit.chi2, rel=1e-6)
    assert sparse_fit.p_value == pytest.approx(dense_fit.p_value, rel=1e-4)


# ------------------------------------------------ the API as it is called from a notebook


def _frame():
    """A table as pd.read_csv gives it (the default 0 .. n-1 index): T (K) and a tanh loss."""
    pd = pytest.importorskip("pandas")
    temperature = np.geomspace(0.01, 0.5, 20)
    loss = 1e-6 * np.tanh(0.05 / (2 * temperature)) + 1e-7 + 1e-9 * np.sin(300 * temperature)
    return pd.DataFrame({"T": temperature, "loss": loss})


def test_a_sorted_column_beside_a_default_index_column_is_refused_not_paired_by_position():
    """``fit_loss(df["T"], df["loss"].sort_values(), ...)`` gave an index of 100 (on its bound)
    for a tanh curve: the default index 'labelled nothing', so no label was compared."""
    import manybody as mb

    df = _frame()
    assert mb.fit_loss(df["T"], df["loss"], 0.05).parameters["index"] == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match=r"temperature \(index\) and loss \(index\) carry the same "
                                         r"labels in different orders \(temperature the default"):
        mb.fit_loss(df["T"], df["loss"].sort_values(), 0.05)
    with pytest.raises(ValueError, match=r"x \(index\) and q \(index\) carry the same labels"):
        mb.fit_law(0.05 / df["T"], df["loss"].sort_values())
    # which one was reordered cannot be told, and no advice may scramble either (a second
    # round, helper-155: 'reindex' on a reset index gave a = 78.9 for 1.1)
    s = df.sample(frac=1.0, random_state=1)  # a shuffled log, its index permuted
    with pytest.raises(ValueError, match=r"loss the default 0 \.\. n-1 index, temperature another "
                                         r"order.*\.to_numpy\(\) of each") as refused:
        mb.fit_loss(s["T"], s["loss"].reset_index(drop=True), 0.05)
    assert "reindex" not in str(refused.value)
    with pytest.raises(ValueError, match=r"asymmetry \(index\) and tunnelling \(index\)"):
        mb.Realisation.from_arrays(asymmetry=df["T"].sort_values(ascending=False),
                                   tunnelling=df["loss"] * 1e5)
    # realigned, it is the same fit; a default index beside other labels still pairs by position
    realigned = df["loss"].sort_values().reindex(df["T"].index)
    assert mb.fit_loss(df["T"], realigned, 0.05).parameters["index"] == pytest.approx(
        mb.fit_loss(df["T"].to_numpy(), df["loss"].to_numpy(), 0.05).parameters["index"])
    filtered = df[df["T"] > 0.02]
    import pandas as pd

    fit = mb.fit_loss(filtered["T"], pd.Series(filtered["loss"].to_numpy()), 0.05)
    assert fit.parameters["index"] == pytest.approx(1.0, abs=0.05)


def test_a_two_dimensional_data_array_is_label_checked_on_its_last_coordinate():
    """A (realisation, temperature) DataArray sorted by temperature beside x in the original
    order gave a = -0.999 for tanh data: 2-d DataArrays were not looked at."""
    import xarray as xr

    import manybody as mb

    rng = np.random.default_rng(0)
    temperature = 0.1 / np.geomspace(0.2, 10, 15)  # descending
    q = np.tanh(0.1 / temperature / 2)[None, :] * (1 + 0.05 * rng.standard_normal((30, 15)))
    q_da = xr.DataArray(q, dims=("realisation", "temperature"), coords={"temperature": temperature})
    x_da = 0.1 / q_da.temperature
    assert mb.analyse_shape(x_da, q_da, n_bootstrap=0).index == pytest.approx(1.0, abs=0.1)
    with pytest.raises(ValueError, match=r"x \(coordinate\) and q_realisations \(coordinate\)"):
        mb.analyse_shape(x_da, q_da.sortby("temperature"), n_bootstrap=0)


def test_an_upper_window_edge_in_millikelvin_is_refused_before_fitting(tmp_path):
    """``compare_laws(..., tmax=800)`` (800 mK meant) cut nothing on the Nb tables and gave
    'undecided' with a = -0.99 against 'TLS (tanh)' with tmax=0.8."""
    import manybody as mb
    from manybody.laws.inputs import LossCurve, ShiftCurve

    df = _frame()
    curve = LossCurve(df["T"].to_numpy(), df["loss"].to_numpy(), label="qi")
    for call in (lambda: mb.compare_laws(curve, 0.05, tmax=500.0),
                 lambda: mb.fit_loss(df["T"].to_numpy(), df["loss"].to_numpy(), 0.05, tmax=500.0)):
        with pytest.raises(ValueError, match=r"tmax=500 K is 1e\+03 times the highest temperature "
                                             r"of the data \(0.5 K\): a temperature in mK\?.*"
                                             r"tmax=0.5.*--tmax 500mK"):
            call()
    # the highest temperature of all curves fitted together counts, not each curve's own
    cold = LossCurve(df["T"].to_numpy()[:4], df["loss"].to_numpy()[:4], label="cold")
    assert cold.temperature.max() * 20 < 0.45
    fit = mb.compare_laws([curve, cold], 0.05, tmax=0.45)
    assert fit.fits["tls"].n_points == 19 + 4
    shift = ShiftCurve(df["T"].to_numpy(), 1e-6 * np.log(df["T"].to_numpy() / 0.5), label="f0")
    with pytest.raises(ValueError, match=r"tmax=50 K is 100 times"):
        mb.compare_loss_shift([curve], shift, 0.05, tmax=50.0)


def test_misspelt_options_and_swapped_curves_are_named_as_the_called_function():
    """``compare_laws(..., t_max=0.8)`` said "fit_joint() got an unexpected keyword argument";
    ``compare_loss_shift(shift, curves, ...)`` said "'ShiftCurve' object is not iterable"."""
    import manybody as mb
    from manybody.laws.inputs import LossCurve, ShiftCurve

    df = _frame()
    curve = LossCurve(df["T"].to_numpy(), df["loss"].to_numpy(), label="qi")
    shift = ShiftCurve(df["T"].to_numpy(), 1e-6 * np.log(df["T"].to_numpy() / 0.5), label="f0")
    with pytest.raises(TypeError, match=r"^compare_laws\(\) got unexpected keyword argument\(s\) "
                                        r"'t_max'; its keywords are .*tmax.*did you mean 'tmax'"):
        mb.compare_laws(curve, 0.05, t_max=0.8)
    with pytest.raises(TypeError, match=r"^compare_loss_shift\(\) got unexpected keyword argument"
                                        r"\(s\) 'tmaxx'; its keywords are modes, .*'tmax'"):
        mb.compare_loss_shift([curve], shift, 0.05, tmaxx=0.8)
    for call in (mb.compare_loss_shift, mb.fit_loss_shift):
        with pytest.raises(TypeError, match=r"curves=ShiftCurve, shift=list \(swapped\?\)"):
            call(shift, [curve], 0.05)


def test_the_velocity_fit_refuses_a_tmax_in_millikelvin_too(tmp_path, capsys):
    """``fit-data --velocity --tmax 50`` (50 mK meant, data to 1 K) cut nothing without a word,
    as the loss fits did before session 50."""
    from manybody.cli import main

    temperature = np.geomspace(0.01, 1.0, 40)
    rows = [f"{1e3 * t:.6g},{100 * np.log(t / 0.1) * (1 if t < 0.1 else -0.5):.6g}"
            for t in temperature]
    path = tmp_path / "dv.csv"
    path.write_text("Temperature (mK),dv/v (ppm)\n" + "\n".join(rows) + "\n")
    assert main(["fit-data", "--velocity", str(path), "--tmax", "50", "--out",
                 str(tmp_path / "o")]) == 2
    assert "tmax=50 K is 50 times the highest temperature" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# ------------------------------------------------ files as other labs write them (helper-154)


def _tanh_rows(extra) -> tuple[np.ndarray, np.ndarray, list]:
    """T (K), Qi of a clean tanh loss at 5 GHz, and one extra cell per row from ``extra(T, Qi)``."""
    temperature = np.geomspace(0.02, 1.0, 30)
    loss = 1e-5 * np.tanh(0.24 / (2 * temperature)) + 2e-6
    loss = loss * (1 + 0.005 * np.random.default_rng(4).standard_normal(temperature.size))
    return temperature, 1 / loss, [extra(t, 1 / q) for t, q in zip(temperature, loss, strict=True)]


@pytest.mark.parametrize("header,extra", [
    ("T_err", lambda t, q: 0.01 * t), ("sigma_T", lambda t, q: 0.01 * t),
    ("T std", lambda t, q: 0.01 * t), ("Qc_err", lambda t, q: 300.0),
    ("Pin_err", lambda t, q: 0.1)])
def test_the_error_of_another_quantity_is_not_taken_as_the_losss(tmp_path, header, extra):
    """'T_err', 'sigma_T', 'T std', 'Qc_err' beside 'Qi' were read as the errors of Qi: 'neither
    law' at chi2/dof 3e11 for clean tanh data."""
    from manybody.measured.tables import read_loss_table

    temperature, q, cells = _tanh_rows(extra)
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),{header},Qi\n" + "".join(
        f"{t:.6g},{c:.6g},{qi:.8g}\n" for t, c, qi in zip(temperature, cells, q, strict=True)))
    with pytest.warns(UserWarning, match=rf"'{header}' \(the error of .*\?\) not used as the "
                                         r"loss's error of 'Qi'"):
        table = read_loss_table(path)
    assert table.sigma is None and table.error_column is None
    # chosen by name it is taken (the user's word; its size warns, as the next test shows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert read_loss_table(path, error_column=header).error_column == header


def test_a_column_of_f0_errors_is_not_the_losss_and_qi_err_beside_it_is(tmp_path):
    from manybody.measured.tables import read_loss_table

    temperature, q, _ = _tanh_rows(lambda t, q: 0.0)
    path = tmp_path / "t.csv"
    path.write_text("T (K),f0 (GHz),f0_err,Qi,Qi_err\n" + "".join(
        f"{t:.6g},5.0,1e-6,{qi:.8g},{0.005 * qi:.6g}\n" for t, qi in zip(temperature, q,
                                                                          strict=True)))
    table = read_loss_table(path)
    assert table.error_column == "Qi_err"
    np.testing.assert_allclose(table.sigma, 0.005 * table.loss, rtol=1e-5)


@pytest.mark.parametrize("header", ["dQi/Qi", "Qi_rel_err", "Qi err (rel)", "relative error"])
def test_relative_errors_named_so_are_fractions_of_the_value(tmp_path, header):
    """'dQi/Qi' = 0.005 was read as sigma_Q = 0.005 (chi2/dof 3e10, 'neither law')."""
    from manybody.measured.tables import read_loss_table

    temperature, q, cells = _tanh_rows(lambda t, q: 0.005)
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,{header}\n" + "".join(
        f"{t:.6g},{qi:.8g},{c:g}\n" for t, qi, c in zip(temperature, q, cells, strict=True)))
    table = read_loss_table(path)
    assert table.error_column == header
    np.testing.assert_allclose(table.sigma, 0.005 * table.loss, rtol=1e-6)


def test_an_error_of_q_beside_a_loss_column_is_refused_and_implausible_errors_warn(tmp_path):
    """'Qi_err' (errors of Q, ~400) beside '1/Qi' was read as errors of 1/Q, 1e7 times the loss:
    'undecided', a = 1.0 +- 4e8."""
    from manybody.measured.tables import read_loss_table

    temperature, q, _ = _tanh_rows(lambda t, q: 0.0)
    path = tmp_path / "t.csv"
    path.write_text("T (K),1/Qi,Qi_err\n" + "".join(
        f"{t:.6g},{1 / qi:.8g},{0.005 * qi:.6g}\n" for t, qi in zip(temperature, q, strict=True)))
    with pytest.raises(ValueError, match=r"error column 'Qi_err' names the error of Q, but the "
                                         r"loss column '1/Qi' holds 1/Q"):
        read_loss_table(path)
    # a relative column is the same for Q and 1/Q
    path.write_text("T (K),1/Qi,dQi/Qi\n" + "".join(
        f"{t:.6g},{1 / qi:.8g},0.005\n" for t, qi in zip(temperature, q, strict=True)))
    np.testing.assert_allclose(read_loss_table(path).sigma, 0.005 * read_loss_table(path).loss)
    # absolute errors a millionth of a millionth of the loss: another unit
    path.write_text("T (K),Qi,sigma\n" + "".join(
        f"{t:.6g},{qi:.8g},1e-3\n" for t, qi in zip(temperature, q, strict=True)))
    with pytest.warns(UserWarning, match=r"errors of column 'sigma' are a median .* of the loss"):
        read_loss_table(path)


def _drive_table(path, powers, header="T (K),P (dBm),Qi") -> None:
    """A loss table with one row per (temperature, drive power): tanh loss, saturated by
    (1 + P/Pc)^-1/2 with Pc = -110 dBm, 0.3 % scatter; ``powers`` gives each row's power."""
    rng = np.random.default_rng(5)
    rows = []
    for k, power in enumerate(powers):
        t = np.geomspace(0.02, 1.0, 20)[k % 20]
        loss = 1e-5 * np.tanh(0.24 / (2 * t)) * (1 + 10 ** ((round(power, 0) + 110) / 10)) ** -0.5
        loss = (loss + 2e-6) * (1 + 0.003 * rng.standard_normal())
        rows.append(f"{t:.6g},{power:.6g},{1 / loss:.8g}")
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


def test_a_power_column_that_jitters_within_a_drive_is_one_drive(tmp_path):
    """Every fifth row at -129.99 instead of -130 dBm made curves of four points, whose tiny
    scatters outweighed the rest under --saturation: 'in between' at a = 0.9894 +- 0.0021 where
    the table grouped right gives 'TLS (tanh)'. Jitter on every row was refused as
    '30 points for 49 parameters'."""
    from manybody.measured.tables import curves_from_table, read_loss_table

    drives = np.repeat([-130.0, -110.0, -90.0], 20)
    exact, odd = tmp_path / "exact.csv", tmp_path / "odd.csv"
    _drive_table(exact, drives)
    _drive_table(odd, drives + np.where(np.arange(60) % 5 == 0, 0.01, 0.0))
    with pytest.warns(UserWarning, match=r"power column 'P \(dBm\)' varies from row to row within "
                                         r"a drive.*-130 dBm \(2 values over 0.01 dB\)"):
        table = read_loss_table(odd)
    np.testing.assert_array_equal(table.power, drives)
    assert len(curves_from_table(table)) == 3
    np.testing.assert_array_equal(table.loss, read_loss_table(exact).loss)
    # a power that varies continuously over one sweep is not a drive
    _drive_table(odd, -130.0 + np.arange(20) * 0.2)
    with pytest.raises(ValueError, match=r"varies continuously over 3.8 dB"):
        read_loss_table(odd)
    # drive settings 0.5 dB apart, each over a whole sweep, are drives, not a jitter (a second
    # round, helper-156: they were merged into one curve, scatter 1.4 % for 0.3 %)
    settings = np.repeat([-101.0, -100.5, -100.0, -90.0], 20)
    _drive_table(exact, settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        table = read_loss_table(exact)
    np.testing.assert_array_equal(table.power, settings)
    assert len(curves_from_table(table)) == 4


def test_a_curve_without_residuals_for_its_scatter_is_refused_and_no_power_column_is_read(
        tmp_path, capsys):
    """A photon number computed per row split one drive into curves of two points; the
    per-curve scatter of such a curve came out at round-off and the verdict said only
    'fitted to numerical precision'. --power-column none reads the table as one curve."""
    import manybody as mb
    from manybody.cli import main
    from manybody.laws.inputs import LossCurve

    t = np.geomspace(0.02, 1.0, 12)
    loss = 1e-5 * np.tanh(0.24 / (2 * t)) + 2e-6
    curves = [LossCurve(t[:10], loss[:10], label="a"), LossCurve(t[10:], loss[10:], label="b")]
    with pytest.raises(ValueError, match=r"curve 'b' has 2 point\(s\) in the window for its 2 own "
                                         r"parameter\(s\) \(amplitude\[b\], background\[b\]\)"):
        mb.compare_laws(curves, "5GHz")
    assert mb.compare_laws(curves, "5GHz", scatter="common").fits["tls"].n_points == 12
    path = tmp_path / "n.csv"
    photons = np.r_[np.full(10, 1.0), 2.0, 2.02]  # computed per row: the last two split off
    path.write_text("T (K),n_photons,Qi\n" + "".join(
        f"{ti:.6g},{n:.5g},{1 / q:.8g}\n" for ti, n, q in zip(t, photons, loss, strict=True)))
    assert main(["fit-data", str(path), "--frequency", "5GHz", "--out", str(tmp_path / "o")]) == 2
    assert "0 residual(s) left, too few to estimate its scatter" in capsys.readouterr().err
    path.write_text("T (K),n_photons,Qi\n" + "".join(  # a photon number on every row, 0.6 dB apart
        f"{ti:.6g},{1.15 ** k:.5g},{1 / q:.8g}\n" for k, (ti, q) in enumerate(zip(t, loss,
                                                                                 strict=True))))
    assert main(["fit-data", str(path), "--frequency", "5GHz", "--out", str(tmp_path / "o")]) == 2
    assert "12 curves (a power column that varies from row to row" in capsys.readouterr().err
    assert main(["fit-data", str(path), "--frequency", "5GHz", "--power-column", "none",
                 "--out", str(tmp_path / "o")]) == 0
    assert "12 points in 1 curve(s)" in capsys.readouterr().out


# ------------------------------------------------ physics corners (helper-152)


def test_float32_chebyshev_error_bars_cover_its_round_off_far_above_the_line():
    """One TLS on its line, exact trace, float32: at T = 100 w the value was 13 of its reported
    errors from dense ED, at 1e4 w 2000 (the round-off grows as T / w, the reported error fell
    as Q ~ 1/T)."""
    import manybody as mb
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption

    real = mb.Realisation.from_arrays(asymmetry=[0.05], tunnelling=[0.08],
                                      deformation_potential=[1.0])
    w, temperatures = [0.0943398], [0.1, 10.0, 1000.0]
    kernel = mb.Broadening(kind="gaussian", width=0.005)
    from manybody.simulation.solvers.chebyshev.solver import FLOAT32_ROUND_OFF_OF_LARGEST

    # float32 by name: since session 53 an exact trace defaults to float64
    result = chebyshev_absorption(real, w, temperatures, kernel,
                                  ChebyshevParams(trace="exact", dtype="float32"))
    dense = mb.absorption(*mb.solve(real), w, temperatures, kernel)
    deviation = np.abs(result.absorption - dense) / result.absorption_error
    assert np.all(deviation < 3.0), deviation
    # and the floor is a round-off's size, not a statistical one: 1e-6 T/w of the value, or since
    # session 53 (changed on purpose) the float32 exact trace's floor of the largest |Q|, which
    # covers the round-off of many-level systems (2.5e-3 of max|Q| at N = 6-10) and overstates
    # this single TLS's
    assert np.all(result.absorption_error <= (1 + 1e-9) * np.maximum(2e-6 * np.maximum(
        np.array(temperatures)[:, None] / w[0], 1) * np.abs(dense),
        FLOAT32_ROUND_OFF_OF_LARGEST["abs"] * np.abs(result.absorption).max()))
    assert ChebyshevParams(trace="exact").dtype == "float64"
    assert ChebyshevParams().dtype == "float32"


@pytest.mark.parametrize("header", ["±Qi", "Qi ±"])
def test_a_plus_minus_column_is_the_error_of_its_quantity(tmp_path, header):
    """'±Qi' was not recognised: the fit fell back to an estimated scatter."""
    from manybody.measured.tables import read_loss_table

    temperature, q, _ = _tanh_rows(lambda t, q: 0.0)
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,{header}\n" + "".join(
        f"{t:.6g},{qi:.8g},{0.005 * qi:.6g}\n" for t, qi in zip(temperature, q, strict=True)),
        encoding="utf-8")
    table = read_loss_table(path)
    assert table.error_column == header
    np.testing.assert_allclose(table.sigma, 0.005 * table.loss, rtol=1e-5)


def test_exclamation_marks_begin_comment_lines_as_vnas_write_them(tmp_path):
    """'! exported by VNA' above '# T (K),loss' was read as a one-column header."""
    from manybody.measured.tables import read_loss_table

    temperature, q, _ = _tanh_rows(lambda t, q: 0.0)
    path = tmp_path / "t.csv"
    path.write_text("! exported by VNA\n% sample A\n# T (K),loss\n" + "".join(
        f"{t:.6g},{1 / qi:.8g}\n" for t, qi in zip(temperature, q, strict=True)) + "! end\n")
    table = read_loss_table(path)
    assert table.temperature.size == 30 and table.loss_column == "loss"
    np.testing.assert_allclose(table.loss, 1 / q, rtol=1e-7)


@pytest.mark.parametrize("header,names_other", [
    ("Qi (std)", False), ("σ(Qi)", False), ("std_Qi", False), ("Qi_unc", False),
    ("Qi_sigma", False), ("delta_Qi", False), ("σ(T)", True), ("err(Qc)", True), ("T_unc", True)])
def test_more_spellings_of_an_error_column_name_their_quantity(tmp_path, header, names_other):
    """A second look at session 50's error columns: 'σ(T)' and 'err(Qc)' name their quantity in a
    bracket, which was read as a unit (and would have been the loss's error), and 'Qi_sigma',
    'std_Qi', 'Qi_unc', 'delta_Qi', 'Qi (std)' were not recognised as error columns."""
    from manybody.measured.tables import read_loss_table

    temperature, q, _ = _tanh_rows(lambda t, q: 0.0)
    other = np.where(names_other, 0.01 * temperature, 0.005 * q)
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,{header}\n" + "".join(
        f"{t:.6g},{qi:.8g},{e:.6g}\n" for t, qi, e in zip(temperature, q, other, strict=True)),
        encoding="utf-8")
    if names_other:
        with pytest.warns(UserWarning, match=r"not used as the loss's error"):
            assert read_loss_table(path).sigma is None
    else:
        table = read_loss_table(path)
        assert table.error_column == header
        np.testing.assert_allclose(table.sigma, 0.005 * table.loss, rtol=1e-5)


@pytest.mark.parametrize("header,cells,relative", [
    ("Qi_err_pct", 0.5, 0.005), ("dQi_pct", 0.5, 0.005), ("Qi_rel_err_pct", 0.5, 0.005),
    ("Qi_err (abs)", None, 0.005), ("Qi error [abs]", None, 0.005), ("QiErr", None, 0.005)])
def test_percent_words_absolute_marks_and_glued_error_words(tmp_path, header, cells, relative):
    """A second round (helper-156): '_pct' was read as absolute errors of Q (chi2/dof 1.8e6,
    'neither law'), '_rel_err_pct' as a fraction (100x too large), '(abs)' refused as a unit,
    'QiErr' not seen as an error of Q."""
    from manybody.measured.tables import read_loss_table

    temperature, q, _ = _tanh_rows(lambda t, q: 0.0)
    errors = np.full(q.size, cells) if cells is not None else relative * q
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,{header}\n" + "".join(
        f"{t:.6g},{qi:.8g},{e:.6g}\n" for t, qi, e in zip(temperature, q, errors, strict=True)))
    table = read_loss_table(path)
    assert table.error_column == header
    np.testing.assert_allclose(table.sigma, relative * table.loss, rtol=1e-5)


@pytest.mark.parametrize("header", ["QiErr", "Qi_stderr"])
def test_glued_errors_of_q_beside_a_loss_column_are_refused(tmp_path, header):
    from manybody.measured.tables import read_loss_table

    temperature, q, _ = _tanh_rows(lambda t, q: 0.0)
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),1/Qi,{header}\n" + "".join(
        f"{t:.6g},{1 / qi:.8g},{0.005 * qi:.6g}\n" for t, qi in zip(temperature, q, strict=True)))
    with pytest.raises(ValueError, match=rf"error column '{header}' names the error of Q"):
        read_loss_table(path)


def test_a_mixing_chamber_temperature_error_is_not_the_losss(tmp_path):
    from manybody.measured.tables import read_loss_table

    temperature, q, _ = _tanh_rows(lambda t, q: 0.0)
    path = tmp_path / "t.csv"
    path.write_text("T (K),Qi,Tmix_err\n" + "".join(
        f"{t:.6g},{qi:.8g},{0.01 * t:.6g}\n" for t, qi in zip(temperature, q, strict=True)))
    with pytest.warns(UserWarning, match=r"'Tmix_err' \(the error of the temperature\?\)"):
        assert read_loss_table(path).sigma is None


def test_dataframe_columns_and_dataarray_dimensions_follow_the_series_rules():
    """helper-155: a filtered x beside pd.DataFrame(array) (default columns) was refused while
    the same x beside the array passed; default-index x beside columns 9..0 was paired by
    position (a = -0.999); a square (x, realisation) DataArray was taken transposed."""
    import pandas as pd
    import xarray as xr

    import manybody as mb

    rng = np.random.default_rng(2)
    x = np.geomspace(0.2, 10, 10)
    q = np.tanh(x / 2)[None, :] * (1 + 0.05 * rng.standard_normal((10, 10)))
    frame = pd.DataFrame({"x": np.r_[np.zeros(3), x]}).iloc[3:]["x"]  # index 3 .. 12
    expected = mb.analyse_shape(x, q, n_bootstrap=0).index
    assert mb.analyse_shape(frame, pd.DataFrame(q), n_bootstrap=0).index == pytest.approx(expected)
    reversed_columns = pd.DataFrame(q[:, ::-1], columns=range(9, -1, -1))
    with pytest.raises(ValueError, match=r"same labels in different orders"):
        mb.analyse_shape(pd.Series(x), reversed_columns, n_bootstrap=0)
    q_da = xr.DataArray(q.T, dims=("x", "realisation"), coords={"x": x})
    with pytest.raises(ValueError, match=r"must be q_realisations's last"):
        mb.analyse_shape(q_da.x, q_da, n_bootstrap=0)
    assert mb.analyse_shape(q_da.x, q_da.transpose("realisation", "x"),
                            n_bootstrap=0).index == pytest.approx(expected)

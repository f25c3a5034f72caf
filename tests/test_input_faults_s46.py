"""Faults found in session 46 (break tests of array flavours, measured-data files and runs under
limited resources, and items left open in earlier sessions), each with the right behaviour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import manybody as mb
from manybody.support import validate as v

# ------------------------------------------------ masked and 0-d scalars (left open since s44)


@pytest.mark.parametrize("masked", [np.ma.masked, np.ma.masked_array(0.5, mask=True)])
@pytest.mark.parametrize("check", [v.real, v.positive, v.integer])
def test_a_masked_scalar_is_refused_not_taken_as_its_data(masked, check):
    """A masked 0-d value was taken as the number under its mask (0.5, or 0.0 for np.ma.masked)."""
    with pytest.raises(ValueError, match="temperature is masked"):
        check("temperature", masked)


def test_an_unmasked_0d_masked_array_and_0d_arrays_are_their_number():
    assert v.real("temperature", np.ma.masked_array(0.25)) == 0.25
    assert v.integer("n_tls", np.array(3)) == 3
    assert v.boolean("background", np.array(True)) is True
    assert v.boolean("background", np.all(np.ones(3) > 0)) is True


def test_a_0d_bool_array_given_for_a_number_is_named_a_boolean():
    with pytest.raises(TypeError, match=r"array\(True\) \(a boolean\)"):
        v.real("temperature", np.array(True))


def test_a_masked_temperature_is_refused_by_the_public_api():
    realisation = mb.Realisation.from_arrays(asymmetry=[0.05, 0.1], tunnelling=[0.1, 0.07])
    spectrum, stress = mb.solve(realisation)
    with pytest.raises(ValueError, match="masked"):
        mb.absorption(spectrum, stress, [0.11], np.ma.masked_array([0.1, 0.2], mask=[0, 1]),
                      mb.Broadening(width=0.02))


# ------------------------------------------------ relaxation rates beyond float64 (left open in s45)

@pytest.mark.parametrize("call", [mb.relaxation_absorption, mb.relaxation_velocity_shift])
def test_rates_that_would_overflow_are_refused_by_name(call):
    """Energies of 1e99 K with K_ph = 1e15 gave overflow warnings and NaN: K E^3 overflowed."""
    realisation = mb.Realisation.from_arrays(asymmetry=[5e97], tunnelling=[1e98])
    spectrum, stress = mb.solve(realisation)
    with pytest.raises(ValueError, match=r"one-phonon rates .* reach about 1e309 s\^-1 .*"
                                         r"rate_prefactor 1e\+15"):
        call(spectrum, stress, [1e96], [1e98], rate_prefactor=1e15)


def test_the_rate_check_keeps_scale_invariance_where_rates_are_in_range():
    """At energies of 1e29 K the rates (~1e94 s^-1) are still taken; the response of a scaled TLS
    follows its analytic scaling Q ~ omega tau ~ s^-2 (omega scaled by s, 1/tau by s^3)."""
    values = []
    for scale in (1.0, 1e29):
        realisation = mb.Realisation.from_arrays(asymmetry=[0.05 * scale], tunnelling=[0.1 * scale])
        spectrum, stress = mb.solve(realisation)
        values.append(mb.relaxation_absorption(spectrum, stress, [1e-9 * scale], [0.1 * scale],
                                               rate_prefactor=4.9e7)[0, 0])
    assert values[1] == pytest.approx(values[0] * 1e29**-2, rel=1e-9)


def test_the_driven_steady_state_shares_the_rate_check():
    from manybody.simulation.observables.relaxation import transition_rates

    with pytest.raises(ValueError, match="one-phonon rates"):
        transition_rates([0.0, 1e99], [[0.0, 1.0], [1.0, 0.0]], 1.0, 1e15)


# ------------------------------------------------ array flavours (helper-133)

def test_a_0d_seed_gives_the_stream_of_the_plain_seed():
    """realisation_rng validated a 0-d seed and then passed the array on to SeedSequence:
    'len() of unsized object' from numpy."""
    assert (mb.realisation_rng(np.array(3), np.array(2)).random()
            == mb.realisation_rng(3, 2).random())


@pytest.mark.parametrize("seed", [2**63, 2**70])
def test_seeds_beyond_a_run_s_range_are_refused_by_the_function_api_too(seed):
    """observe(seed=2**70) was taken while a RunSpec refuses it: a realisation that no run could
    reproduce."""
    with pytest.raises(ValueError, match="seed must be an integer between 0 and"):
        mb.realisation_rng(seed, 0)


@pytest.mark.parametrize("n_tls", [31, 1000, 2**70])
def test_estimate_memory_refuses_n_beyond_the_model_s_bound_at_once(n_tls):
    """1000 gave an OverflowError, 2**70 a minute of big-integer arithmetic."""
    with pytest.raises(ValueError, match="n_tls must be an integer between 1 and 30"):
        mb.estimate_memory(n_tls)


def test_estimate_memory_of_a_small_numpy_integer_is_that_of_the_int():
    """np.int8(4) gave 0 bytes before session 46 (2**n computed in int8)."""
    assert mb.estimate_memory(np.int8(4)) == mb.estimate_memory(4) > 0


@pytest.mark.parametrize("realisations", [2**70, 10**9])
def test_frozen_fraction_refuses_a_huge_realisation_count_by_name(realisations):
    params = mb.ModelParams(n_tls=3, equilibration=mb.EquilibrationParams())
    with pytest.raises(ValueError, match="realisations must be an integer between 1 and"):
        mb.frozen_fraction(params, 1, realisations, [0.05])


def test_frozen_fraction_refuses_too_many_fractions_before_allocating():
    params = mb.ModelParams(n_tls=3, equilibration=mb.EquilibrationParams())
    with pytest.raises(ValueError, match="realisations x temperatures"):
        mb.frozen_fraction(params, 1, 10**7, np.linspace(0.05, 1.0, 11))


def test_big_endian_arrays_are_diagonalised_and_transformed_like_native_ones():
    real = mb.draw_realisation(mb.ModelParams(n_tls=3), mb.realisation_rng(1, 0))
    native = mb.diagonalise(mb.build_hamiltonian(real))
    swapped = mb.diagonalise(mb.build_hamiltonian(real).astype(">f8"))
    np.testing.assert_array_equal(swapped.energies, native.energies)
    stress = mb.build_stress(real)
    np.testing.assert_array_equal(mb.stress_matrix_elements(native.vectors.astype(">f8"), stress),
                                  mb.stress_matrix_elements(native.vectors, stress))
    np.testing.assert_array_equal(mb.build_hamiltonian(real, dtype=np.dtype(">f8")),
                                  mb.build_hamiltonian(real))


def test_a_0d_frequency_is_its_number():
    from manybody.laws.inputs import parse_frequency

    assert parse_frequency(np.array(0.05)) == 0.05
    with pytest.raises(ValueError, match="frequency is masked"):
        parse_frequency(np.ma.masked)


def _series_pair():
    pd = pytest.importorskip("pandas")
    temperature = np.geomspace(0.01, 0.5, 20)
    loss = np.tanh(0.05 / (2 * temperature)) + 0.001 * np.sin(300 * temperature)
    labels = 10 * np.arange(temperature.size)  # labels, not the default 0 .. n-1
    return pd.Series(temperature, index=labels), pd.Series(loss, index=labels)


def test_paired_series_in_another_row_order_are_refused_not_paired_by_position():
    """q.sort_values() has the same labels and values as q; paired by position it gave
    a = -0.68 instead of 1.0 without a word."""
    t, q = _series_pair()
    assert mb.fit_loss(t, q, 0.05).parameters["index"] == pytest.approx(1.0, abs=0.01)
    shuffled = q.sort_values()
    calls = [lambda: mb.fit_loss(t, shuffled, 0.05),
             lambda: mb.fit_law(0.05 / t, shuffled),
             lambda: mb.log_slope(t, shuffled),
             lambda: mb.fit_saturation(t, shuffled),
             lambda: mb.shape_ratio(0.05 / t, shuffled),
             lambda: mb.Realisation.from_arrays(asymmetry=t, tunnelling=shuffled)]
    for call in calls:
        with pytest.raises(ValueError, match="carry different labels"):
            call()


def test_series_with_the_same_index_give_the_numbers_of_the_arrays():
    t, q = _series_pair()
    a = mb.fit_loss(t, q, 0.05).parameters["index"]
    b = mb.fit_loss(t.to_numpy(), q.to_numpy(), 0.05).parameters["index"]
    assert a == b


# ------------------------------------------------ measured-data files (helper-134)

def _loss_table(path, rows, header="Temperatur (mK);Power (dBm);Qint"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


_MK = [100, 150, 200, 300, 400, 500, 600, 700, 800, 900]


@pytest.mark.parametrize("rows, why", [
    # German Excel: decimal commas in the file, digit grouping in the temperatures
    ([f"{t};-80;1,{58 + i}E+07" for i, t in enumerate(_MK)] + ["1.000;-80;1,67E+07",
                                                              "1.100;-80;1,42E+07"],
     "the file writes its decimals with ','"),
    # no decimal mark anywhere: integers around the grouped cells
    ([f"{t};-80;{15800000 + i}" for i, t in enumerate(_MK)] + ["1.000;-80;16700000"],
     "other numbers are integers"),
    # a US export separated by tabs: decimal points, '1,000' grouped
    ([f"{t}\t-80\t1.{58 + i}E+07" for i, t in enumerate(_MK)] + ["1,000\t-80\t1.67E+07"],
     "the file writes its decimals with '.'"),
])
def test_one_group_of_three_digits_read_as_a_decimal_is_refused(tmp_path, rows, why):
    """'1.000' among 100 ... 900 mK was read as 1 mK and passed --tmax 0.8 into the fit."""
    from manybody.measured.tables import read_loss_table

    header = ("T (mK)\tPower (dBm)\tQi" if "\t" in rows[0] else "Temperatur (mK);Power (dBm);Qint")
    path = _loss_table(tmp_path / "grouped.csv", rows, header)
    with pytest.raises(ValueError, match=r"most likely 1000 written with a thousands separator"):
        read_loss_table(path)
    with pytest.raises(ValueError, match=why):
        read_loss_table(path)


@pytest.mark.parametrize("temperatures, qi", [
    (["0.100", "0.250", "0.500", "1.000", "1.250"], "1,6E+07"),  # the column's own decimals
    (["1.000", "1.250", "1.500", "2.000", "2.500"], "16000000"),  # no other decimal mark
    (["0,100", "0,250", "0,500", "1,000", "1,250"], "1.6E+07"),
])
def test_a_column_of_decimals_with_three_digits_is_read_as_decimals(tmp_path, temperatures, qi):
    from manybody.measured.tables import read_loss_table

    rows = [f"{t};-80;{qi}" for t in temperatures]
    table = read_loss_table(_loss_table(tmp_path / "k.csv", rows, "T (K);Power (dBm);Qi"))
    expected = [float(t.replace(",", ".")) for t in temperatures]
    np.testing.assert_allclose(np.sort(table.temperature), expected)


def test_one_group_cells_alone_in_a_decimal_comma_file_are_refused(tmp_path):
    """'1.000;1.250;1.500' mK beside decimal commas is 1000, 1250, 1500 mK from German Excel."""
    from manybody.measured.tables import read_loss_table

    rows = [f"{t};-80;1,6E+07" for t in ("1.000", "1.250", "1.500", "2.000")]
    with pytest.raises(ValueError, match="line 2: .1.000. is read as 1, .*most likely 1000 written"):
        read_loss_table(_loss_table(tmp_path / "mk.csv", rows))


def test_a_quoted_grouped_number_in_a_comma_separated_file_is_named(tmp_path):
    """The first version of the check formatted None: 'unsupported format string passed to
    NoneType.__format__'."""
    from manybody.measured.tables import read_loss_table

    rows = [f'"{t}",-80,1.6E+07' for t in _MK] + ['"1,000",-80,1.67E+07']
    path = _loss_table(tmp_path / "us.csv", rows, "T (mK),P (dBm),Qi")
    with pytest.raises(ValueError, match=r"data row 11: cannot read .*thousands separator\? "
                                         r"write 1000"):
        read_loss_table(path)


def _sweep_lines():
    f = np.linspace(7.70e9, 7.72e9, 201)
    z = 0.05 * (1 - 0.6 / (1 + 2j * 4e3 * (f / 7.71e9 - 1)))
    return f, 20 * np.log10(np.abs(z)), np.degrees(np.angle(z))


def _read_sweep(path):
    from manybody.measured.sweeps import read_sweep

    return read_sweep(path)


def test_decimal_commas_between_tabs_or_blanks_are_read(tmp_path):
    """A German 'Text (tab-delimited)' export was refused as 6 columns, and blank-separated
    magnitude-only data were read as 3 columns (-19 dB and 482059 degrees) and fitted for
    minutes."""
    f, db, deg = _sweep_lines()
    comma = lambda x: f"{x:.6f}".replace(".", ",")  # noqa: E731
    path = tmp_path / "de_tab.txt"
    path.write_text("Frequenz (Hz)\tBetrag (dB)\tPhase (deg)\n" + "\n".join(
        f"{int(a)}\t{comma(b)}\t{comma(c)}" for a, b, c in zip(f, db, deg, strict=True)) + "\n")
    sweep = _read_sweep(path)
    np.testing.assert_allclose(sweep.frequency, f)
    np.testing.assert_allclose(20 * np.log10(np.abs(sweep.s21)), db, atol=1e-5)
    mag_only = tmp_path / "de_blank.txt"
    mag_only.write_text("Frequenz (Hz)  Betrag (dB)\n" + "\n".join(
        f"{int(a)} {comma(b)}" for a, b in zip(f, db, strict=True)) + "\n")
    with pytest.raises(ValueError, match="2 column"):
        _read_sweep(mag_only)


def test_quoted_decimal_commas_in_a_comma_separated_sweep_are_read(tmp_path):
    f, db, deg = _sweep_lines()
    comma = lambda x: f'"{x:.6f}"'.replace(".", ",")  # noqa: E731
    path = tmp_path / "quoted.csv"
    path.write_text("f (Hz),dB,deg\n" + "\n".join(
        f'"{int(a)}",{comma(b)},{comma(c)}' for a, b, c in zip(f, db, deg, strict=True)) + "\n")
    np.testing.assert_allclose(20 * np.log10(np.abs(_read_sweep(path).s21)), db, atol=1e-5)


def test_utf16_sweeps_are_read_and_compressed_ones_named(tmp_path):
    import gzip

    f, db, deg = _sweep_lines()
    text = "f (Hz),dB,deg\n" + "\n".join(f"{a:.1f},{b:.6f},{c:.6f}" for a, b, c in
                                         zip(f, db, deg, strict=True)) + "\n"
    (tmp_path / "u16.csv").write_bytes(text.encode("utf-16"))
    np.testing.assert_allclose(_read_sweep(tmp_path / "u16.csv").frequency, f)
    (tmp_path / "s.csv.gz").write_bytes(gzip.compress(text.encode()))
    with pytest.raises(ValueError, match="gzip-compressed file"):
        _read_sweep(tmp_path / "s.csv.gz")


def test_a_sweep_with_grouped_frequencies_names_the_line_and_the_grouping(tmp_path):
    f, db, deg = _sweep_lines()
    path = tmp_path / "grouped.csv"
    path.write_text("f (Hz);dB;deg\n" + "\n".join(f"{int(a):,};{b:.6f};{c:.6f}" for a, b, c in
                                                  zip(f, db, deg, strict=True)) + "\n")
    with pytest.raises(ValueError, match=r"line 2 starts like a number .*thousands separator"):
        _read_sweep(path)


def test_a_touchstone_file_without_option_line_is_told_to_add_one(tmp_path):
    f, db, deg = _sweep_lines()
    lines = [f"{a:.1f} 0 0 {10 ** (b / 20):.6f} {c:.6f} 0 0 0 0" for a, b, c in
             zip(f, db, deg, strict=True)]
    (tmp_path / "s.s2p").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="no option line.*'# Hz S DB R 50'"):
        _read_sweep(tmp_path / "s.s2p")


def test_a_folder_names_the_files_it_leaves_out_and_a_glob_keeps_dangling_links(tmp_path):
    from manybody.measured.resonator_table import sweep_files

    for name in ("s_030mK.csv", "s_045mK.tsv", "s_060mK.asc", "README.md", "LICENSE"):
        (tmp_path / name).write_text("x")
    with pytest.warns(UserWarning, match=r"left out 1 file\(s\) .*'s_060mK.asc'"):
        files = sweep_files(tmp_path)
    assert [Path(f).name for f in files] == ["s_030mK.csv", "s_045mK.tsv"]
    (tmp_path / "s_075mK.csv").symlink_to(tmp_path / "gone.csv")
    assert Path(sweep_files(str(tmp_path / "*.csv"))[-1]).name == "s_075mK.csv"


# ------------------------------------------------ limits of the environment (helper-135)

def _limited(option, limit):
    import resource

    kind = getattr(resource, option)

    def limit_it():
        resource.setrlimit(kind, (limit, resource.getrlimit(kind)[1]))

    return limit_it


@pytest.mark.parametrize("option, limit", [("RLIMIT_AS", 600_000 * 1024), ("RLIMIT_AS", 200_000 * 1024),
                                           ("RLIMIT_DATA", 500_000 * 1024)])
def test_an_address_space_limit_too_small_to_diagonalise_is_one_line_first(tmp_path, option, limit):
    """Under ulimit -v 600000 a run hung for ever inside OpenBLAS (deaf to Ctrl-C and SIGTERM);
    under 200000 scipy's import failed with a traceback."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "manybody", "run", str(tmp_path / "spec.toml"),
                           "-o", str(tmp_path / "out.nc")], preexec_fn=_limited(option, limit),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"may map only {limit // 2**20} MiB" in done.stderr and "raise the limit" in done.stderr
    assert not (tmp_path / "out.nc").exists()


def test_commands_that_do_not_diagonalise_run_under_a_small_limit(tmp_path):
    """The first floor refused --version, info and fit-data, which ran under 600000 KiB (a second
    break test, session 46)."""
    import subprocess
    import sys

    for args in (["--version"], ["info", str(tmp_path / "missing.nc")]):
        done = subprocess.run([sys.executable, "-m", "manybody", *args], capture_output=True,
                              preexec_fn=_limited("RLIMIT_AS", 700_000 * 1024), text=True,
                              timeout=120)
        assert "may map only" not in done.stderr
    assert "missing.nc" in done.stderr


def test_the_address_space_floor_counts_the_blas_buffers_of_every_core():
    from manybody.support.address_space import BUFFER_PER_CORE, least_address_space

    assert least_address_space(2) == least_address_space(1) == 2**30
    assert least_address_space(64) == 2**30 + 62 * BUFFER_PER_CORE


def _manybody(*args, env=None, cwd=None):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "manybody", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=cwd)


@pytest.mark.parametrize("name, value", [("OMP_NUM_THREADS", "abc"), ("OMP_NUM_THREADS", "4,2"),
                                         ("OMP_NUM_THREADS", "0"), ("LOKY_MAX_CPU_COUNT", "x"),
                                         ("LOKY_MAX_CPU_COUNT", ""), ("NUMEXPR_MAX_THREADS", " ")])
def test_a_thread_count_variable_that_is_no_count_is_named(tmp_path, name, value):
    """'abc' was "invalid literal for int() with base 10: 'abc'" from numexpr's import."""
    done = _manybody("info", str(tmp_path / "x.nc"), env={name: value})
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"{name}={value!r} is not a whole number >= 1" in done.stderr


@pytest.mark.parametrize("name, value", [("OMP_NUM_THREADS", ""), ("OPENBLAS_NUM_THREADS", " "),
                                         ("OMP_NUM_THREADS", "04"), ("NUMBA_NUM_THREADS", "+2"),
                                         ("MKL_NUM_THREADS", " 4 ")])
def test_thread_counts_the_libraries_read_are_taken(tmp_path, name, value):
    """An empty OMP_NUM_THREADS (``export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK`` without the
    option), '04' and '+2' are read by the libraries, and were refused (a second break test)."""
    done = _manybody("info", str(tmp_path / "missing.nc"), env={name: value})
    assert "is not a whole number" not in done.stderr and "missing.nc" in done.stderr


def test_a_deleted_current_directory_is_said_so(tmp_path):
    """It was "[Errno 2] No such file or directory", naming nothing."""
    import os

    gone = tmp_path / "gone"
    gone.mkdir()
    here = os.getcwd()
    os.chdir(gone)
    try:
        gone.rmdir()
        done = _manybody("info", str(tmp_path / "x.nc"))
    finally:
        os.chdir(here)
    assert done.returncode == 2 and "the current directory no longer exists" in done.stderr


def test_a_memory_error_in_a_realisation_names_the_point_and_the_limit(monkeypatch):
    """numpy's 'Unable to allocate 1.00 GiB' (a MemoryError subclass) named no sweep point."""
    from manybody.runs import tasks
    from manybody.support import address_space

    class ArrayMemoryError(MemoryError):
        pass

    def fail(*args, **kwargs):
        raise ArrayMemoryError("Unable to allocate 1.00 GiB for an array")

    monkeypatch.setattr(tasks.pipeline, "observe", fail)
    monkeypatch.setattr(address_space, "_limits", lambda: [("-v", 1_536_000 * 1024, 0)])
    with pytest.raises(MemoryError, match=r"sweep point 3, realisation 0: Unable to allocate .*"
                                          r"ulimit -v 1536000\): raise the limit"):
        tasks.run_task(mb.ModelParams(n_tls=3), mb.Probe(frequencies=[0.1], temperatures=[0.05]),
                       mb.SolverParams(), 1, 3, 0, 1, 1, where="sweep point 3")


@pytest.mark.parametrize("sep, shifts", [
    (",", ["0", "1.234", "2.345", "3.456", "-4.567"]),
    (";", ["0", "1,234", "2,345", "3,456", "-4,567"]),
    ("\t", ["0", "1.234", "2.345", "3.456", "4.567"]),
])
def test_a_zero_reference_beside_three_decimals_is_read(tmp_path, sep, shifts):
    """A shift table's reference '0' beside values with three decimals was taken as evidence of
    grouping, and every value refused (a second break test, session 46)."""
    from manybody.measured.velocity import read_velocity_table

    rows = [f"{t}{sep}{s}" for t, s in zip((100, 200, 300, 400, 500), shifts, strict=True)]
    path = tmp_path / "shift.csv"
    # in ppm: a df/f of 1.234 is beyond the 0.1 cap on relative shifts (session 52)
    path.write_text(f"Temperature (mK){sep}df/f (ppm)\n" + "\n".join(rows) + "\n")
    table = read_velocity_table(path)
    expected = [float(s.replace(",", ".")) for s in shifts]
    np.testing.assert_allclose(table.shift, expected)


def test_a_point_with_one_group_in_a_comma_separated_file_is_a_decimal_point(tmp_path):
    from manybody.measured.tables import read_loss_table

    rows = [f"{t},-80,1.{58 + i}E+07" for i, t in enumerate(_MK)] + ["1.250,-80,1.67E+07"]
    table = read_loss_table(_loss_table(tmp_path / "us.csv", rows, "T (K),P (dBm),Qi"))
    assert 1.25 in table.temperature


# ------------------------------------------------ the second break test of the fixes (helper-136)

def test_xarray_coordinates_and_dataframe_columns_are_checked_like_a_series_index():
    pd = pytest.importorskip("pandas")
    xr = pytest.importorskip("xarray")
    t, q = _series_pair()
    coords = {"T": np.arange(t.size)}
    xt = xr.DataArray(t.to_numpy(), dims="T", coords=coords)
    xq = xr.DataArray(q.to_numpy(), dims="T", coords=coords)
    assert mb.fit_loss(xt, xq, 0.05).parameters["index"] == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError, match="carry different labels"):
        mb.fit_loss(xt, xq.sortby(xq), 0.05)
    x = 0.05 / t
    frame = pd.DataFrame(np.vstack([q * (1 + 0.01 * k) for k in range(-2, 3)]), columns=t.index)
    permuted = frame[t.index[np.random.default_rng(1).permutation(t.size)]]
    with pytest.raises(ValueError, match=r"x \(index\) and q_realisations \(columns\)"):
        mb.analyse_shape(x, permuted, n_bootstrap=0)
    assert mb.analyse_shape(x, frame, n_bootstrap=0).index == pytest.approx(
        mb.analyse_shape(x.to_numpy(), frame.to_numpy(), n_bootstrap=0).index)


def test_labels_that_do_not_overlap_are_told_to_pass_numpy_arrays():
    pd = pytest.importorskip("pandas")
    t, q = _series_pair()
    with pytest.raises(ValueError, match=r"to_numpy\(\)"):
        mb.fit_loss(pd.Series(t.to_numpy(), index=np.arange(1000, 1020)), q, 0.05)


@pytest.mark.parametrize("cell, sep", [("1,100.5", "\t"), ("1,100.5", ";"), ("12,345.67", " ")])
def test_a_us_grouped_number_with_a_decimal_point_is_not_read_as_a_decimal_comma(tmp_path, cell,
                                                                                  sep):
    """'1,100.5' mK in a tab-separated table was read as 1.1005 (the '.' dropped as grouping)."""
    from manybody.measured.tables import read_loss_table

    rows = [f"{t}{sep}1580000" for t in ("500.5", "700.5", "900.5", cell)]
    path = _loss_table(tmp_path / "us.txt", rows, f"T_mK{sep}Qi")
    with pytest.raises(ValueError, match=rf"cannot read '{cell}' as a number \(a thousands "
                                         rf"separator\? write {cell.replace(',', '')}\)"):
        read_loss_table(path)


def test_a_grouped_decimal_comma_number_is_still_read(tmp_path):
    from manybody.measured.tables import read_loss_table

    rows = ["100;1.234.567,5", "200;2.345.678,5", "300;3,46E+06"]
    table = read_loss_table(_loss_table(tmp_path / "de.csv", rows, "T (mK);Qi"))
    np.testing.assert_allclose(np.sort(1 / table.loss), [1234567.5, 2345678.5, 3.46e6])


def test_quoted_cells_between_tabs_or_blanks_are_read_again(tmp_path):
    """Session 46's quoted-comma reading split them at commas only: 'no numeric rows'."""
    f, db, deg = _sweep_lines()
    for sep in ("\t", " "):
        path = tmp_path / f"q{len(sep)}.txt"
        path.write_text(f"Frequency (Hz){sep}dB{sep}deg\n" + "\n".join(
            f'"{a:.1f}"{sep}"{b:.6f}"{sep}"{c:.6f}"' for a, b, c in zip(f, db, deg, strict=True)))
        np.testing.assert_allclose(_read_sweep(path).frequency, f)


def _index(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "index.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_a_sweep_index_applies_the_tables_number_rules(tmp_path):
    """'1.000' mK among 100 ... 900 in a ';' index was read as 1 mK; UTF-16 was a bare
    UnicodeDecodeError; a tab-separated index was not told about its tabs."""
    from manybody.measured.resonator_table import read_sweep_index

    rows = "".join(f"s_{i}.csv;{t};-20\n" for i, t in enumerate(("100", "500", "900", "1.000")))
    with pytest.raises(ValueError, match=r"sweep index .*column 'temperature_mK', line 5: '1.000'"):
        read_sweep_index(_index(tmp_path, "file;temperature_mK;power_dBm\n" + rows))
    index = read_sweep_index(_index(tmp_path, "file;temperature_K\ns_1.csv;0,03\ns_2.csv;0,045\n",
                                    "utf-16"))
    assert index["s_2.csv"][0] == pytest.approx(0.045)
    with pytest.raises(ValueError, match="separated by tabs"):
        read_sweep_index(_index(tmp_path, "file\ttemperature_K\ns_1.csv\t0.03\n"))


@pytest.mark.parametrize("encode", ["bom", "utf-16", "gzip"])
def test_touchstone_files_are_decoded_like_the_tables(tmp_path, encode):
    import gzip

    f, db, deg = _sweep_lines()
    text = "# Hz S DB R 50\n" + "\n".join(f"{a:.1f} 0 0 {b:.6f} {c:.6f} 0 0 0 0" for a, b, c in
                                          zip(f, db, deg, strict=True)) + "\n"
    raw = {"bom": b"\xef\xbb\xbf" + text.encode(), "utf-16": text.encode("utf-16"),
           "gzip": gzip.compress(text.encode())}[encode]
    (tmp_path / "s.s2p").write_bytes(raw)
    if encode == "gzip":
        with pytest.raises(ValueError, match="gzip-compressed"):
            _read_sweep(tmp_path / "s.s2p")
    else:
        np.testing.assert_allclose(_read_sweep(tmp_path / "s.s2p").frequency, f)


def test_other_one_group_marks_are_read_or_named():
    from manybody.measured.tables import _cell_value

    assert _cell_value("f", "T", 0, "1\u00a0000", False)[0] == 1000.0  # as '1 000' is read
    for cell, plain in (("1'000", "1000"), ("1\u2019000.5", "1000.5")):
        with pytest.raises(ValueError, match=rf"thousands separator\? write {plain}"):
            _cell_value("f", "T", 0, cell, False)


def test_a_folder_named_like_a_sweep_is_not_a_sweep(tmp_path):
    from manybody.measured.resonator_table import sweep_files

    (tmp_path / "s_030mK.csv").write_text("x")
    (tmp_path / "sub.csv").mkdir()
    assert [Path(f).name for f in sweep_files(tmp_path)] == ["s_030mK.csv"]


def test_a_memory_error_without_words_says_out_of_memory(monkeypatch, capsys):
    """An allocation failing under ulimit -v raised MemoryError() and the line ended at the
    colon: 'manybody run: error: ' (a second break test, session 46)."""
    from manybody.cli import app, info

    def fail(args):
        raise MemoryError()

    monkeypatch.setattr(info, "run", fail)
    assert app.main(["info", "x.nc"]) == 2
    assert capsys.readouterr().err.startswith("manybody info: error: out of memory")


# ------------------------------------------------ third round (helper-137, helper-138)

def test_integer_readings_beside_a_three_decimal_one_in_a_point_file_are_decimals(tmp_path):
    """'150.125' among 100, 200, 250 mK with Qi written '1.2e5' was refused as 150125 (a
    regression hunt, session 46): the file writes its decimals with '.'."""
    from manybody.measured.tables import read_loss_table

    rows = ["100\t1.2e5", "150.125\t1.3e5", "200\t1.4e5", "250\t1.5e5"]
    table = read_loss_table(_loss_table(tmp_path / "t.csv", rows, "T (mK)\tQi"))
    np.testing.assert_allclose(np.sort(table.temperature), [0.1, 0.150125, 0.2, 0.25])


def test_a_default_index_labels_nothing():
    """A Series with the default 0 .. n-1 index beside a DataFrame of realisations was refused."""
    pd = pytest.importorskip("pandas")
    t, q = _series_pair()
    frame = pd.DataFrame(np.vstack([q * (1 + 0.01 * k) for k in range(-2, 3)]),
                         columns=t.to_numpy())
    x = pd.Series(0.05 / t.to_numpy())  # the default index
    assert mb.analyse_shape(x, frame, n_bootstrap=0).index == pytest.approx(
        mb.analyse_shape((0.05 / t).to_numpy(), frame.to_numpy(), n_bootstrap=0).index)


def test_memory_checks_leave_room_under_an_address_space_limit(monkeypatch):
    """An N = 12 run under ulimit -v 1150000 passed the memory check and hung inside OpenBLAS."""
    from manybody.simulation.solvers import memory
    from manybody.support import address_space

    monkeypatch.setattr(address_space, "_limits", lambda: [("-v", 1_150_000 * 1024, 2**30)])
    assert memory.available_memory() <= 1_150_000 * 1024 - address_space.MAPPED_BESIDES_ARRAYS["-v"]
    with pytest.raises(MemoryError, match=r"ulimit -v 1150000"):
        mb.solve(mb.draw_realisation(mb.ModelParams(n_tls=12), mb.realisation_rng(1, 0)))

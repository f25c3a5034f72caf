"""Session 62: faults left in session 61's note, fixed: the default-TLS warning at a random
matrix of weight 0 (bt217 F3), a Chebyshev dtype given at its stochastic default where the exact
trace replaces it (bt217 F7), and the Chebyshev memory refusal's remedies at a small D (bt216
F11)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import manybody as mb
from manybody.cli.app import build_parser, main
from manybody.cli.info import _moved_note
from manybody.config.model import ModelParams, RandomMatrixParams, TLSParams
from manybody.config.probe import SaturationDrive
from manybody.config.solver import ChebyshevParams
from manybody.config.unused import UnusedParameterWarning, unused_parameters
from manybody.simulation.observables.absorption import FarAboveSpectrumWarning
from manybody.simulation.observables.saturation import (
    PhononLimitedWidthWarning,
    saturated_absorption,
    warn_if_beyond_rotating_wave,
)
from manybody.simulation.solvers.chebyshev import plan, resources
from manybody.simulation.solvers.chebyshev import solver as chebyshev_solver

PROBE = mb.Probe(temperatures=(0.05, 0.1), frequencies=(0.1,), observables=("absorption",))


# bt217 F3 ------------------------------------------------------------------------------------


def test_a_random_matrix_of_weight_zero_beside_the_default_tls_does_not_warn():
    """At weight 0 (a sweep's baseline) the model is the TLS term alone: nothing to warn of."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ModelParams(n_tls=3, random_matrix=RandomMatrixParams(weight=0.0))
    assert model.tls == TLSParams()
    with pytest.warns(UserWarning, match=r"tls is not given beside random_matrix \(weight 0.01 K\)"):
        ModelParams(n_tls=3, random_matrix=RandomMatrixParams(weight=0.01))


# bt217 F7 ------------------------------------------------------------------------------------


def test_a_float32_dtype_given_where_the_exact_trace_replaces_it_is_warned():
    """ChebyshevParams(dtype='float32') equals the stochastic default, but the user chose it: at
    D = 16 the solver takes the exact trace in float64 and the float32 changes nothing."""
    model = ModelParams(n_tls=4)
    given = mb.SolverParams(method="chebyshev", chebyshev=ChebyshevParams(dtype="float32"))
    with pytest.warns(UnusedParameterWarning,
                      match=r"solver\.chebyshev\.dtype = 'float32' has no effect: at D = 16 the "
                            r"solver takes the exact trace in float64"):
        warned = mb.observe(model, 1, 0, PROBE, given)
    with warnings.catch_warnings():  # not given: nothing to say, and the same numbers
        warnings.simplefilter("error", UnusedParameterWarning)
        plain = mb.observe(model, 1, 0, PROBE, mb.SolverParams(method="chebyshev"))
    assert (warned["absorption"] == plain["absorption"]).all()


def test_a_float32_dtype_under_a_stochastic_trace_at_a_large_d_is_not_warned():
    model = ModelParams(n_tls=9)
    given = mb.SolverParams(method="chebyshev", chebyshev=ChebyshevParams(dtype="float32"))
    assert unused_parameters(model, PROBE, given, "chebyshev") == []


# bt216 F11 -----------------------------------------------------------------------------------


def _narrow(n_tls: int, memory_fraction: float = 0.8):
    model = ModelParams(n_tls=n_tls)
    probe = mb.Probe(temperatures=(0.05, 0.1), frequencies=(0.1,), observables=("absorption",),
                     broadening=mb.Broadening(width=1e-4))
    solver = mb.SolverParams(method="chebyshev", chebyshev=ChebyshevParams(
        max_moments=65536, trace="exact", memory_fraction=memory_fraction))
    return model, probe, solver


def test_a_memory_refusal_at_a_small_d_proposes_dense_ed_not_more_of_too_little(monkeypatch):
    """D = 32 with a 1e-4 K kernel needs hundreds of GB: 'a larger memory_fraction' cannot help,
    dense ED does."""
    monkeypatch.setattr(plan, "available_memory", lambda: 4 * 2**30)
    model, probe, solver = _narrow(5)
    with pytest.raises(MemoryError) as refused:
        mb.observe(model, 1, 0, probe, solver)
    message = str(refused.value)
    assert "solver.method = 'dense' (exact diagonalisation of D = 32" in message
    assert "of 4 GB available" in message
    assert "memory_fraction >=" not in message and "larger memory_fraction" not in message


def test_a_memory_refusal_that_a_larger_fraction_would_lift_says_which(monkeypatch):
    monkeypatch.setattr(plan, "available_memory", lambda: 4000 * 2**30)
    model, probe, solver = _narrow(5, memory_fraction=0.01)
    with pytest.raises(MemoryError, match=r"chebyshev\.memory_fraction >= 0\.\d+"):
        mb.observe(model, 1, 0, probe, solver)


# session 61's note: U+2212 into an option that cannot be negative; two pasted values --------


def _cli_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("argv", [["fit-data", "a.csv", "--tmin", "\u221250mK"],
                                  ["fit-data", "a.csv", "--tmax=\u22120.5"]])
def test_a_pasted_minus_into_an_option_that_refuses_negatives_gets_its_refusal(capsys, argv):
    """'--tmin \u221250mK' was told to type '--tmin=-50mK', which --tmin then refused."""
    err = _cli_error(capsys, argv)
    assert "it is refused: argument --t" in err and "expected a temperature in K" in err, err
    assert "type it as" not in err and "joined to its option" not in err


@pytest.mark.parametrize("values", [["\u221280", "\u2212100"], ["-80", "\u2212100"],
                                    ["\u221280", "-100", "\u2212120"]])
def test_pasted_powers_as_separate_words_are_told_one_comma_separated_value(capsys, values):
    """'--powers \u221280 \u2212100' was told '--powers=-80', leaving -100 unrecognised."""
    err = _cli_error(capsys, ["fit-data", "a.csv", "--powers", *values])
    joined = ",".join(v.replace("\u2212", "-") for v in values)
    assert f"'--powers={joined}'" in err, err


def test_the_suggested_comma_separated_powers_parse(capsys):
    parsed = build_parser().parse_args(["fit-data", "a.csv", "--powers=-80,-100"])
    assert parsed.powers == "-80,-100"


# bt220 F1: phonon-limited widths of many TLS count spectators' flips as dephasing ------------

KPH, T_BATH, W = 4.8652e7, 0.05, 0.05


def _bloch_sum(dephasing_rate: float, amplitudes) -> tuple[dict, np.ndarray]:
    """saturated_absorption of two independent TLS (K = 0) and the sum of each TLS's own."""
    eps, delta = [0.03, 0.0], [0.04, 0.02]
    spectrum, elements = mb.solve(mb.Realisation.from_arrays(asymmetry=eps, tunnelling=delta))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PhononLimitedWidthWarning)
        pair = saturated_absorption(spectrum.energies, elements, W, T_BATH, amplitudes, KPH,
                                    dephasing_rate=dephasing_rate)
    alone = 0.0
    for e, d in zip(eps, delta, strict=True):
        one, t_one = mb.solve(mb.Realisation.from_arrays(asymmetry=[e], tunnelling=[d]))
        alone = alone + saturated_absorption(one.energies, t_one, W, T_BATH, amplitudes, KPH,
                                             dephasing_rate=dephasing_rate)["absorption"]
    return pair, alone


def test_phonon_limited_widths_of_two_independent_tls_are_warned_where_they_are_wrong():
    """At K = 0 the exact answer is the sum of the two TLS's Bloch results; with dephasing_rate
    = 0 the pair rule counts TLS 2's flips as dephasing of TLS 1's line (Q^-1 18 % low):
    warned. A pure dephasing far above the phonon rates is additive and not warned."""
    amplitudes = [0.0, 1e-8]
    spectrum, elements = mb.solve(mb.Realisation.from_arrays(asymmetry=[0.03, 0.0],
                                                             tunnelling=[0.04, 0.02]))
    with pytest.warns(PhononLimitedWidthWarning,
                      match=r"flips to other states than the line.s own make \d+% of the widths.*"
                            r"flips of other TLS as dephasing.*give the pure dephasing rate"):
        saturated_absorption(spectrum.energies, elements, W, T_BATH, amplitudes, KPH)
    pair, alone = _bloch_sum(0.0, amplitudes)
    assert pair["absorption"][0] < 0.9 * alone[0]  # the error the warning is about
    with warnings.catch_warnings():
        warnings.simplefilter("error", PhononLimitedWidthWarning)
        pair, alone = _bloch_sum(1e8, amplitudes)
    np.testing.assert_allclose(pair["absorption"], alone, rtol=1e-4)


@pytest.mark.parametrize("asymmetry, tunnelling", [([0.03], [0.04]), ([0.03, 0.01], [0.04, 1e-4])])
def test_a_tls_alone_or_beside_one_that_never_flips_is_not_warned(asymmetry, tunnelling):
    """One TLS's phonon-limited width is its Bloch T2 = 2 T1 (exact); beside a TLS that never
    flips, too ('phonon rates make 100 %' was warned there; bt224 F4a)."""
    spectrum, elements = mb.solve(mb.Realisation.from_arrays(asymmetry=asymmetry,
                                                             tunnelling=tunnelling))
    with warnings.catch_warnings():
        warnings.simplefilter("error", PhononLimitedWidthWarning)
        saturated_absorption(spectrum.energies, elements, W, T_BATH, [0.0, 1e-8], KPH)


def _gaussian_drive_probe() -> mb.Probe:
    """A saturation probe with a Gaussian line and no pure dephasing."""
    drive = SaturationDrive(amplitudes=(0.0, 1e-6), line="gaussian")
    return mb.Probe(frequencies=(0.1,), temperatures=(0.05,), observables=("saturation",),
                    phonon_rate_prefactor=KPH, saturation=drive)


def test_a_run_of_many_tls_with_a_gaussian_line_and_no_dephasing_is_warned():
    probe = _gaussian_drive_probe()
    with pytest.warns(PhononLimitedWidthWarning, match=r"probe\.saturation\.dephasing_rate = 0 "
                      r"with line = 'gaussian'"):
        warn_if_beyond_rotating_wave(ModelParams(n_tls=3), probe)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PhononLimitedWidthWarning)
        warn_if_beyond_rotating_wave(ModelParams(n_tls=1), probe)


# bt217 F6: the Kramers-Kronig hints do not propose an option already in use ------------------


@pytest.mark.parametrize("band", [None, "0.5,4"])
def test_kramers_kronig_hints_check_a_band_in_use_rather_than_propose_it(tmp_path, capsys, band):
    from test_data_faults_s61 import _single  # one loss table and twice its partner shift

    loss, shift = _single(tmp_path, 2.0)
    extra = ["--band", band] if band else []
    assert main(["fit-data", loss, "--shift", shift, "--frequency", "5GHz", *extra,
                 "--out", str(tmp_path / "o")]) == 0
    causes = capsys.readouterr().out.split("Likely causes")[1]
    assert ("--band LO,HI" in causes) is (band is None), causes
    assert ("a band is in use" in causes) is (band is not None), causes
    assert "--quasiparticle exp" in causes


# bt216 F3: info on a moved checkpoint names its output by an absolute path --------------------


def test_the_moved_checkpoint_note_gives_an_output_that_works_in_the_recorded_folder(
        tmp_path, monkeypatch):
    """The recorded command runs in its own folder; '-o copy/b.nc' relative to where info was
    asked named another file there."""
    argv = ["manybody", "run", "s.toml", "-o", "a.nc"]
    here = tmp_path / "elsewhere"
    here.mkdir()
    monkeypatch.chdir(here)
    note = _moved_note(argv, str(tmp_path / "original"), Path("copy") / "b.nc")
    assert f"give -o {here / 'copy' / 'b.nc'} in it" in note, note


def test_the_given_dtype_marker_stays_private(recwarn):
    """bt224 F6a: the marker leaked into the options' table (the spec's record, which a reader
    refuses as an unknown key) and into a warning, 'solver.chebyshev._dtype_given = True'."""
    solver = mb.SolverParams(method="chebyshev",
                             chebyshev=ChebyshevParams(dtype="float32", n_vectors=16))
    assert solver.to_dict()["chebyshev"] == {"n_vectors": 16}
    assert mb.SolverParams.from_table(solver.to_dict()).chebyshev == solver.chebyshev
    dense = mb.SolverParams(method="dense", chebyshev=ChebyshevParams(dtype="float32"))
    mb.observe(ModelParams(n_tls=3), 1, 0, PROBE, dense)
    said = [str(w.message) for w in recwarn if issubclass(w.category, UnusedParameterWarning)]
    assert said and all("_dtype_given" not in text for text in said), said


# bt224 F2a, F4a, F4b: false alarms of this session's warnings --------------------------------


def test_relaxation_at_temperatures_well_above_a_small_spectrum_is_not_a_unit_slip():
    """T = 2 K beside one TLS of 0.05 K is the relaxation regime (40x), not 2 K typed for 2 mK."""
    spectrum, elements = mb.solve(mb.Realisation.from_arrays(asymmetry=[0.03], tunnelling=[0.04]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FarAboveSpectrumWarning)
        mb.relaxation_absorption(spectrum, elements, [1e-7], [2.0], "a-SiO2")
    with pytest.warns(FarAboveSpectrumWarning, match="at most 200 times it"):
        mb.relaxation_absorption(spectrum, elements, [1e-7], [20.0], "a-SiO2")


def test_one_tls_with_a_zero_weight_block_is_not_warned_in_a_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error", PhononLimitedWidthWarning)
        warn_if_beyond_rotating_wave(
            ModelParams(n_tls=1, random_matrix=RandomMatrixParams(weight=0.0)),
            _gaussian_drive_probe())


# bt224 F1a: the early max_seconds bound counts the couplings' flips --------------------------


def _coupled(n: int, kinds: tuple[str, ...]) -> mb.Realisation:
    rng = np.random.default_rng(0)
    couplings = {}
    for kind in kinds:
        k = rng.normal(0, 0.05, (n, n))
        k = (k + k.T) / 2 if kind in ("zz", "xx") else k
        np.fill_diagonal(k, 0.0)
        couplings[kind] = k
    return mb.Realisation.from_arrays(asymmetry=rng.uniform(-0.5, 0.5, n),
                                      tunnelling=rng.uniform(0.01, 0.5, n), couplings=couplings)


def test_dense_xz_couplings_are_refused_before_anything_is_built(monkeypatch):
    """N = 22 with dense xz couplings and max_seconds = 60 was refused after 38 s (H built and
    timed): each matrix-free entry sums its xz terms, which the bound did not count."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("an expensive step ran before the max_seconds refusal")
    for name in ("spectral_bounds", "matrix_free_operators", "build_operators"):
        monkeypatch.setattr(chebyshev_solver, name, refuse)
    with pytest.raises(ValueError, match=r"before its spectral bounds are found \(n_tls=22"):
        chebyshev_solver.chebyshev_absorption(_coupled(22, ("xz",)), [0.1], [0.1],
                                              mb.Broadening(width=0.02),
                                              ChebyshevParams(max_seconds=60))


def test_the_work_per_row_counts_each_coupling_with_an_x_factor():
    real = _coupled(6, ("xz", "xx"))
    assert resources._off_diagonals_per_row(real) == 6 + 15  # six single flips, 15 xx pairs
    assert resources._off_diagonals_per_row(real, matrix_free=True) == 6 + 30 + 15
    plain = _coupled(6, ("zz",))
    assert resources._off_diagonals_per_row(plain) == 6
    assert resources._off_diagonals_per_row(plain, matrix_free=True) == 6

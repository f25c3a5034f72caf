"""Faults found by trying the public API and the run specification as a new user (session 42),
each tested as a kind: a law fit of an absorption that is zero everywhere, or of a constant curve
beside a background; the participation ratio of a vector not normalised; temperatures out of
order in the velocity-slope fits, named where; a probe axis put in [sweep]."""

from __future__ import annotations

import numpy as np
import pytest

import manybody as mb
from manybody.laws.velocity import canonical_ratio, fit_velocity_slopes, velocity_slopes
from manybody.runs.spec import RunSpec, normalise_sweep

X = np.linspace(0.1, 5.0, 10)


# ------------------------------------------------- fit_law of a curve with no shape
@pytest.mark.parametrize("law", ["family", "tls", "generic"])
def test_fit_law_refuses_an_absorption_that_is_zero_at_every_x(law):
    """It returned the fit's start (index 0.5 +- 4) without a word; analyse_shape refused."""
    with pytest.raises(ValueError, match=r"q is zero at every x \(x = 0.1 to 5"):
        mb.fit_law(X, np.zeros(10), law=law)


@pytest.mark.parametrize("level", [0.0, 2.0, 3e-4])
def test_a_constant_curve_beside_a_background_flags_the_index_as_undetermined(level):
    fit = mb.fit_law(X, np.full(10, level), background=True)
    assert any("does not determine the index" in s or "do not determine the index" in s
               for s in fit.indeterminate), fit.indeterminate
    assert fit.parameters["background"] == pytest.approx(level, abs=1e-8)


def test_a_curve_with_a_shape_is_not_flagged():
    fit = mb.fit_law(X, 1.0 + np.tanh(X / 2), background=True)
    assert not fit.indeterminate
    assert fit.parameters["index"] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError):  # one nonzero value is a shape: not refused as zero
        mb.fit_law(X, np.zeros(10), law="tls")
    assert mb.fit_law(X, np.r_[np.zeros(9), 1.0]).n_points == 10


# ------------------------------------------------- participation ratio
@pytest.mark.parametrize("d", [2, 4, 16])
def test_participation_ratio_does_not_depend_on_the_vectors_norm(d):
    """np.ones(D) gave 1/D (the normalised definition applied to a vector of norm D); it is D."""
    assert float(mb.participation_ratio(np.ones(d))) == pytest.approx(d)
    assert float(mb.participation_ratio(3.0 * np.ones(d))) == pytest.approx(d)
    np.testing.assert_allclose(mb.participation_ratio(5.0 * np.eye(d)), np.ones(d))


def test_participation_ratio_of_eigenvectors_unchanged_bit_for_bit():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((32, 32))
    vectors = np.linalg.eigh(a + a.T)[1]
    np.testing.assert_array_equal(mb.participation_ratio(vectors),
                                  1.0 / np.sum(vectors**4, axis=0))


# ------------------------------------------------- temperatures out of order
T = np.geomspace(0.01, 1.0, 20)
DV = np.log(T / 0.01) - 2.0 * np.clip(np.log(T / 0.1), 0, None)


@pytest.mark.parametrize("call", [
    lambda t, dv: velocity_slopes(t, dv),
    lambda t, dv: fit_velocity_slopes(t, dv),
    lambda t, dv: canonical_ratio(t, 0.1),
])
@pytest.mark.parametrize("where", [5, 19])
def test_temperatures_out_of_order_are_named_where(call, where):
    t = T.copy()
    t[where] = t[where - 1]  # a repeated temperature
    with pytest.raises(ValueError, match=rf"found {t[where - 1]:.6g} K then {t[where]:.6g} K "
                                         rf"at index {where}; sort the rows"):
        call(t, DV)


# ------------------------------------------------- a probe axis in [sweep]
@pytest.mark.parametrize("key", ["probe.frequencies", "probe.temperatures", "temperatures",
                                 "probe.observables"])
def test_a_probe_axis_in_the_sweep_says_it_belongs_in_the_probe(key):
    name = key.split(".")[-1]
    with pytest.raises(ValueError, match=rf"sweep key '{key}': the {name} are computed at every "
                                         rf"sweep point already .* list them in \[probe\] "
                                         rf"\(probe.{name} = \[...\]\)"):
        normalise_sweep({key: [0.1, 0.2]})


def test_sweepable_keys_still_sweep():
    assert normalise_sweep({"probe.broadening.width": [0.01, 0.02]})["probe.broadening.width"] \
        == (0.01, 0.02)
    assert RunSpec is not None


# ------------------------------------------------- fit-data --powers with its unit
def _powers(text: str, files: int = 1):
    import argparse

    from manybody.cli.fit_data import _powers as parse

    return parse(argparse.Namespace(powers=text, files=[f"run{i}.csv" for i in range(files)]))


@pytest.mark.parametrize(("text", "expected"), [
    ("-100dBm", [-100.0]), ("-100 dBm", [-100.0]), ("-100DBM", [-100.0]), ("-100", [-100.0]),
    ("-80dBm,-100 dBm", [-80.0, -100.0]),
])
def test_powers_may_carry_their_unit(text, expected):
    assert _powers(text, len(expected)) == expected


@pytest.mark.parametrize("text", ["-100mW", "1e-3W", "-100dB m", "dBm"])
def test_powers_in_another_unit_are_refused_naming_dbm(text):
    with pytest.raises(ValueError, match=r"--powers must be comma-separated numbers in dBm "
                                         r"\(-100,-120 or -100dBm,-120dBm\), got"):
        _powers(text)


# ------------------------------------------------- a dask scheduler address without a port
@pytest.mark.parametrize(("address", "why"), [
    ("notanaddress", "missing port number"), ("node7", "missing port number"),
    ("tcp://node7", "missing port number"), ("tcp://h:port", "invalid literal"),
    ("tcp://:8786", "no host"), ("node7:99999", "port 99999 outside 1..65535"),
    ("", "missing port number"),
])
def test_a_scheduler_address_dask_cannot_parse_is_refused_before_any_work(address, why):
    pytest.importorskip("distributed")
    from manybody.runs.sweep import check_run_arguments

    with pytest.raises(ValueError, match=rf"scheduler={address!r} is not a dask scheduler "
                                         rf"address, tcp://host:port .*{why}"):
        check_run_arguments(1, "dask", address)


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "10.0.0.5:8786", "tls://node7:8786",
                                     "inproc://somewhere", "tcp://[::1]:8786"])
def test_well_formed_scheduler_addresses_pass_the_check(address):
    pytest.importorskip("distributed")
    from manybody.runs.sweep import check_run_arguments

    assert check_run_arguments(1, "dask", address) == 1


def test_the_study_refuses_a_scheduler_without_a_port_at_once_in_one_line(tmp_path):
    """The study printed its plan, started the first sweep, failed, and the half-made Client
    then held the process 40 s and printed a TimeoutError traceback on its way out."""
    pytest.importorskip("distributed")
    import subprocess
    import sys
    import time

    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "manybody", "study", "--tiny", "--backend",
                           "dask", "--scheduler", "node7", "-o", str(tmp_path / "s")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "manybody study: error: --scheduler 'node7' is not a dask scheduler address, "
        "tcp://host:port (e.g. tcp://10.0.0.5:8786): missing port number in address 'node7'"]
    assert "computing" not in proc.stdout + proc.stderr
    assert time.perf_counter() - start < 30  # 40 s of a closing Client before; about 1 s now
    assert not (tmp_path / "s").exists()


# ------------------------------------------------- a misspelt choice on the command line
@pytest.mark.parametrize(("argv", "choice", "close"), [
    (["study", "--tiny", "--only", "dipoler"], "dipoler", "dipolar"),
    (["stdy"], "stdy", "study"),
    (["fit-data", "x.csv", "--sweep-layout", "db-degg"], "db-degg", "db-deg"),
    (["run", "x.toml", "--backend", "dsk"], "dsk", "dask"),
])
def test_a_misspelt_choice_is_told_the_closest(capsys, argv, choice, close):
    from manybody.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"invalid choice: {choice!r}" in last and last.endswith(f"; did you mean {close!r}?")


def test_a_choice_like_none_is_not_given_a_suggestion(capsys):
    from manybody.cli import main

    with pytest.raises(SystemExit):
        main(["study", "--only", "zzz"])
    assert "did you mean" not in capsys.readouterr().err


# ------------------------------------------------- the Chebyshev solver's default block (issue 20)
@pytest.mark.parametrize(("operator", "trace", "n_vectors", "block"), [
    ("matrix_free", "stochastic", 8, 4), ("matrix_free", "stochastic", 32, 4),
    ("matrix_free", "stochastic", 2, 2), ("sparse", "stochastic", 32, 16),
    ("matrix_free", "exact", 4, 64),
])
def test_default_blocks_of_the_chebyshev_plan(operator, trace, n_vectors, block):
    """Stochastic traces under the matrix-free operator run blocks of 4 vectors (session 42: at
    N = 18 one block of 8 took 1.3-1.4x as long, the same numbers); the sparse operator of a
    small D keeps 16, an exact trace 64."""
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers.chebyshev import solver as ch

    params = mb.ModelParams(n_tls=8, coupling=mb.CouplingParams(strength=0.05))
    real = mb.draw_realisation(params, mb.realisation_rng(3, 0))
    options = ChebyshevParams(n_vectors=n_vectors, operator=operator, trace=trace,
                              dtype="float64")
    t = np.geomspace(0.02, 0.2, 5)
    plan = ch.plan_chebyshev(real, np.array([0.1]), t, mb.Broadening(width=0.02), options)
    assert plan.block == min(block, n_vectors if trace == "stochastic" else 2**8)


def test_blocks_of_four_give_the_numbers_of_one_block_of_eight():
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers.chebyshev import solver as ch

    params = mb.ModelParams(n_tls=9, coupling=mb.CouplingParams(strength=0.05))
    real = mb.draw_realisation(params, mb.realisation_rng(3, 0))
    t, w, b = np.geomspace(0.02, 0.2, 5), np.array([0.1]), mb.Broadening(width=0.02)
    runs = [ch.chebyshev_absorption(real, w, t, b, ChebyshevParams(
        n_vectors=8, block=block, operator="matrix_free", dtype="float32"), seed=4,
        observables=("absorption",)).absorption for block in (None, 8)]
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=0)

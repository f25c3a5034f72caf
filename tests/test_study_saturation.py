"""The study's saturation comparison (issue 18 item 4): the shipped specs, the saturation table
(beta, Pc, p-value of beta = 1/2) and its physics on small direct runs (docs/PHYSICS.md section 8)."""

import math

import numpy as np
import pytest

from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.simulation.materials import bath
from manybody.simulation.observables.saturation import critical_amplitude
from manybody.study.catalogue import SATURATION_SPECS, STUDY_SPECS
from manybody.study.saturation_table import SaturationSummary, model_name
from manybody.study.specs import load_study_spec
from manybody.study.summary import (
    format_summary,
    read_saturation,
    summarise_saturation,
    write_summary,
)
from manybody.units import BOLTZMANN, HBAR


@pytest.mark.parametrize("name", SATURATION_SPECS)
def test_shipped_saturation_specs_span_pc_with_pure_dephasing_inside_the_tls_band(name):
    """Amplitudes from below 0.02 Pc to above 100 Pc at every temperature; gamma_phi >> 1/T1
    (T2 does not depend on Delta: the regime of 1/sqrt(1 + P/Pc)); the power-broadened line stays
    inside the TLS band (E_max - w) at the highest power."""
    assert name in STUDY_SPECS
    spec = load_study_spec(name)
    probe, drive = spec.probe, spec.probe.saturation
    w = probe.frequencies[0]
    k_ph = bath(probe.phonon_rate_prefactor).rate_prefactor
    e0 = np.asarray(drive.amplitudes)
    assert e0[0] == 0 and np.all(np.diff(e0) > 0)
    tls = load_study_spec("saturation").model.tls
    band_top = math.hypot(tls.asymmetry_max, tls.tunnelling_max)
    eta = HBAR * drive.dephasing_rate / BOLTZMANN  # line half width (K)
    assert 0.1 * w < eta < 0.3 * w
    for t in probe.temperatures:
        assert drive.dephasing_rate > 1e4 * k_ph * w**3 / math.tanh(0.5 * w / t)
        ec = critical_amplitude(w, t, k_ph, dephasing_rate=drive.dephasing_rate,
                                stress_scale=spec.model.stress.deformation_potential)
        ratio = (e0[1:] / ec) ** 2
        assert ratio.min() < 0.02 and ratio.max() > 100
        # at the band edge at x = 4 (0.34 K against 0.32 K); the default run: beta = 0.50 +- 0.02
        # there, against 0.57 +- 0.015 with e0 up to 5e-3 (P/Pc ~ 2800, half width 1.2 K)
        assert math.sqrt(1 + ratio.max()) * eta < 1.1 * (band_top - w)
    assert sorted(w / t for t in probe.temperatures) == [1.0, 4.0]
    assert load_study_spec(name, "tiny").probe.temperatures == (w,)


def _run(tmp_path, name, realisations, **resize):
    spec = load_study_spec(name).resized(realisations=realisations, **resize)
    return run_sweep(spec, tmp_path / f"{name}.nc", n_jobs=1)


def test_independent_tls_with_pure_dephasing_give_beta_one_half_and_the_resonant_pc(tmp_path):
    """Canonical K = 0 TLS, T2 = 1/gamma_phi independent of Delta: Q^-1 = Q^-1(0)/sqrt(1 + P/Pc)
    with Pc that of a resonant TLS (Omega^2 T1 T2 = 1, Delta-independent since Omega^2 T1 is);
    fitted to the realisation mean at x = 1 and 4 (N = 4, 200 realisations: 800 TLS)."""
    ds = _run(tmp_path, "saturation", 200, n_tls=4, sweep={})
    rows = summarise_saturation(ds, "saturation", n_bootstrap=60)
    assert [(r.model, r.x) for r in rows] == [("independent TLS", 1.0), ("independent TLS", 4.0)]
    for r in rows:
        assert r.beta_error < 0.05
        assert abs(r.beta - 0.5) < 3 * r.beta_error, (r.beta, r.beta_error)
        assert 0.5 < r.critical_power_ratio < 1.5  # 0.76, 0.63 at N = 6 (line width 0.23 w)
        assert r.p_value_half > 1e-3
        assert r.linear_loss > 5 * r.linear_loss_error


def test_flat_random_block_saturates_far_more_weakly_than_tls(tmp_path):
    """The flat block (no TLS) at N = 6: beta far below 1/2 (0.17 in the default run), rejected."""
    ds = _run(tmp_path, "saturation_block", 16)
    rows = summarise_saturation(ds, "saturation_block", n_bootstrap=60)
    assert [r.model for r in rows] == ["flat random block"] * 2
    for r in rows:
        assert r.beta < 0.3 and r.beta + 3 * r.beta_error < 0.5 and r.p_value_half < 1e-3


def test_model_names_follow_the_parameters():
    points = {model_name(model) for _, model, _ in load_study_spec("saturation").points()}
    assert points == {"independent TLS", "TLS + dipolar J0 = 0.03 K", "TLS + GOE 0.1 K",
                      "TLS + dipolar J0 = 0.03 K + GOE 0.1 K"}
    assert model_name(load_study_spec("saturation_block").model) == "flat random block"


def test_saturation_rows_round_trip_and_old_studies_read_without_them(tmp_path):
    row = SaturationSummary(study="saturation", parameter="strength", value=0.0,
                            model="independent TLS", n_tls=6, realisations=10, temperature=0.1,
                            x=1.0, beta=0.51, beta_error=0.02)
    write_summary(tmp_path, [], [], [row])
    back = read_saturation(tmp_path)
    assert back == [row] or (back[0].beta == 0.51 and math.isnan(back[0].critical_amplitude))
    assert "| saturation | independent TLS | 6 | 10 | 1 |" in format_summary([], [], back)
    assert "0.510 ± 0.020" in (tmp_path / "summary.md").read_text()
    # an older file without the newer columns, and a study without saturation.json
    (tmp_path / "saturation.json").write_text(
        '[{"study": "s", "parameter": "-", "value": null, "model": "m", "n_tls": 6, '
        '"realisations": 3, "temperature": 0.1, "x": 1.0, "beta": null}]')
    old = read_saturation(tmp_path)[0]
    assert math.isnan(old.beta) and math.isnan(old.p_value_half)
    assert read_saturation(tmp_path / "nowhere") == []


def test_saturation_spec_is_a_plain_run_spec():
    """The shipped file is an ordinary run spec a user can run with ``manybody run``."""
    spec = RunSpec.from_dict(load_study_spec("saturation").to_dict())
    assert spec.n_points == 4 and spec.probe.observables == ("saturation",)

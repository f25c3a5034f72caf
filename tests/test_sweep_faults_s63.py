"""Session 63, a tester of resonator data (bt226 F3): a lossy dielectric's own TLS shift
(F delta0 = 1e-3, Qi ~ 1000: f0 rises by 1.3e-4 from 0.4 to 0.6 K) was refused as "two
resonators" by a fixed bound of 1e-4 on the rise between neighbouring temperatures. The bound
now grows with the shift the measured loss allows, (F delta0/pi) ln(T2/T1) with F delta0 <= 1/Qi."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import digamma

from manybody.measured.resonance import _failed
from manybody.measured.resonator_table import SweepResult, check_one_resonator

H_OVER_K = 4.799243e-11  # K per Hz


def _results(f0s, temperatures, qis, error=1e3):
    out = []
    for k, (f0, t, qi) in enumerate(zip(f0s, temperatures, qis, strict=True)):
        fit = _failed(f"s{k}.csv", "")
        fit = type(fit)(**{**fit.to_dict(), "f0": f0, "f0_err": error, "flag": False,
                           "qc": 1e3, "qc_err": 3.0, "qi": qi, "qi_err": 0.01 * qi})
        out.append(SweepResult(f"s{k}.csv", t, -100.0, fit))
    return out


def _tls_shift(t: np.ndarray, f0: float, f_delta: float) -> np.ndarray:
    """The resonant TLS shift (F delta0/pi)[Re psi(1/2 + x/(2 pi i)) - ln(x/2 pi)], x = hf/kT."""
    x = H_OVER_K * f0 / t
    return f_delta / np.pi * (np.real(digamma(0.5 + x / (2j * np.pi))) - np.log(x / (2 * np.pi)))


@pytest.mark.parametrize("f_delta", [1e-3, 3e-3])
def test_a_lossy_dielectric_s_own_tls_shift_is_one_resonator(f_delta):
    t = np.array([0.02, 0.03, 0.045, 0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.6, 0.8, 1.0])
    f0 = 6e9 * (1 + _tls_shift(t, 6e9, f_delta))
    assert np.max(np.diff(f0) / f0[:-1]) > 1e-4  # beyond the old fixed bound
    loss = f_delta * np.tanh(H_OVER_K * 6e9 / (2 * t)) + 1e-4
    check_one_resonator(_results(f0, t, 1 / loss))


def test_two_resonators_are_still_two_at_that_loss():
    t = np.linspace(0.02, 0.6, 8)
    for pattern in ([0, 1] * 4, [0, 0, 1, 1] * 2):
        two = 6.0e9 * (1 + 3e-3 * np.array(pattern))
        with pytest.raises(ValueError, match=r"two resonators.*rises by at most [\d.e-]+ here: 3x "
                                             r"its TLS shift"):
            check_one_resonator(_results(two, t, [1e3] * 8))
    with pytest.raises(ValueError, match=r"one temperature, two resonance frequencies"):
        check_one_resonator(_results([6.0e9, 6.003e9], [0.1, 0.1], [1e3, 1e3]))


# bt226 N2: a sweep index headed as a loss table is ('T (mK)', 'P (dBm)') was refused ----------


@pytest.mark.parametrize("header, scale", [("file;T (mK);P (dBm)", 1e3),
                                           ("filename,Temperature [K],power (dBm)", 1.0),
                                           ("file,temperature_mK,power_dBm", 1e3),
                                           ("File;Temperature (mK);Power (dBm)", 1e3),
                                           ("FILE,TEMPERATURE_K,POWER_DBM", 1.0)])
def test_a_sweep_index_takes_the_loss_tables_header_forms(tmp_path, header, scale):
    from manybody.measured.resonator_table import read_sweep_index

    sep = ";" if ";" in header else ","
    path = tmp_path / "index.csv"
    path.write_text(header + "\n" + "".join(f"scan_{k:03d}.csv{sep}{t * scale:g}{sep}-90\n"
                                            for k, t in enumerate((0.02, 0.05, 0.1, 0.2))))
    index = read_sweep_index(path)
    assert dict(index) == {f"scan_{k:03d}.csv": (pytest.approx(t), -90.0)
                           for k, t in enumerate((0.02, 0.05, 0.1, 0.2))}


def test_a_sweep_index_power_in_watts_is_refused_by_name(tmp_path):
    from manybody.measured.resonator_table import read_sweep_index

    path = tmp_path / "index.csv"
    path.write_text("file,T (mK),P (W)\na.csv,20,1e-12\nb.csv,50,1e-12\n")
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['P \(W\)'\].*a power in W"):
        read_sweep_index(path)


# round 2 (bt229 F8): the allowance let two resonators through ---------------------------------


def test_two_lossy_resonators_alternating_below_hf_over_k_are_two():
    """Qi ~ 950 at 6.000 and 6.004 GHz alternating at 10-160 mK: the TLS shift is flat there
    (hf/k = 0.29 K), and a ln(T2/T1) allowance at every temperature took them as one."""
    t = np.array([0.01, 0.02, 0.04, 0.08, 0.16])
    f0 = 6e9 * (1 + 6.7e-4 * np.array([0, 1, 0, 1, 0]))
    with pytest.raises(ValueError, match="two resonators"):
        check_one_resonator(_results(f0, t, [950.0] * 5))


def test_the_hottest_sweep_s_quasiparticle_loss_does_not_widen_the_allowance():
    """Two high-Q resonators 1.5e-4 apart; the 320 mK sweep's quasiparticle loss (Qi 3367) was
    taken as the bound on F delta0 for every pair."""
    t = np.array([0.02, 0.04, 0.08, 0.16, 0.32])
    f0 = 6e9 * (1 + 1.5e-4 * np.array([0, 1, 0, 1, 0]))
    with pytest.raises(ValueError, match="two resonators"):
        check_one_resonator(_results(f0, t, [1.43e5, 1.43e5, 1.4e5, 1.3e5, 3367.0]))


# round 3 (bt230 F4, F5) ---------------------------------------------------------------------------


def _powered(f0s, temperatures, qis, power):
    out = _results(f0s, temperatures, qis)
    return [SweepResult(r.file.replace("s", f"p{-power:g}_"), r.temperature, power, r.fit)
            for r in out]


def test_a_saturated_power_takes_the_bound_of_its_unsaturated_sweeps():
    """bt230 F4: F delta0 = 1/300 driven 4x into saturation (Qi 1200) beside its own -100 dBm
    sweeps (Qi 300) was refused: the shift does not saturate, the loss does."""
    t = np.geomspace(0.01, 1.0, 12)
    f0 = 6e9 * (1 + _tls_shift(t, 6e9, 1 / 300))
    loss = np.tanh(H_OVER_K * 6e9 / (2 * t)) / 300
    low = _powered(f0, t, 1 / loss, -100.0)
    high = _powered(f0, t, 4 / loss, -60.0)
    check_one_resonator(low + high)
    with pytest.raises(ValueError, match="two resonators"):  # the saturated power alone
        check_one_resonator(high)


@pytest.mark.parametrize("offset_hz", [1e5, 5e5])
def test_two_high_q_resonators_a_fraction_of_a_megahertz_apart_are_two(offset_hz):
    """bt230 F5: 0.1-0.5 MHz at 6 GHz (2e-5-8e-5 of f0) with one coupler design passed under a
    fixed floor of 1e-4."""
    t = np.geomspace(0.01, 1.0, 12)
    f0 = 6e9 + offset_hz * (np.arange(12) % 2)
    with pytest.raises(ValueError, match="two resonators"):
        check_one_resonator(_results(f0, t, [1e5] * 12, error=60.0))

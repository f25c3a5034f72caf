"""Session 58 (a tester, bt196, F1): a subnormal tunnelling splitting Delta_min = 1e-320 K was
taken, ln(Delta_max / Delta_min) overflowed and every absorption of the run was inf without a
word. Every model energy other than 0 now has a floor (MIN_ENERGY) where its ratios and squares
stay finite."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

import manybody as mb
from manybody.config.model import MIN_ENERGY


@pytest.mark.parametrize("value", [1e-320, 5e-324, 1e-101])
@pytest.mark.parametrize(("build", "key"), [
    (lambda x: mb.TLSParams(tunnelling_min=x), "tls.tunnelling_min"),
    (lambda x: mb.TLSParams(asymmetry_max=x), "tls.asymmetry_max"),
    (lambda x: mb.CouplingParams(strength=x), "coupling.strength"),
    (lambda x: mb.RandomMatrixParams(weight=x), "random_matrix.weight"),
])
def test_a_model_energy_below_the_floor_is_refused_naming_its_key(build, key, value):
    with pytest.raises(ValueError, match=rf"{key} must be (0 or )?at least 1e-100 K .*got "
                                         rf"{value!r}"):
        build(value)


def test_at_the_floor_the_tunnelling_range_is_finite_and_zero_couplings_stay_allowed():
    tls = mb.TLSParams(tunnelling_min=MIN_ENERGY)
    assert math.isfinite(tls.log_range) and tls.log_range == pytest.approx(math.log(1e100))
    assert mb.CouplingParams(strength=0.0).strength == 0.0
    assert mb.RandomMatrixParams(weight=0.0).weight == 0.0


def test_a_spec_with_a_subnormal_tunnelling_splitting_is_refused_before_any_file(tmp_path):
    spec = tmp_path / "t.toml"
    spec.write_text('name = "x"\nseed = 1\nrealisations = 2\n[model]\nn_tls = 3\n[model.tls]\n'
                    'tunnelling_min = 1e-320\n[probe]\nfrequencies = [0.1]\n'
                    'temperatures = [0.02, 0.05]\nobservables = ["absorption"]\n'
                    '[probe.broadening]\nkind = "gaussian"\nwidth = 0.02\n')
    out = tmp_path / "o.nc"
    proc = subprocess.run([sys.executable, "-m", "manybody", "run", str(spec), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "model.tls.tunnelling_min must be at least 1e-100 K" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()

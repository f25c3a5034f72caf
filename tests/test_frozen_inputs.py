"""Frozen, validated containers keep read-only copies of the caller's arrays (a tester, session
39): Realisation froze the caller's own arrays (``eps *= 2`` then failed) and kept views of
them, so editing the caller's table changed the realisation's energies without a word; LossCurve,
ShiftCurve and Spectrum kept the caller's arrays too."""

from __future__ import annotations

import numpy as np
import pytest

import manybody as mb
from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.simulation.ensembles import Realisation


def test_realisation_copies_and_leaves_the_callers_arrays_writeable():
    table = np.array([[0.1, 0.05, 1.0], [-0.2, 0.08, 1.5], [0.3, 0.02, 0.5]])
    eps, delta, gamma = table[:, 0], table[:, 1], table[:, 2]  # views of the caller's table
    zz = np.zeros((3, 3))
    zz[0, 1] = zz[1, 0] = 0.01
    real = Realisation.from_arrays(asymmetry=eps, tunnelling=delta, deformation_potential=gamma,
                                   couplings={"zz": zz})
    before = mb.solve(real)[0].energies.copy()
    eps *= 2  # the caller's array is still theirs
    table[1, 1] = np.nan
    zz[0, 1] = 5.0
    assert table.flags.writeable and zz.flags.writeable
    np.testing.assert_array_equal(real.asymmetry, [0.1, -0.2, 0.3])
    np.testing.assert_array_equal(real.tunnelling, [0.05, 0.08, 0.02])
    assert real.couplings["zz"][0, 1] == 0.01
    np.testing.assert_array_equal(mb.solve(real)[0].energies, before)
    for arr in (real.asymmetry, real.tunnelling, real.deformation_potential, real.couplings["zz"]):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0


def test_curves_and_spectrum_copy_the_callers_arrays():
    t, q, s = np.array([0.1, 0.2, 0.3]), np.array([1e-5, 2e-5, 3e-5]), np.full(3, 1e-7)
    curve = LossCurve(t, q, s)
    q[0] = -1.0  # would have been refused at construction
    t *= 1000
    s[:] = 0
    np.testing.assert_array_equal(curve.loss, [1e-5, 2e-5, 3e-5])
    np.testing.assert_array_equal(curve.temperature, [0.1, 0.2, 0.3])
    assert curve.sigma[0] == 1e-7 and not curve.loss.flags.writeable
    y = np.array([1e-6, 2e-6, 3e-6])
    shift = ShiftCurve(np.array([0.1, 0.2, 0.3]), y)
    y[:] = 0
    assert shift.shift[2] == 3e-6
    energies = np.array([0.0, 0.1, 0.3])
    spectrum = mb.Spectrum(energies=energies)
    energies[1] = 9.0  # would have been refused as not ascending
    np.testing.assert_array_equal(spectrum.energies, [0.0, 0.1, 0.3])
    assert energies.flags.writeable and not spectrum.energies.flags.writeable

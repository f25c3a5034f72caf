"""Reuse of finished realisations of identical sweep points (manybody.runs.reuse): bit for bit
the numbers of a run from scratch, only for points that are really identical."""

import numpy as np

from manybody.runs.checkpoint import Checkpoint, checkpoint_dir
from manybody.runs.results import load_results
from manybody.runs.reuse import point_identity, seed_checkpoint
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep

BASE = {
    "seed": 11,
    "model": {"n_tls": 4, "coupling": {"kind": "dipolar", "strength": 0.01},
              "tls": {"asymmetry_max": 0.3}},
    "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1, 0.3],
              "observables": ["absorption", "velocity_shift", "specific_heat"],
              "broadening": {"kind": "gaussian", "width": 0.02}},
}


def spec(name, sweep, realisations, **changes):
    return RunSpec.from_dict({**BASE, **changes, "name": name, "sweep": sweep,
                              "realisations": realisations})


def test_reused_points_give_the_numbers_of_a_run_from_scratch(tmp_path):
    donor = spec("donor", {"model.coupling.strength": [0.0, 0.01, 0.03]}, [3, 5, 2])
    donor_ds = run_sweep(donor, tmp_path / "donor.nc")
    # recipient: (0.01, 0.3) is the donor's point 1 (5 of its 7 realisations), (0.03, 0.3) its
    # point 2 (2 of 4), the eps_max = 0.9 points are new
    recipient = spec("recipient", {"model.coupling.strength": [0.01, 0.03],
                                   "model.tls.asymmetry_max": [0.3, 0.9]}, [[7, 3], [4, 3]])
    copied = seed_checkpoint(recipient, tmp_path / "recipient.nc", [load_results(tmp_path / "donor.nc")])
    assert copied == {"donor": 5 + 2}
    reused = run_sweep(recipient, tmp_path / "recipient.nc")
    assert reused.attrs["tasks_resumed"] == 7
    scratch = run_sweep(recipient)
    for name in BASE["probe"]["observables"]:
        np.testing.assert_array_equal(reused[name].values, scratch[name].values)
    # the copied values are the donor's
    np.testing.assert_array_equal(reused["absorption"].values[0, 0, :5],
                                  donor_ds["absorption"].values[1, :5])


def test_points_that_differ_in_anything_are_not_reused(tmp_path):
    donor = run_sweep(spec("donor", {"model.coupling.strength": [0.01]}, 3))
    for name, changes in {
        "seed": {"seed": 12},
        "probe": {"probe": {**BASE["probe"], "temperatures": [0.05, 0.1, 0.31]}},
        "kind": {"model": {**BASE["model"], "coupling": {"kind": "gaussian", "strength": 0.01}}},
    }.items():
        other = spec(name, {"model.coupling.strength": [0.01]}, 3, **changes)
        assert seed_checkpoint(other, tmp_path / f"{name}.nc", [donor]) == {}
        assert not checkpoint_dir(tmp_path / f"{name}.nc").exists()  # nothing written
    same = spec("same", {"model.coupling.strength": [0.01]}, 3)
    (index, model, probe), = same.points()
    assert point_identity(same, model, probe, 1) != point_identity(same, model, probe, 2)
    assert seed_checkpoint(same, tmp_path / "same.nc", [donor], blas_threads=2) == {}


def test_seeding_twice_copies_nothing_new_and_a_resumed_run_keeps_its_tasks(tmp_path):
    donor = run_sweep(spec("donor", {"model.coupling.strength": [0.01]}, 4))
    recipient = spec("recipient", {"model.coupling.strength": [0.01, 0.03]}, 4)
    out = tmp_path / "recipient.nc"
    assert seed_checkpoint(recipient, out, [donor]) == {"donor": 4}
    assert seed_checkpoint(recipient, out, [donor]) == {}
    files = Checkpoint(checkpoint_dir(out), recipient, 1).files()
    assert sorted(files.values()) == [(0, 0, 4)]

"""Boolean flags of the API accept only True or False (session 39: save_results(...,
overwrite="False") replaced an existing file, "False" being truthy; build_operators,
build_hamiltonian and diagonalise took "False" as True too), and save_results names a
wrong type of dataset."""

import numpy as np
import pytest
import xarray as xr

import manybody as mb
from manybody.runs.results import check_writable


def test_save_results_refuses_a_string_overwrite_and_keeps_the_file(tmp_path):
    path = tmp_path / "r.nc"
    mb.save_results(xr.Dataset({"a": ("x", np.ones(2))}), path)
    for flag in ("False", "True", 1, None):
        with pytest.raises(TypeError, match=r"overwrite must be True or False, got"):
            mb.save_results(xr.Dataset({"a": ("x", np.zeros(2))}), path, overwrite=flag)
    assert mb.load_results(path)["a"].values.tolist() == [1.0, 1.0]
    mb.save_results(xr.Dataset({"a": ("x", np.zeros(2))}), path, overwrite=True)
    assert mb.load_results(path)["a"].values.tolist() == [0.0, 0.0]


def test_check_writable_refuses_a_string_overwrite(tmp_path):
    with pytest.raises(TypeError, match=r"overwrite must be True or False"):
        check_writable(tmp_path / "r.nc", overwrite="no")


@pytest.mark.parametrize("ds", [{"absorption": np.ones(3)}, None, np.ones(3)])
def test_save_results_names_a_wrong_dataset_type(tmp_path, ds):
    with pytest.raises(TypeError, match=r"ds must be an xarray\.Dataset .*got "
                                        + type(ds).__name__):
        mb.save_results(ds, tmp_path / "r.nc")
    assert not (tmp_path / "r.nc").exists()


def test_builders_and_diagonalise_refuse_string_flags():
    real = mb.draw_realisation(mb.ModelParams(n_tls=2), mb.realisation_rng(1, 0))
    for build in (mb.build_operators, mb.build_hamiltonian):
        with pytest.raises(TypeError, match=r"dense must be True or False, got 'False'"):
            build(real, dense="False")
    for name in ("vectors", "overwrite"):
        with pytest.raises(TypeError, match=rf"{name} must be True or False, got 'False'"):
            mb.diagonalise(np.diag([1.0, 2.0]), **{name: "False"})

"""Wrong-type arguments get a TypeError naming the parameter (session 39: absorption_normalisation
of a dict raised AttributeError; execute_study(only="dipolar") read the string letter by
letter)."""

import pytest

import manybody as mb
from manybody.study.run import _check_only, execute_study


@pytest.mark.parametrize("params", [{"n_tls": 4}, None, 4])
def test_absorption_normalisation_names_a_wrong_type(params):
    with pytest.raises(TypeError, match=r"params must be a ModelParams \(ModelParams\.from_dict "
                                        r".*got " + type(params).__name__):
        mb.absorption_normalisation(params)


def test_only_as_one_string_is_one_name(tmp_path):
    assert _check_only("dipolar") == ("dipolar",)
    assert _check_only(["dipolar", "independent"]) == ("dipolar", "independent")
    assert _check_only(None) is None
    # the whole name is checked, not its first letter
    with pytest.raises(ValueError, match=r"got 'nonexistent'"):
        execute_study(tmp_path / "s", size="tiny", only="nonexistent", figures=False)


@pytest.mark.parametrize(("only", "word"), [(5, "got int"), ({"dipolar": 1}, "got dict"),
                                            (["dipolar", 3], "got 3")])
def test_only_of_a_wrong_type_is_refused(tmp_path, only, word):
    with pytest.raises(TypeError, match=r"only must .*" + word):
        execute_study(tmp_path / "s", size="tiny", only=only)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("flag", ["progress", "figures"])
def test_execute_study_flags_are_booleans(tmp_path, flag):
    with pytest.raises(TypeError, match=rf"{flag} must be True or False"):
        execute_study(tmp_path / "s", size="tiny", only=("dipolar",), **{flag: "no"})
    assert not (tmp_path / "s").exists()

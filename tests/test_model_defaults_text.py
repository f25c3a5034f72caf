"""Messages and docstrings quote the model's defaults truly (session 39: a missing
random_matrix.weight said the TLS energies reach "0.3 K by default", the defaults being 1 K; the
from_dict docstring said the 1 K default weight lies above every TLS energy of the default
ensemble, which reaches hypot(1, 1) = 1.41 K)."""

import math

import pytest

import manybody as mb


def _message(model: dict) -> str:
    with pytest.raises(ValueError, match=r"random_matrix\.weight is required") as info:
        mb.ModelParams.from_dict({"n_tls": 4, "random_matrix": {"kind": "goe"}, **model})
    return str(info.value)


def test_the_missing_weight_message_quotes_the_defaults_computed():
    d = mb.TLSParams()
    reach = math.hypot(d.asymmetry_max, d.tunnelling_max)
    text = _message({})
    assert f"= {reach:.3g} K, the defaults" in text and "0.3 K by default" not in text


def test_the_missing_weight_message_quotes_the_model_s_own_tls():
    text = _message({"tls": {"asymmetry_max": 0.3, "tunnelling_max": 0.3}})
    assert "hypot(0.3, 0.3) = 0.424 K)" in text and "defaults" not in text
    assert "the model has no TLS term" in _message({"tls": None})


def test_from_dict_docstring_states_the_default_reach():
    doc = " ".join(mb.ModelParams.from_dict.__doc__.split())
    assert "larger than every TLS energy of the default ensemble" not in doc
    reach = math.hypot(mb.TLSParams().asymmetry_max, mb.TLSParams().tunnelling_max)
    assert f"{reach:.3g} K" in doc
    assert mb.RandomMatrixParams().weight == 1.0 and "default of 1 K" in doc

"""Argument faults of public functions found by a break test (bt195): the study's figures,
decomposition, matrix-element and velocity-table functions and every header function of
manybody.measured.headers refuse a wrong argument with one exception of the right type and a
one-line message naming the parameter, before any work; right calls (str and Path paths too)
still work."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from manybody.measured import headers as H
from manybody.study import decomposition as D
from manybody.study import figures as F
from manybody.study import matrix_elements as M
from manybody.study import velocity_table as V

T = np.geomspace(0.005, 0.5, 17)


def _kinked(t, t_max=0.04, below=1.0, above=-0.5, width=0.15):
    """A curve with log slopes ``below`` / ``above`` and its maximum near ``t_max`` (as in
    tests/test_velocity_table.py)."""
    u = np.log(t / t_max)
    return below * u - (below - above) * width * np.logaddexp(0.0, u / width)


CURVES = _kinked(T) + 0.01 * np.random.default_rng(0).standard_normal((5, T.size))
LABEL = {"study": "s", "parameter": "p", "value": 0.1, "n_tls": 8}


def _file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    return path


FOLDER_CASES = [
    ("make_all_figures missing folder", lambda tmp: F.make_all_figures(tmp / "no_such_dir"),
     FileNotFoundError, "study_dir"),
    ("make_all_figures missing folder as str",
     lambda tmp: F.make_all_figures(str(tmp / "no_such_dir")), FileNotFoundError, "study_dir"),
    ("make_all_figures a file", lambda tmp: F.make_all_figures(_file(tmp)), NotADirectoryError,
     "study_dir"),
    ("make_all_figures None", lambda tmp: F.make_all_figures(None), TypeError, "study_dir"),
    ("make_all_figures out a file", lambda tmp: F.make_all_figures(tmp, _file(tmp)),
     NotADirectoryError, "out"),
    ("make_all_figures out number", lambda tmp: F.make_all_figures(tmp, 5), TypeError, "out"),
    ("make_all_figures not_drawn", lambda tmp: F.make_all_figures(tmp, None, "x"), TypeError,
     "not_drawn"),
    ("figure_index missing folder", lambda tmp: F.figure_index(str(tmp / "x"), str(tmp / "y")),
     FileNotFoundError, "study_dir"),
    ("figure_absorption out None", lambda tmp: F.figure_absorption(tmp, None), TypeError, "out"),
    ("figure_specific_heat None", lambda tmp: F.figure_specific_heat(None, tmp), TypeError,
     "study_dir"),
    ("figure_matrix_elements a file", lambda tmp: F.figure_matrix_elements(_file(tmp), tmp),
     NotADirectoryError, "study_dir"),
    ("figure_velocity_shift number", lambda tmp: F.figure_velocity_shift(3, tmp), TypeError,
     "study_dir"),
]


@pytest.mark.parametrize("call, kind, name", [case[1:] for case in FOLDER_CASES],
                         ids=[case[0] for case in FOLDER_CASES])
def test_a_wrong_folder_is_refused_in_one_line_naming_it(tmp_path, call, kind, name):
    with pytest.raises(kind, match=name) as info:
        call(tmp_path)
    assert type(info.value) is kind
    assert "\n" not in str(info.value)
    assert not (tmp_path / "no_such_dir").exists()


def _dataset():
    return xr.Dataset({"a": ("x", [1.0])})


CASES = [
    # decomposition
    ("control_parameters None", lambda: D.control_parameters(None), TypeError, "model"),
    ("control_parameters dict", lambda: D.control_parameters({"tls": None}), TypeError, "model"),
    ("decompose data None", lambda: D.decompose(np.ones(3), None, None), TypeError, "data"),
    ("decompose no absorption", lambda: D.decompose(np.ones(3), {}, None), ValueError, "data"),
    ("decompose absorption str", lambda: D.decompose(np.ones(3), {"absorption": "x"}, None),
     TypeError, "absorption"),
    ("decompose absorption shape", lambda: D.decompose(np.ones(3), {"absorption": np.ones(3)},
                                                      None), ValueError, "absorption"),
    ("decompose x None", lambda: D.decompose(None, {"absorption": np.ones((2, 3))}, None),
     TypeError, "x"),
    ("decompose fraction str", lambda: D.decompose(
        np.ones(3), {"absorption": np.ones((2, 3)), "single_tls_fraction": "a"}, None),
     TypeError, "single_tls_fraction"),
    ("resonant_density q str", lambda: D.resonant_density(np.ones(3), "x", None), TypeError, "q"),
    ("resonant_density q None", lambda: D.resonant_density(np.ones(3), None, None), TypeError,
     "q"),
    # matrix elements
    ("pooled_statistics None", lambda: M.pooled_statistics(None, None), TypeError, "totals"),
    ("pooled_statistics pairs None", lambda: M.pooled_statistics(np.ones((2, 3, 4)), None),
     TypeError, "pairs"),
    ("pooled_statistics 2-d", lambda: M.pooled_statistics(np.ones((3, 4)), np.ones((3, 4))),
     ValueError, "totals"),
    ("pooled_statistics shapes", lambda: M.pooled_statistics(np.ones((2, 3, 4)),
                                                             np.ones((2, 3, 5))),
     ValueError, "pairs"),
    ("matrix_element_dataset path", lambda: M.matrix_element_dataset("out.nc"), TypeError,
     "results"),
    ("matrix_element_dataset empty", lambda: M.matrix_element_dataset({}), ValueError,
     "results"),
    ("matrix_element_dataset value", lambda: M.matrix_element_dataset({"a": "a.nc"}), TypeError,
     "results"),
    ("is_matrix_element_file path", lambda: M.is_matrix_element_file("x.nc"), TypeError, "ds"),
    ("is_matrix_element_file None", lambda: M.is_matrix_element_file(None), TypeError, "ds"),
    ("describe_matrix_elements ds", lambda: M.describe_matrix_elements("x.nc", "x.nc"),
     TypeError, "ds"),
    ("describe_matrix_elements path", lambda: M.describe_matrix_elements(_dataset(), None),
     TypeError, "path"),
    ("matrix_elements_reusable path", lambda: M.matrix_elements_reusable(None, {}), TypeError,
     "path"),
    ("matrix_elements_reusable results", lambda: M.matrix_elements_reusable("x.nc", None),
     TypeError, "results"),
    ("write_matrix_elements path", lambda: M.write_matrix_elements(None, {}), TypeError, "path"),
    ("write_matrix_elements results", lambda: M.write_matrix_elements("x.nc", "x.nc"),
     TypeError, "results"),
    # velocity table
    ("fit_with_fallback temperatures", lambda: V.fit_with_fallback(None, CURVES), TypeError,
     "temperatures"),
    ("fit_with_fallback curves", lambda: V.fit_with_fallback(T, None), TypeError, "curves"),
    ("fit_with_fallback curves str", lambda: V.fit_with_fallback(T, "abc"), TypeError, "curves"),
    ("paired_change fit", lambda: V.paired_change(T, CURVES, CURVES, None), TypeError, "fit"),
    ("paired_change reference", lambda: V.paired_change(T, CURVES, None,
                                                        V.fit_with_fallback(T, CURVES)),
     TypeError, "reference"),
    ("paired_change reference shape", lambda: V.paired_change(T, CURVES, np.ones((3, 4)),
                                                              V.fit_with_fallback(T, CURVES)),
     ValueError, "reference"),
    ("paired_change temperatures", lambda: V.paired_change("T", CURVES, CURVES,
                                                           V.fit_with_fallback(T, CURVES)),
     TypeError, "temperatures"),
    ("velocity_row label None", lambda: V.velocity_row(T, CURVES, None), TypeError, "label"),
    ("velocity_row label keys", lambda: V.velocity_row(T, CURVES, {"study": "s"}), ValueError,
     "label"),
    ("velocity_row curves str", lambda: V.velocity_row(T, "x", LABEL), TypeError, "curves"),
    ("velocity_row temperatures", lambda: V.velocity_row(None, CURVES, LABEL), TypeError,
     "temperatures"),
    ("velocity_row reference", lambda: V.velocity_row(T, CURVES, LABEL, "r"), TypeError,
     "reference"),
    ("format_velocity_table None", lambda: V.format_velocity_table(None), TypeError, "rows"),
    ("format_velocity_table item", lambda: V.format_velocity_table([1]), TypeError, r"rows\[0\]"),
    # headers: columns of error_names_other
    ("error_names_other columns None", lambda: H.error_names_other("T_err", "Qi", None),
     TypeError, "columns"),
    ("error_names_other columns str", lambda: H.error_names_other("T_err", "Qi", "Qi"),
     TypeError, "columns"),
    ("error_names_other columns ints", lambda: H.error_names_other("T_err", "Qi", [1, 2]),
     TypeError, "columns"),
]


@pytest.mark.parametrize("call, kind, name", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_a_wrong_argument_is_refused_in_one_line_naming_it(call, kind, name):
    with pytest.raises(kind, match=name) as info:
        call()
    assert type(info.value) is kind
    assert "\n" not in str(info.value)


#: Every function of headers.__all__ with the arguments it takes besides the header(s) tried.
HEADER_FUNCTIONS = {
    "parse_header": lambda h: H.parse_header(h),
    "check_header": lambda h: H.check_header("f.csv", h, "loss"),
    "dimensionless_scale": lambda h: H.dimensionless_scale("f.csv", h, "loss"),
    "error_is_fraction": lambda h: H.error_is_fraction(h),
    "error_is_relative": lambda h: H.error_is_relative(h, "Qi"),
    "error_names_other": lambda h: H.error_names_other(h, "Qi", ["Qi"]),
    "error_subject": lambda h: H.error_subject(h),
    "header_power_unit": lambda h: H.header_power_unit(h),
    "header_temperature_unit": lambda h: H.header_temperature_unit(h),
    "header_unit": lambda h: H.header_unit(h),
    "is_expanded_uncertainty": lambda h: H.is_expanded_uncertainty(h),
    "is_error_column": lambda h: H.is_error_column(h),
    "is_power_column": lambda h: H.is_power_column(h),
    "is_temperature": lambda h: H.is_temperature(h),
    "loss_kind": lambda h: H.loss_kind(h),
    "normalised_header": lambda h: H.normalised_header(h),
    "plain_symbols": lambda h: H.plain_symbols(h),
    "scale_factor": lambda h: H.scale_factor(h),
    "scale_unit": lambda h: H.scale_unit(h),
    "scaled_errors": lambda h: H.scaled_errors("f.csv", h, np.ones(2), np.ones(2), 1.0, "loss"),
    "strip_unit": lambda h: H.strip_unit(h),
    "without_condition": lambda h: H.without_condition(h),
}
#: Headers that may be None (an optional column).
OPTIONAL = {"error_is_relative", "scale_factor"}
BAD_HEADERS = {"None": None, "int": 5, "nan": math.nan, "list": ["Qi"],
               "array": np.array(["Qi", "T"]), "DataFrame": pd.DataFrame({"Qi": [1.0]})}


def test_every_function_of_headers_all_is_tried():
    functions = {name for name in H.__all__ if callable(getattr(H, name))
                 and not isinstance(getattr(H, name), type)}
    assert functions == set(HEADER_FUNCTIONS)


@pytest.mark.parametrize("function", sorted(HEADER_FUNCTIONS))
@pytest.mark.parametrize("bad", sorted(BAD_HEADERS))
def test_a_header_that_is_no_string_is_refused_in_one_line(function, bad):
    value = BAD_HEADERS[bad]
    if value is None and function in OPTIONAL:
        HEADER_FUNCTIONS[function](value)  # None: no column, as before
        return
    with pytest.raises(TypeError, match=rf"^{function}\(\): header \w+ must be a string") as info:
        HEADER_FUNCTIONS[function](value)
    assert "\n" not in str(info.value)


def test_a_second_header_is_checked_too():
    with pytest.raises(TypeError, match="header value_name must be a string"):
        H.error_names_other("T_err", None, ["Qi"])
    with pytest.raises(TypeError, match="header value_name must be a string"):
        H.error_is_relative("Qi err (%)", 5)
    with pytest.raises(TypeError, match="header e_name must be a string"):
        H.error_is_relative(["Qi err"], None)


def test_headers_still_read_as_before():
    parts = H.parse_header("Qi (-80 dBm, x1e6)")
    assert (parts.quantity, parts.unit, parts.conditions) == ("qi", "1e6", ("-80 dbm",))
    assert H.parse_header(np.str_("T (mK)")).unit == "mk"  # a numpy string is a string
    assert H.is_temperature("T (mK)") and H.header_temperature_unit("T (mK)") == "mK"
    assert H.loss_kind("tan d (ppm)") == "tan delta" and H.scale_factor("ppm") == 1e-6
    assert H.scale_factor(None) == 1.0 and H.error_is_relative(None, None) is False
    assert H.error_names_other("T_err", "Qi", ("Qi", "T_err")) == "the temperature"
    assert H.error_names_other("Qi_err", "Qi", []) is None
    assert H.parse_header.cache_info().maxsize == 4096
    assert H.strip_unit(name="Qi (x1e6)") == "qi"  # by keyword too
    assert H.parse_header("") == H.parse_header("")  # an empty header cell is no type fault


def test_figures_take_str_and_path_folders(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    for folder, out in ((study, tmp_path / "fig"), (str(study), str(tmp_path / "fig"))):
        assert F.figure_absorption(folder, out) == []
        assert F.figure_specific_heat(folder, out) == []
        not_drawn: list[str] = []
        assert F.make_all_figures(folder, None, not_drawn) == []
        assert "index" in not_drawn
        assert F.make_all_figures(folder, out) == []
        assert F.make_all_figures(folder, "") == []


def test_right_calls_still_work():
    from manybody.config.model import ModelParams

    assert D.control_parameters(ModelParams(n_tls=4)) == (0.0, 0.0) or all(
        math.isfinite(x) for x in D.control_parameters(ModelParams(n_tls=4)))
    x = np.array([0.5, 1.0, 2.0])
    q = np.tanh(x / 2) * np.ones((4, 3)) * np.arange(1, 5)[:, None]
    out = D.decompose(x, {"absorption": q}, None)
    assert out.resonant_density_rise == pytest.approx(1.0)
    assert D.resonant_density(x, q.tolist(), None).shape == (4, 3)
    mean, error, count = M.pooled_statistics(np.ones((2, 3, 4)) * 5, np.ones((2, 3, 4)) * 30)
    assert mean.shape == error.shape == count.shape == (3, 4) and np.all(count == 60)
    assert M.is_matrix_element_file(_dataset()) is False
    fit = V.fit_with_fallback(T, CURVES)
    change = V.paired_change(T, CURVES, CURVES, fit)
    assert change[0] == pytest.approx(0.0) and change[2] == pytest.approx(0.0)
    row = V.velocity_row(T, CURVES, LABEL, reference=CURVES)
    assert row.note == "" and row.realisations == 5
    assert V.format_velocity_table([row]).count("\n") == 2
    assert V.format_velocity_table(()).count("\n") == 1

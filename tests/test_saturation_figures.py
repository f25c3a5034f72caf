"""The study's saturation comparison figure (manybody.study.saturation_figures), on synthetic
arrays: files written, panels labelled, exponents fitted when not given, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest

from manybody.study.saturation_figures import draw_saturation_models, figure_saturation_models

X = np.geomspace(0.01, 100.0, 12)
CURVES = [(1 + X) ** -0.5, (1 + X) ** -0.3, (1 + X) ** -0.15]
LABELS = ["independent TLS", "dipolar TLS", "GOE block"]


def test_figure_is_written_with_labelled_panels(tmp_path):
    paths = figure_saturation_models(X, CURVES, LABELS, tmp_path, errors=[0.01 * c for c in CURVES],
                                     betas=[0.5, 0.3, 0.15], beta_errors=[0.01, 0.02, 0.03])
    assert sorted(p.name for p in paths) == ["saturation_models.pdf", "saturation_models.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_exponents_are_fitted_when_not_given_and_shown_in_panel_b():
    fig = draw_saturation_models([X, 2 * X, X], CURVES, LABELS)
    ax, bx = fig.axes
    assert ax.get_title().startswith("(a)") and bx.get_title().startswith("(b)")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith(r"$1/\sqrt{1 + P/P_c}$") for t in legend)
    for beta in ("0.50", "0.30", "0.15"):  # two decimals alike (a referee, session 39)
        assert any(t.startswith(rf"$(1 + P/P_c)^{{-\beta}}$, $\beta$ = {beta} ± ")
                   for t in legend), legend
    shown = np.asarray(bx.lines[0].get_ydata(), dtype=float)
    np.testing.assert_allclose(shown, [0.5, 0.3, 0.15], rtol=1e-5)
    assert [t.get_text() for t in bx.get_xticklabels()] == LABELS


def test_a_curve_that_does_not_saturate_is_drawn_without_a_fit():
    fig = draw_saturation_models(X, [CURVES[0], np.ones_like(X) * 1.001], ["TLS", "oscillator"])
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert sum(t.startswith(r"$(1 + P/P_c)^{-\beta}$") for t in legend) == 1
    assert np.isnan(float(fig.axes[1].lines[0].get_ydata()[1]))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"curves": CURVES[:2]}, "curves must have one entry per model"),
    ({"power_ratio": -X}, "power_ratio of 'independent TLS' must be >= 0"),
    ({"curves": [c * 0 for c in CURVES]}, "curve of 'independent TLS'"),
    ({"betas": [0.5]}, "betas must have one entry per model"),
    ({"power_ratio": X[:5]}, "must be 1-d of one length"),
])
def test_bad_input_is_refused_by_name(kwargs, match):
    args = {"power_ratio": X, "curves": CURVES, "labels": LABELS, **kwargs}
    with pytest.raises(ValueError, match=match):
        draw_saturation_models(args.pop("power_ratio"), args.pop("curves"), args.pop("labels"),
                               **args)


def test_exponents_in_the_legend_have_two_decimals_and_their_errors():
    from manybody.study.saturation_figures import beta_text

    assert beta_text(0.5, 0.0) == "0.50"
    assert beta_text(0.4873, 0.0123) == "0.49 ± 0.01"
    assert beta_text(0.11, float("nan")) == "0.11"
    assert beta_text(0.167, 0.0049) == "0.17 ± <0.01"
    fig = draw_saturation_models(X, CURVES[:2], LABELS[:2], betas=[0.5, 0.4873],
                                 beta_errors=[0.001, 0.0123])
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert [t.rsplit("= ", 1)[1] for t in legend if r"\beta$ =" in t] == ["0.50 ± <0.01", "0.49 ± 0.01"]

"""The built-in study end to end at a tiny size, through the CLI, plus the figure scripts."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from manybody.runs.results import dataset_spec
from manybody.study.catalogue import OPTIONAL_SPECS, SATURATION_SPECS, VELOCITY_SPECS
from manybody.study.matrix_elements import MATRIX_ELEMENT_MIN_PAIRS
from manybody.study.specs import MATRIX_ELEMENT_SPECS, STUDY_SPECS, load_matrix_element_spec, load_study_spec

ROOT = Path(__file__).resolve().parents[1]


def run(args, **kw):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900, **kw)


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(out), "-j", "2"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_figure_stage_does_not_repeat_the_summary_warnings(tiny_study):
    """The shape fits' warnings (few effective realisations, ...) are given once, naming the
    sweep point, while the summary is fitted; the figure stage repeated them without a name."""
    _, proc = tiny_study
    summary, figures = proc.stderr.split("figures: drawing", 1)
    assert "analyse_shape:" in summary  # the tiny study's few realisations are warned about
    assert "analyse_shape:" not in figures


def test_shipped_specs_are_valid_and_physically_sensible():
    for name in STUDY_SPECS:
        if name in VELOCITY_SPECS + SATURATION_SPECS:  # velocity (1 kHz), saturation (two T):
            continue  # no resonant shape analysis (saturation: tests/test_study_saturation.py)
        spec = load_study_spec(name)
        probe = spec.probe
        w = probe.frequencies[0]
        for wk in probe.frequencies:  # kernel width << w at every frequency
            assert probe.broadening.at(wk).width <= 0.25 * wk
        if len(probe.frequencies) > 1:  # collapse: x at w/2 and 2w fall on the grid of w
            grid = np.log2(w / np.asarray(probe.temperatures))
            for wk in probe.frequencies[1:]:
                shifted = grid + np.log2(wk / w)
                assert np.isin(np.round(shifted[(shifted >= grid.min()) & (shifted <= grid.max())],
                                        9), np.round(grid, 9)).all()
        if spec.model.tls is not None:
            assert spec.model.tls.tunnelling_min <= 0.02 * w  # Delta_min << w
            assert w < spec.model.tls.asymmetry_max  # w < eps_max
        x = [w / t for t in probe.temperatures]
        assert min(x) <= 0.25 and max(x) >= 8  # x from ~0.2 to ~10


def test_optional_velocity_specs_are_the_shipped_ones_with_more_realisations():
    """The decisive velocity rows (issue 17) use the same seed, model, bath, probe and sweep values
    as the default velocity specs (so the same TLS draws), with 16000 realisations at every point,
    and the default study does not run them."""
    assert not set(OPTIONAL_SPECS) & set(STUDY_SPECS)
    for optional, shipped in (("velocity_dipolar", "relaxation"),
                              ("velocity_admixture", "relaxation_admixture")):
        big, small = load_study_spec(optional), load_study_spec(shipped)
        assert big.seed == small.seed and big.model == small.model and big.probe == small.probe
        assert big.sweep == small.sweep
        assert (big.realisation_counts == 16000).all()
        # the coupled rows; the default's independent-TLS row has 20000 (slope errors <= 0.1 C0)
        assert (big.realisation_counts[1:] > small.realisation_counts[1:]).all()


def test_optional_spec_runs_when_named_and_gives_a_velocity_row(tmp_path):
    out = tmp_path / "velocity"
    proc = run(["-m", "manybody", "study", "--tiny", "--only", "velocity_admixture", "-o", str(out),
                "-j", "1", "--no-figures"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((out / "velocity_slopes.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert {r["study"] for r in rows} == {"velocity_admixture"}


def _strict_json(path):
    """Parse ``path`` refusing the non-JSON constants NaN/Infinity that json.loads accepts."""
    def refuse(name):
        raise ValueError(f"{path}: {name} is not valid JSON")

    return json.loads(Path(path).read_text(), parse_constant=refuse)


def test_tiny_study_writes_results_summary_and_figures(tiny_study):
    out, proc = tiny_study
    for name in ("summary.json", "velocity_slopes.json", "saturation.json"):  # strict JSON
        _strict_json(out / name)
    for name in STUDY_SPECS:
        assert (out / f"{name}.nc").stat().st_size > 0
    rows = json.loads((out / "summary.json").read_text())
    assert {r["study"] for r in rows} == set(STUDY_SPECS) - set(VELOCITY_SPECS) - set(SATURATION_SPECS)
    # per-point realisation counts survive the tiny size and reach the table
    assert [r["realisations"] for r in rows if r["study"] == "dipolar"] == [6, 8]
    assert [r["realisations"] for r in rows if r["study"] == "admixture"] == [6, 6]
    velocity = json.loads((out / "velocity_slopes.json").read_text())
    assert {r["study"] for r in velocity} == set(VELOCITY_SPECS) - set(OPTIONAL_SPECS)
    assert all(r["note"] or r["slope_below_error"] is not None for r in velocity)  # no silent NaN
    saturation = json.loads((out / "saturation.json").read_text())  # 4 TLS models + the block at T = w
    assert [(r["study"], r["x"], r["realisations"]) for r in saturation] == (
        [("saturation", 1.0, 6)] * 4 + [("saturation_block", 1.0, 6)])
    assert saturation[0]["model"] == "independent TLS" and saturation[0]["beta"] > 0
    assert "| saturation | independent TLS | 5 | 6 | 1 |" in proc.stdout
    assert "| study | parameter |" in proc.stdout and "verdict" in proc.stdout
    for fig in ("absorption_shape", "tls_index", "specific_heat", "matrix_elements",
                "velocity_shift", "decomposition", "equilibration", "collapse", "saturation_models"):
        for ext in ("png", "pdf"):
            assert (out / "figures" / f"{fig}.{ext}").stat().st_size > 5000


def test_study_says_what_it_runs(tiny_study):
    _, proc = tiny_study
    err = proc.stderr
    plan = [line for line in err.splitlines() if line.startswith("study (tiny):")]
    sweeps = len(STUDY_SPECS) + len(MATRIX_ELEMENT_SPECS)  # the |T_mn|^2 runs are sweeps too
    assert plan and f"{sweeps} sweeps" in plan[0] and "realisations in all" in plan[0]
    assert err.index(plan[0]) < err.index("dipolar: computing")  # the plan comes first
    spec = load_study_spec("dipolar", "tiny")
    assert f"  dipolar: 2 points, N = 5, {int(spec.realisation_counts.sum())} realisations" in err
    for name in STUDY_SPECS:
        assert f"{name}: computing " in err
    for name in MATRIX_ELEMENT_SPECS:
        assert f"  {name}: 1 point, N = 4, 3 realisations" in err
        assert f"{name}: computing 3 realisations" in err
    assert "matrix elements: pooling" in err and "figures: drawing" in err


def test_tiny_study_summary_values_are_recomputed_from_the_results_files(tiny_study):
    """summary.json against the results files: counts, <r> and its error (numpy here), the shape
    ratio R = Q(2)/Q(0.5) of the realisation mean (spline in ln x here), the fitted index, its
    error and the verdict (analyse_shape on the file's absorption); plus the physics at this size:
    the weakly coupled finite-size points (J0 = 0.01 << eps_max) have TLS index 1 and the flat
    block index 0, each within 3 of its stated errors."""
    from scipy.interpolate import CubicSpline

    from manybody.laws.analysis import analyse_shape
    from manybody.runs.results import load_results
    from manybody.runs.spec import RunSpec
    from manybody.study.summary import kernel_smearing

    out, _ = tiny_study
    rows = json.loads((out / "summary.json").read_text())
    assert rows
    for row in rows:
        ds = load_results(out / f"{row['study']}.nc")
        spec = RunSpec.from_dict(json.loads(ds.attrs["spec"]))
        key = next(iter(spec.sweep))
        # one axis: the value; several: "v1, v2" in the order of the axes
        values = ([row["value"]] if len(spec.sweep) == 1
                  else [float(value) for value in row["value"].split(", ")])
        point = ds.isel({dim: list(axis).index(value) for dim, axis, value
                         in zip(spec.dims, spec.sweep.values(), values, strict=True)})
        count = int(point["realisation_count"])
        assert row["realisations"] == count
        assert row["n_tls"] == (row["value"] if key == "model.n_tls" else spec.model.n_tls)
        r = point["spacing_ratio"].values[:count]
        assert np.all(np.isfinite(r)) and np.all(np.isnan(point["spacing_ratio"].values[count:]))
        assert row["spacing_ratio"] == pytest.approx(r.mean(), rel=1e-12)
        assert row["spacing_ratio_error"] == pytest.approx(r.std(ddof=1) / np.sqrt(count),
                                                           rel=1e-12)
        q = point["absorption"].values[:count, :, 0]
        x = spec.probe.frequencies[0] / point["temperature"].values
        order = np.argsort(x)
        spline = CubicSpline(np.log(x[order]), q.mean(axis=0)[order])
        assert row["ratio"] == pytest.approx(float(spline(np.log(2.0)) / spline(np.log(0.5))),
                                             rel=1e-9)
        shape = analyse_shape(x, q, smearing=kernel_smearing(spec))
        assert row["index"] == pytest.approx(shape.index, rel=1e-9, abs=1e-12)
        # an index on its bound has no error: NaN, written as null (session 43)
        error = math.nan if row["index_error"] is None else row["index_error"]
        assert error == pytest.approx(shape.index_error, rel=1e-9, abs=1e-12, nan_ok=True)
        assert row["verdict"] == shape.verdict
        # lambda = J0 / eps_max (docs/PHYSICS.md section 7) of the row's model
        tls, coupling = spec.model.tls, spec.model.coupling
        if tls is None:
            assert row["coupling_lambda"] is None  # NaN in strict JSON
        else:
            swept = dict(zip(spec.sweep, values, strict=True))
            strength = swept.get("model.coupling.strength", coupling.strength if coupling else 0.0)
            eps_max = swept.get("model.tls.asymmetry_max", tls.asymmetry_max)
            assert row["coupling_lambda"] == pytest.approx(strength / eps_max, rel=1e-12)
        if row["study"] == "random_block" and row["value"] == "flat":
            assert abs(row["index"]) < 3 * row["index_error"], row


def test_rerun_reuses_finished_results(tiny_study):
    out, _ = tiny_study
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.nc")}
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(out), "--no-figures"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert before == {p: p.stat().st_mtime_ns for p in before}  # matrix elements reused too
    for name in (*STUDY_SPECS, *MATRIX_ELEMENT_SPECS):
        assert f"{name}: reusing finished results from {out / (name + '.nc')}" in proc.stderr
    assert f"matrix elements: reusing finished results from {out / 'matrix_elements.nc'}" in proc.stderr
    assert "computing" not in proc.stderr
    assert "figures skipped: --no-figures" in proc.stdout  # not "results, summary and figures"
    assert "results, summary and figures" not in proc.stdout


def test_redrawn_figures_are_byte_identical(tiny_study, tmp_path):
    """Same results -> same files: no creation dates or versions in the PDF/PNG metadata."""
    out, _ = tiny_study
    proc = run(["scripts/make_figures.py", str(out), "--out", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    drawn = sorted(p.name for p in (out / "figures").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == drawn and len(drawn) == 18
    for name in drawn:
        assert (tmp_path / name).read_bytes() == (out / "figures" / name).read_bytes(), name
        if name.endswith(".pdf"):
            assert b"CreationDate" not in (tmp_path / name).read_bytes()
    assert "not drawn" not in proc.stderr, proc.stderr


def test_make_figures_names_the_figures_it_cannot_draw(tmp_path):
    """On the shipped results (summaries, no .nc files) it drew two figures of eight and said
    nothing of the others (a new user, session 36)."""
    for name in ("summary.json", "velocity_slopes.json"):
        shutil.copy(ROOT / "results" / "study" / name, tmp_path / name)
    proc = run(["scripts/make_figures.py", str(tmp_path), "--out", str(tmp_path / "f")])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "not drawn: absorption, " in proc.stderr and "(present: none)" in proc.stderr, \
        proc.stderr
    assert (tmp_path / "f" / "tls_index.png").is_file()


@pytest.mark.parametrize("where", ["missing", "file", "empty"])
def test_make_figures_refuses_a_folder_without_a_study(tmp_path, where):
    """A mistyped folder was created and filled with figures of "no coupling sweep", exit 0; a
    file gave a NotADirectoryError traceback (session 33)."""
    target = tmp_path / "study"
    if where == "file":
        target.write_text("")
    elif where == "empty":
        target.mkdir()
    proc = run(["scripts/make_figures.py", str(target)])
    assert proc.returncode == 2, proc.stderr
    expected = {"missing": "does not exist", "file": "is not a directory",
                "empty": "holds no summary.json"}[where]
    assert expected in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert (target.exists() == (where != "missing")) and not (target / "figures").exists()


def test_summarise_script_reads_summary_and_recomputes_the_same(tiny_study, tmp_path):
    out, _ = tiny_study
    fast = run(["scripts/summarise_study.py", str(out)])
    assert fast.returncode == 0, fast.stderr[-2000:]
    assert fast.stdout == (out / "summary.md").read_text()  # both tables, as the study wrote them
    assert "TLS index a" in fast.stdout and "slope below" in fast.stdout
    for name in ("random_block", "relaxation"):  # two cheap specs: one shape table, one velocity
        (tmp_path / f"{name}.nc").write_bytes((out / f"{name}.nc").read_bytes())
    slow = run(["scripts/summarise_study.py", str(tmp_path), "--recompute"])
    assert slow.returncode == 0, slow.stderr[-2000:]
    refitted = set(slow.stdout.splitlines())
    study_rows = [line for line in fast.stdout.splitlines()
                  if line.startswith(("| random_block ", "| relaxation "))]
    # 2 shape rows + 2 decomposition rows of random_block, 2 velocity rows of relaxation
    assert len(study_rows) == 6 and set(study_rows) <= refitted  # same numbers as the study's
    assert "[1/2] random_block: reading" in slow.stderr and "[2/2] relaxation: done" in slow.stderr


def test_summary_rows_do_not_depend_on_the_number_of_processes(tiny_study):
    """The shape fits run one sweep point per process with single-threaded BLAS and their own
    bootstrap seeds: the rows are bit for bit the same for any n_jobs."""
    from dataclasses import asdict

    from manybody.runs.results import load_results
    from manybody.study.summary import summarise

    out, _ = tiny_study
    ds = load_results(out / "dipolar.nc")
    serial, parallel = summarise(ds, "dipolar", n_jobs=1), summarise(ds, "dipolar", n_jobs=2)
    assert len(serial[0]) == 2
    assert json.dumps([asdict(r) for r in serial[0]]) == json.dumps([asdict(r) for r in parallel[0]])


def test_summarise_script_without_summary_says_so(tmp_path):
    proc = run(["scripts/summarise_study.py", str(tmp_path)])
    assert proc.returncode == 2 and "summary.json" in proc.stderr and "--recompute" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_study_with_a_different_spec_in_the_way_is_refused(tiny_study, tmp_path):
    out, _ = tiny_study
    (tmp_path / "dipolar.nc").write_bytes((out / "dipolar.nc").read_bytes())
    proc = run(["-m", "manybody", "study", "-o", str(tmp_path), "--only", "dipolar"])
    assert proc.returncode == 2
    assert "(specification digests differ)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_scheduler_without_dask_backend_is_refused_before_work(tmp_path):
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(tmp_path), "--only", "dipolar",
                "--scheduler", "tcp://127.0.0.1:1"])
    assert proc.returncode == 2 and "needs --backend dask" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*.nc")) and not list(tmp_path.glob("*.checkpoint"))


@pytest.mark.slow
def test_tiny_study_on_a_dask_cluster_equals_loky(tiny_study, tmp_path):
    pytest.importorskip("distributed")
    from manybody.runs.results import load_results

    out, _ = tiny_study
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(tmp_path), "--only", "random_block",
                "--backend", "dask", "--no-figures"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    dask_ds, loky_ds = load_results(tmp_path / "random_block.nc"), load_results(out / "random_block.nc")
    for name in loky_ds.data_vars:
        assert np.array_equal(dask_ds[name].values, loky_ds[name].values, equal_nan=True), name


# -- strict JSON -------------------------------------------------------------------------------


def test_strict_json_writes_null_for_non_finite_numbers():
    from manybody.support import jsonio

    record = {"a": math.nan, "b": [1.5, math.inf, -math.inf], "c": np.float64("nan"),
              "d": np.array([1.0, np.nan]), "e": np.int64(3), "f": "nan"}
    text = jsonio.dumps(record)
    assert json.loads(text) == {"a": None, "b": [1.5, None, None], "c": None, "d": [1.0, None],
                                "e": 3, "f": "nan"}
    assert "NaN" not in text and "Infinity" not in text
    assert math.isnan(jsonio.nan_if_none(None)) and jsonio.nan_if_none(2) == 2.0


@given(st.recursive(st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(), c, max_size=4),
                    max_leaves=20))
def test_strict_json_is_always_valid_json_and_keeps_finite_values(obj):
    from manybody.support import jsonio

    def refuse(name):
        raise ValueError(name)

    back = json.loads(jsonio.dumps(obj), parse_constant=refuse)

    def same(a, b):
        if isinstance(a, float) and not math.isfinite(a):
            return b is None
        if isinstance(a, list | tuple):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return a == b

    assert same(obj, back)


def test_committed_summary_files_are_strict_json():
    for name in ("summary.json", "velocity_slopes.json"):
        _strict_json(ROOT / "results" / "study" / name)


def test_summary_rows_round_trip_through_json(tmp_path):
    from manybody.study.summary import (
        PointSummary,
        VelocitySummary,
        format_summary,
        read_summary,
        write_summary,
    )

    rows = [PointSummary(study="dipolar", parameter="strength", value=0.1, n_tls=8, realisations=5,
                         index=0.5, index_error=math.nan, ratio=2.5, ratio_error=0.1,
                         spacing_ratio=0.39, spacing_ratio_error=math.nan, reduced_chi2_tls=1.0,
                         reduced_chi2_generic=2.0, verdict="in between")]
    fields = [f for f in VelocitySummary.__dataclass_fields__ if f not in
              ("study", "parameter", "value", "n_tls", "realisations", "note")]
    velocity = [VelocitySummary(study="relaxation", parameter="strength", value=0.3, n_tls=8,
                                realisations=5, **dict.fromkeys(fields, math.nan),
                                note="the maximum of delta v/v lies at the highest temperature")]
    write_summary(tmp_path, rows, velocity)
    _strict_json(tmp_path / "summary.json")
    assert _strict_json(tmp_path / "velocity_slopes.json")[0]["slope_below"] is None
    rows2, velocity2 = read_summary(tmp_path)
    assert format_summary(rows2, velocity2) == format_summary(rows, velocity)
    assert "no slopes: the maximum of delta v/v lies at the highest" in (tmp_path / "summary.md"
                                                                         ).read_text()
    assert "| nan" not in (tmp_path / "summary.md").read_text()


# -- README table generated from the summary -----------------------------------------------------


def _script(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme_block(text):
    rt = _script("readme_table")
    return text.split(rt.START + "\n", 1)[1].split("\n" + rt.END, 1)[0]


def test_readme_table_is_generated_from_the_committed_summary():
    rt = _script("readme_table")
    expected = rt.table(ROOT / "results/study/summary.json",
                        [ROOT / p for p in rt.DEFAULT_EXTRA])
    assert _readme_block((ROOT / "README.md").read_text()) == expected, (
        "README study table is stale: run python scripts/readme_table.py")


def _md_rows(text):
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| ") and "---" not in line]


def test_readme_table_agrees_with_summary_md_row_by_row():
    """Every row of summary.md's shape table is in the README with the same N, realisations,
    a, a (x >= 1), <r> and verdict, in the same order (and nothing else from the default run)."""
    md = (ROOT / "results/study/summary.md").read_text().split("Decomposition")[0]
    summary = _md_rows(md)[1:]  # without the header
    readme = _md_rows(_readme_block((ROOT / "README.md").read_text()))[1:]
    default = [r for r in readme if "separate run" not in r[0]]
    assert len(default) == len(summary) == len(json.loads(
        (ROOT / "results/study/summary.json").read_text()))
    for got, want in zip(default, summary, strict=True):
        # README: model | N | realisations | lambda | a | a (x >= 1) | rho rise | <r> | p | verdict
        # summary.md: study | parameter | value | N | realisations | a | a (x >= 1) | R | <r>
        #             | p tanh | p 1-e^-x | p family | verdict
        assert [got[i] for i in (1, 2, 4, 5, 7, 9)] == [want[i] for i in (3, 4, 5, 6, 8, 12)], (
            got, want)


def test_readme_table_script_checks_and_rewrites(tmp_path):
    rt = _script("readme_table")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{rt.START}\nstale\n{rt.END}\nrest\n")
    summary = ROOT / "results/study/summary.json"
    args = ["scripts/readme_table.py", "--summary", str(summary), "--readme", str(readme), "--extra"]
    proc = run([*args, "--check"])
    assert proc.returncode == 1 and "differs" in proc.stderr
    assert run(args).returncode == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{rt.END}\nrest\n")
    assert _readme_block(text) == rt.table(summary, [])
    assert run([*args, "--check"]).returncode == 0
    readme.write_text("no markers\n")
    proc = run(args)
    assert proc.returncode == 2 and "study-table:start" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_readme_table_shows_the_verdict_the_summary_records(tmp_path):
    """Whatever label the analysis records (here a made-up one) is what the README shows."""
    rt = _script("readme_table")
    rows = json.loads((ROOT / "results/study/summary.json").read_text())[:2]
    rows[0]["verdict"], rows[1]["verdict"] = "beyond generic", "neither law"
    rows[1]["index"] = -0.25
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(rows))
    lines = rt.table(path).splitlines()[-2:]
    assert lines[0].endswith("| beyond generic |") and "| -0.250 ± " in lines[1]
    assert lines[1].endswith("| neither law |")


# -- figures -----------------------------------------------------------------------------------


def test_zero_coupling_is_drawn_at_a_labelled_zero_not_on_the_log_axis():
    import matplotlib

    from manybody.study.figures import _broken_log_axes, _plot_against_coupling
    from manybody.support.style import new_figure

    with matplotlib.rc_context({}):
        fig = new_figure()
        ax0, ax = _broken_log_axes(fig, fig.add_gridspec(1, 1)[0, 0])
        value = np.array([0.0, 0.003, 0.01, 0.1])
        _plot_against_coupling(ax0, ax, value, np.array([1.0, 0.8, 0.5, 0.1]), np.full(4, 0.05),
                               0.2, fmt="o-", color="k", label="s")
    assert ax.get_xscale() == "log" and ax0.get_xscale() == "linear"
    assert [t.get_text() for t in ax0.get_xticklabels()] == ["0"]
    zero_x = np.concatenate([line.get_xdata() for line in ax0.get_lines()
                             if line.get_marker() == "o"])
    assert np.allclose(zero_x, 0.2)  # the zero point, on the zero axis only
    log_x = np.concatenate([line.get_xdata() for line in ax.get_lines() if line.get_marker() == "o"])
    assert np.allclose(np.sort(log_x), [0.003, 0.01, 0.1])


def test_plotting_leaves_global_matplotlib_state_alone(tmp_path):
    import matplotlib

    from manybody.study.figures import figure_index

    before = dict(matplotlib.rcParams)
    (tmp_path / "summary.json").write_text((ROOT / "results/study/summary.json").read_text())
    paths = figure_index(tmp_path, tmp_path / "fig")
    assert [p.name for p in paths] == ["tls_index.pdf", "tls_index.png"]
    assert dict(matplotlib.rcParams) == before
    assert "matplotlib.pyplot" not in sys.modules or not __import__("matplotlib.pyplot").pyplot.get_fignums()


def test_matrix_element_statistics_carry_errors_and_counts(tiny_study):
    out, _ = tiny_study
    with xr.open_dataset(out / "matrix_elements.nc", engine="h5netcdf") as ds:
        ds = ds.load()
    assert list(ds["system"].values) == list(MATRIX_ELEMENT_SPECS.values())
    for name in MATRIX_ELEMENT_SPECS:  # each system an ordinary run: provenance and its spec
        with xr.open_dataset(out / f"{name}.nc", engine="h5netcdf") as run_ds:
            assert run_ds.attrs["finished"] == 1 and run_ds.attrs["git_commit"]
            assert dataset_spec(run_ds).digest() == load_matrix_element_spec(name, "tiny").digest()
    mean, err, count = (ds[v].values for v in ("mean_square_stress", "standard_error", "pair_count"))
    shown = np.isfinite(mean)
    assert shown.any()
    assert np.all(count[shown] >= MATRIX_ELEMENT_MIN_PAIRS)  # too-few-pair bins are dropped
    assert np.all(np.isnan(mean[count < MATRIX_ELEMENT_MIN_PAIRS]))
    assert np.all(np.isfinite(err[shown]) & (err[shown] >= 0))
    assert np.array_equal(np.isfinite(err), shown)


# -- the README's examples ---------------------------------------------------------------------


def _readme_code(lang, after):
    text = (ROOT / "README.md").read_text()
    start = text.index(f"```{lang}\n", text.index(after)) + len(f"```{lang}\n")
    return text[start:text.index("```\n", start)]


def test_readme_examples_are_the_shipped_files():
    assert _readme_code("python", "## The Python API") == (ROOT / "examples/api_example.py").read_text()
    assert (_readme_code("toml", "### Writing a run specification")
            == (ROOT / "examples/independent_tls.toml").read_text())


@pytest.mark.slow
def test_example_spec_gives_tanh_within_its_stated_error():
    """examples/independent_tls.toml: independent TLS, so Q^-1 = tanh(x/2) averaged over the line
    kernel; the README states +-0.05 at x = 10 and the mean must lie within 4 standard errors."""
    from manybody.laws.shapes import law_tls, smeared
    from manybody.runs.results import realised
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep
    from manybody.study.summary import kernel_smearing

    spec = RunSpec.from_toml(ROOT / "examples/independent_tls.toml")
    ds = run_sweep(spec, n_jobs=2)
    x = spec.probe.frequencies[0] / ds["temperature"].values
    expected = smeared(law_tls, x, kernel_smearing(spec))
    for i in range(ds.sizes["n_tls"]):
        q = realised(ds.isel(n_tls=i))["absorption"].isel(frequency=0).values
        mean, err = q.mean(0), q.std(0, ddof=1) / math.sqrt(q.shape[0])
        top = int(np.argmax(x))
        assert err[top] < 0.06, err[top]  # converged as stated
        assert np.all(np.abs(mean - expected) < 4 * err), (mean, expected, err)


@pytest.mark.slow
def test_api_example_prints_tanh_within_its_errors():
    proc = run(["examples/api_example.py"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    q_line, a_line = proc.stdout.splitlines()[:2]
    q, q_err = map(float, re.search(r"= ([-\d.]+) \+- ([\d.]+) pi", q_line).groups())
    a, a_err = map(float, re.search(r"a = ([-\d.]+) \+- ([\d.]+)", a_line).groups())
    assert abs(q - 1.0) < 4 * q_err and q_err < 0.1
    assert abs(a - 1.0) < 4 * a_err and a_err < 0.1
    assert "TLS (tanh)" in a_line


@pytest.mark.parametrize("argv, expected", [
    (["--jobs", "0"], "argument -j/--jobs: expected an integer >= 1, got 0"),
    (["--jobs", "two"], "argument -j/--jobs: expected an integer >= 1, got 'two'"),
    (["--jobs", "64"], "--jobs x BLAS threads per worker = 64 x 1 exceeds the"),
    (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler 'tcp://127.0.0.1:1' needs --backend dask"),
])
def test_study_refuses_bad_execution_options_before_any_work(tmp_path, argv, expected):
    """Execution options are checked with the specs, before the plan is printed and before the
    output directory exists (a refused study leaves nothing behind)."""
    out = tmp_path / "study"
    proc = subprocess.run([sys.executable, "-m", "manybody", "study", "--tiny", "-o", str(out),
                           *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr and "computing" not in proc.stderr
    assert not out.exists()


def test_execute_study_checks_n_jobs_before_creating_the_output(tmp_path):
    from manybody.study.run import execute_study

    with pytest.raises(TypeError, match="n_jobs must be an integer"):
        execute_study(tmp_path / "study", size="tiny", n_jobs=1.0)
    assert not (tmp_path / "study").exists()


def test_study_output_that_is_a_file_is_refused_before_any_work(tmp_path):
    target = tmp_path / "ok.toml"
    target.write_text("seed = 1\n")
    proc = subprocess.run([sys.executable, "-m", "manybody", "study", "--tiny", "-o", str(target)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert f"output directory '{target}' exists and is not a directory" in proc.stderr
    assert "computing" not in proc.stderr and "Errno" not in proc.stderr
    assert target.read_text() == "seed = 1\n"


def test_only_run_into_a_folder_with_another_summary_is_refused_before_work(tmp_path):
    """A partial (--only) run would replace the summary of the other specs: refused, named."""
    (tmp_path / "summary.json").write_text(json.dumps([{"study": "dipolar"}]))
    (tmp_path / "velocity_slopes.json").write_text(json.dumps([{"study": "relaxation"}]))
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = run(["-m", "manybody", "study", "--tiny", "--only", "finite_size", "-o", str(tmp_path)])
    assert proc.returncode != 0
    assert "holds the summary of other specs (dipolar, relaxation)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    # a folder holding only this spec's summary is fine (a rerun)
    from manybody.study.run import _check_partial_output
    (tmp_path / "summary.json").write_text(json.dumps([{"study": "finite_size"}]))
    (tmp_path / "velocity_slopes.json").write_text("[]")
    _check_partial_output(tmp_path, ("finite_size",))


def test_study_with_an_empty_output_is_refused(tmp_path, monkeypatch, capsys):
    """-o '' wrote the study into the working directory and said 'results ... in /'."""
    from manybody.cli import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:  # refused by the option's type (session 32)
        main(["study", "--tiny", "-o", ""])
    assert exc.value.code == 2
    assert "argument -o/--output: expected a path, got ''" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_study_refusals_name_its_options(tmp_path, capsys):
    """The study printed run_sweep's argument names ('n_jobs x blas_threads = 64 x 1'), which a
    command-line user never typed (session 25)."""
    from manybody.cli import main

    assert main(["study", "--tiny", "-j", "4096", "-o", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "--jobs x BLAS threads per worker = 4096 x 1 exceeds" in err, err
    assert "n_jobs" not in err and "blas_threads" not in err


def test_a_study_of_other_sizes_does_not_replace_a_summary(tmp_path):
    """The .nc files are not in git: in a fresh clone `manybody study --tiny` (N <= 5) replaced
    the committed default study's summary and figures in results/study (session 33). A run whose
    N differs from the summary's rows is refused before any work, naming both; the same sizes
    (a rerun) pass."""
    rows = json.loads((ROOT / "results" / "study" / "summary.json").read_text())
    (tmp_path / "summary.json").write_text(json.dumps(rows))
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(tmp_path)])
    assert proc.returncode == 2, proc.stderr
    assert ("summary.json holds the rows of a study with dipolar at N = 8, not the 'tiny' "
            "study's N = 5" in proc.stderr), proc.stderr
    assert "-o results/study_tiny" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    from manybody.study.run import _check_same_study
    from manybody.study.specs import load_study_spec

    _check_same_study(tmp_path, "default", {"dipolar": load_study_spec("dipolar", "default")})


def test_the_summary_shows_worker_warnings_as_one_process_does(tiny_study):
    """With -j 2 the workers printed analyse_shape's warnings raw, with the source line
    ('summary.py:198: UserWarning ... shape = analyse_shape(...)'), with -j 1 one line each
    (session 33): the parallel summary hands them to the parent, the same ones in the same
    order as in one process."""
    import warnings

    from manybody.study.summary import summarise

    out, proc = tiny_study
    assert "shape = analyse_shape(" not in proc.stderr
    ds = xr.load_dataset(out / "dipolar.nc", engine="h5netcdf")
    shown = {}
    for n_jobs in (1, 2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows, _ = summarise(ds, "dipolar", n_jobs=n_jobs)
        shown[n_jobs] = [(w.category, str(w.message)) for w in caught]
    assert shown[1] and shown[2] == shown[1]


def test_ratios_the_realisations_do_not_determine_are_not_printed_as_numbers():
    """The tiny study printed "rho_eff rise 4.75 ± 4.6e+14" and "contrast 6.91e+08 ± 5.1e+16"
    (session 33): such ratios read "n.d.", explained under the table; a contrast of 0.00 ±
    0.01 (perfect collapse) and a rise of 1.3 ± 0.2 stay numbers."""
    from manybody.study.summary import ratio_text

    assert ratio_text(4.75, 4.6e14) == "n.d." and ratio_text(6.91e8, 5.1e16) == "n.d."
    assert ratio_text(2.55e80, math.inf) == "n.d." and ratio_text(math.nan, 1.0) == "-"
    assert ratio_text(0.0, 0.01) == "0.00 ± 0.01" and ratio_text(1.3, 0.2) == "1.30 ± 0.20"


def test_only_accepts_the_matrix_element_runs_the_plan_lists_and_pools_them(tmp_path):
    """The plan lists matrix_elements_dipolar etc., which --only refused (session 37's note).
    Named, a run is computed and pooled with the systems already finished in the folder; no
    summary is written (a summary of other specs there is kept)."""
    from manybody.study.catalogue import MATRIX_ELEMENT_NAMES
    assert tuple(MATRIX_ELEMENT_SPECS) == MATRIX_ELEMENT_NAMES  # the CLI's list is the shipped one
    tiny = load_study_spec("dipolar", "tiny")  # a tiny study's summary row: the same size
    row = {"study": "dipolar", "n_tls": next(tiny.points())[1].n_tls,
           "realisations": int(np.ravel(tiny.realisation_counts)[0])}
    (tmp_path / "summary.json").write_text(json.dumps([row]))
    proc = run(["-m", "manybody", "study", "--tiny", "--no-figures", "--only",
                "matrix_elements_dipolar", "-o", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr
    assert "matrix_elements_dipolar: computing" in proc.stderr
    with xr.open_dataset(tmp_path / "matrix_elements.nc", engine="h5netcdf") as ds:
        assert list(ds["system"].values) == ["dipolar J0 = 0.1 K"]
    proc = run(["-m", "manybody", "study", "--tiny", "--no-figures", "--only",
                "matrix_elements_independent", "-o", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr
    assert "matrix_elements_dipolar: reusing finished results" in proc.stderr
    with xr.open_dataset(tmp_path / "matrix_elements.nc", engine="h5netcdf") as ds:
        assert list(ds["system"].values) == ["independent TLS", "dipolar J0 = 0.1 K"]
    assert json.loads((tmp_path / "summary.json").read_text()) == [row]
    assert not (tmp_path / "summary.md").exists()


def test_a_matrix_element_run_of_another_size_than_the_folder_is_refused(tmp_path):
    """A tiny --only matrix_elements_dipolar into a folder of the default study (a fresh
    clone's results/study: no .nc files) redrew its matrix_elements figure from one tiny system
    (a tester, session 38): the folder's summary gives its size, refused before any work."""
    (tmp_path / "summary.json").write_text(json.dumps([{"study": "dipolar", "n_tls": 8,
                                                        "realisations": 1000}]))
    proc = run(["-m", "manybody", "study", "--tiny", "--only", "matrix_elements_dipolar", "-o",
                str(tmp_path)])
    assert proc.returncode != 0
    assert "holds the rows of a study with dipolar at N = 8, not the 'tiny' study's" in proc.stderr
    assert "computing" not in proc.stderr and sorted(p.name for p in tmp_path.iterdir()) == [
        "summary.json"]

"""Faults of the study found by break test s37 (folder /work/break_s37_study): each test uses the
tiny specs or tiny fake files and does no sweep."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from manybody.study import run as study_run
from manybody.study.specs import load_study_spec

ROOT = Path(__file__).resolve().parents[1]


def run(args, **kw):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300, **kw)


def _no_work(*args, **kwargs):
    raise AssertionError("the study started work")


def _row(study, n_tls, realisations, **more):
    return {"study": study, "parameter": "strength", "value": 0.1, "n_tls": n_tls,
            "realisations": realisations, **more}


@pytest.mark.parametrize("filename", ["summary.json", "velocity_slopes.json", "saturation.json"])
def test_a_tiny_run_does_not_replace_rows_of_more_realisations(tmp_path, monkeypatch, filename):
    """`manybody study --tiny --only velocity_dipolar -o <copy of results/velocity>` replaced the
    committed 16000-realisation rows with 6-realisation ones: the guard compared only N, and the
    tiny velocity spec has N = 4 like the default one. Every summary file is checked, before any
    work, and the message names the file, what differs and what to do."""
    (tmp_path / filename).write_text(json.dumps([_row("velocity_dipolar", 4, 16000)]))
    monkeypatch.setattr(study_run, "_execute", _no_work)
    with pytest.raises(ValueError) as info:
        study_run.execute_study(tmp_path, "tiny", only=("velocity_dipolar",), figures=False)
    message = str(info.value)
    assert str(tmp_path / filename) in message and "16000 realisations" in message
    assert "'tiny' study's 6" in message and "-o results/study_tiny" in message
    assert f"move {filename} away" in message and "\n" not in message


def test_a_rerun_of_the_same_sizes_passes_the_summary_guard(tmp_path):
    spec = load_study_spec("velocity_dipolar", "tiny")
    (tmp_path / "velocity_slopes.json").write_text(json.dumps([_row("velocity_dipolar", 4, 6)]))
    study_run._check_same_study(tmp_path, "tiny", {"velocity_dipolar": spec})
    # a summary file that is not one is refused, not rewritten (session 59: a user's own
    # summary.json was replaced without a word; a tester, bt203)
    for text in ("[{\"study\"", '{"a": 1}', "[1, 2]", "\xff"):
        (tmp_path / "summary.json").write_text(text)
        with pytest.raises(FileExistsError, match="not a study summary, and the study would "
                                                  "replace it; move it away"):
            study_run._check_same_study(tmp_path, "tiny", {"velocity_dipolar": spec})


def _fake_results(path: Path, spec) -> None:
    import numpy as np
    import xarray as xr

    ds = xr.Dataset({"x": ("realisation", np.zeros(1))}, attrs={"spec": json.dumps(spec.to_dict())})
    ds.to_netcdf(path, engine="h5netcdf")


def test_a_results_file_of_another_spec_is_refused_before_any_work(tmp_path, monkeypatch):
    """An admixture results file where gaussian.nc goes was refused only after dipolar had been
    computed and fitted, and the message did not say what the file holds. Every existing results
    file is compared with its spec up front, and the message names the spec it holds."""
    _fake_results(tmp_path / "gaussian.nc", load_study_spec("admixture", "tiny"))
    monkeypatch.setattr(study_run, "_execute", _no_work)
    with pytest.raises(FileExistsError) as info:
        study_run.execute_study(tmp_path, "tiny", only=("dipolar", "gaussian"), figures=False)
    message = str(info.value)
    assert str(tmp_path / "gaussian.nc") in message and "'admixture'" in message
    assert "'gaussian'" in message and "move it away" in message


def _study_copy(tmp_path: Path) -> Path:
    study = tmp_path / "study"
    study.mkdir()
    for name in ("summary.json", "velocity_slopes.json", "saturation.json"):
        (study / name).write_text((ROOT / "results" / "study" / name).read_text())
    return study


@pytest.mark.parametrize("filename", ["summary.json", "velocity_slopes.json", "saturation.json"])
@pytest.mark.parametrize("content, problem", [
    ('[{"study": "dipolar"', "is not valid JSON"),
    ("{}", "holds a JSON dict, not a list of study rows"),
    ('[{"study": "dipolar"}]', "row 1 has no value"),
])
def test_damaged_summary_files_are_named_in_one_line(tmp_path, filename, content, problem):
    """A truncated summary file gave a JSONDecodeError traceback in both scripts, a row without
    'value' a KeyError traceback in make_figures.py, and summary.json = {} left the main table
    out of summarise_study.py without a word. Both say which file and what is wrong, status 2."""
    from manybody.study.summary import load_rows, read_saturation, read_summary

    study = _study_copy(tmp_path)
    (study / filename).write_text(content)
    with pytest.raises(ValueError, match=problem):
        load_rows(study / filename)
    with pytest.raises(ValueError, match=problem):
        read_summary(study)
        read_saturation(study)
    if filename != "summary.json" or problem != "is not valid JSON":  # both scripts: one case
        return
    for script in ("scripts/summarise_study.py", "scripts/make_figures.py"):
        proc = run([script, str(study), *(["--out", str(tmp_path / "f")] if "make" in script
                                          else [])])
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert str(study / filename) in proc.stderr and problem in proc.stderr


def test_summarise_script_on_a_file_says_it_is_not_a_directory(tmp_path):
    (tmp_path / "afile").write_text("x")
    proc = run(["scripts/summarise_study.py", str(tmp_path / "afile")])
    assert proc.returncode == 2 and "is not a directory" in proc.stderr
    assert "no study summary" not in proc.stderr


def test_a_killed_drawing_leaves_no_temporary_in_the_figures_folder(tmp_path):
    """kill -9 while the study drew figures left figures/.absorption_shape.png.XXXXXXXX.tmp that
    neither make_figures.py nor a rerun removed. The next drawing removes the temporaries of
    save_figure's pattern (under a lock every drawing holds) and nothing else."""
    from manybody.study.figures import make_all_figures

    figures = tmp_path / "figures"
    figures.mkdir()
    stale = [figures / ".absorption_shape.png.vi9dsiaw.tmp", figures / ".collapse.pdf.a_b1C2d3.tmp"]
    kept = [figures / "notes.tmp", figures / ".keep.tmp", figures / "tls_index.png",
            figures / ".absorption_shape.png.short.tmp"]
    for path in stale + kept:
        path.write_bytes(b"")
    make_all_figures(tmp_path, None, [])
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)


def test_a_velocity_row_without_slopes_is_a_warning_like_the_others(caplog):
    """The velocity table's "no velocity slopes" printed as a logging line ("WARNING
    manybody.study.velocity_table: ...") while the study's other warnings are warnings.warn
    ("warning (UserWarning): <spec>, <point>: ..."). It is a UserWarning naming the point."""
    import numpy as np

    from manybody.study.velocity_table import velocity_row

    label = {"study": "relaxation", "parameter": "strength", "value": 0.3, "n_tls": 4}
    temperatures = np.geomspace(0.005, 0.5, 5)
    with pytest.warns(UserWarning, match=r"relaxation, strength = 0.3 \(N = 4\): no velocity slopes"):
        row = velocity_row(temperatures, np.zeros((3, 5)), label)
    assert row.note and not caplog.records


def test_the_goe_weight_is_W_in_the_figures_not_lambda():
    """Legends and axes called the GOE weight "lambda" in K ("TLS + GOE, lambda = 0.1 K",
    "coupling J0 or GOE weight lambda (K)") while the README's lambda is the dimensionless
    J0/eps_max and its table calls those rows "weight W"."""
    from manybody.study import decomposition_figures, figures
    from manybody.support.style import parameter_text, symbolise

    assert parameter_text("model.random_matrix.weight", 0.1) == "$W$ = 0.1 K"
    assert symbolise("TLS + GOE 0.1 K") == "TLS + GOE $W$ = 0.1 K"
    assert "$W$" in figures.COUPLING_LABEL and "lambda" not in figures.COUPLING_LABEL
    for source in (figures, decomposition_figures):
        text = Path(source.__file__).read_text()
        assert "GOE weight $\\lambda$" not in text and "GOE admixture, $\\lambda$" not in text


@pytest.mark.parametrize("folder", ["velocity", "velocity_admixture"])
def test_summarise_script_prints_a_folder_of_velocity_rows_alone(tmp_path, folder):
    """results/velocity (no summary.json) gave "no study summary", results/velocity_admixture
    (summary.json = []) "no study results" (a tester, session 39): both hold velocity rows."""
    import shutil
    from pathlib import Path

    study = tmp_path / folder
    shutil.copytree(Path(__file__).resolve().parents[1] / "results" / folder, study)
    proc = run(["scripts/summarise_study.py", str(study)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (study / "summary.md").read_text()
    for name in ("summary.json", "velocity_slopes.json"):
        (study / name).unlink(missing_ok=True)
    proc = run(["scripts/summarise_study.py", str(study)])
    assert proc.returncode == 2 and "nor velocity_slopes.json" in proc.stderr

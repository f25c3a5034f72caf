"""Faults a break test (bt203 F5-F9) found in the scripts: bad input ended in tracebacks or in
lines that named the wrong file; each is now one ``error:`` line naming the argument (exit 2),
and the finite-size window prints undetermined errors as the study summary does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env=env)


def refused(*args: str, cwd: Path = ROOT) -> str:
    """Run a script that must refuse: exit 2, no traceback, one ``error:`` line (returned)."""
    proc = run(*args, cwd=cwd)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 or all(": error: " not in line for line in lines[:-1]), proc.stderr
    assert ": error: " in lines[-1], proc.stderr
    return lines[-1]


# -- F5: nb_loss_shift_systematics.py --tmax / --powers ----------------------------------------

@pytest.mark.parametrize("args, option, expected", [
    (["--tmax", "-1"], "--tmax", "> 0"),
    (["--tmax", "abc"], "--tmax", "'abc'"),
    (["--tmax", "0.6,inf"], "--tmax", "'inf'"),
    (["--powers", "99"], "--powers", "have 80, 100, 120, 140, 160"),
    (["--powers", "x"], "--powers", "'x'"),
])
def test_nb_systematics_refuses_bad_tmax_and_powers_at_parsing(tmp_path, args, option, expected):
    out = tmp_path / "nbj"
    line = refused("scripts/nb_loss_shift_systematics.py", *args, "--out", str(out))
    assert line.startswith("nb_loss_shift_systematics.py: error: argument " + option), line
    assert expected in line, line
    assert not out.exists()


# -- F6: readme_table.py --summary that is not a study summary ---------------------------------

@pytest.mark.parametrize("content, expected", [
    ("", "is empty"),
    ('{"a": 1}', "holds a JSON dict"),
    ("[1, 2]", "row 1 is a JSON int"),
    ("[]", "holds no rows"),
    ('[{"study": "x", "value": 1}]', "row 1 has no parameter"),
])
def test_readme_table_names_a_bad_summary_not_the_readme(tmp_path, content, expected):
    summary = tmp_path / "summary.json"
    summary.write_text(content)
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    readme.write_text(text)
    line = refused("scripts/readme_table.py", "--summary", str(summary), "--readme", str(readme),
                   "--extra")
    assert line.startswith(f"readme_table.py: error: argument --summary: '{summary}'"), line
    assert expected in line and "README" not in line.split("--summary")[1], line
    assert readme.read_text() == text

"""Code style is enforced by CI through the test suite: ruff must find nothing."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.fail("ruff is not installed; it is part of the test extras: pip install -e '.[test]'")
    proc = subprocess.run([ruff, "check", "manybody", "tests", "scripts"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_import_is_light():
    """`import manybody` loads none of the heavy dependencies."""
    code = ("import sys, manybody; heavy = [m for m in ('scipy', 'quspin', 'joblib', 'matplotlib', "
            "'dask', 'xarray', 'numba') if m in sys.modules]; print(','.join(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""

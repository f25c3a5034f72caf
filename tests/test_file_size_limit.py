"""The file-size limit (``ulimit -f``, EFBIG) is a lack of room like a full disk (it ended in a
traceback; a tester, session 39): one line naming the limit and the file, the checkpoint kept
when work had finished, and no checkpoint left when nothing had (a lock and an empty tasks/ were
left under words saying finished work was kept)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = """name = "tiny"
seed = 7
realisations = 6
[model]
n_tls = 4
[model.tls]
asymmetry_max = 0.3
tunnelling_min = 0.001
tunnelling_max = 0.3
[sweep]
"model.n_tls" = [4, 5]
[probe]
frequencies = [0.1]
temperatures = [0.02, 0.05]
observables = ["absorption"]
"""


def _run_limited(tmp_path: Path, blocks: int) -> subprocess.CompletedProcess:
    (tmp_path / "tiny.toml").write_text(SPEC)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (blocks * 1024, blocks * 1024))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "manybody", "run", "tiny.toml", "-o", "out.nc",
                           "--jobs", "1"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300, preexec_fn=limit)


@pytest.mark.parametrize(("blocks", "kept"), [(8, True), (1, False)])
def test_the_file_size_limit_is_one_line_and_keeps_what_finished(tmp_path, blocks, kept):
    proc = _run_limited(tmp_path, blocks)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "the file-size limit (ulimit -f) reached writing" in proc.stderr
    assert not (tmp_path / "out.nc").exists()
    checkpoint = tmp_path / "out.nc.checkpoint"
    if kept:  # the final file was too large: every task is in the checkpoint, resumable
        assert "finished work is kept in the checkpoint 'out.nc.checkpoint'" in proc.stderr
        assert len(list((checkpoint / "tasks").glob("*.npz"))) > 0
    else:  # meta.json itself could not be written: nothing finished, nothing left
        assert "no realisation had finished, so nothing is kept" in proc.stderr
        assert not checkpoint.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

"""Faults found in session 48 (items left open by session 47, then break tests of reproducible and
concurrent use and of the documentation's promises), each with the right behaviour."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# ------------------------------------------------ numba's disk cache failing at run time (s47)

_KERNEL_CALL = """
    import logging
    logging.basicConfig(format="%(levelname)s %(message)s")
    from manybody.simulation.observables.pair_kernels import line_kernel, pair_sum
    print(repr(line_kernel(0, 0.1, 1.0, 5.0)))
"""


def _call_kernel(cache_dir, limit_file_blocks=None):
    def limit_it():
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (512 * limit_file_blocks,) * 2)

    return subprocess.run([sys.executable, "-c", textwrap.dedent(_KERNEL_CALL)],
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=limit_it if limit_file_blocks else None,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)})


@pytest.mark.parametrize("damage", ["garbage index", "index is a folder", "garbage data",
                                    "file size limit"])
def test_a_cache_numba_cannot_read_or_write_is_a_miss_not_the_end_of_the_run(tmp_path, damage):
    """A cache numba finds but cannot use (another user's unreadable index, a full disk, a
    file-size limit, a corrupt file) ended every run in that error; now the kernel is compiled in
    memory, with one warning naming NUMBA_CACHE_DIR, and gives the same value."""
    cache = tmp_path / "cache"
    clean = _call_kernel(cache)
    assert clean.returncode == 0, clean.stderr
    assert "WARNING" not in clean.stderr
    if damage == "file size limit":
        for old in cache.rglob("*"):
            if old.is_file():
                old.unlink()
        damaged = _call_kernel(cache, limit_file_blocks=1)
    else:
        pattern = "*line_kernel*.nbc" if damage == "garbage data" else "*line_kernel*.nbi"
        files = list(cache.rglob(pattern))
        assert files
        for path in files:
            path.unlink()
            if damage == "index is a folder":
                path.mkdir()
            else:
                path.write_bytes(b"\x00not numba's pickle\xff" * 3)
        damaged = _call_kernel(cache)
    assert damaged.returncode == 0, damaged.stderr
    assert damaged.stdout == clean.stdout
    warnings = [line for line in damaged.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1, damaged.stderr
    assert "disk cache" in warnings[0] and "NUMBA_CACHE_DIR" in warnings[0]
    assert "Traceback" not in damaged.stderr

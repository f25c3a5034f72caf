"""A SHA-256 checksum of a file's own bytes, kept inside the file.

A results file is netCDF4/HDF5. HDF5 checks some of its structures itself, but not all: zeroing
16 random bytes of a results file went unnoticed in 5 of 150 tries (session 48), the values of a
whole variable read back as NaN (a chunk index lost) or a character of the stored spec changed
(strings live in HDF5's global heap, which carries no checksum), and some damage made the reader
loop for ever inside HDF5. A checksum of the whole file, checked before HDF5 reads a byte, catches
every such change.

The checksum is written into a fixed-length text the file already holds (a global attribute whose
value is :func:`placeholder`): the writer encodes the file with 64 zeros in place of the digest,
hashes those bytes, and writes the digest's hexadecimal digits over the zeros (:func:`seal`). The
reader finds the text by its tag, puts the zeros back, and hashes again (:func:`check_seal`).
HDF5's layout does not change, since the text keeps its length; this needs the text to be stored
verbatim, which holds for attributes of netCDF4 files written by h5netcdf (tested).
"""

from __future__ import annotations

import hashlib

_DIGITS = 64  # hexadecimal digits of a SHA-256 digest


def _marker(tag: str) -> bytes:
    return f"{tag}:sha256:".encode("ascii")


def placeholder(tag: str) -> str:
    """The text to store in the file before it is sealed: ``'{tag}:sha256:'`` and 64 zeros."""
    return _marker(tag).decode("ascii") + "0" * _DIGITS


def seal(data: bytes | memoryview, tag: str) -> bytes:
    """Write the SHA-256 of ``data`` over the zeros of its one :func:`placeholder` of ``tag``.

    Raises
    ------
    ValueError
        ``data`` holds the placeholder not exactly once.
    """
    data = bytes(data)  # xarray's encoder may give a memoryview
    marker = _marker(tag)
    start = data.find(marker + b"0" * _DIGITS)
    if start < 0 or data.count(marker) != 1:
        raise ValueError(f"the encoded file holds its {tag!r} checksum text {data.count(marker)} "
                         "times, expected once")
    digest = hashlib.sha256(data).hexdigest().encode("ascii")
    where = start + len(marker)
    return data[:where] + digest + data[where + _DIGITS:]


def check_seal(data: bytes, tag: str) -> bool | None:
    """Whether ``data`` matches the checksum sealed into it with ``tag``.

    Returns
    -------
    bool or None
        None when ``data`` holds no text of ``tag`` (a file written before checksums, or by
        another program); True when the checksum matches; False when it does not, or when the
        text appears more than once or its digits are not hexadecimal (damage).
    """
    marker = _marker(tag)
    start = data.find(marker)
    if start < 0:
        return None
    if data.count(marker) != 1:
        return False
    where = start + len(marker)
    stored = data[where:where + _DIGITS]
    zeroed = data[:where] + b"0" * _DIGITS + data[where + _DIGITS:]
    return stored == hashlib.sha256(zeroed).hexdigest().encode("ascii")

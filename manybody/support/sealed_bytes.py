"""A SHA-256 checksum of a file's own bytes, kept inside the file.

A results file is netCDF4/HDF5. HDF5 checks some of its structures itself, but not all: zeroing
16 random bytes of a results file went unnoticed in 5 of 150 tries (session 48), the values of a
whole variable read back as NaN (a chunk index lost) or a character of the stored spec changed
(strings live in HDF5's global heap, which carries no checksum), and some damage made the reader
loop for ever inside HDF5. A checksum of the whole file, checked before HDF5 reads a byte, catches
every such change.

The checksum is written into a fixed-length text the file already holds (a global attribute whose
value is a :func:`placeholder`): the writer encodes the file with 64 zeros in place of the digest,
hashes those bytes, and writes the digest's hexadecimal digits over the zeros (:func:`seal`). The
reader finds the text by its tag, puts the zeros back, and hashes again (:func:`check_seal`).
HDF5's layout does not change, since the text keeps its length; this needs the text to be stored
verbatim, which holds for attributes of netCDF4 files written by h5netcdf (tested).

Each placeholder carries a random 16-digit nonce, so that the writer finds its own text even when
the file's other content quotes the tag (a spec named after it could not be saved, a second break
test, session 48); the reader tries every text of the tag's shape, and one must match.
"""

from __future__ import annotations

import hashlib
import re
import secrets

_DIGITS = 64  # hexadecimal digits of a SHA-256 digest
_NONCE = 16  # hexadecimal digits of the nonce


def _pattern(tag: str) -> re.Pattern[bytes]:
    # the nonce is optional: the first sealed files (commits 51a9cbe..b57f350 of session 48)
    # carried none, and were refused as damaged once it came in (a break test)
    return re.compile(re.escape(tag.encode("ascii"))
                      + rb"(?::[0-9a-f]{%d})?:sha256:([0-9a-f]{%d})" % (_NONCE, _DIGITS))


def placeholder(tag: str) -> str:
    """The text to store in the file before it is sealed: ``'{tag}:{nonce}:sha256:'`` and 64
    zeros, the nonce 16 random hexadecimal digits."""
    return f"{tag}:{secrets.token_hex(_NONCE // 2)}:sha256:" + "0" * _DIGITS


def seal(data: bytes | bytearray | memoryview, text: str) -> bytearray | memoryview:
    """Write the SHA-256 of ``data`` over the zeros of ``text``, the :func:`placeholder` the
    encoded ``data`` holds once.

    A writable buffer (the memoryview xarray's encoder returns, a bytearray) is sealed in place
    and returned, with no copy: a results file is sealed while the run's results are still held,
    and two copies of the encoded file had raised the end-of-run peak to 4.6 times the results'
    size (a break test, session 49). Read-only bytes are copied once.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        The encoded file.
    text : str
        Its :func:`placeholder`.

    Returns
    -------
    bytearray or memoryview
        ``data`` (or a view of it) sealed in place when it is writable, else a sealed copy.

    Raises
    ------
    ValueError
        ``data`` holds ``text`` not exactly once.
    """
    marker = re.compile(re.escape(text.encode("ascii")))
    found = [match.end() for match in marker.finditer(data)]
    if len(found) != 1:
        raise ValueError(f"the encoded file holds its checksum text {len(found)} times, "
                         "expected once")
    where = found[0] - _DIGITS
    digest = hashlib.sha256(data).hexdigest().encode("ascii")
    target = data if isinstance(data, bytearray) else memoryview(data).cast("B")
    if target.readonly:
        target = bytearray(data)
    target[where:where + _DIGITS] = digest
    return target


def check_seal(data: bytes, tag: str) -> bool | None:
    """Whether ``data`` matches a checksum sealed into it with ``tag``.

    Returns
    -------
    bool or None
        None when ``data`` holds no text of ``tag``'s shape (a file written before checksums,
        or by another program); True when the checksum of one of them matches; False when none
        does (damage, or a file rewritten in place).
    """
    found = False
    for match in _pattern(tag).finditer(data):
        found = True
        start, end = match.span(1)
        zeroed = data[:start] + b"0" * _DIGITS + data[end:]
        if match.group(1) == hashlib.sha256(zeroed).hexdigest().encode("ascii"):
            return True
    if found:
        return False
    # a tag whose shape the damage broke (a digit changed into a letter beyond f): damage too
    return False if tag.encode("ascii") + b":" in data else None

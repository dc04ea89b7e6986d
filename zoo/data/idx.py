"""A strict reader for the IDX files MNIST and Fashion-MNIST ship in (LeCun's format).

Strict means: the whole gzip stream must decode (its CRC is checked), the magic number must say
unsigned bytes with the expected number of dimensions, and the byte count must equal the header's
dimensions exactly. Any failure raises DataError naming the file; no partial array is returned.
numpy and gzip do the work; no library reads IDX with these checks, hence this file.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A data file is missing, corrupt, truncated or not the file it should be."""


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path: str | Path, ndim: int) -> np.ndarray:
    """The uint8 array stored in the IDX file `path` (gzipped or not), with `ndim` dimensions."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as err:
        raise DataError(f"{path}: not a complete gzip file ({err}); the file is truncated or "
                        "corrupt, fetch it again") from err
    if len(raw) < 4:
        raise DataError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    zero, dtype_code, dims = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08 or dims != ndim:
        raise DataError(
            f"{path}: bad magic number 0x{raw[:4].hex()}, expected 0x000008{ndim:02x} "
            f"(unsigned bytes, {ndim} dimension{'s' if ndim > 1 else ''}); not the expected IDX file"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(
            f"{path}: length mismatch, the header announces shape {shape} ({expected} bytes) "
            f"but the data holds {len(raw)} bytes; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()

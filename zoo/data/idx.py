"""A strict reader for the IDX files MNIST and Fashion-MNIST ship in (LeCun's format).

Strict means: the whole gzip stream must decode (its CRC is checked), the magic number must say
unsigned bytes with the expected number of dimensions, and the byte count must equal the header's
dimensions exactly. Any failure raises DataError naming the file; no partial array is returned.
numpy and gzip do the work; no library reads IDX with these checks, hence this file.
"""

from __future__ import annotations

import gzip
import hashlib
import math
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


# deflate never expands better than about 1032:1 (RFC 1951's longest match, 258 bytes, costs
# at least 2 bits), so a header announcing more than this many bytes per compressed byte lies
# about the file and is refused before anything is decompressed.
_DEFLATE_MAX_RATIO = 1032


def _dims_text(ndim: int) -> str:
    return f"{ndim} dimension{'s' if ndim > 1 else ''}"


def read_idx(path: str | Path, ndim: int) -> np.ndarray:
    """The uint8 array stored in the IDX file `path` (gzipped or not), with `ndim` dimensions.

    The header is read first; the body is then read with a bound (the header's length plus one
    byte, to notice trailing data), so a lying header or a gzip bomb never fills memory."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    gz = path.suffix == ".gz"
    header_len = 4 + 4 * ndim
    try:
        stored = path.stat().st_size
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            head = f.read(header_len)
            if len(head) < 4:
                raise DataError(f"{path}: {len(head)} bytes, too short for an IDX header")
            zero, dtype_code, dims = int.from_bytes(head[:2], "big"), head[2], head[3]
            if zero != 0 or dtype_code != 0x08 or dims != ndim:
                raise DataError(
                    f"{path}: bad magic number 0x{head[:4].hex()}, expected 0x000008{ndim:02x} "
                    f"(unsigned bytes, {_dims_text(ndim)}); not the expected IDX file")
            if len(head) < header_len:
                raise DataError(f"{path}: truncated IDX header ({len(head)} bytes)")
            shape = tuple(int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big")
                          for i in range(ndim))
            if 0 in shape:
                raise DataError(f"{path}: the header announces shape {shape}, an empty array; "
                                "not a usable IDX file")
            # Python integers: exact, where np.prod would wrap around at 2**63.
            expected = header_len + math.prod(shape)
            possible = stored * _DEFLATE_MAX_RATIO if gz else stored
            if expected > possible:
                raise DataError(
                    f"{path}: length mismatch, the header announces shape {shape} ({expected} "
                    f"bytes) but the file ({stored} bytes{' compressed' if gz else ''}) cannot "
                    "hold that much; the file is truncated or corrupt")
            # one byte more than announced: enough to see trailing data, never more
            # (a short read has reached the end of the gzip stream, where its CRC is checked)
            body = f.read(expected - header_len + 1)
    except DataError:
        raise
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as err:
        raise DataError(f"{path}: not a complete gzip file ({err}); the file is truncated or "
                        "corrupt, fetch it again") from err
    actual = header_len + len(body)
    if actual != expected:
        held = f"{actual} bytes" if actual < expected else "more bytes than that"
        raise DataError(
            f"{path}: length mismatch, the header announces shape {shape} ({expected} bytes) "
            f"but the data holds {held}; the file is truncated or corrupt")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape).copy()

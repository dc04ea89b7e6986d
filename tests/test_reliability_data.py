"""Issue 17, item 11: the IDX reader refuses lying headers, empty arrays and gzip bombs, naming
the file, without decompressing more than the header announces."""

import gzip
import tracemalloc

import numpy as np
import pytest

from tests.conftest import first_idx_bytes
from zoo.data import DataError, read_idx


def _header(*shape):
    return bytes([0, 0, 8, len(shape)]) + b"".join(int(d).to_bytes(4, "big") for d in shape)


def test_overflowing_header_dimensions_are_refused_naming_the_file(tmp_path):
    # 2**31 * 2**31 * 4 = 2**64: np.prod wraps it to 0, so 12 + 0 bytes looked "exact"
    path = tmp_path / "bomb-images.gz"
    path.write_bytes(gzip.compress(_header(2**31, 2**31, 4)))
    with pytest.raises(DataError, match=r"bomb-images\.gz: length mismatch, the header "
                                        r"announces shape \(2147483648, 2147483648, 4\) "
                                        r"\(18446744073709551632"):
        read_idx(path, 3)


def test_overflow_uncompressed_too(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(_header(2**31, 2**31, 4))
    with pytest.raises(DataError, match=r"images: length mismatch"):
        read_idx(path, 3)


@pytest.mark.parametrize("shape", [(0, 28, 28), (5, 0, 28)])
def test_empty_array_is_refused(tmp_path, shape):
    path = tmp_path / "empty-images.gz"
    path.write_bytes(gzip.compress(_header(*shape)))
    with pytest.raises(DataError, match=r"empty-images\.gz: the header announces shape .* an "
                                        r"empty array"):
        read_idx(path, 3)


def test_zero_labels_are_refused(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(_header(0)))
    with pytest.raises(DataError, match=r"labels\.gz: .*empty array"):
        read_idx(path, 1)


def test_gzip_bomb_is_read_no_further_than_the_header_says(tmp_path):
    # a valid 2x3x3 header followed by 200 MB of zeros (200 kB compressed): the reader stops
    # one byte past what the header announces, so memory stays small
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(first_idx_bytes(np.zeros((2, 3, 3))))
        block = bytes(1 << 20)
        for _ in range(200):
            f.write(block)
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"bomb\.gz: length mismatch, the header announces "
                                            r"shape \(2, 3, 3\) \(34 bytes\) but the data holds "
                                            r"more bytes than that"):
            read_idx(path, 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, f"decompressed {peak} bytes for a 34-byte file"


def test_trailing_bytes_are_refused(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(first_idx_bytes(np.zeros((2, 3, 3))) + b"x")
    with pytest.raises(DataError, match=r"images: length mismatch.*more bytes than that"):
        read_idx(path, 3)


def test_valid_file_still_reads(tmp_path):
    images = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    path = tmp_path / "ok.gz"
    path.write_bytes(gzip.compress(first_idx_bytes(images)))
    np.testing.assert_array_equal(read_idx(path, 3), images)
    # a corrupt CRC is still noticed, though the reader stops at the announced length
    raw = bytearray(path.read_bytes())
    raw[-8] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"ok\.gz: not a complete gzip file"):
        read_idx(path, 3)

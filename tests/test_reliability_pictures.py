"""Issue 17, items 7 and 8: pictures the MNIST conversion used to get wrong or crash on."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from zoo.images import ImageError, mnist_from_file


def _digit():
    """A real MNIST test digit, light ink on dark paper (uint8 28x28)."""
    import zoo.data

    (_, _), (x_test, _) = zoo.data.load_mnist()
    return x_test[0]


def _png_header_only(path, width, height):
    """A PNG whose header announces width x height (no pixel data needed: Pillow checks the
    size when it opens the file)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))


def test_16_bit_png_with_ink_and_paper_above_255_is_read(tmp_path):
    digit = _digit().astype("uint16")
    # dark ink on light paper, every sample above 255: 8-bit conversion used to clip it blank
    wide = (60000 - digit * 80).astype("uint16")
    path16 = tmp_path / "digit16.png"
    Image.fromarray(wide).save(path16)
    assert Image.open(path16).mode.startswith("I")
    path8 = tmp_path / "digit8.png"
    Image.fromarray(np.round(wide / 257).astype("uint8")).save(path8)
    got16, got8 = mnist_from_file(path16), mnist_from_file(path8)
    assert got16.max() == 255
    # same digit, same placement: at most rounding differences between 16 and 8 bits
    assert np.abs(got16.astype(int) - got8.astype(int)).mean() < 2


def test_decompression_bomb_is_a_clear_error(tmp_path):
    path = tmp_path / "huge.png"
    _png_header_only(path, 14000, 14000)
    with pytest.raises(ImageError, match=r"huge\.png: not a readable image: too large to read "
                                         r"safely .*196000000 "
                                         r"pixels.*shrink the picture"):
        mnist_from_file(path)


def test_a_picture_under_pillows_limit_but_too_large_is_refused_before_decoding(tmp_path,
                                                                                monkeypatch):
    """13,000 x 13,000 (169 million pixels) is under Pillow's refusal (179 million): it used to be
    decoded, 5.1 s and 2.2 GB in the live explainer (issue 30). Refused from its header now."""
    from PIL import ImageFile

    path = tmp_path / "wide.png"
    _png_header_only(path, 13000, 13000)
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(1))
    with pytest.raises(ImageError, match=r"wide\.png: not a readable image: too large to read "
                                         r"safely \(13000 x 13000 = 169000000 pixels"):
        mnist_from_file(path)
    assert not decoded


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_float_picture_with_pixels_that_are_not_numbers_is_refused(tmp_path, value):
    """A float TIFF may hold NaN or infinities: numpy's "zero-size array" error (a traceback in
    `zoo predict`, a 500 in the live explainer) before; now the picture's own refusal."""
    pixels = np.zeros((28, 28), dtype="float32")
    pixels[8:20, 12:15] = value
    path = tmp_path / "odd.tiff"
    Image.fromarray(pixels, mode="F").save(path)
    with pytest.raises(ImageError, match=r"odd.tiff: not a readable image: some pixels are not "
                                         r"numbers \(NaN or infinite\)"):
        mnist_from_file(path)

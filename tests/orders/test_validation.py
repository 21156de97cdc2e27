"""Stored copies: metadata (GPS...) stripped, EXIF orientation applied, pixels otherwise untouched."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.api.conftest import image_bytes
from tryon.errors import InvalidImage
from tryon.validation import decode_base64, validate_image


def with_exif(fmt: str, orientation: int, width=320, height=200) -> bytes:
    base = Image.open(io.BytesIO(image_bytes(width, height, seed=4)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    gps = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    exif[0x8825] = gps
    buffer = io.BytesIO()
    base.save(buffer, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_metadata_stripped_upright_kept(fmt):
    data = with_exif(fmt, orientation=1)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the GPS block is there to begin with
    stored = validate_image(data, "person_image")
    image = Image.open(io.BytesIO(stored.data))
    assert not image.getexif() and b"TestCam" not in stored.data
    assert image.size == (320, 200) == (stored.width, stored.height)
    if fmt != "WEBP":
        # JPEG and PNG are stripped without re-encoding: the same pixels.
        assert np.array_equal(np.asarray(image.convert("RGB")), np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_orientation_applied(fmt):
    stored = validate_image(with_exif(fmt, orientation=6), "person_image")  # 6: rotate 90 clockwise
    image = Image.open(io.BytesIO(stored.data))
    assert image.size == (200, 320) == (stored.width, stored.height)
    assert not image.getexif() and b"TestCam" not in stored.data


def test_jpeg_trailer_after_eoi_dropped():
    data = image_bytes(200, 200) + b"GPS-LAT=52.1 appended trailer"
    assert b"GPS-LAT" not in validate_image(data, "x").data


def test_decode_base64_rejects_garbage():
    with pytest.raises(InvalidImage):
        decode_base64("%%%%", "person_image")
    assert decode_base64("data:image/png;base64,aGVsbG8=", "x") == b"hello"
    assert decode_base64("aGVsbG8", "x") == b"hello"  # missing padding tolerated

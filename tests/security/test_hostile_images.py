"""A corpus of hostile images, built here, each sent through POST /generate: refused with the documented
error, or accepted and stored as a safe, upright, decodable JPEG/PNG/WebP the pipeline reads correctly."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from billing.services import credits_balance
from imaging.image_io import load_rgb
from tests.api.conftest import image_bytes
from tryon.lifecycle import order_fail
from tryon.models import Order, OrderFile


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A real, complete PNG of width x height zero pixels: a few hundred KB that inflate to gigabytes."""
    row = b"\x00" + b"\x00" * width  # filter byte + 8-bit grey
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is edited to claim width x height."""
    data = bytearray(image_bytes(96, 96))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def encoded(array_or_image, fmt: str, **save) -> bytes:
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def gradient(w: int = 200, h: int = 120) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 90)], -1).astype(np.uint8)


def with_orientation(orientation: int, w: int = 200, h: int = 120) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encoded(gradient(w, h), "JPEG", exif=exif.tobytes(), quality=95)


def cmyk_jpeg() -> bytes:
    return encoded(Image.fromarray(gradient()).convert("CMYK"), "JPEG", quality=95)


def png16_grey() -> bytes:
    grey = (np.tile(np.linspace(0, 65535, 200), (120, 1))).astype(np.uint16)
    return encoded(Image.fromarray(grey), "PNG")


def palette_transparent() -> bytes:
    image = Image.fromarray(gradient()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encoded(image, "PNG", transparency=0)


def animated(fmt: str) -> bytes:
    frames = [Image.fromarray(np.full((120, 200, 3), c, np.uint8)) for c in (30, 200, 90)]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def jpeg_with_html_after_eoi() -> bytes:
    return image_bytes(200, 120) + b"<html><script>alert(document.cookie)</script></html>"


def png_with_html_text_chunk() -> bytes:
    data = encoded(gradient(), "PNG")
    chunk = _png_chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>")
    return data[:33] + chunk + data[33:]  # right after IHDR


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
REFUSED = {
    "truncated jpeg": (image_bytes(320, 480)[:4000], 400, "INVALID_IMAGE"),
    "truncated png": (encoded(gradient(), "PNG")[:-200], 400, "INVALID_IMAGE"),
    "header only": (image_bytes(320, 480)[:300], 400, "INVALID_IMAGE"),
    "png bomb 10000x6000 (real zlib stream)": (png_bomb(10000, 6000), 400, "INVALID_IMAGE"),
    "jpeg claiming 60000x60000": (jpeg_claiming(60000, 60000), 400, "INVALID_IMAGE"),
    "jpeg claiming 65000x64 (thin, few pixels, no data)": (jpeg_claiming(65000, 64), 400, "INVALID_IMAGE"),
    "animated gif": (animated("GIF"), 400, "INVALID_IMAGE"),
    "svg as png": (SVG, 400, "INVALID_IMAGE"),
    "html as jpeg": (HTML, 400, "INVALID_IMAGE"),
    "html behind a jpeg magic number": (b"\xff\xd8\xff\xe0" + HTML, 400, "INVALID_IMAGE"),
    "bmp": (encoded(gradient(), "BMP"), 400, "INVALID_IMAGE"),
    "tiff": (encoded(gradient(), "TIFF"), 400, "INVALID_IMAGE"),
    "1x1": (encoded(gradient()[:1, :1], "PNG"), 400, "INVALID_IMAGE"),
    "empty": (b"", 400, "INVALID_IMAGE"),
}


def _post(api, data: bytes, data_url: str = "data:image/png;base64,"):
    body = {"style": "product_catalog", "quantity": 6, "product_image": data_url + base64.b64encode(data).decode()}
    return api.post("/api/v1/generate", body, format="json")


@pytest.mark.parametrize("name", REFUSED)
def test_refused(api, owner, name):
    data, status, code = REFUSED[name]
    response = _post(api, data)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert credits_balance(owner[0]) == 100 and not Order.objects.exists()


def _accepted(api, data: bytes) -> tuple[OrderFile, np.ndarray]:
    response = _post(api, data)
    assert response.status_code == 202, response.content
    order_id = response.json()["order_id"]
    record = OrderFile.objects.get(order_id=order_id, role="product")
    with record.file.open("rb") as f:
        stored = f.read()
    order_fail(order_id, code="TEST", message="frees the in-flight slot")
    assert record.file.name.rsplit(".", 1)[-1] in ("jpg", "png", "webp")
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format in ("JPEG", "PNG", "WEBP")
        assert image.getexif().get(0x0112) in (None, 1), "stored copy must be upright"
        assert (image.width, image.height) == (record.width, record.height)
    assert b"<script" not in stored
    rgb = load_rgb(stored)
    assert rgb.dtype == np.uint8 and rgb.shape == (record.height, record.width, 3)
    return record, rgb


def test_cmyk_jpeg_read_as_rgb(api, owner):
    _, rgb = _accepted(api, cmyk_jpeg())
    expected = gradient()
    assert np.abs(rgb.astype(int) - expected).mean() < 12  # colours survive the CMYK round trip


def test_16_bit_png_scaled_not_clipped(api, owner):
    _, rgb = _accepted(api, png16_grey())
    assert rgb[:, 0].max() < 5 and rgb[:, -1].min() > 250 and 110 < rgb[:, 100].mean() < 145


def test_palette_with_transparency_on_white(api, owner):
    record, rgb = _accepted(api, palette_transparent())
    source = Image.open(io.BytesIO(palette_transparent()))
    transparent = np.asarray(source) == 0
    assert transparent.any() and (rgb[transparent] == 255).all()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_png_and_webp_first_frame(api, owner, fmt):
    _, rgb = _accepted(api, animated(fmt))
    assert abs(int(np.median(rgb)) - 30) <= 3


@pytest.mark.parametrize(
    ("orientation", "size"),
    [(1, (200, 120)), (3, (200, 120)), (6, (120, 200)), (8, (120, 200)), (2, (200, 120)), (5, (120, 200))],
)
def test_exif_rotation_applied_once(api, owner, orientation, size):
    record, rgb = _accepted(api, with_orientation(orientation))
    assert (record.width, record.height) == size
    # The stored pixels are the camera's rotated exactly as EXIF says (Pillow's transpose is the reference).
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(with_orientation(orientation)))))
    assert np.abs(rgb.astype(int) - expected).mean() < 3
    if orientation == 3:  # rotated 180: the bright corner is now top-left
        assert rgb[0, 0, 0] > 235 and rgb[0, 0, 1] > 235


@pytest.mark.parametrize("orientation", [0, 9, 65535])
def test_invalid_exif_orientation_values_ignored(api, owner, orientation):
    record, _ = _accepted(api, with_orientation(orientation))
    assert (record.width, record.height) == (200, 120)


def test_garbage_exif_block(api, owner):
    data = bytearray(image_bytes(200, 120))
    segment = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\xff\xff" + b"\x00" * 40  # IFD offset far past the end
    data[2:2] = b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment
    _accepted(api, bytes(data))


def test_polyglots_stored_without_their_payload(api, owner):
    _accepted(api, jpeg_with_html_after_eoi())
    _accepted(api, png_with_html_text_chunk())


def test_tiny_file_with_many_pixels_under_the_limit_is_fine(api, owner, settings):
    """A 4000x3000 flat PNG is ~40 KB: allowed (12 MP under the limit) and decoded without trouble."""
    data = png_bomb(4000, 3000)
    assert len(data) < 100_000
    record, rgb = _accepted(api, data)
    assert (record.width, record.height) == (4000, 3000) and rgb.max() == 0


def test_refused_images_are_refused_in_multipart_too(api, owner):
    response = api.post(
        "/api/v1/generate",
        {
            "style": "virtual_tryon",
            "person_image": io.BytesIO(SVG),
            "clothing_image": io.BytesIO(image_bytes(300, 300)),
        },
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_IMAGE"


# --- large 16-bit images: bounded by decoded bytes, checked without decoding ----


def png_flat(width: int, height: int, depth: int = 8, colour: int = 6) -> bytes:
    """A complete PNG of zero samples: 16-bit RGBA at 39.7 Mpx is ~300 KB that decode to 318 MB."""
    samples = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = b"\x00" * (1 + width * samples * depth // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def test_large_16_bit_rgba_png_refused_by_decoded_size(api, owner):
    import time

    data = png_flat(7700, 5150, depth=16)  # 39.7 Mpx, under the pixel limit, 318 MB decoded
    assert len(data) < 500_000
    started = time.monotonic()
    response = _post(api, data)
    assert time.monotonic() - started < 2
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert response.json()["error"]["details"]["decoded_bytes"] == 7700 * 5150 * 8
    assert credits_balance(owner[0]) == 100 and not Order.objects.exists()


def test_truncated_or_padded_png_streams_refused(api, owner):
    data = png_flat(400, 300, depth=16, colour=2)
    ihdr_end = 8 + 25
    (length,) = struct.unpack(">I", data[ihdr_end : ihdr_end + 4])
    body = zlib.decompress(data[ihdr_end + 8 : ihdr_end + 8 + length])
    for broken in (body[:-600], body + b"\x00" * 600):
        png = data[:ihdr_end] + _png_chunk(b"IDAT", zlib.compress(broken)) + _png_chunk(b"IEND", b"")
        response = _post(api, png)
        assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_IMAGE"


def test_checking_a_large_png_does_not_allocate_the_image():
    """An 8-bit RGBA PNG of 39.7 Mpx (accepted: 159 MB decoded) is checked within 96 MB more address
    space than the process had (a fresh process under RLIMIT_AS): the stream is inflated in steps,
    never held. Decoding it whole, as Pillow's load() does, fails there with MemoryError."""
    import os
    import subprocess
    import sys

    probe = (
        "import re,resource,django;django.setup();"
        "from tests.security.test_hostile_images import png_flat;"
        "from tryon.validation import validate_image;"
        "data=png_flat(7700,5150);"
        "size=int(re.search(r'VmSize:\\s+(\\d+)',open('/proc/self/status').read()).group(1))*1024;"
        "resource.setrlimit(resource.RLIMIT_AS,(size+96*2**20,resource.RLIM_INFINITY));"
        "image=validate_image(data,'product_image');print(image.width,image.height)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.split() == ["7700", "5150"], result.stderr[-2000:]


def test_16_bit_grey_png_thumbnail_is_not_white():
    from tryon.thumbnails import make_thumbnail

    thumb = np.asarray(Image.open(io.BytesIO(make_thumbnail(png16_grey()))).convert("L")).astype(int)
    assert thumb.mean() < 160 and (thumb > 250).mean() < 0.2
    assert thumb[:, :10].mean() < 30 and thumb[:, -10:].mean() > 220  # the gradient survives

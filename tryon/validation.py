"""Input images: base64 decoding, format and size checks, metadata stripping.

Every check runs before any pixel buffer of the full image is allocated: the header gives the
format and the size, JPEGs are test-decoded at 1/8 scale (the whole entropy-coded stream is still
parsed, so truncation is caught), and the stored copy is the original bytes with metadata segments
removed; only an image whose EXIF orientation is not "upright" is decoded and re-encoded rotated.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
import warnings
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InvalidImage, PayloadTooLarge

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_DATA_URL = re.compile(r"^data:([\w/+.-]*)(;[\w=.-]+)*;base64,", re.IGNORECASE)
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class ValidImage:
    data: bytes  # what is stored: metadata stripped, orientation applied
    ext: str  # jpg, png or webp
    width: int
    height: int


def decode_base64(value: str, field: str) -> bytes:
    """The bytes of a base64 string, with or without a data: URL prefix."""
    value = value.strip()
    match = _DATA_URL.match(value)
    if match:
        value = value[match.end() :]
    elif value.startswith("data:"):
        raise InvalidImage(
            f"'{field}' is a data: URL but not base64 (expected 'data:image/...;base64,...').", details={"field": field}
        )
    limit = settings.API_MAX_IMAGE_BYTES
    if len(value) > limit * 4 // 3 + 1024:
        raise PayloadTooLarge(f"'{field}' is larger than {limit // (1024 * 1024)} MB.", details={"field": field})
    value = "".join(value.split())  # line-wrapped base64 is common
    if "-" in value or "_" in value:
        value = value.replace("-", "+").replace("_", "/")  # URL-safe alphabet
    value += "=" * (-len(value) % 4)
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImage(f"'{field}' is not valid base64.", details={"field": field}) from None
    if not data:
        raise InvalidImage(f"'{field}' is empty.", details={"field": field})
    return data


def image_input_bytes(value: str | UploadedFile, field: str) -> bytes:
    """The bytes of an image input: a base64 string (JSON) or an uploaded file (multipart, the web form)."""
    if isinstance(value, str):
        return decode_base64(value, field)
    if value.size is not None and value.size > settings.API_MAX_IMAGE_BYTES:
        raise PayloadTooLarge(
            f"'{field}' is larger than {settings.API_MAX_IMAGE_BYTES // (1024 * 1024)} MB.", details={"field": field}
        )
    return value.read()


def validate_image(data: bytes, field: str) -> ValidImage:
    """Check that ``data`` is a JPEG, PNG or WebP of acceptable size; return the copy to store."""
    details = {"field": field}
    if len(data) > settings.API_MAX_IMAGE_BYTES:
        raise PayloadTooLarge(
            f"'{field}' is larger than {settings.API_MAX_IMAGE_BYTES // (1024 * 1024)} MB.", details=details
        )
    max_pixels = settings.API_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError:
        raise InvalidImage(f"'{field}' has too many pixels (at most {max_pixels:,}).", details=details) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidImage(f"'{field}' is not an image: send a JPEG, PNG or WebP photo.", details=details) from None
    if image.format not in ALLOWED_FORMATS:
        raise InvalidImage(
            f"'{field}' is a {image.format} image: send a JPEG, PNG or WebP photo.",
            details={**details, "format": image.format},
        )
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidImage(
            f"'{field}' is {width}x{height}: too many pixels (at most {max_pixels:,}).",
            details={**details, "width": width, "height": height},
        )
    minimum = settings.API_MIN_IMAGE_SIDE
    if min(width, height) < minimum:
        raise InvalidImage(
            f"'{field}' is {width}x{height}: too small, each side must be at least {minimum} px.",
            details={**details, "width": width, "height": height},
        )
    ext = ALLOWED_FORMATS[image.format]
    decoded = decoded_bytes(image, data, ext)
    if decoded > settings.API_MAX_IMAGE_DECODED_BYTES:
        # Pixels alone undercount: a 16-bit RGBA PNG needs 8 bytes a pixel, twice an 8-bit one's 4.
        raise PayloadTooLarge(
            f"'{field}' is {width}x{height} and would take {decoded // 2**20} MB decoded "
            f"(at most {settings.API_MAX_IMAGE_DECODED_BYTES // 2**20} MB); send a smaller or 8-bit image.",
            details={**details, "width": width, "height": height, "decoded_bytes": decoded},
        )
    if ext == "jpg" and len(data) * 8 < -(-width // 8) * -(-height // 8):
        # Every 8x8 block costs at least one bit: a file this small cannot hold the frame it claims
        # (libjpeg would silently pad the missing rows with grey instead of failing).
        raise InvalidImage(f"'{field}' is damaged or truncated: the image data cannot be decoded.", details=details)
    orientation = _png_orientation(data) if ext == "png" else _orientation(image)
    try:
        stored = {"jpg": strip_jpeg_metadata, "png": strip_png_metadata}.get(ext, lambda d: d)(data)
        _test_decode(stored, ext)
    except (OSError, SyntaxError, ValueError, IndexError, struct.error, zlib.error, Image.DecompressionBombError):
        raise InvalidImage(
            f"'{field}' is damaged or truncated: the image data cannot be decoded.", details=details
        ) from None
    if orientation not in (None, 1) or ext == "webp":
        # Rotated (or WebP, whose metadata chunks are not stripped byte-wise): decode and re-encode.
        stored, width, height = _reencode_upright(data, ext)
    return ValidImage(data=stored, ext=ext, width=width, height=height)


def _png_orientation(data: bytes) -> int | None:
    """The EXIF orientation of a PNG from its eXIf chunk, found by walking the chunks: Pillow's getexif()
    on a PNG decodes the whole image first, in case the chunk comes after the image data."""
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"eXIf":
            exif = Image.Exif()
            try:
                exif.load(data[pos + 8 : pos + 8 + length])
                return exif.get(_EXIF_ORIENTATION)
            except Exception:  # noqa: BLE001 - unreadable EXIF is ignored, and stripped below
                return None
        if kind == b"IEND":
            break
        pos += 12 + length
    return None


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(_EXIF_ORIENTATION)
    except Exception:  # noqa: BLE001 - unreadable EXIF is ignored, and stripped below
        return None


# PNG colour type -> samples per pixel (greyscale, RGB, palette, grey + alpha, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def decoded_bytes(image: Image.Image, data: bytes, ext: str) -> int:
    """Bytes the decoded image takes at its own bit depth (read from the header, nothing decoded)."""
    width, height = image.size
    if ext == "png" and data[12:16] == b"IHDR":
        depth, colour = data[24], data[25]
        return width * height * _PNG_CHANNELS.get(colour, 4) * max(depth, 8) // 8
    return width * height * max(len(image.getbands()), 3 if ext == "jpg" else 4)


def _check_png_stream(data: bytes) -> None:
    """Inflate the PNG's image data in 1 MB steps, counting bytes, never holding the image: the stream
    must be complete and exactly as long as the header says (a truncated or padded one is damaged).
    Pillow's load() would allocate the whole decoded image just to find that out."""
    pos, idat, header = 8, [], b""
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) < length or len(crc) < 4 or zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            raise ValueError("damaged PNG chunk")
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    else:
        raise ValueError("PNG without IEND")
    if len(header) != 13 or not idat:
        raise ValueError("PNG without a header or image data")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    bits = _PNG_CHANNELS.get(colour, 4) * depth
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    expected = 0
    for x0, y0, dx, dy in passes if interlace else [(0, 0, 1, 1)]:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            expected += rows * (1 + -(-columns * bits // 8))  # each row: a filter byte, then its samples
    inflater = zlib.decompressobj()
    total = 0
    for chunk in idat:
        pending = chunk
        while pending:
            total += len(inflater.decompress(pending, 1 << 20))
            pending = inflater.unconsumed_tail
            if total > expected:
                raise ValueError("PNG image data longer than its size")
    while not inflater.eof and total <= expected:
        out = inflater.decompress(b"", 1 << 20)
        if not out:
            break
        total += len(out)
    if not inflater.eof or total != expected:
        raise ValueError("truncated PNG image data")


def _test_decode(data: bytes, ext: str) -> None:
    if ext == "png":
        _check_png_stream(data)
        return
    image = Image.open(io.BytesIO(data))
    if ext == "jpg":
        # DCT scaling: decodes every scan but allocates 1/64 of the pixels.
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
    image.load()


def _reencode_upright(data: bytes, ext: str) -> tuple[bytes, int, int]:
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    icc = image.info.get("icc_profile")
    out = io.BytesIO()
    if ext == "jpg":
        image.convert("RGB").save(out, "JPEG", quality=95, icc_profile=icc)
    elif ext == "png":
        image.save(out, "PNG", icc_profile=icc)
    else:
        image.save(out, "WEBP", quality=95, icc_profile=icc)
    return out.getvalue(), image.width, image.height


# JPEG segments kept: APP0 (JFIF), APP2 only when it is an ICC profile, APP14 (Adobe colour transform),
# and every non-APP segment. Dropped: APP1 (EXIF incl. GPS, XMP), APP13 (IPTC), other APPn, COM.
def strip_jpeg_metadata(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    out = bytearray(b"\xff\xd8")
    pos = 2
    while True:
        if data[pos] != 0xFF:
            raise ValueError("bad JPEG marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: keep the rest up to the main image's end
            end = data.find(b"\xff\xd9", pos)
            if end < 0:
                raise ValueError("truncated JPEG")
            out += data[pos : end + 2]  # drops anything appended after EOI (MPF images, trailers)
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[pos : pos + 2]
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segment = data[pos : pos + 2 + length]
        if len(segment) < 2 + length:
            raise ValueError("truncated JPEG segment")
        keep = (
            not (0xE1 <= marker <= 0xEF or marker == 0xFE)
            or marker == 0xEE
            or (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\x00")
        )
        if keep:
            out += segment
        pos += 2 + length


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def strip_png_metadata(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    out = bytearray(_PNG_SIGNATURE)
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        if kind not in _PNG_DROPPED:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            return bytes(out)
    raise ValueError("PNG without IEND")

"""Image I/O shared by every pipeline: decoding with EXIF orientation, resizing and encoding."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


def load_rgb(source: str | Path | bytes | Image.Image) -> np.ndarray:
    """Decode an image to an HxWx3 uint8 RGB array, EXIF orientation applied."""
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, bytes):
        image = Image.open(io.BytesIO(source))
    else:
        image = Image.open(source)
    image = to_8bit(ImageOps.exif_transpose(image))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels become white, as on a product page, not black.
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"))


def to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit greyscale (PNG "I;16", "I", float "F") as 8-bit "L", scaled, not clipped:
    Pillow's convert("RGB"/"L") clips every value above 255 to white (a 16-bit photo turns all white).
    Every other mode is returned as it is (16-bit RGB(A) PNGs are already read as 8-bit by Pillow)."""
    if image.mode not in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return image
    grey = np.asarray(image).astype(np.float32)
    if image.mode.startswith("I;16") or grey.max() > 255:
        grey /= 257.0 if grey.max() <= 65535 else max(float(grey.max()) / 255.0, 1.0)
    return Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8), "L")


def resize_long_side(rgb: np.ndarray, long_side: int) -> np.ndarray:
    """Downscale (never upscale) so the longer side is at most ``long_side``."""
    h, w = rgb.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1:
        return rgb
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


# Output long side per quality option; "high" keeps the input resolution up to this cap.
QUALITY_LONG_SIDE = {"standard": 1024, "high": 2048}

FORMATS = {"jpg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}


def encode_image(rgb: np.ndarray, fmt: str = "jpg") -> bytes:
    """Encode an RGB array as jpg, png or webp bytes, with no metadata."""
    pil_format, _ = FORMATS[fmt]
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    if pil_format == "JPEG":
        image.save(buffer, "JPEG", quality=92, optimize=True, subsampling=0)
    elif pil_format == "WEBP":
        image.save(buffer, "WEBP", quality=90, method=4)
    else:
        image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()

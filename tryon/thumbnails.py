"""Gallery thumbnails: made once per order image and stored beside the originals.

A thumbnail's storage name is derived from its source file's name (which is random and
unguessable), so no database column is needed and it is never regenerated once it exists.
It is made on first request (the gallery), or ahead of time by ``order_thumbnail``.
"""

from __future__ import annotations

import io
import logging
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from core.storage import STORAGE_ERRORS
from imaging.image_io import to_8bit

from .models import Order, OrderFile

logger = logging.getLogger(__name__)

THUMB_LONG_SIDE = 480  # gallery tiles are ~240 CSS px wide: sharp on 2x screens
THUMB_QUALITY = 82

# Which image stands for an order in the gallery: its result when there is one, else its input.
_PREFERRED_ROLES = {
    Order.Style.VIRTUAL_TRYON: (OrderFile.Role.RESULT, OrderFile.Role.PERSON),
    Order.Style.PRODUCT_CATALOG: (OrderFile.Role.CATALOG, OrderFile.Role.PRODUCT),
}


def thumbnail_source(order: Order, files: list[OrderFile] | None = None) -> OrderFile | None:
    """The file that represents ``order``; pass ``files`` when they are prefetched."""
    files = list(order.files.all()) if files is None else files
    for role in _PREFERRED_ROLES.get(Order.Style(order.style), ()):
        candidates = sorted((f for f in files if f.role == role), key=lambda f: f.position)
        if candidates:
            return candidates[0]
    return None


def thumbnail_name(record: OrderFile) -> str:
    source = PurePosixPath(record.file.name)
    return str(PurePosixPath("thumbs") / source.parent / f"{source.stem}_thumb.jpg")


def make_thumbnail(data: bytes) -> bytes:
    """A JPEG no larger than THUMB_LONG_SIDE on its long side, upright, on white where transparent."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.draft("RGB", (THUMB_LONG_SIDE, THUMB_LONG_SIDE))  # JPEG: decode at reduced scale
        # 16-bit greyscale scaled to 8 bits first: convert("RGB") below would clip it to white.
        image = to_8bit(ImageOps.exif_transpose(opened))
        image.thumbnail((THUMB_LONG_SIDE, THUMB_LONG_SIDE), Image.Resampling.LANCZOS)
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.getchannel("A"))
            image = background
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=THUMB_QUALITY, optimize=True, progressive=True)
        return out.getvalue()


def ensure_thumbnail(record: OrderFile) -> str:
    """The storage name of ``record``'s thumbnail, making and storing it the first time."""
    name = thumbnail_name(record)
    if default_storage.exists(name):
        return name
    with record.file.open("rb") as f:
        data = make_thumbnail(f.read())
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:
        # Two requests raced to make it: keep the first, drop our copy.
        default_storage.delete(saved)
    return name


def order_thumbnail(order: Order) -> str | None:
    """Make (once) and return the thumbnail of ``order``; None when it has no image at all."""
    record = thumbnail_source(order)
    if record is None:
        return None
    try:
        return ensure_thumbnail(record)
    except (*STORAGE_ERRORS, ValueError):
        logger.exception("could not make the thumbnail of order %s", order.pk)
        return None

"""Catalog zips: every catalog image of a completed order in one zip, made once and stored beside them.

Like a thumbnail, a zip's storage name derives from its first image's (random, unguessable) name, so no
database column is needed; it is written through the media storage on first download and read back from
there afterwards, so any web process (on any host) serves it. A completed order's images and description
never change, so the stored zip never goes stale.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .models import Order, OrderFile


def download_name(order: Order, record: OrderFile) -> str:
    """The file name a download of ``record`` gets: ftmv-order-<id>-<role>[-<nn>-<variant>].<ext>."""
    ext = PurePosixPath(record.file.name).suffix or ".jpg"
    suffix = f"-{record.position:02d}-{record.name}" if record.role == OrderFile.Role.CATALOG else ""
    return f"ftmv-order-{order.pk}-{record.role}{suffix}{ext}".replace("_", "-")


def catalog_records(files: list[OrderFile]) -> list[OrderFile]:
    return sorted((f for f in files if f.role == OrderFile.Role.CATALOG), key=lambda f: f.position)


def catalog_zip_name(records: list[OrderFile]) -> str:
    """The storage name of the zip of ``records`` (an order's catalog images, in position order)."""
    first = PurePosixPath(records[0].file.name)
    return str(PurePosixPath("zips") / first.parent / f"catalog_{records[0].order_id}.zip")


def build_catalog_zip(order: Order, records: list[OrderFile]) -> bytes:
    """Stored, not deflated: the images are JPEG/PNG/WebP already."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for record in records:
            with record.file.open("rb") as f:
                archive.writestr(download_name(order, record), f.read())
        if order.product_description:
            archive.writestr("description.txt", order.product_description + "\n")
    return buffer.getvalue()


def ensure_catalog_zip(order: Order, records: list[OrderFile]) -> str:
    """The storage name of the order's catalog zip, building and storing it the first time."""
    name = catalog_zip_name(records)
    if default_storage.exists(name):
        return name
    saved = default_storage.save(name, ContentFile(build_catalog_zip(order, records)))
    if saved != name:
        # Two downloads raced to build it: keep the first, drop our copy.
        default_storage.delete(saved)
    return name

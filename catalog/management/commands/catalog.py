"""``python manage.py catalog PRODUCT -n 6|12 -o DIR``: run the catalog pipeline on one photo, no queue."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imaging.catalog.engine import run_catalog
from imaging.errors import PipelineError
from imaging.image_io import encode_image, load_rgb
from imaging.options import DEFAULT_QUALITY, QUALITY_CHOICES


class Command(BaseCommand):
    help = "Render 6 or 12 catalog images of the product in PRODUCT (a photo) into DIR."

    def add_arguments(self, parser):
        parser.add_argument("product", type=Path, help="product photo (jpg/png/webp)")
        parser.add_argument("-n", "--quantity", type=int, choices=(6, 12), default=6)
        parser.add_argument("-o", "--out", type=Path, required=True, help="output directory")
        parser.add_argument("--quality", choices=QUALITY_CHOICES, default=DEFAULT_QUALITY)
        parser.add_argument("--format", dest="fmt", choices=("jpg", "png"), default="jpg")
        parser.add_argument("--debug", type=Path, default=None, help="write cutout, matte and measurements here")

    def handle(self, *args, product: Path, quantity: int, out: Path, quality: str, fmt: str, debug, **options):
        if not product.is_file():
            raise CommandError(f"no such file: {product}")
        rgb = load_rgb(product)

        def progress(stage: str, percent: int) -> None:
            self.stdout.write(f"{percent:3d}% {stage}")

        started = time.perf_counter()
        try:
            result = run_catalog(rgb, quantity, quality=quality, progress=progress, debug_dir=debug)
        except PipelineError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        out.mkdir(parents=True, exist_ok=True)
        for i, (image, name) in enumerate(zip(result.images, result.names, strict=True), start=1):
            path = out / f"{i:02d}_{name}.{fmt}"
            path.write_bytes(encode_image(image, fmt))
            self.stdout.write(f"wrote {path} ({image.shape[1]}x{image.shape[0]})")
        self.stdout.write(f"cutout: {result.cutout_method}; timings: {result.timings}")
        self.stdout.write(f"description: {result.description}")
        self.stdout.write(self.style.SUCCESS(f"{quantity} images in {time.perf_counter() - started:.2f} s"))

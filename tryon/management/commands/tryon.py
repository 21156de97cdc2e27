"""``python manage.py tryon PERSON GARMENT -o OUT [--engine NAME]``: run a try-on engine outside the web app."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from imaging.errors import PipelineError
from imaging.image_io import FORMATS, QUALITY_LONG_SIDE, encode_image, load_rgb
from imaging.tryon.engines import AUTO, EngineUnavailable, TryonRequest, engine_names, select_engine
from tryon.order_request import option_values


class Command(BaseCommand):
    help = "Dress the person in PERSON with the garment in GARMENT and write the result to OUT (jpg or png)."

    def add_arguments(self, parser):
        parser.add_argument("person", type=Path)
        parser.add_argument("garment", type=Path)
        parser.add_argument("-o", "--output", type=Path, required=True, help="output file; .jpg/.jpeg or .png")
        parser.add_argument("--category", default="auto", choices=option_values("category"))
        parser.add_argument("--quality", default="high", choices=list(QUALITY_LONG_SIDE))
        parser.add_argument("--debug", type=Path, default=None, help="folder for per-stage debug overlays")
        parser.add_argument(
            "--engine",
            default=None,
            choices=[AUTO, *engine_names()],
            help="try-on engine (default: the TRYON_ENGINE setting)",
        )

    def handle(self, *args, **options):
        out: Path = options["output"]
        fmt = out.suffix.lower().lstrip(".").replace("jpeg", "jpg")
        if fmt not in FORMATS:
            raise CommandError(f"Unsupported output format {out.suffix!r}; use .jpg or .png.")
        try:
            person = load_rgb(options["person"])
            garment = load_rgb(options["garment"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read input image: {exc}") from exc

        def progress(stage: str, percent: int) -> None:
            if options["verbosity"] >= 2:
                self.stderr.write(f"{percent:3d}% {stage}")

        try:
            engine = select_engine(options["engine"] or settings.TRYON_ENGINE)
        except EngineUnavailable as exc:
            raise CommandError(f"The try-on engine cannot run here: {exc}") from exc
        request = TryonRequest(person=person, garment=garment, category=options["category"], quality=options["quality"])
        try:
            result = engine.run(request, progress=progress, debug_dir=options["debug"])
        except PipelineError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(encode_image(result.image, fmt))
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
        size = f"{result.image.shape[1]}x{result.image.shape[0]}"
        self.stdout.write(f"{out} ({engine.name} engine, {result.category}, {size}): {timings}")

"""Test photos: a public-domain person photo shipped by scikit-image and a drawn T-shirt."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def person_jpeg() -> bytes:
    from skimage import data

    image = Image.fromarray(data.astronaut())  # NASA photo, public domain
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def tshirt_jpeg(colour: tuple[int, int, int] = (200, 40, 60)) -> bytes:
    """A flat-lay T-shirt on a white background, like a product photo."""
    image = Image.new("RGB", (600, 640), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    body = [
        (170, 90),
        (250, 60),
        (300, 95),
        (350, 60),
        (430, 90),
        (560, 210),
        (490, 290),
        (450, 250),
        (450, 600),
        (150, 600),
        (150, 250),
        (110, 290),
        (40, 210),
    ]
    draw.polygon(body, fill=colour)
    draw.arc((250, 30, 350, 130), 20, 160, fill=(120, 20, 30), width=8)  # collar
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def product_png() -> bytes:
    """A product shot: a mug-like shape on a plain background."""
    image = Image.new("RGB", (640, 640), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((200, 180, 420, 500), radius=30, fill=(30, 90, 170))
    draw.ellipse((400, 260, 500, 400), outline=(30, 90, 170), width=22)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()

"""Order_submit is the one use case behind both doors: the same bad upload, sent to POST /api/v1/generate
(multipart) and through the web form, is refused by the same rule, found in the same order, and costs the
same: no counted call (only a request that creates an order counts against the limits), no
credit, no order, no stored file."""

from __future__ import annotations

import io
import json
import re
import time

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from billing.services import credits_balance
from tests.api.conftest import client_for, image_bytes, make_user
from tryon import ratelimit
from tryon.models import Order, OrderFile
from tryon.ratelimit import read_counters

pytestmark = pytest.mark.django_db

GOOD_PERSON = image_bytes(320, 480, seed=1)
GOOD_GARMENT = image_bytes(300, 300, seed=2)


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def uploads(files: dict[str, bytes]) -> dict[str, SimpleUploadedFile]:
    return {name: SimpleUploadedFile(f"{name}.jpg", data, "image/jpeg") for name, data in files.items()}


def counted(user) -> tuple[int, int]:
    """(this hour's, today's) counted generate calls of ``user``, from the shared counters."""
    hour_key, day_key, _, _ = ratelimit._keys(user.pk, time.time())
    counts = read_counters([hour_key, day_key])
    return counts.get(hour_key, 0), counts.get(day_key, 0)


def through_api(files: dict[str, bytes], *, credits: int = 10) -> tuple[object, dict]:
    user, key = make_user(f"api-{time.monotonic_ns()}@example.com", credits=credits)
    options = json.dumps({"category": "auto", "quality": "high", "format": "jpg"})
    response = client_for(key).post("/api/v1/generate", {**uploads(files), "options": options}, format="multipart")
    assert response.status_code != 202, "the upload was meant to be refused"
    error = response.json()["error"]
    return user, {
        "status": response.status_code,
        "code": error["code"],
        "field": error["details"].get("field"),
        "message": error["message"],
    }


def through_web(files: dict[str, bytes], *, credits: int = 10) -> tuple[object, dict]:
    user, _ = make_user(f"web-{time.monotonic_ns()}@example.com", credits=credits)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = Client()
    client.force_login(user)
    response = client.post("/tryon/new/", {**uploads(files), "category": "auto", "quality": "high", "format": "jpg"})
    assert response.status_code == 400
    form = response.context["form"]
    field_errors = {name: errors for name, errors in form.errors.items() if name != "__all__"}
    assert len(field_errors) + len(form.non_field_errors()) and len(field_errors) <= 1, form.errors
    field = next(iter(field_errors), None)
    message = field_errors[field][0] if field else form.non_field_errors()[0]
    if field:  # the page says "This photo ..." where the API names the JSON field
        message = message.replace("This photo", f"'{field}'", 1)
    return user, {"field": field, "message": message}


def refused_alike(files: dict[str, bytes], **kwargs) -> dict:
    api_user, api = through_api(files, **kwargs)
    web_user, web = through_web(files, **kwargs)
    assert web == {"field": api["field"], "message": api["message"]}, (api, web)
    for user in (api_user, web_user):
        assert counted(user) == (0, 0)  # a refused call costs no slot, whichever door
        assert credits_balance(user) == kwargs.get("credits", 10)
        assert not Order.objects.filter(user=user).exists()
    assert not OrderFile.objects.exists()
    return api


CASES = {
    "not an image": (
        {"person_image": b"not an image at all", "clothing_image": GOOD_GARMENT},
        ("INVALID_IMAGE", "person_image", "is not an image"),
    ),
    "too small": (
        {"person_image": png((40, 40)), "clothing_image": GOOD_GARMENT},
        ("INVALID_IMAGE", "person_image", "too small"),
    ),
    "a GIF": (
        {"person_image": GOOD_PERSON, "clothing_image": image_bytes(200, 200, fmt="GIF")},
        ("INVALID_IMAGE", "clothing_image", "is a GIF image"),
    ),
    # Both photos bad: the first in field order answers.
    "two bad photos": (
        {"person_image": png((40, 40)), "clothing_image": b"junk"},
        ("INVALID_IMAGE", "person_image", "too small"),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_same_bad_upload_is_refused_alike(clean_cache, case):
    files, (code, field, words) = CASES[case]
    api = refused_alike(files)
    assert (api["status"], api["code"], api["field"]) == (400, code, field)
    assert words in api["message"]


def test_every_photo_is_read_before_any_is_checked(clean_cache, settings):
    # The person photo is not an image, the garment photo is over the size limit: both doors first read
    # every photo (size limits), then check them, so the size answers. (The form used to check the
    # person photo first and say "not an image".)
    settings.API_MAX_IMAGE_BYTES = 100_000
    api = refused_alike({"person_image": b"junk", "clothing_image": b"\xff" * 150_000})
    assert (api["status"], api["code"], api["field"]) == (413, "PAYLOAD_TOO_LARGE", "clothing_image")


def seconds_left(message: str) -> tuple[str, int]:
    """The message with its count of seconds taken out, and that count."""
    seconds = re.search(r"(\d+) s\b", message)
    assert seconds, message
    return message.replace(seconds[0], "N s"), int(seconds[1])


def test_the_rate_limit_answers_before_the_upload_is_looked_at(clean_cache, settings):
    # An hourly limit of 0: the call is counted and refused before its photos are looked at.
    settings.API_PLANS = {**settings.API_PLANS, "free": {"per_hour": 0, "per_day": 50, "concurrent": 1}}
    api_user, api = through_api({"person_image": b"junk", "clothing_image": GOOD_GARMENT})
    web_user, web = through_web({"person_image": b"junk", "clothing_image": GOOD_GARMENT})
    assert (api["status"], api["code"]) == (429, "RATE_LIMIT_EXCEEDED")
    # The same words; the seconds until the window ends may tick between the two calls.
    assert web["field"] is None
    (web_words, web_seconds), (api_words, api_seconds) = seconds_left(web["message"]), seconds_left(api["message"])
    assert web_words == api_words and abs(web_seconds - api_seconds) <= 2
    # Refused by the limit itself: nothing more is counted.
    assert counted(api_user) == counted(web_user) == (0, 0)


def test_the_photos_are_checked_before_the_credits(clean_cache):
    api = refused_alike({"person_image": b"junk", "clothing_image": GOOD_GARMENT}, credits=0)
    assert (api["status"], api["code"], api["field"]) == (400, "INVALID_IMAGE", "person_image")


def test_without_credits_both_doors_say_so_and_count_nothing(clean_cache):
    api = refused_alike({"person_image": GOOD_PERSON, "clothing_image": GOOD_GARMENT}, credits=0)
    assert (api["status"], api["code"], api["field"]) == (402, "INSUFFICIENT_CREDITS", None)


def test_a_missing_photo_is_refused_alike(clean_cache):
    # Each door words a missing field its own way (the form: Django's "This field is required."), but
    # both refuse it for that field, and neither counts it.
    api_user, api = through_api({"person_image": GOOD_PERSON})
    web_user, web = through_web({"person_image": GOOD_PERSON})
    assert (api["status"], api["code"], api["field"]) == (400, "INVALID_REQUEST", None)
    assert api["message"] == "clothing_image: Required for style virtual_tryon."
    assert web["field"] == "clothing_image"
    assert counted(api_user) == counted(web_user) == (0, 0)
    assert not Order.objects.exists()

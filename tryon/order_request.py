"""The rules of an order request, whichever door it comes through: which fields, which images for which
style, quantity and options with their defaults. The images themselves are checked by tryon.validation.

Written as a DRF serializer because the API's 400 details are its errors (field -> problems), and the
OpenAPI document of POST /generate is generated from it; the web form gets the same rules through
tryon.services.order_submit, and its choices from OptionsSerializer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from .models import Order
from .netguard import url_refusal

TRYON_IMAGES = ("person_image", "clothing_image")
CATALOG_IMAGES = ("product_image",)
IMAGE_ROLES = {"person_image": "person", "clothing_image": "clothing", "product_image": "product"}


@extend_schema_field(OpenApiTypes.STR)
class ImageInputField(serializers.Field):
    """A base64 string (optionally a data: URL) or, in multipart requests, an uploaded file."""

    default_error_messages = {"type": "Expected a base64 string (or a file in a multipart upload)."}

    def to_internal_value(self, data):
        if isinstance(data, UploadedFile) or (isinstance(data, str) and data.strip()):
            return data
        if isinstance(data, str):
            raise serializers.ValidationError("Must not be empty.")
        self.fail("type")

    def to_representation(self, value):
        return value


# Common names a client may send for options.category (the web form says "Dress / one-piece"; other
# services use "dresses", "upper_body"...): taken as their canonical value, which is what is stored and
# returned. Matched case-insensitively, with "_" and " " read as "-".
CATEGORY_ALIASES = {
    **dict.fromkeys(["top", "shirt", "t-shirt", "tshirt", "blouse", "upper", "upper-body"], "tops"),
    **dict.fromkeys(
        ["bottom", "pants", "trousers", "jeans", "shorts", "skirt", "skirts", "lower", "lower-body"], "bottoms"
    ),
    **dict.fromkeys(["one-piece", "onepiece", "dress", "dresses", "jumpsuit", "full-body", "overall"], "one-pieces"),
}


class CategoryField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if isinstance(data, str):
            name = data.strip().lower().replace("_", "-").replace(" ", "-")
            data = CATEGORY_ALIASES.get(name, name)
        return super().to_internal_value(data)


class FormatField(serializers.ChoiceField):
    """The seed page's clients may say "jpeg" (or "JPG"): the same format as "jpg"."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.strip().lower()
            data = "jpg" if data == "jpeg" else data
        return super().to_internal_value(data)


def _warn(serializer: serializers.Field, message: str) -> None:
    """Record something the request asked for that was ignored; the 202 body lists it in ``warnings``.
    (The root serializer collects them: nested fields share it.)"""
    root = serializer.root
    if isinstance(root, GenerateRequestSerializer):
        root.warnings.append(message)


class OptionsSerializer(serializers.Serializer):
    quality = serializers.ChoiceField(["standard", "high"], default="high")
    format = FormatField(["jpg", "png", "webp"], default="jpg", help_text='"jpeg" is accepted as "jpg".')
    category = CategoryField(
        ["auto", "tops", "bottoms", "one-pieces"],
        default="auto",
        help_text="Virtual try-on only: the garment type, or auto-detect. Canonical values: auto, tops, "
        "bottoms (trousers, skirts, shorts), one-pieces (dresses, jumpsuits). Also accepted, and stored as "
        "their canonical value: " + ", ".join(f"{k}={v}" for k, v in CATEGORY_ALIASES.items()) + ".",
    )

    def get_value(self, dictionary):
        # Multipart: "options" as one JSON string field (DRF alone only reads "options.quality"-style keys).
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary.get(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):  # multipart: options as a JSON string
            try:
                data = json.loads(data)
            except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser's stack
                raise serializers.ValidationError("Must be a JSON object.") from None
        if not isinstance(data, Mapping):
            raise serializers.ValidationError("Must be a JSON object.")
        # A client written to the seed page may send options this service does not have: ignored, and
        # named in the 202 body's warnings, rather than refusing the whole order.
        unknown = sorted(set(data) - set(self.fields))
        for name in unknown:
            _warn(self, f"options.{name} is not an option of this service and was ignored.")
        return super().to_internal_value({k: v for k, v in data.items() if k in self.fields})


def option_values(name: str) -> list[str]:
    """The allowed values of ``options.<name>`` (the web form and manage.py offer exactly these)."""
    field = OptionsSerializer().fields[name]
    assert isinstance(field, serializers.ChoiceField)
    return [str(value) for value in field.choices]


def option_default(name: str) -> str:
    """The value ``options.<name>`` takes when the request leaves it out."""
    return str(OptionsSerializer().fields[name].default)


class GenerateRequestSerializer(serializers.Serializer):
    # api.md's field name; it shadows DRF's Field.style (browsable-API hints) only in the type stubs: the
    # serializer metaclass takes declared fields off the class.
    style = serializers.ChoiceField(Order.Style.values, default=Order.Style.VIRTUAL_TRYON)  # type: ignore[assignment]
    person_image = ImageInputField(required=False, help_text="virtual_tryon: base64 person photo")
    clothing_image = ImageInputField(required=False, help_text="virtual_tryon: base64 clothing photo")
    product_image = ImageInputField(required=False, help_text="product_catalog: base64 product photo")
    quantity = serializers.IntegerField(required=False, allow_null=True, help_text="product_catalog: 6 or 12")
    options = OptionsSerializer(required=False, allow_null=True, help_text="null is the same as leaving it out.")
    webhook_url = serializers.URLField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="POSTed the final order JSON, signed (X-Ftmv-Signature)",
    )

    def validate_webhook_url(self, value: str) -> str:
        # Literal non-public addresses are refused now (the client learns at once); host names are checked
        # again at each delivery, on the address actually connected to (tryon.webhooks).
        refusal = url_refusal(value) if value else ""
        if refusal:
            raise serializers.ValidationError(refusal)
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []  # what the request asked for that was ignored (the 202 body's warnings)

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs):
        style = attrs["style"]
        needed, unused = (
            (CATALOG_IMAGES, TRYON_IMAGES) if style == Order.Style.PRODUCT_CATALOG else (TRYON_IMAGES, CATALOG_IMAGES)
        )
        errors = {name: [f"Required for style {style}."] for name in needed if name not in attrs}
        errors.update({name: [f"Not used by style {style}."] for name in unused if name in attrs})
        if style == Order.Style.PRODUCT_CATALOG:
            if attrs.get("quantity") not in (6, 12):
                errors["quantity"] = ["Must be 6 or 12 for product_catalog."]
        else:
            if attrs.get("quantity") is not None:
                self.warnings.append(f"quantity is not used by style {style} and was ignored.")
            attrs["quantity"] = None
        if errors:
            raise serializers.ValidationError(errors)
        given = attrs.get("options") or {}
        if style == Order.Style.PRODUCT_CATALOG and "category" in self.initial_options():
            self.warnings.append(f"options.category is not used by style {style} and was ignored.")
        attrs["options"] = {**OptionsSerializer().to_internal_value({}), **given}
        if style == Order.Style.PRODUCT_CATALOG:
            attrs["options"].pop("category", None)
        return attrs

    def initial_options(self) -> Mapping:
        """The options as the client sent them (before defaults), to tell what it asked for."""
        raw = self.initial_data.get("options") if isinstance(self.initial_data, Mapping) else None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                return {}
        return raw if isinstance(raw, Mapping) else {}

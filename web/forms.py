"""The upload forms (try-on and catalog). They only collect the inputs: field rules, image checks, credits
and limits are the order domain's (tryon.order_request, tryon.validation), applied by
tryon.services.order_submit, which the API calls too: the browser and the API accept and refuse exactly
the same orders, in the same order."""

from __future__ import annotations

from django import forms
from django.conf import settings

from tryon.order_request import option_default, option_values

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"

CATEGORY_LABELS = {
    "auto": "Detect automatically",
    "tops": "Top",
    "bottoms": "Bottom",
    "one-pieces": "Dress / one-piece",
}
QUALITY_LABELS = {"standard": "Standard (faster)", "high": "High"}
FORMAT_LABELS = {"jpg": "JPEG", "png": "PNG", "webp": "WebP"}


def option_choices(name: str, labels: dict[str, str]) -> list[tuple[str, str]]:
    """The API's allowed values for ``options.<name>``, with friendlier labels."""
    return [(value, labels.get(value, value)) for value in option_values(name)]


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def image_field(label: str, help_text: str) -> forms.FileField:
    # A FileField, not ImageField: the API's validate_image decides what is an acceptable image.
    return forms.FileField(
        label=label, help_text=help_text, widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT})
    )


class OutputOptionsForm(forms.Form):
    quality = forms.ChoiceField(label="Quality", widget=forms.RadioSelect)
    format = forms.ChoiceField(label="File format", widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "quality").choices = option_choices("quality", QUALITY_LABELS)
        self.fields["quality"].initial = option_default("quality")
        choice_field(self, "format").choices = option_choices("format", FORMAT_LABELS)
        self.fields["format"].initial = option_default("format")

    def options(self) -> dict[str, str]:
        return {"quality": self.cleaned_data["quality"], "format": self.cleaned_data["format"]}


class TryonForm(OutputOptionsForm):
    person_image = image_field("Person photo", "A photo of one person facing the camera, upper body or full body.")
    clothing_image = image_field("Garment photo", "A product photo of the garment, ideally on a plain background.")
    category = forms.ChoiceField(label="Garment type")

    field_order = ["person_image", "clothing_image", "category", "quality", "format"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "category").choices = option_choices("category", CATEGORY_LABELS)
        self.fields["category"].initial = option_default("category")

    def images(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("person_image", "clothing_image")}

    def options(self) -> dict[str, str]:
        return {**super().options(), "category": self.cleaned_data["category"]}


class CatalogForm(OutputOptionsForm):
    product_image = image_field(
        "Product photo", "One product, clearly visible; a plain background gives the cleanest cut-out."
    )
    quantity = forms.TypedChoiceField(label="Number of images", coerce=int, widget=forms.RadioSelect, initial=6)

    field_order = ["product_image", "quantity", "quality", "format"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "quantity").choices = [
            (quantity, f"{quantity} images · {cost} credits")
            for quantity, cost in sorted(settings.CREDIT_COST_CATALOG.items())
        ]

    def images(self) -> dict:
        return {"product_image": self.cleaned_data["product_image"]}

"""The product-catalog upload form (inputs only; see tryon.forms for where the rules live)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from tryon.forms import OutputOptionsForm, image_field


class CatalogForm(OutputOptionsForm):
    product_image = image_field(
        "Product photo", "One product, clearly visible; a plain background gives the cleanest cut-out."
    )
    quantity = forms.TypedChoiceField(label="Number of images", coerce=int, widget=forms.RadioSelect, initial=6)

    field_order = ["product_image", "quantity", "quality", "format"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].choices = [
            (quantity, f"{quantity} images · {cost} credits")
            for quantity, cost in sorted(settings.CREDIT_COST_CATALOG.items())
        ]

    def images(self) -> dict:
        return {"product_image": self.cleaned_data["product_image"]}

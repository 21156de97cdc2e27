from __future__ import annotations

from django import forms


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=100,
        initial="default",
        help_text="Where the key is used, e.g. “shop backend”. Only you see it.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

from __future__ import annotations

from allauth.account import forms as allauth_forms
from django import forms
from django.contrib.auth.hashers import make_password


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=100,
        initial="default",
        help_text="Where the key is used, e.g. “shop backend”. Only you see it.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up form, answering in the same time whether or not the e-mail is registered.

    With enumeration prevention allauth answers a registered address with the same page, but without
    creating the account, and so without hashing the password: 12 ms against 248 ms told anyone timing
    the form which addresses have accounts. The registered path now hashes the password too (the
    dominant cost of the new-account path) and then does what allauth does."""

    def try_save(self, request):
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)

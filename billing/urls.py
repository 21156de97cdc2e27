from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.billing_page, name="page"),
    path("buy/<slug:pack_code>", views.checkout, name="checkout"),
    path("success", views.checkout_success, name="success"),
    path("cancel", views.checkout_cancel, name="cancel"),
    path("purchases/<uuid:public_id>/receipt", views.receipt, name="receipt"),
    path("webhook/stripe", views.stripe_webhook, name="stripe_webhook"),
]

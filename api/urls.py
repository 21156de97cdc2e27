"""/api/v1: each endpoint with and without a trailing slash, the OpenAPI document, and a JSON 404 for
everything else under the prefix."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import (
    schema,  # noqa: F401 - registers the OpenAPI auth extension
    views,
)

ENDPOINTS = [
    ("generate", views.GenerateView, "api-generate"),
    ("orders", views.OrderListView, "api-orders"),
    ("orders/<int:order_id>", views.OrderDetailView, "api-order"),
    ("account", views.AccountView, "api-account"),
]

urlpatterns = []
for route, view, name in ENDPOINTS:
    urlpatterns += [path(route, view.as_view(), name=name), path(route + "/", view.as_view())]
urlpatterns.append(path("schema", SpectacularAPIView.as_view(), name="api-schema"))
# [\s\S], not ".": a path with a newline in it is still under /api/v1 and gets the JSON 404.
urlpatterns.append(re_path(r"^[\s\S]*$", views.NotFoundView.as_view(), name="api-not-found"))

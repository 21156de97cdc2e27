from django.conf import settings
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import api_views, schema  # noqa: F401 - schema registers the OpenAPI auth extension

ENDPOINTS = [
    ("generate", api_views.GenerateView, "api-generate"),
    ("orders", api_views.OrderListView, "api-orders"),
    ("orders/<int:order_id>", api_views.OrderDetailView, "api-order"),
    ("account", api_views.AccountView, "api-account"),
]

urlpatterns = []
for route, view, name in ENDPOINTS:
    urlpatterns += [path(route, view.as_view(), name=name), path(route + "/", view.as_view())]
urlpatterns.append(path("schema", SpectacularAPIView.as_view(), name="api-schema"))
if settings.API_FLOOR_VIEW:
    urlpatterns.append(path("_floor", api_views.floor_view, name="api-floor"))
# [\s\S], not ".": a path with a newline in it is still under /api/v1 and gets the JSON 404.
urlpatterns.append(re_path(r"^[\s\S]*$", api_views.NotFoundView.as_view(), name="api-not-found"))

"""The project's URLs: each part mounts its own (the API under /api/v1, the site's pages at the root)."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from core.health import healthz, readyz
from core.metrics import metrics
from web.media import serve_media

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("billing/", include("billing.urls")),
    # --- API ---
    path("api/v1/", include("api.urls")),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^media/(?P<path>.+)$", serve_media, name="media"),
    # --- Web pages ---
    path("", include("accounts.urls")),
    path("", include("web.urls")),
]

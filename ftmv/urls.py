from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from tryon.media import serve_media

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("billing/", include("billing.urls")),
    # --- API ---
    path("api/v1/", include("tryon.api_urls")),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^media/(?P<path>.+)$", serve_media, name="media"),
    # --- Web pages ---
    path("", include("accounts.urls")),
    path("", include("tryon.web_urls")),
]

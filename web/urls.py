"""URLs of the site's pages (the API's are under /api/v1, the API-key settings in accounts, billing's in
billing)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("pricing/", views.pricing, name="pricing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("tryon/new/", views.tryon_new, name="tryon_new"),
    path("catalog/new/", views.catalog_new, name="catalog_new"),
    path("gallery/", views.gallery, name="gallery"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/status/", views.order_status, name="order_status"),
    path("orders/<int:pk>/thumb/", views.order_thumb, name="order_thumb"),
    path("orders/<int:pk>/files/<int:file_id>/", views.order_file, name="order_file"),
    path("orders/<int:pk>/files/<int:file_id>/thumb/", views.order_file_thumb, name="order_file_thumb"),
    path("orders/<int:pk>/catalog.zip", views.order_zip, name="order_zip"),
]

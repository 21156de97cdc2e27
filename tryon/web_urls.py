"""URLs of the browser pages of orders (the API's are under /api/v1)."""

from django.urls import path

from . import web_views

urlpatterns = [
    path("", web_views.landing, name="landing"),
    path("pricing/", web_views.pricing, name="pricing"),
    path("tryon/new/", web_views.tryon_new, name="tryon_new"),
    path("catalog/new/", web_views.catalog_new, name="catalog_new"),
    path("gallery/", web_views.gallery, name="gallery"),
    path("orders/<int:pk>/", web_views.order_detail, name="order_detail"),
    path("orders/<int:pk>/status/", web_views.order_status, name="order_status"),
    path("orders/<int:pk>/thumb/", web_views.order_thumb, name="order_thumb"),
    path("orders/<int:pk>/files/<int:file_id>/", web_views.order_file, name="order_file"),
    path("orders/<int:pk>/files/<int:file_id>/thumb/", web_views.order_file_thumb, name="order_file_thumb"),
    path("orders/<int:pk>/catalog.zip", web_views.order_zip, name="order_zip"),
]

from django.conf import settings
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import api_views

urlpatterns = [
    re_path(r"^generate/?$", api_views.GenerateView.as_view(), name="api-generate"),
    re_path(r"^orders/?$", api_views.OrderListView.as_view(), name="api-orders"),
    re_path(r"^orders/(?P<order_id>[0-9]{1,18})/?$", api_views.OrderDetailView.as_view(), name="api-order"),
    re_path(r"^account/?$", api_views.AccountView.as_view(), name="api-account"),
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
]
if settings.API_FLOOR_VIEW:
    urlpatterns.append(path("_floor", api_views.floor_view, name="api-floor"))
urlpatterns.append(re_path(r"^.*$", api_views.NotFoundView.as_view(), name="api-not-found"))

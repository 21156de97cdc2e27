"""The service's URLs plus /api/v1/_floor: constant JSON through plain Django, the throughput floor that
bench/api.py compares the API's polling against (same server, same middleware). Benchmark only: the
service's own URLs never include it."""

from django.http import JsonResponse
from django.urls import include, path


def floor_view(request):
    return JsonResponse({"success": True, "floor": True})


urlpatterns = [
    # Before the service's URLs: the API's catch-all would answer 404 for it.
    path("api/v1/_floor", floor_view, name="api-floor"),
    path("", include("ftmv.urls")),
]

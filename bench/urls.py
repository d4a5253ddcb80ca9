import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from tracker.urls import handler400, handler403, handler404, handler500  # noqa: F401
from tracker.urls import urlpatterns as tracker_urlpatterns


@csrf_exempt
def parse_and_accept(request):
    """Parse the same JSON body as POST /api/errors and answer 201, touching no database."""
    body = json.loads(request.body)
    return JsonResponse({"status": "created", "project": body["project"]}, status=201)


urlpatterns = [path("bench/trivial", parse_and_accept), *tracker_urlpatterns]

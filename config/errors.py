"""Error pages: Chinese, in the base layout; API paths answer in the API's error format."""

from django.http import JsonResponse
from django.shortcuts import render

from .api import MESSAGES


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else MESSAGES["permission_denied"]
    if _wants_json(request):
        return JsonResponse(
            {"error": {"code": "permission_denied", "message": message}}, status=403
        )
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            {"error": {"code": "not_found", "message": MESSAGES["not_found"]}}, status=404
        )
    return render(request, "404.html", status=404)

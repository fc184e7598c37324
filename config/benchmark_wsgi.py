"""The project's WSGI application plus FLOOR endpoints, for `manage.py benchmark_lists` only.

A floor endpoint serves the rows an API list serves (the same scoped table, order, page and
page size, through the same middleware, session and scope) as a plain `values()` query turned
into JSON: what a list costs with no serializer, masking, filters or joins. The command runs this
module under gunicorn on a loopback port and stops it afterwards. It refuses to load unless the
command's environment variable is set, and no deployment names it (production serves
config.wsgi), so the floor is never reachable in production."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from config.benchmark_load import ENABLE_VARIABLE, FLOOR_PREFIX

if os.environ.get(ENABLE_VARIABLE) != "1":
    raise ImproperlyConfigured(
        f"config.benchmark_wsgi is for manage.py benchmark_lists only ({ENABLE_VARIABLE} unset)."
    )

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, JsonResponse
from django.urls import include, path

application = get_wsgi_application()

from config.urls import handler403, handler404  # noqa: E402, F401
from households.selectors import household_list, person_list  # noqa: E402
from members.selectors import member_list  # noqa: E402

FLOOR_LISTS = {"members": member_list, "persons": person_list, "households": household_list}
PAGE_SIZE = 50


def floor_view(request, name):
    """One page of the list's scoped rows in the list's order (its selector's queryset), as
    `values()` of the table's own columns: no joins, filters, serializer or masking."""
    if not request.user.is_authenticated or not request.user.node_id:
        return HttpResponse(status=401)
    selector = FLOOR_LISTS.get(name)
    if selector is None:
        return HttpResponse(status=404)
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    offset = (number - 1) * PAGE_SIZE
    queryset = selector(actor=request.user)
    columns = [field.attname for field in queryset.model._meta.concrete_fields]
    rows = list(queryset.values(*columns)[offset : offset + PAGE_SIZE + 1])
    return JsonResponse({"has_next": len(rows) > PAGE_SIZE, "results": rows[:PAGE_SIZE]})


urlpatterns = [
    path(f"{FLOOR_PREFIX}<slug:name>/", floor_view),
    path("", include("config.urls")),
]
settings.ROOT_URLCONF = __name__  # read per request by Django's handler

"""Full ID numbers and phones never go into URLs: a URL ends up in access logs, browser
history and Referer headers. A request whose query string holds one is refused with a 400
before any view runs, on pages and the API alike, for every role; the lookup by a full number
is a POST (households.lookup_views, households.api.views)."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse

from .identity import full_identifier_in

FULL_NUMBER_IN_URL = "full_number_in_url"
FULL_NUMBER_IN_URL_MESSAGE = (
    "网址中不能包含完整的{what}:网址会被记录在访问日志中。"
    "搜索请只输入姓名、拼音首字母或户编号;按完整号码查找人员,"
    "请使用“按号码查询”(县级管理员和村(社区)秘书长可用,查询会被记录)。"
)
WHAT = {"id_number": "身份证号码", "phone": "电话号码"}


# Parameters that hold administrative division codes: a 15-digit group code can read as an
# old 15-digit ID number (130534 100201 001: "born 1910-02-01"), and codes are public.
DIVISION_CODE_PARAMS = {"division_code"}


def full_number_in_query(query_dict) -> str | None:
    """The kind ("id_number" or "phone") when any value of the query string holds a full one."""
    for key, values in query_dict.lists():
        if key in DIVISION_CODE_PARAMS:
            continue
        for value in values:
            found = full_identifier_in(value)
            if found:
                return found
    return None


class FullNumberInUrlMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = full_number_in_query(request.GET) if request.GET else None
        if found is None:
            return self.get_response(request)
        message = FULL_NUMBER_IN_URL_MESSAGE.format(what=WHAT[found])
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"error": {"code": FULL_NUMBER_IN_URL, "message": message}}, status=400
            )
        lookup_url = reverse("person-lookup")
        return render(
            request, "400.html", {"message": message, "lookup_url": lookup_url}, status=400
        )

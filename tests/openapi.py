"""Checks a test client's API response against the OpenAPI schema the app serves: its status
code is documented for the operation and its body matches the documented schema."""

from __future__ import annotations

import functools

import requests
import schemathesis
from django.test import Client
from schemathesis.core.transport import Response


@functools.cache
def served_schema():
    raw = Client().get("/api/schema/", {"format": "json"}).json()
    return schemathesis.openapi.from_dict(raw)


def assert_documented(response, method: str, path: str) -> None:
    """`path` as the schema writes it, e.g. "/api/v1/members/{id}/"."""
    __tracebackhide__ = True
    operation = served_schema()[path][method.upper()]
    documented = operation.responses.find_by_status_code(response.status_code)
    assert documented is not None, f"{method} {path}: {response.status_code} is not documented"
    request = requests.Request(
        method=method.upper(), url=f"http://testserver{response.wsgi_request.get_full_path()}"
    ).prepare()
    operation.validate_response(
        Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.headers.items()},
            content=response.content,
            request=request,
            elapsed=0.0,
            verify=False,
        )
    )

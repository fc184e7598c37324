"""Checks a test client's API response against the OpenAPI schema the app serves: its status
code is documented for the operation and its body matches the documented schema."""

from __future__ import annotations

import functools
import json

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.core.transport import Response


def built_schema() -> dict:
    """The OpenAPI document /api/schema/ serves, built in-process: the endpoint answers signed-in
    users only (issue 12), and the schema does not depend on who asks."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


@functools.cache
def served_schema():
    return schemathesis.openapi.from_dict(built_schema())


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

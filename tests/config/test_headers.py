"""Headers (issue 12): a Content-Security-Policy on every route with no inline script anywhere,
HSTS and the HTTPS redirect in production, `check --deploy` clean, the API schema and docs
behind login."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from associations.accounts.services import token_create
from associations.models import User
from tests.test_isolation import ROUTES, allowed_ids

pytestmark = pytest.mark.django_db

# A <script> element that runs code without a src (JSON data blocks are not scripts).
INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*\btype\s*=\s*[\"']application/(?:ld\+)?json)[^>]*>",
    re.IGNORECASE,
)
HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in header.split(";")
        if part.strip()
    }


def _assert_no_inline_code(body: str, url: str) -> None:
    __tracebackhide__ = True
    assert not INLINE_SCRIPT.search(body), (url, INLINE_SCRIPT.search(body).group(0))
    assert not HANDLER.search(body), (url, HANDLER.search(body).group(0)[-200:])
    assert not JAVASCRIPT_URL.search(body), url


def _url(name, route, user) -> str:
    kwargs = dict(route.kwargs)
    if route.model:
        ids = sorted(allowed_ids(route.model, user))
        kwargs["pk"] = ids[0] if ids else 1
    # the other arguments some routes take, with values that exist or answer 404
    for extra in ({}, {"external_ref": "no-such-ref"}, {"kind": "members"}):
        try:
            return reverse(name, kwargs={**kwargs, **extra})
        except NoReverseMatch:
            continue
    raise AssertionError(f"no arguments known for {name}")


def test_the_policy_allows_no_inline_script(client):
    policy = _policy(client.get(reverse("login")))
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy["default-src"]


def test_every_route_answers_with_the_policy_and_no_inline_script(client, world):
    """Every route of the isolation suite's list, as the county admin (the operator for the
    platform pages), and anonymously: the header on every answer; no inline script, on…=
    handler or javascript: address in any HTML page."""
    admin = world.a.users["county_admin"]
    operator = User.objects.create_superuser("operator_headers", password="Test@pass2026")
    pages = 0
    for user in (None, admin, operator):
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        for name, route in sorted(ROUTES.items()):
            if not route.get or (user is operator) != name.startswith("platform-"):
                continue
            url = _url(name, route, user or admin)
            response = client.get(url)
            assert response.status_code < 500, url
            assert "script-src 'self'" in response.headers.get("Content-Security-Policy", ""), url
            if "text/html" in response.headers.get("Content-Type", ""):
                _assert_no_inline_code(response.content.decode(), url)
                pages += response.status_code == 200
    for url in ("/admin/login/", "/admin/"):
        response = client.get(url, follow=True)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        _assert_no_inline_code(response.content.decode(), url)
    assert pages > 60  # the pages were rendered (73 HTML pages at 200 when written)


def test_the_dashboard_chart_is_inline_svg_without_script(client, world):
    client.force_login(world.a.users["county_admin"])
    response = client.get(reverse("report-dashboard", kwargs={"pk": world.a.county.pk}))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body  # its <style> is why style-src allows inline styles
    _assert_no_inline_code(body, "dashboard")


def test_schema_and_docs_require_login(client, world):
    assert client.get(reverse("api-schema")).status_code == 401
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 302
    assert docs.headers["Location"].startswith(reverse("login"))
    assert client.get(reverse("api-docs"), {"script": ""}).status_code == 302
    # an API token reads the schema
    _token, raw = token_create(actor=world.a.users["county_admin"])
    response = client.get(
        reverse("api-schema"), {"format": "json"}, HTTP_AUTHORIZATION=f"Token {raw}"
    )
    assert response.status_code == 200
    assert "/api/v1/members/" in response.json()["paths"]


def test_the_docs_page_runs_under_the_policy(client, world):
    """The Swagger page loads its init script as a file of this server (the split view)."""
    client.force_login(world.a.users["county_admin"])
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200
    body = page.content.decode()
    _assert_no_inline_code(body, "api-docs")
    scripts = re.findall(r'<script src="([^"]+)"', body)
    assert any("script=" in src for src in scripts), scripts
    init = client.get(next(src for src in scripts if "script=" in src).replace("&amp;", "&"))
    assert init.status_code == 200
    assert init.headers["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()
    for src in scripts:
        assert src.startswith("/"), src  # served by the app itself


def _production(extra: dict[str, str], code: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "ALL_COUNTIES_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": "postgres://jishengxie_app:dummy@db.invalid:5432/jishengxie",
            "ALL_COUNTIES_DATABASE_URL": "postgres://jishengxie_all:dummy@db.invalid:5432/jishengxie",
            "ALLOWED_HOSTS": "jsx.example.gov.cn",
            # production refuses to start without the encryption keys (associations.crypto)
            "FIELD_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
            "BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
            **extra,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_is_clean_in_production_settings():
    result = _production(
        {},
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output


SHOW = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SESSION_COOKIE_SECURE)"
)


def test_hsts_and_the_https_redirect_follow_the_secure_cookies():
    https = _production({}, SHOW)
    assert https.stdout.split() == ["True", "31536000", "True", "True"], https.stderr
    plain = _production({"SECURE_COOKIES": "false"}, SHOW)
    assert plain.stdout.split() == ["False", "0", "False", "False"], plain.stderr

"""The isolation suite: every URL pattern and API route, every role. Another county's objects
and a sibling subtree's objects are invisible (404) and cannot be written or referenced.

ROUTES must name every route the project has: a new route that is not in the matrix fails
`test_matrix_covers_every_route`, so whoever adds a route decides here how it is isolated."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from associations.models import Association

pytestmark = pytest.mark.django_db

# route name -> the kind of object its `pk` names (None: the route takes no object).
ROUTES: dict[str, str | None] = {
    # pages
    "home": None,
    "login": None,
    "logout": None,
    "password_change": None,
    "password_change_done": None,
    "node-detail": "node",
    "node-tree": "node",
    "node-create": "node",
    "node-edit": "node",
    "node-move": "node",
    "node-history": "node",
    "council": "node",
    "council-create": "node",
    "council-edit": "council",
    "seat-create": "council",
    "seat-edit": "seat",
    "seat-delete": "seat",
    "staff-list": None,
    "staff-create": None,
    "platform-counties": None,
    "platform-county-create": None,
    # API
    "api-root": None,
    "api-token": None,
    "api-schema": None,
    "api-docs": None,
    "me-list": None,
    "association-list": None,
    "association-tree": None,
    "association-detail": "node",
    "association-move": "node",
    "association-history": "node",
    "council-list": None,
    "council-detail": "council",
    "council-seat-list": None,
    "council-seat-detail": "seat",
}
WRITE_PAGES = {
    "node-create",
    "node-edit",
    "node-move",
    "council-create",
    "council-edit",
    "seat-create",
    "seat-edit",
    "seat-delete",
}
API_WRITE_METHODS = {
    "association-detail": ["patch"],
    "association-move": ["post"],
    "council-detail": ["patch"],
    "council-seat-detail": ["patch", "delete"],
}
# List endpoints and the kind of object each lists, for the "nothing foreign is listed" check.
API_LISTS = {
    "association-list": "node",
    "council-list": "council",
    "council-seat-list": "seat",
}
ROLES = [
    "county_admin",
    "county_viewer",
    "township_staff",
    "village_secretary",
    "group_leader",
]


def _walk(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def project_route_names() -> set[str]:
    # The Django admin is the platform operator's (tested in test_platform); it is not
    # county data's way in: staff accounts are never is_staff.
    return {name for name in _walk(get_resolver().url_patterns) if not name.startswith("admin:")}


def test_matrix_covers_every_route():
    assert project_route_names() == set(ROUTES)


def foreign_objects(world, user) -> dict[str, list]:
    """Representative objects the user must not reach: the other county's county, township,
    village and group, and every node of the user's own county outside their subtree."""
    level_key = f"{user.node.level}_id"
    b = world.b
    nodes = [b.county, b.townships[0], b.villages[0], b.groups[0]]
    nodes += [n for n in world.a.nodes if getattr(n, level_key) != user.node_id]
    foreign_villages = {n.pk for n in nodes if n.level == "village"}
    councils = [
        c
        for c in [*world.a.councils.values(), *b.councils.values()]
        if c.association_id in foreign_villages
    ]
    seats = [s for c in councils for s in [world.a.seats.get(c.pk) or b.seats[c.pk]]]
    return {"node": _dedupe(nodes), "council": councils, "seat": seats}


def _dedupe(nodes):
    seen, out = set(), []
    for n in nodes:
        if n.pk not in seen:
            seen.add(n.pk)
            out.append(n)
    return out


def _sample(objects: list, limit: int = 6) -> list:
    """Keep the suite fast: the other county's objects plus a spread of the sibling ones."""
    if len(objects) <= limit:
        return objects
    step = len(objects) / limit
    return [objects[int(i * step)] for i in range(limit)]


OBJECT_ROUTES = sorted(name for name, kind in ROUTES.items() if kind)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_foreign_objects_are_404(client, world, role, route):
    user = world.a.users[role]
    kind = ROUTES[route]
    is_api = route in {
        "association-detail",
        "association-move",
        "association-history",
        "council-detail",
        "council-seat-detail",
    }
    api = APIClient()
    api.force_authenticate(user)
    client.force_login(user)
    targets = _sample(foreign_objects(world, user)[kind], limit=8)
    assert targets, "the world must give every role something foreign to try"
    for obj in targets:
        url = reverse(route, kwargs={"pk": obj.pk})
        if is_api:
            assert api.get(url).status_code in (404, 405), url
            for method in API_WRITE_METHODS.get(route, []):
                response = getattr(api, method)(url, {"name": "改名"}, format="json")
                assert response.status_code == 404, (method, url, response.content)
            if route == "association-move":
                response = api.post(url, {"new_parent": obj.pk}, format="json")
                assert response.status_code == 404
        else:
            if route != "seat-delete":
                assert client.get(url).status_code == 404, url
            if route in WRITE_PAGES:
                assert client.post(url, {"name": "改名"}).status_code == 404, url
    if kind == "node":
        # Nothing was renamed by any of the attempts.
        from associations.scope import Scope, activate

        with activate(Scope.for_node(world.b.county)):
            assert not Association.objects.filter(name="改名").exists()
        with world.a.scope():
            assert not Association.objects.filter(name="改名").exists()


def _allowed_ids(world, user, kind) -> set[int]:
    key = f"{user.node.level}_id"
    nodes = {n.pk for n in world.a.nodes if getattr(n, key) == user.node_id}
    if kind == "node":
        return nodes
    councils = {c.pk for c in world.a.councils.values() if c.association_id in nodes}
    if kind == "council":
        return councils
    return {s.pk for c, s in world.a.seats.items() if c in councils}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(API_LISTS))
def test_api_lists_show_only_the_subtree(world, role, route):
    user = world.a.users[role]
    api = APIClient()
    api.force_authenticate(user)
    response = api.get(reverse(route), {"page_size": 500})
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    allowed = _allowed_ids(world, user, API_LISTS[route])
    assert ids == allowed


@pytest.mark.parametrize("role", ROLES)
def test_tree_and_pages_without_objects_show_only_the_subtree(client, world, role):
    user = world.a.users[role]
    api = APIClient()
    api.force_authenticate(user)
    tree = api.get(reverse("association-tree")).json()

    def ids(node):
        yield node["id"]
        for child in node["children"]:
            yield from ids(child)

    assert set(ids(tree)) == _allowed_ids(world, user, "node")
    assert api.get(reverse("association-tree"), {"root": world.b.county.pk}).status_code == 404

    client.force_login(user)
    home = client.get(reverse("home"), follow=True)
    assert home.status_code == 200
    body = home.content.decode()
    for node in world.b.nodes:
        assert node.name not in body
    me = api.get(reverse("me-list")).json()
    assert me["node"]["id"] == user.node_id


def test_staff_list_shows_only_own_county(client, world):
    admin = world.a.users["county_admin"]
    client.force_login(admin)
    body = client.get(reverse("staff-list")).content.decode()
    assert "township_staff_130534" in body
    assert "130535" not in body


@pytest.mark.parametrize("role", ["county_admin", "township_staff", "village_secretary"])
def test_foreign_objects_cannot_be_referenced_by_the_api(world, role):
    user = world.a.users[role]
    api = APIClient()
    api.force_authenticate(user)
    b = world.b
    response = api.post(
        reverse("association-list"),
        {"parent": b.villages[0].pk, "name": "越界小组", "division_code": "130535100200009"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["parent"][0]["code"] == "does_not_exist"
    response = api.post(
        reverse("council-list"),
        {
            "association": b.villages[0].pk,
            "term_number": 9,
            "starts_on": "2024-01-01",
            "ends_on": "2028-01-01",
        },
        format="json",
    )
    assert response.status_code == 400
    council_b = b.councils[b.villages[0].pk]
    response = api.post(
        reverse("council-seat-list"),
        {
            "council": council_b.pk,
            "position": "director",
            "person_name": "越界",
            "background": "elder",
        },
        format="json",
    )
    assert response.status_code == 400
    with b.scope():
        assert not Association.objects.filter(name="越界小组").exists()


def test_move_cannot_reference_another_countys_township(client, world):
    admin = world.a.users["county_admin"]
    village = world.a.villages[0]
    api = APIClient()
    api.force_authenticate(admin)
    response = api.post(
        reverse("association-move", kwargs={"pk": village.pk}),
        {"new_parent": world.b.townships[0].pk},
        format="json",
    )
    assert response.status_code == 400
    client.force_login(admin)
    response = client.post(
        reverse("node-move", kwargs={"pk": village.pk}),
        {"new_parent": world.b.townships[0].pk},
    )
    assert response.status_code == 400
    with world.a.scope():
        village.refresh_from_db()
    assert village.parent_id == world.a.townships[0].pk


def test_staff_form_cannot_reference_another_countys_node(client, world):
    admin = world.a.users["county_admin"]
    client.force_login(admin)
    response = client.post(
        reverse("staff-create"),
        {
            "username": "intruder",
            "full_name": "越界",
            "node": world.b.villages[0].pk,
            "role": "village_secretary",
            "password": "Strong@pass2026",
        },
    )
    assert response.status_code == 400
    assert "intruder" not in client.get(reverse("staff-list")).content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_platform_pages_are_closed_to_county_staff(client, world, role):
    client.force_login(world.a.users[role])
    assert client.get(reverse("platform-counties")).status_code == 403
    assert client.get(reverse("platform-county-create")).status_code == 403
    assert client.get("/admin/").status_code == 302  # to the admin login: not staff

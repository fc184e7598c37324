"""Drafts of forms kept in the browser (static/js/forms.js) until the server has saved them.

A form opts in with `data-draft="<key>"`; the key names the form's page and the user, so two
accounts used in turn on one phone never see each other's drafts. When a service has saved
what the form sent, the view calls `draft_saved`: the next page rendered for this session
names the key (a `<meta name="draft-saved">` in the layout) and the script deletes the draft.
"""

from __future__ import annotations

SESSION_KEY = "drafts_saved"


def draft_key(request) -> str:
    """The draft of the form on this page (its path, without the query) for this user."""
    return f"{request.path}#u{request.user.pk}"


def draft_saved(request, key: str | None = None) -> None:
    keys = request.session.get(SESSION_KEY, [])
    request.session[SESSION_KEY] = [*keys, key or draft_key(request)][-10:]


def pop_saved_drafts(request) -> list[str]:
    session = getattr(request, "session", None)
    if session is None or SESSION_KEY not in session:
        return []
    return session.pop(SESSION_KEY)

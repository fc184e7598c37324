"""The project's stylesheets are well formed: an unclosed block silently confines every rule
after it to that block (an unclosed `@media (max-width: 599px)` once hid the dashboard's
desktop layout at 1280 px). Braces balance and every top-level at-rule starts at depth 0."""

import re
from pathlib import Path

from django.conf import settings

COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _stylesheets() -> list[Path]:
    return sorted(Path(settings.BASE_DIR, "static").rglob("*.css"))


def _unclosed(text: str) -> list[str]:
    """Lines of top-level at-rules (`@media …` at column 0) met inside an open block, and a
    final imbalance."""
    problems, depth = [], 0
    for number, line in enumerate(COMMENT.sub("", text).splitlines(), start=1):
        if line.startswith("@") and depth:
            problems.append(f"{number}: {line.strip()} (depth {depth})")
        depth += line.count("{") - line.count("}")
        if depth < 0:
            problems.append(f"{number}: a closing brace without its block")
            depth = 0
    if depth:
        problems.append(f"end: {depth} block(s) left open")
    return problems


def test_every_stylesheet_closes_its_blocks():
    sheets = _stylesheets()
    assert sheets
    assert {sheet.name: _unclosed(sheet.read_text()) for sheet in sheets} == {
        sheet.name: [] for sheet in sheets
    }


def test_the_check_finds_an_unclosed_media_block():
    text = "@media (max-width: 599px) {\n  a { color: red; }\n@media print {\n  b { x: y; }\n}\n"
    assert _unclosed(text) == [
        "3: @media print { (depth 1)",
        "end: 1 block(s) left open",
    ]

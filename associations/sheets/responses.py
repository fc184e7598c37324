"""Sending a built workbook (or a streamed CSV) to the browser, for every app: the Chinese file
name in RFC 5987 form with an ASCII fallback for old clients, and no-store (personal data stays
out of shared caches)."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Chinese stems of file names and the ASCII words the fallback name uses for them; apps add
# theirs with `ascii_stem`.
ASCII_STEMS: dict[str, str] = {}


def ascii_stem(stem: str, ascii_word: str) -> str:
    ASCII_STEMS[stem] = ascii_word
    return stem


def attachment(response, filename: str):
    fallback = filename
    for stem, word in ASCII_STEMS.items():
        fallback = fallback.replace(stem, word)
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in fallback)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    return attachment(HttpResponse(content, content_type=XLSX_CONTENT_TYPE), filename)

"""The size cap kept while the request is read: Django's own upload handlers would write a file
of any size to a temporary file before a view could look at it. `cap_uploads(request)` puts
a handler first in the request's chain that counts each file's bytes as they arrive; past
ATTACHMENT_MAX_BYTES the file is skipped (nothing more of it is kept or written) and its name
listed in `oversize_uploads(request)`, so the view can say why it is missing.

Upload handlers can only be changed before the body is read, which the CSRF check does: a
view calls this from a csrf_exempt dispatch and checks CSRF itself afterwards (the pattern of
Django's documentation), and an API view from `initialize_request`."""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from . import checks

ATTRIBUTE = "oversize_uploads"


class CappedUploadHandler(FileUploadHandler):
    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = limit if limit is not None else checks.max_bytes()
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            setattr(self.request, ATTRIBUTE, [*oversize_uploads(self.request), self.file_name])
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler in the chain builds the file


def cap_uploads(request) -> None:
    request.upload_handlers.insert(0, CappedUploadHandler(request))


def oversize_uploads(request) -> list[str]:
    return list(getattr(request, ATTRIBUTE, []))

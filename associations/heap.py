"""The Python heap during work that makes hundreds of thousands of small objects at once (an
import of 10,000 rows, the snapshot of a county's assessment)."""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def old_objects_frozen():
    """The objects that exist before the work left out of the collector's full passes while
    it runs (gc.freeze): the work makes hundreds of thousands of small objects, and each full
    pass would walk the whole process (Django and all) again, a tenth of an import's time.
    What the work makes is still collected as usual. A heap someone else froze (a server
    freezing before it forks) is left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()

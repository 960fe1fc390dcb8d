"""How a customer came into the book, read from its ``source``: the leaderboards count QR adds and
imports apart from other acquisitions, so the client marks imported rows and HQ reads the mark."""

from __future__ import annotations

IMPORT_SOURCE = "import"  # source of an imported customer whose file named none
IMPORT_PREFIX = "import:"  # "import:<the file's own source>"
QR_PREFIX = "qr:"  # "qr:<code text>", when a lead comes in through an acquisition code


def import_source(file_source: str) -> str:
    """The source an imported customer is stored with: the file's own source keeps its words."""
    file_source = file_source.strip()
    if not file_source or is_import(file_source):
        return file_source or IMPORT_SOURCE
    return (IMPORT_PREFIX + file_source)[:100]


def is_import(source: str) -> bool:
    return source == IMPORT_SOURCE or source.startswith(IMPORT_PREFIX)


def shown_source(source: str) -> str:
    """The source without the import mark, for display and editing."""
    if source == IMPORT_SOURCE:
        return ""
    return source.removeprefix(IMPORT_PREFIX) if source.startswith(IMPORT_PREFIX) else source


def edited_source(stored: str, typed: str) -> str:
    """What a form saves: the stored value (mark included) while the guide left the shown text alone."""
    return stored if typed == shown_source(stored) else typed

"""Translation catalogs (zh_CN default, en): every JSON file under resources/translations/<lang>/,
one file per area so areas can grow their wording independently.

Qt-free so that services and domain errors carry message keys that any layer can render; the Qt
views call :func:`tr` too, and load Qt's own qtbase catalog for its standard dialogs.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from guide_app.resources import resource_path

DEFAULT_LANG = "zh_CN"
LANGUAGES = ("zh_CN", "en")
_current = {"lang": DEFAULT_LANG}


@cache
def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for path in sorted(resource_path("translations", lang).glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            data.update(json.load(fh))
    return data


def set_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _current["lang"] = lang


def current_language() -> str:
    return _current["lang"]


def tr(key: str, lang: str | None = None, **params: Any) -> str:
    """The message for ``key`` in ``lang`` (default: the current language), formatted with params.

    A key missing from the chosen catalog falls back to zh_CN, then to the key itself, so a
    forgotten translation shows something readable rather than failing.
    """
    lang = lang or _current["lang"]
    return fill(catalog(lang).get(key) or catalog(DEFAULT_LANG).get(key) or key, params)


def fill(text: str, params: dict[str, Any]) -> str:
    """``text`` with ``params`` in its {placeholders}; a placeholder without its value (a wording ahead
    of its code) leaves the text unfilled rather than failing."""
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text

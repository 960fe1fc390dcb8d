from __future__ import annotations

import json

from guide_app.i18n import LANGUAGES, catalog
from guide_app.resources import resource_path


def test_every_language_has_every_key() -> None:
    keys = {lang: set(catalog(lang)) for lang in LANGUAGES}
    assert keys["zh_CN"] == keys["en"], {
        "missing in en": sorted(keys["zh_CN"] - keys["en"]),
        "missing in zh_CN": sorted(keys["en"] - keys["zh_CN"]),
    }


def test_no_key_is_defined_twice_across_area_files() -> None:
    for lang in LANGUAGES:
        seen: dict[str, str] = {}
        for path in sorted(resource_path("translations", lang).glob("*.json")):
            for key in json.loads(path.read_text(encoding="utf-8")):
                assert key not in seen, f"{lang}: {key} in both {seen.get(key)} and {path.name}"
                seen[key] = path.name

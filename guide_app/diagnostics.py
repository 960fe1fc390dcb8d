"""``guide-app --self-check``: what a support person (and the packaging test) needs to know about a
build: where its resources come from, whether the migrations and translation catalogs load, and
which keyring backends it carries. Qt-free; the Qt half (icons, Qt modules, Qt's own catalog) is
added by ``views/self_check.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from guide_app import __version__
from guide_app.db.migrate import current_revision, head_revision
from guide_app.i18n import LANGUAGES, catalog
from guide_app.resources import resource_path, resource_root


def keyring_backends() -> list[str]:
    """Every keyring backend this build can load (viable on this machine or not)."""
    import keyring.backend

    found = {f"{type(b).__module__}.{type(b).__name__}" for b in keyring.backend.get_all_keyring()}
    # get_all_keyring() keeps only the viable ones; the others must at least import
    for module in ("keyring.backends.SecretService", "keyring.backends.Windows", "keyring.backends.macOS",
                   "keyring.backends.libsecret", "keyring.backends.kwallet", "keyring.backends.chainer"):
        try:
            __import__(module)
        except Exception as exc:  # report, not crash: this is a diagnostic
            found.add(f"{module}: import failed ({exc})")
        else:
            found.add(module)
    return sorted(found)


def report(db_path: Path, data_dir: Path, log_dir: Path) -> dict[str, Any]:
    icons = sorted(resource_path("icons").glob("*.png"))
    return {
        "version": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "meipass": getattr(sys, "_MEIPASS", None),
        "executable": sys.executable,
        "resource_root": str(resource_root()),
        "data_dir": str(data_dir),
        "log_dir": str(log_dir),
        "db_revision": current_revision(db_path),
        "head_revision": head_revision(),
        "catalog_sizes": {lang: len(catalog(lang)) for lang in LANGUAGES},
        "icon_files": len(icons),
        "keyring_backends": keyring_backends(),
    }


def problems(facts: dict[str, Any]) -> list[str]:
    """What is wrong with a report, in words (empty when the build is sound)."""
    out = []
    if facts["db_revision"] != facts["head_revision"]:
        out.append(f"database at {facts['db_revision']}, expected {facts['head_revision']}")
    for lang, size in facts["catalog_sizes"].items():
        if size == 0:
            out.append(f"no {lang} translations")
    if facts["icon_files"] == 0:
        out.append("no icons")
    out.extend(b for b in facts["keyring_backends"] if "import failed" in b)
    out.extend(f"{k} not loaded" for k, v in facts.get("qt", {}).items() if v is False)
    return out

"""Errors a user should read: a message key plus parameters, translated where it is shown."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """A refusal the user can act on. ``key`` names a message in the translation catalogs."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __str__(self) -> str:  # English fallback for logs; UIs translate via guide_app.i18n
        from guide_app.i18n import tr

        return tr(self.key, lang="en", **self.params)

"""Local preferences of this PC: language, stage thresholds, remembered choices (e.g. import mappings).

Stored in ``app_setting`` (JSON values); never synced. Every read falls back to a safe default, so a
hand-edited or older file cannot stop the app from opening.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from guide_app.db.state import get_setting, set_setting
from guide_app.domain.errors import UserError
from guide_app.domain.stages import StageThresholds
from guide_app.i18n import DEFAULT_LANG, LANGUAGES
from guide_app.services.context import AppContext

LANGUAGE_KEY = "language"
STAGE_THRESHOLDS_KEY = "stage_thresholds"
_KEY_MAX = 80  # app_setting.key column width


def read_stage_thresholds(session: Session) -> StageThresholds:
    """The configured thresholds, or the defaults when unset or unreadable."""
    raw = get_setting(session, STAGE_THRESHOLDS_KEY)
    if not isinstance(raw, dict):
        return StageThresholds()
    try:
        t = StageThresholds(**{k: int(v) for k, v in raw.items() if k in ("new_days", "sleeping_days", "lost_days")})
        t.validate()
    except (TypeError, ValueError, UserError):
        return StageThresholds()
    return t


class SettingsService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def language(self) -> str:
        with self.ctx.read() as s:
            lang = get_setting(s, LANGUAGE_KEY, DEFAULT_LANG)
        return lang if lang in LANGUAGES else DEFAULT_LANG

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise UserError("settings.bad_language", value=lang)
        with self.ctx.db.write() as s:
            set_setting(s, LANGUAGE_KEY, lang)

    def stage_thresholds(self) -> StageThresholds:
        with self.ctx.read() as s:
            return read_stage_thresholds(s)

    def set_stage_thresholds(self, t: StageThresholds) -> None:
        for value in asdict(t).values():
            if not isinstance(value, int) or isinstance(value, bool) or value > 3650:
                raise UserError("stage.bad_thresholds")
        t.validate()
        with self.ctx.db.write() as s:
            set_setting(s, STAGE_THRESHOLDS_KEY, asdict(t))

    def get(self, key: str, default: Any = None) -> Any:
        with self.ctx.read() as s:
            return get_setting(s, key, default)

    def set(self, key: str, value: Any) -> None:
        """Remember a JSON-serialisable value (dicts, lists, strings, numbers) under ``key``."""
        if not key or len(key) > _KEY_MAX:
            raise UserError("settings.bad_key", name=key)
        with self.ctx.db.write() as s:
            set_setting(s, key, value)

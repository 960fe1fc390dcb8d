"""Typed sync failures. Each carries a message key (``resources/translations/*/sync.json``) so the
status bar and dialogs show a sentence in the user's language, and says whether retrying can help.
"""

from __future__ import annotations

from typing import Any

from guide_app.i18n import tr


class SyncError(Exception):
    """Base of every sync failure; ``retryable`` errors are retried with backoff by the engine."""

    key = "sync.error.unknown"
    retryable = False
    code = ""  # HQ's stable error code, when HQ answered

    def __init__(self, detail: str = "", *, server_message: str = "", **params: Any) -> None:
        super().__init__(detail or self.key)
        self.detail = detail
        self.server_message = server_message  # HQ's own zh_CN sentence, shown as the detail when present
        self.params = params

    def message(self, lang: str | None = None) -> str:
        text = tr(self.key, lang=lang, **self.params)
        if self.server_message and (lang or "zh_CN") == "zh_CN" and self.server_message not in text:
            return f"{text}（{self.server_message}）"
        return text


class OfflineError(SyncError):
    """HQ could not be reached (no network, refused, timed out, connection dropped)."""

    key = "sync.error.offline"
    retryable = True


class ServerError(SyncError):
    """HQ answered 5xx; it may be restarting or overloaded."""

    key = "sync.error.server"
    retryable = True

    def __init__(self, detail: str = "", *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.retry_after = retry_after


class RateLimitedError(ServerError):
    key = "sync.error.rate_limited"


class BadResponseError(SyncError):
    """HQ answered something that is not the protocol (a proxy's page, a truncated body)."""

    key = "sync.error.bad_response"
    retryable = True


class LoginFailedError(SyncError):
    key = "sync.error.bad_credentials"


class AuthRequiredError(SyncError):
    """The session cannot be renewed (refresh token missing, expired or revoked): sign in again."""

    key = "sync.error.auth_required"


class ForbiddenError(SyncError):
    key = "sync.error.forbidden"


class UpgradeRequiredError(SyncError):
    key = "sync.error.upgrade"


class RequestError(SyncError):
    """HQ refused the request as a whole (4xx other than the ones above)."""

    key = "sync.error.request"


class SeqGapError(SyncError):
    """HQ has not seen the mutations before the ones we sent; re-send from what it expects."""

    key = "sync.error.gap"
    retryable = True

    def __init__(self, detail: str = "", *, expected_seq: int | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.expected_seq = expected_seq


class KeyringUnavailableError(SyncError):
    """No secure OS keyring to keep the refresh token in."""

    key = "sync.error.keyring"

    def message(self, lang: str | None = None) -> str:
        hint = tr(f"sync.keyring_hint.{self.params.get('platform_hint', 'linux')}", lang=lang)
        return tr(self.key, lang=lang, hint=hint)


class HqKeyMismatchError(SyncError):
    """HQ presented a different signing key from the one pinned at enrollment."""

    key = "sync.error.hq_key_changed"


class NotEnrolledError(SyncError):
    key = "sync.error.not_enrolled"

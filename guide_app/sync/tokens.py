"""Where the session lives: the short-lived access token in memory only, the rotating refresh token
in the OS keyring (Windows Credential Manager, macOS Keychain, the Secret Service on Linux).

A refresh token is a password-equivalent for a counter PC shared by several guides, so it is never
written to disk in plain text: :func:`secure_keyring` refuses the ``fail``/``null`` backends, a
chainer with nothing viable behind it, and plaintext file backends (keyrings.alt), and says what to
install instead. The app calls it at login. The demo alone may use :class:`MemoryTokenStore`, which
keeps the refresh token for this run only (and says so).
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Protocol

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from guide_app.sync.errors import KeyringUnavailableError
from guide_app.sync.protocol import TokenPair

SERVICE = "guide-desk"
_PROBE_USER = "__guide_desk_probe__"
# class names of backends that keep secrets in a readable file or nowhere at all
_INSECURE_NAMES = {"PlaintextKeyring", "EncryptedKeyring", "Keyring"}
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _is_insecure(backend: KeyringBackend) -> bool:
    module = type(backend).__module__
    if module.startswith(_INSECURE_MODULES[:2]):
        return True
    return module.startswith("keyrings.alt") and type(backend).__name__ in _INSECURE_NAMES


def _candidates(kr: KeyringBackend) -> list[KeyringBackend]:
    inner = getattr(kr, "backends", None)  # keyring.backends.chainer.ChainerBackend
    if type(kr).__module__ == "keyring.backends.chainer" and inner is not None:
        return list(inner)
    return [kr]


def install_hint() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    return "windows"


def secure_keyring(kr: KeyringBackend | None = None) -> KeyringBackend:
    """The OS keyring backend to keep the refresh token in, or :class:`KeyringUnavailableError`.

    Besides refusing insecure backends it reads one entry, so a locked or unreachable Secret
    Service is reported at login rather than when the token is first saved.
    """
    chosen = kr or keyring.get_keyring()
    secure = [b for b in _candidates(chosen) if not _is_insecure(b)]
    if not secure:
        raise KeyringUnavailableError(f"no secure keyring backend: {type(chosen).__module__}",
                                      platform_hint=install_hint())
    backend = secure[0]
    try:
        backend.get_password(SERVICE, _PROBE_USER)
    except (keyring.errors.KeyringError, OSError, RuntimeError) as exc:
        raise KeyringUnavailableError(f"{type(backend).__name__}: {exc}", platform_hint=install_hint()) from exc
    return backend


class TokenStore(Protocol):
    secure: bool

    def access_token(self) -> str | None: ...

    def refresh_token(self) -> str | None: ...

    def save(self, pair: TokenPair) -> None: ...

    def clear(self) -> None: ...


class MemoryTokenStore:
    """Both tokens in memory: for the demo and for tests only (a restart means signing in again)."""

    secure = False

    def __init__(self) -> None:
        self._access: str | None = None
        self._refresh: str | None = None
        self._lock = threading.Lock()

    def access_token(self) -> str | None:
        return self._access

    def refresh_token(self) -> str | None:
        return self._refresh

    def save(self, pair: TokenPair) -> None:
        with self._lock:
            self._access, self._refresh = pair.access_token, pair.refresh_token

    def clear(self) -> None:
        with self._lock:
            self._access = self._refresh = None


class KeyringTokenStore:
    """Access token in memory; refresh token in the OS keyring under ``guide-desk`` / ``entry``.

    ``entry`` names the HQ, device and account, so guides sharing a PC each keep their own session.
    """

    secure = True

    def __init__(self, entry: str, backend: Any | None = None) -> None:
        self.entry = entry
        self._backend: Any = backend if backend is not None else secure_keyring()
        self._access: str | None = None
        self._lock = threading.Lock()

    def access_token(self) -> str | None:
        return self._access

    def refresh_token(self) -> str | None:
        try:
            value = self._backend.get_password(SERVICE, self.entry)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError(str(exc), platform_hint=install_hint()) from exc
        return str(value) if value else None

    def save(self, pair: TokenPair) -> None:
        with self._lock:
            try:
                self._backend.set_password(SERVICE, self.entry, pair.refresh_token)
            except keyring.errors.KeyringError as exc:
                raise KeyringUnavailableError(str(exc), platform_hint=install_hint()) from exc
            self._access = pair.access_token

    def clear(self) -> None:
        with self._lock:
            self._access = None
            try:
                self._backend.delete_password(SERVICE, self.entry)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored: already signed out
            except keyring.errors.KeyringError as exc:
                raise KeyringUnavailableError(str(exc), platform_hint=install_hint()) from exc


def keyring_entry(hq_url: str, device_id: str, account_id: str) -> str:
    return f"{hq_url.rstrip('/')}|{device_id}|{account_id}"

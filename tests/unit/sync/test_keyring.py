"""The refresh token lives in a real OS keyring; insecure backends are refused with a hint.

The Secret Service test runs inside ``.ci/with-keyring`` (a private D-Bus session with an unlocked
gnome-keyring). Under CI it must not silently skip: no reachable Secret Service is a failure.
"""

from __future__ import annotations

import os
import uuid

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend

from guide_app.sync.errors import KeyringUnavailableError
from guide_app.sync.protocol import TokenPair
from guide_app.sync.tokens import KeyringTokenStore, secure_keyring


def _secret_service() -> KeyringBackend | None:
    try:
        from keyring.backends import SecretService

        backend = SecretService.Keyring()
        backend.get_password("guide-desk", "__probe__")
        return backend
    except Exception:
        return None


@pytest.mark.keyring
def test_refresh_token_round_trips_through_the_real_secret_service() -> None:
    backend = _secret_service()
    if backend is None:
        message = "no unlocked Secret Service on DBUS_SESSION_BUS_ADDRESS (run under .ci/with-keyring)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    chosen = secure_keyring(ChainerBackend())
    assert type(chosen).__module__ == "keyring.backends.SecretService"
    entry = f"http://hq.test|dev-{uuid.uuid4()}|acct"
    first = KeyringTokenStore(entry, chosen)
    first.save(TokenPair(access_token="acc", access_expires_in=900, refresh_token="refresh-1"))
    again = KeyringTokenStore(entry, secure_keyring(ChainerBackend()))  # a new run of the app
    assert again.refresh_token() == "refresh-1" and again.access_token() is None  # access stays in memory
    again.save(TokenPair(access_token="acc2", access_expires_in=900, refresh_token="refresh-2"))  # rotation
    assert first.refresh_token() == "refresh-2"
    again.clear()
    assert first.refresh_token() is None
    assert keyring.backends.SecretService.Keyring().get_password("guide-desk", entry) is None


class PlaintextKeyring(KeyringBackend):
    """Stands in for keyrings.alt.file.PlaintextKeyring (a readable file on disk)."""

    priority = 1.0  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("must never be written to")

    def delete_password(self, service: str, username: str) -> None:
        return None


PlaintextKeyring.__module__ = "keyrings.alt.file"


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring(),
                                     PlaintextKeyring()], ids=["fail", "null", "plaintext-file"])
def test_insecure_backends_are_refused_with_what_to_install(backend: KeyringBackend) -> None:
    with pytest.raises(KeyringUnavailableError) as info:
        secure_keyring(backend)
    text = info.value.message("zh_CN")
    assert "钥匙串" in text
    if info.value.params["platform_hint"] == "linux":
        assert "gnome-keyring" in text and "Secret Service" in text


def test_a_chainer_with_no_viable_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ChainerBackend, "backends", property(lambda self: [PlaintextKeyring()]))
    with pytest.raises(KeyringUnavailableError):
        secure_keyring(ChainerBackend())
    monkeypatch.setattr(ChainerBackend, "backends", property(lambda self: []))
    with pytest.raises(KeyringUnavailableError):
        secure_keyring(ChainerBackend())

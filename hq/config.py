"""HQ's tunables in one place: the version window it serves, token lifetimes, login limits."""

from __future__ import annotations

from guide_app.sync.protocol import PROTOCOL_VERSION, SCHEMA_VERSION

# The client versions this build serves; outside the window the answer is 426 (请升级客户端).
PROTOCOL_MIN = 1
PROTOCOL_MAX = PROTOCOL_VERSION
SCHEMA_MIN = 1
SCHEMA_MAX = SCHEMA_VERSION

ACCESS_TOKEN_SECONDS = 15 * 60
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600

# Failed logins counted in a sliding window, stored in the database so every process sees them.
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_MAX_FAILURES_PER_USER = 5
LOGIN_MAX_FAILURES_PER_ADDRESS = 30

DEFAULT_DB_URL = "sqlite:///hq.sqlite3"

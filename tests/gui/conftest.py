"""GUI tests run offscreen; Qt warnings fail a test (pyproject: qt_log_level_fail = WARNING)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

"""Guide Desk: the desktop client for in-store shopping guides."""

__version__ = "0.1.0"

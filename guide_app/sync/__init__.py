"""Sync with HQ: wire protocol, HTTP client, push/pull engine, token store. No Qt."""

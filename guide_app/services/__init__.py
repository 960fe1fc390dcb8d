"""Use cases: each public call is one transaction that writes rows, their HLC stamps and outbox rows."""

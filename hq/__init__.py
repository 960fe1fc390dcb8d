"""Guide Desk HQ service."""

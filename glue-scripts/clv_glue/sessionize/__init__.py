"""Clickstream sessionization: raw JSON-lines events -> silver sessions (30-minute inactivity rule)."""

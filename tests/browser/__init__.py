"""End-to-end tests that drive the real Agents Playground web UI (see playground.py)."""

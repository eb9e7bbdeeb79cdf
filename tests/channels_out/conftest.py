"""Fixtures for the sender layer live in tests/conftest.py (campaign tests share them)."""

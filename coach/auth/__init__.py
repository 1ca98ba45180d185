"""Accounts: password hashes and JWT access tokens."""

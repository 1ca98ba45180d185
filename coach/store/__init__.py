"""Persistence of users and interviews on MongoDB or an in-process twin."""

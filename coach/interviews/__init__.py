"""Interviews: submit, read, list, delete, retry; analysis job claiming and recovery."""

"""coach: an interview-coaching backend."""

__version__ = "0.1.0"

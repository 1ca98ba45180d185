"""Where the project's own test data lives: nothing a test reads is outside the repository."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

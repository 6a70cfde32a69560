"""Language detection for articles (placeholder until the multilingual work lands)."""

from __future__ import annotations


def detect(text: str) -> str:
    """ISO 639-1 code of ``text``'s language, or "" when unsure."""
    return ""

"""Readers score a question's candidate sentences: ``open_reader("rules" | "learned")``.

A new reader is one file here (a :class:`Reader` subclass) and one line in
:data:`READERS`; ``tests/retrieval/test_readers.py`` runs the shared contract on each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from retrieval.answer.readers.base import Reader, Reading, Span
from retrieval.answer.readers.learned import SHIPPED, LearnedReader
from retrieval.answer.readers.rules import RulesReader

READERS = ("learned", "rules")
DEFAULT_READER = "learned"

__all__ = ["DEFAULT_READER", "READERS", "Reader", "Reading", "Span", "open_reader"]


def open_reader(
    name: str = DEFAULT_READER,
    *,
    folder: Path | None = None,
    on_unavailable: Callable[[str], None] | None = None,
) -> Reader:
    """The reader called ``name``; the learned one loads its model (``folder``, default
    the shipped one) on its first question."""
    if name == "rules":
        return RulesReader()
    if name == "learned":
        return LearnedReader(folder or SHIPPED, on_unavailable=on_unavailable)
    raise ValueError(f"unknown reader {name!r} (choose {' or '.join(READERS)})")

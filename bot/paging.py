"""``/more``, in the console and in Telegram: the next quotes of a question not shown yet."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.archive import Archive
from retrieval.types import Answer, Filters, Quote


def next_page(
    archive: Archive, query: str, shown: Sequence[Quote], k: int, filters: Filters | None = None
) -> tuple[tuple[Quote, ...], Answer]:
    """Up to ``k`` quotes for ``query`` that are not among ``shown`` (by article and start),
    best first, and the answer they came from (``answer.more``: whether there are others)."""
    answer = archive.ask(query, k=len(shown) + k, filters=filters)
    seen = {(q.article.id, q.start) for q in shown}
    fresh = tuple(q for q in answer.quotes if (q.article.id, q.start) not in seen)[:k]
    return fresh, answer

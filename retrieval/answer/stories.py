"""One quote per story: an answer quotes one copy of a syndicated story and lists the others.

The indexer groups near-duplicate articles into stories (:mod:`retrieval.store.near_duplicates`);
after the quotes are composed, :func:`one_copy_per_story` drops every quote from another
copy of a story quoted higher up, fills the answer up from its further quotes, and gives
each quote the other outlets' copies (:attr:`Quote.also`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from retrieval.store import Story
from retrieval.types import Answer, Article, Copy, Quote

#: one look-up of the stories of several articles (:meth:`VectorStore.stories`)
StoryLookup = Callable[[Sequence[str]], Mapping[str, Story]]


def one_copy_per_story(answer: Answer, stories: StoryLookup) -> Answer:
    """``answer`` with one copy of each story quoted (the best-ranked one; several quotes of
    that one article stay), as many quotes as before while further ones remain, and every
    quote's :attr:`Quote.also` filled."""
    ranked = (*answer.quotes, *answer.more)
    if not ranked:
        return answer
    found = stories(list(dict.fromkeys(q.article.id for q in ranked)))
    if not found:
        return answer
    quoted: dict[str, str] = {}  # story id -> the article quoted for it
    kept: list[Quote] = []
    for q in ranked:
        story = found.get(q.article.id)
        if story is None:
            kept.append(q)
        elif quoted.setdefault(story.id, q.article.id) == q.article.id:
            kept.append(replace(q, also=copies(q.article, story.members)))
    shown = len(answer.quotes)
    return replace(answer, quotes=tuple(kept[:shown]), more=tuple(kept[shown:]))


def copies(quoted: Article, members: Sequence[Article]) -> tuple[Copy, ...]:
    """The story's other copies, one per outlet (its earliest copy; the quoted article's own
    outlet too, for another version of it): outlets known by name first, then those known by
    their web host, then the rest; by name."""
    best: dict[str, Copy] = {}
    for a in sorted(members, key=lambda m: (not m.published, m.published, m.id)):
        if a.id != quoted.id:
            key = _outlet_key(a) or f"\0{a.id}"  # no outlet: never merged with another
            best.setdefault(key, Copy(a.id, a.source, a.title, a.url, a.published))
    return tuple(sorted(best.values(), key=_rank))


def _outlet_key(a: Article) -> str:
    return Copy(a.id, a.source, url=a.url).outlet.casefold()


def _rank(c: Copy) -> tuple[int, str, str]:
    known = 0 if c.source.strip() else 1 if c.outlet else 2
    return known, c.outlet.casefold(), c.article_id

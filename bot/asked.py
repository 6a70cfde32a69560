"""The day a question is asked, decided here for every interface: one :class:`AsOf` per call."""

from __future__ import annotations

from datetime import date

from retrieval.types import AsOf


def today() -> date:
    """The one place the interfaces ask the clock for the day."""
    return date.today()


def as_of_given(day: date | None) -> AsOf:
    """``day`` given explicitly (nothing published after it is quoted), or else today."""
    return AsOf(day, given=True) if day is not None else AsOf(today())


def as_of_on(day: date | None = None) -> AsOf:
    """The day a message was sent (None: today); never a limit on what is quoted."""
    return AsOf(day if day is not None else today())

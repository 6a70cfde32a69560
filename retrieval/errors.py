"""The library's errors: each one a problem the user can act on, with a message saying how."""

from __future__ import annotations


class ArchiveError(Exception):
    """An index folder or database that cannot be used as it is; re-indexing fixes it."""


class IndexMissingError(ArchiveError):
    """There is no archive at that location yet."""


class IndexMismatchError(ArchiveError):
    """The archive belongs to another model, format or newsbot version, or is damaged."""


class StoreUnavailableError(Exception):
    """The store cannot be reached (e.g. the database is down); retrying later may work."""


class SourceError(Exception):
    """An articles folder or file cannot be used as a source, or a refresh would lose articles."""


class ArticleError(Exception):
    """A file (or part of one) cannot be read as an article; the message says why."""


class ModelError(Exception):
    """The embedding model cannot be found or loaded."""


#: everything a command reports in one line instead of a traceback
USER_ERRORS: tuple[type[Exception], ...] = (ArchiveError, StoreUnavailableError, SourceError, ModelError)

"""Where an archive lives, parsed once: an index folder or a PostgreSQL URL, and what lives
beside it (the feed state, the subscriptions)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

DATABASE_SCHEMES = ("postgresql://", "postgres://")
#: the subscriptions beside an index folder (a database keeps them in a schema of its own)
SUBSCRIPTIONS_FILE = "alerts.sqlite"


def is_database_url(value: str | Path) -> bool:
    return isinstance(value, str) and value.startswith(DATABASE_SCHEMES)


def redact(url: str) -> str:
    """The URL without its password (safe for messages and logs)."""
    url = re.sub(r"(://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)


@dataclass(frozen=True)
class Location:
    """An index folder (``folder``) or a PostgreSQL database (``url``, with its password)."""

    folder: Path | None = None
    url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.folder is None) == (self.url is None):
            raise ValueError("a location is a folder or a database URL, exactly one")
        if self.url is not None and not is_database_url(self.url):
            raise ValueError(f"{redact(self.url)} is not a postgresql:// URL")

    @classmethod
    def of(cls, value: Location | Path | str) -> Location:
        """``value`` as a location: a ``postgresql://`` URL, else a folder."""
        if isinstance(value, Location):
            return value
        if is_database_url(value):
            return cls(url=str(value))
        return cls(folder=Path(value))

    @property
    def is_database(self) -> bool:
        return self.url is not None

    @property
    def shown(self) -> str:
        """For messages and logs: the folder, or the URL without its password."""
        return redact(self.url) if self.url is not None else str(self.folder)

    def __str__(self) -> str:
        return self.shown

    def feeds_dir(self, cache: Path) -> Path:
        """Where fetched feed entries and per-feed state live: beside the index folder's
        versions, or for a database a folder of ``cache`` named after its URL."""
        if self.folder is not None:
            return self.folder / "feeds"
        digest = hashlib.blake2b(str(self.url).encode("utf-8"), digest_size=6).hexdigest()
        return cache / "feeds" / digest

    @property
    def subscriptions_file(self) -> Path | None:
        """The SQLite file of the subscriptions beside an index folder (None: a database's)."""
        return self.folder / SUBSCRIPTIONS_FILE if self.folder is not None else None

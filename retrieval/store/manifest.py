"""What an archive holds and how it was built: model, dimension, chunking, and per article
its content hash, passage count, path, layout and story. Both stores answer with a :class:`Manifest`;
the FAISS store keeps it as JSON beside the index files."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import IndexMismatchError, IndexMissingError
from retrieval.types import Article

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ArticleEntry:
    hash: str  # of the text (Article.content_hash)
    passages: int
    path: str = ""
    #: how its passages were made (chunking, BM25 terms, sentence vectors: indexer.layout_of);
    #: an article of another layout is rewritten, reusing vectors by passage text
    layout: str = ""
    #: hash of its metadata (title, source, date, ...): a change rewrites it without embedding
    meta: str = ""
    #: its story: the id of the earliest article of its near-duplicate group (its own id when
    #: it has no copies; "" when never grouped). See :mod:`retrieval.store.near_duplicates`.
    story: str = ""


@dataclass(frozen=True)
class Source:
    """A folder (or file) an archive's articles come from, remembered by the archive: a run
    that does not name it keeps its articles (see :func:`retrieval.ingest.indexer.refresh`)."""

    path: str  # absolute
    feeds: str = ""  # the feeds file that fills this folder; "" for a folder of articles

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "feeds": self.feeds} if self.feeds else {"path": self.path}


@dataclass(frozen=True)
class Manifest:
    model: str  # model name, as resolve_model() takes it back
    dim: int
    chunking: dict[str, int]
    articles: dict[str, ArticleEntry] = field(default_factory=dict)
    passages: int = 0
    index_type: str = "flat"
    created: str = ""
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexMissingError(f"no index manifest at {path}") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexMismatchError(
                f"unreadable index manifest {path} ({exc}); rebuild with `newsbot index --full`"
            ) from exc
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"the index at {path.parent} has format version {version}, this newsbot "
                f"reads version {FORMAT_VERSION}; rebuild it with `newsbot index --full`"
            )
        try:
            data["articles"] = {k: ArticleEntry(**v) for k, v in data.get("articles", {}).items()}
            return cls(**data)
        except TypeError as exc:
            raise IndexMismatchError(
                f"malformed index manifest {path} ({exc}); rebuild with `newsbot index --full`"
            ) from exc

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources the archive remembers (``extra["sources"]``), in the order first seen."""
        found = []
        for item in self.extra.get("sources") or ():
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                found.append(Source(item["path"], str(item.get("feeds") or "")))
        return tuple(found)

    def check_model(self, model: str, dim: int | None = None) -> None:
        """Refuse to mix vectors of two models in one index."""
        if model != self.model or (dim is not None and dim != self.dim):
            raise IndexMismatchError(
                f"the index was built with model {self.model!r} (dim {self.dim}), not "
                f"{model!r}; rebuild it with `newsbot index --full --model {model}` "
                "or drop --model to use the index's own model"
            )


def metadata_hash(article: Article) -> str:
    """A short hash of an article's metadata (ArticleEntry.meta)."""
    data = json.dumps(article.metadata(), sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(data.encode("utf-8"), digest_size=8).hexdigest()

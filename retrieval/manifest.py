"""The JSON manifest that describes an index and guards against mismatches."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


class IndexError_(Exception):
    """Base class for index problems that a user can fix by re-indexing."""


class IndexMissingError(IndexError_):
    pass


class IndexMismatchError(IndexError_):
    pass


@dataclass(frozen=True)
class ArticleEntry:
    hash: str
    passages: int
    path: str = ""


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

    def check_model(self, model: str, dim: int | None = None) -> None:
        """Refuse to mix vectors of two models in one index."""
        if model != self.model or (dim is not None and dim != self.dim):
            raise IndexMismatchError(
                f"the index was built with model {self.model!r} (dim {self.dim}), not "
                f"{model!r}; rebuild it with `newsbot index --full --model {model}` "
                "or drop --model to use the index's own model"
            )

"""Settings read once, at the edge: flags win over environment variables."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

DEFAULT_INDEX = Path("index")
DEFAULT_ARTICLES = Path("seeds")

ENV_INDEX = "NEWSBOT_INDEX"
ENV_MODEL = "NEWSBOT_MODEL"
ENV_BACKEND = "NEWSBOT_BACKEND"
ENV_CACHE = "NEWSBOT_CACHE"


def cache_dir() -> Path:
    """Where exported models are kept (``NEWSBOT_CACHE``, else ~/.cache/newsbot)."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsbot"


def offline_runtime() -> None:
    """No hub downloads, quiet third-party chatter. Called once by every command."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("httpx", "sentence_transformers", "transformers", "faiss", "bm25s"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="jieba")

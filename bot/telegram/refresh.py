"""Keeping the bot's archive in step while it runs: ``/reindex`` (admins) and the background
refresh every ``--every`` (PTB's JobQueue). Each round polls the feeds, re-reads the article
folders, refreshes the store in a worker thread and swaps the new archive in; questions
under way keep the archive they started with."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Message, Update
from telegram.error import TelegramError

from bot import render_telegram as tg
from bot.live import update_archive
from bot.summaries import feed_problems, round_line
from bot.telegram.context import App, BotData, Context, archive_of, set_archive, settings_of
from retrieval.live.updates import UpdateReport

log = logging.getLogger("newsbot.telegram")


async def run_round(app: App) -> UpdateReport | None:
    """One round, unless one is running already (then None). Errors propagate."""
    if app.bot_data.refreshing:
        return None
    app.bot_data.refreshing = True
    try:
        settings = settings_of(app)
        result, new = await asyncio.to_thread(
            update_archive, archive_of(app), settings.sources, settings.feeds, settings.feeds_dir
        )
        set_archive(app, new)
        app.bot_data.last_round = result
    finally:
        app.bot_data.refreshing = False
    for where, reason in feed_problems(result):
        log.warning("feed %s: %s", where, reason)
    log.info("refresh: %s", round_line(result))
    index = result.index
    if index.added or index.updated or index.removed:
        for hook in list(app.bot_data.after_round):
            try:
                await hook(app, result, new)
            except Exception:  # one hook failing must not stop the next round or the others
                log.exception("a hook after the refresh failed")
    return result


def schedule_refresh(app: App) -> None:
    """Start the background refresh when ``--every`` is set (first round one interval in)."""
    settings = settings_of(app)
    if settings.every is None or not (settings.sources or settings.feeds):
        return
    if app.job_queue is None:
        raise RuntimeError(
            "the background refresh needs PTB's job queue: pip install 'python-telegram-bot[job-queue]'"
        )
    app.job_queue.run_repeating(_refresh_job, interval=settings.every, first=settings.every, name="refresh")
    log.info("refreshing every %g s", settings.every)


async def _refresh_job(context: Context) -> None:
    try:
        await run_round(context.application)
    except Exception:
        log.exception("background refresh failed; the archive stays as it was")


async def on_reindex(update: Update, context: Context) -> None:
    message = update.message
    user = update.effective_user
    if message is None:
        return
    settings = settings_of(context)
    if user is None or user.id not in settings.admin_ids:
        await message.reply_text("Only the bot's admins can reindex.")
        return
    if not settings.sources and settings.feeds is None:
        await message.reply_text(
            "No article folders or feeds are configured (start the bot with --articles DIR or --feeds FILE)."
        )
        return
    if context.bot_data.refreshing:
        await message.reply_text("A refresh is already running; try again when it is done.")
        return
    status = await message.reply_text("Reindexing in the background — I keep answering meanwhile…")
    context.application.create_task(_reindex(context.application, status), update=update)


async def _reindex(app: App, status: Message) -> None:
    try:
        result = await run_round(app)
        if result is None:
            text = "A refresh is already running; try again when it is done."
        else:
            report = result.index
            text = (
                f"Index refreshed in {result.seconds:.1f} s: <b>{report.articles}</b> articles "
                f"({len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed"
                + (f", {len(report.skipped)} skipped" if report.skipped else "")
                + ")."
            )
            if result.poll is not None:
                text += "\n" + tg.esc(round_line(result))
    except Exception as exc:
        log.exception("reindex failed")
        text = f"Reindexing failed: {tg.esc(str(exc)[:500])}. The previous index stays in use."
    with contextlib.suppress(TelegramError):
        await status.edit_text(text)


def last_round_html(data: BotData) -> str:
    """``<b>Last refresh:</b> …`` for /stats, or "" before the first round."""
    result = data.last_round
    if result is None:
        return ""
    when = result.finished.strftime("%Y-%m-%d %H:%M UTC")
    return f"<b>Last refresh:</b> {tg.esc(when)} — {tg.esc(round_line(result))}"

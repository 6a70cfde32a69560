"""Topic alerts in Telegram: /follow, /following, /unfollow, and delivery after each refresh.

After every background or /reindex round that added or updated articles, the new
articles are matched against every followed topic (:mod:`retrieval.live.alerts`); each match
is recorded first (:mod:`retrieval.live.subscriptions`: the process whose insert succeeds sends),
then the matches of one round go to each chat in one message (split under 4096). Digest
subscriptions (``/follow TOPIC --daily``) collect their matches, sent once a day by a
repeating check. A chat that blocked the bot (403) is paused until it writes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, TypeHandler

from bot import render_telegram as tg
from bot.config import TelegramSettings
from bot.telegram.context import App, Context, archive_of, settings_of
from retrieval.archive import Archive
from retrieval.live.alerts import StoryMatch, TopicMatcher, group_stories, story_key_of
from retrieval.live.subscriptions import (
    CONSOLE_CHAT,
    FollowError,
    Subscription,
    Subscriptions,
    open_subscriptions,
    topic_key,
)
from retrieval.live.updates import UpdateReport

log = logging.getLogger("newsbot.telegram")

COMMANDS: tuple[tuple[str, str], ...] = (
    ("follow", "Alerts about a topic: /follow TOPIC (add --daily for a digest)"),
    ("following", "The topics this chat follows"),
    ("unfollow", "Stop alerts: /unfollow ID or /unfollow all"),
)
USAGE = (
    "Usage: /follow TOPIC — for example <i>/follow Serena Williams comeback</i>. "
    "I then send you new articles about it as they arrive; add <code>--daily</code> for one digest a day."
)
_MARK = "\x01"  # where a block's number goes (plain() removes control characters from article text)
MAX_BUTTONS = 8
MAX_ARTICLE_PARTS = 20


@dataclass
class AlertService:
    """What the alert handlers share (one per Application)."""

    subscriptions: Subscriptions
    matcher: TopicMatcher = field(default_factory=TopicMatcher)
    story_key: Callable[[Archive], Callable[[str], str]] = story_key_of


@dataclass(frozen=True)
class _Item:
    sent_id: int
    subscription: Subscription
    article_id: str
    source: str
    block: str


def install(app: App) -> None:
    """Register the commands, buttons and the after-round hook (call before catch-all handlers)."""
    app.add_handler(CommandHandler("follow", on_follow))
    app.add_handler(CommandHandler("following", on_following))
    app.add_handler(CommandHandler("unfollow", on_unfollow))
    app.add_handler(CallbackQueryHandler(on_article_button, pattern=r"^alert:art:\d+$"))
    app.add_handler(CallbackQueryHandler(on_unfollow_button, pattern=r"^alert:unf:\d+$"))
    app.add_handler(TypeHandler(Update, _unpause), group=-2)  # before the guard and every handler
    app.bot_data.after_round.append(after_round)


async def start(app: App, archive: Archive) -> None:
    """Open the subscriptions beside the archive and schedule the digest check (post_init)."""
    settings = settings_of(app)
    if settings.max_follows <= 0:
        return
    if app.bot_data.alerts is None:
        try:
            subs = await asyncio.to_thread(open_subscriptions, archive.store.where)
        except Exception as exc:  # e.g. a read-only index folder or database role
            log.warning(
                "topic alerts are off: cannot open their tables beside %s: %s", archive.store.location, exc
            )
            return
        app.bot_data.alerts = AlertService(subs)
        log.info("topic alerts: subscriptions in %s", subs.location)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            _digest_job,
            interval=settings.digest_check_every,
            first=settings.digest_check_every,
            name="digests",
        )


async def stop(app: App) -> None:
    """Close the subscriptions' connection (post_shutdown)."""
    service = _service(app)
    app.bot_data.alerts = None
    if service is not None:
        await asyncio.to_thread(service.subscriptions.close)


def _service(context: Context | App) -> AlertService | None:
    """The alerts' service (None: alerts off)."""
    service = context.bot_data.alerts
    return service if isinstance(service, AlertService) else None


def service_of(context: Context | App) -> AlertService:
    service = _service(context)
    assert service is not None, "handlers check _off first"
    return service


# --------------------------------------------------------------------------- commands


OFF = "Topic alerts are turned off on this bot."


async def _off(update: Update, context: Context) -> bool:
    """True (and says so) when alerts are off: no subscriptions could be opened."""
    if _service(context) is not None:
        return False
    if update.callback_query:
        await update.callback_query.answer(OFF, show_alert=True)
    elif update.message:
        await update.message.reply_text(OFF)
    return True


async def on_follow(update: Update, context: Context) -> None:
    message = update.message
    if message is None or await _off(update, context):
        return
    words = (message.text or "").split()[1:]
    daily = "--daily" in words
    topic = " ".join(w for w in words if w != "--daily")
    if not await _may_change(update, context):
        return
    settings = settings_of(context)
    service = service_of(context)
    try:
        sub = await asyncio.to_thread(
            service.subscriptions.follow, message.chat.id, topic, daily=daily, cap=settings.max_follows
        )
    except FollowError as exc:
        await message.reply_text(USAGE if str(exc) == "empty" else tg.esc(str(exc)))
        return
    archive = archive_of(context)
    with contextlib.suppress(Exception):  # warm the topic's vector now; matching would do it anyway
        await asyncio.to_thread(service.matcher.cache.vectors, archive, [sub.topic])
    how = (
        f"once a day (after {settings.digest_hour:02d}:00 UTC), in one digest" if daily else "as they arrive"
    )
    text = f"Following <b>{tg.esc(sub.topic)}</b> (#{sub.id}): I'll send new articles about it {how}."
    if settings.every is None:
        text += " (The archive is refreshed only by /reindex here.)"
    await message.reply_text(text)


async def on_following(update: Update, context: Context) -> None:
    message = update.message
    if message is None or await _off(update, context):
        return
    subs = await asyncio.to_thread(service_of(context).subscriptions.following, message.chat.id)
    if not subs:
        await message.reply_text("This chat follows no topic. " + USAGE)
        return
    lines = ["Topics this chat follows:"]
    for s in subs:
        count = f"{s.alerts} alert" + ("s" if s.alerts != 1 else "")
        extra = (" · daily digest" if s.daily else "") + (" · paused" if s.paused else "")
        lines.append(f"#{s.id} <b>{tg.esc(s.topic)}</b> — {count}{extra}")
    lines.append("\n/unfollow ID stops one, /unfollow all stops every one.")
    for part in tg.pack(["\n".join(lines)]):
        await message.reply_text(part)


async def on_unfollow(update: Update, context: Context) -> None:
    message = update.message
    if message is None or await _off(update, context):
        return
    arg = " ".join((message.text or "").split()[1:]).strip().lstrip("#").lower()
    if arg != "all" and not arg.isdigit():
        await message.reply_text("Usage: /unfollow ID (from /following) or /unfollow all")
        return
    if not await _may_change(update, context):
        return
    subs = service_of(context).subscriptions
    stopped = await asyncio.to_thread(subs.unfollow, message.chat.id, None if arg == "all" else int(arg))
    if not stopped:
        await message.reply_text("This chat follows no such topic; /following lists them.")
        return
    names = ", ".join(f"<b>{tg.esc(s.topic)}</b>" for s in stopped)
    await message.reply_text(tg.pack([f"No longer following {names}."])[0])


async def _may_change(update: Update, context: Context) -> bool:
    """Allowed chats only (with an allow-list); in groups, the group's admins only. Says why not."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    settings = settings_of(context)
    reply = update.message.reply_text if update.message else None
    if settings.allowed_ids and chat.id not in settings.allowed_ids | settings.admin_ids:
        if reply:
            await reply("Only chats the bot's owner has allowed can follow topics.")
        return False
    if chat.type in (Chat.GROUP, Chat.SUPERGROUP) and not await _is_group_admin(context, chat.id, user.id):
        text = "Only this group's admins can change what it follows."
        if update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
        elif reply:
            await reply(text)
        return False
    return True


async def _is_group_admin(context: Context, chat_id: int, user_id: int) -> bool:
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.warning("getChatMember %s/%s failed: %s", chat_id, user_id, exc)
        return False
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def _unpause(update: Update, context: Context) -> None:
    """A paused chat that writes to the bot gets its alerts again."""
    chat = update.effective_chat
    service = _service(context)
    if chat is None or service is None:
        return
    try:
        if await asyncio.to_thread(service.subscriptions.unpause, chat.id):
            log.info("chat %s wrote again: its alerts resume", chat.id)
    except Exception as exc:  # e.g. the database is away: the update's own handler says so
        log.warning("could not check whether chat %s is paused: %s", chat.id, exc)


# --------------------------------------------------------------------------- buttons


async def on_article_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    if await _off(update, context):
        return
    message = query.message if isinstance(query.message, Message) else None
    sent = await asyncio.to_thread(
        service_of(context).subscriptions.sent_article, int(query.data.split(":")[2])
    )
    archive = archive_of(context)
    article = archive.article(sent[1]) if sent is not None else None
    if message is None or sent is None or sent[0] != message.chat.id or article is None:
        await query.answer("That article is no longer in the archive.", show_alert=True)
        return
    await query.answer()
    parts = tg.article_parts(article)
    if len(parts) > MAX_ARTICLE_PARTS:
        url = tg.link_url(article.url)
        parts = (
            [
                f'{tg.source_html(article)}\n\nThis article is long: <a href="{tg.attr(url)}">read it at the source</a>.'
            ]
            if url
            else [*parts[:MAX_ARTICLE_PARTS], "<i>(The article continues; the rest is not sent.)</i>"]
        )
    for part in parts:
        await message.chat.send_message(part)


async def on_unfollow_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    if await _off(update, context):
        return
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        await query.answer()
        return
    if not await _may_change(update, context):
        return
    subs = service_of(context).subscriptions
    stopped = await asyncio.to_thread(subs.unfollow, message.chat.id, int(query.data.split(":")[2]))
    if stopped:
        await query.answer(f"No longer following “{tg.plain(stopped[0].topic)[:150]}”.")
    else:
        await query.answer("This chat no longer follows that topic.")


# --------------------------------------------------------------------------- delivery


async def after_round(app: App, report: UpdateReport, archive: Archive) -> None:
    """Match the round's new and updated articles; send each chat its alerts in one message."""
    index = report.index
    new = [*index.added, *index.updated]
    service = _service(app)
    if not new or service is None:
        return
    settings = settings_of(app)
    now = app.bot_data.clock()
    by_chat = await asyncio.to_thread(_claim_round, service, settings, archive, new, now)
    cap = settings.max_alerts_per_round
    for chat_id, items in by_chat.items():
        more = len(items) - cap
        footer = f"<i>… and {more} more new articles on topics you follow.</i>" if more > 0 else ""
        await _deliver(app, chat_id, items[:cap], header="", footer=footer)


def _claim_round(
    service: AlertService, settings: TelegramSettings, archive: Archive, new: Sequence[str], now: float
) -> dict[int, list[_Item]]:
    """Match and record (worker thread): the alerts to send now, per chat."""
    subs = [
        s
        for s in service.subscriptions.active()
        if s.chat_id != CONSOLE_CHAT and _chat_allowed(settings, s.chat_id)
    ]
    if not subs:
        return {}
    by_topic: dict[str, list[Subscription]] = {}
    for s in subs:
        by_topic.setdefault(topic_key(s.topic), []).append(s)
    topics = [group[0].topic for group in by_topic.values()]
    matches = service.matcher.match(archive, topics, new)
    stories = group_stories(matches, service.story_key(archive))
    out: dict[int, list[_Item]] = {}
    for story in stories:
        for sub in by_topic.get(topic_key(story.match.topic), []):
            item = _claim(service.subscriptions, sub, story, now)
            if item is not None and not sub.daily:
                out.setdefault(sub.chat_id, []).append(item)
    return out


def _claim(subs: Subscriptions, sub: Subscription, story: StoryMatch, now: float) -> _Item | None:
    m = story.match
    block = tg.alert_block(sub.topic, m.quote, story.others, number=_MARK)
    sent_id = subs.claim(sub, story.story, m.article.id, block, now=now)
    if sent_id is None:
        return None
    return _Item(sent_id, sub, m.article.id, m.article.source, block)


def _chat_allowed(settings: TelegramSettings, chat_id: int) -> bool:
    return not settings.allowed_ids or chat_id in settings.allowed_ids | settings.admin_ids


async def _deliver(
    app: App,
    chat_id: int,
    items: Sequence[_Item],
    *,
    header: str,
    footer: str = "",
    one: bool = False,
) -> None:
    """Send ``items`` to the chat (``one``: in one message, dropping what does not fit)."""
    subs = service_of(app).subscriptions
    blocks = [item.block.replace(_MARK, str(n)) for n, item in enumerate(items, 1)]
    blocks += [footer] if footer else []
    parts = tg.alert_parts(blocks, header)
    if one and len(parts) > 1:
        parts = _one_message(blocks, header)
    try:
        for n, part in enumerate(parts):
            markup = _keyboard(items) if n == len(parts) - 1 else None
            await app.bot.send_message(chat_id, part, reply_markup=markup)
    except Forbidden as exc:
        log.info("chat %s blocked the bot (%s): its alerts are paused", chat_id, exc)
        await asyncio.to_thread(subs.pause, chat_id)
        return
    except TelegramError as exc:  # recorded as claimed: not sent again (no duplicates)
        log.warning("sending alerts to chat %s failed: %s", chat_id, exc)
        return
    await asyncio.to_thread(subs.delivered, [i.sent_id for i in items])


def _one_message(blocks: Sequence[str], header: str) -> list[str]:
    kept = list(blocks)
    while len(kept) > 1:
        kept.pop()
        more = f"<i>… and {len(blocks) - len(kept)} more matches.</i>"
        parts = tg.alert_parts([*kept, more], header)
        if len(parts) == 1:
            return parts
    return tg.alert_parts(kept, header)[:1]


def _keyboard(items: Sequence[_Item]) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for n, item in enumerate(items[:MAX_BUTTONS], 1):
        label = f"📄 Full article [{n}]" + (f" · {item.source[:28]}" if item.source else "")
        rows.append([InlineKeyboardButton(label, callback_data=f"alert:art:{item.sent_id}")])
    topics = {item.subscription.id: item.subscription.topic for item in items}
    for sub_id, topic in list(topics.items())[:MAX_BUTTONS]:
        name = topic if len(topic) <= 30 else topic[:29] + "…"
        rows.append([InlineKeyboardButton(f"🔕 Unfollow “{name}”", callback_data=f"alert:unf:{sub_id}")])
    return InlineKeyboardMarkup(rows)


# --------------------------------------------------------------------------- digests


async def _digest_job(context: Context) -> None:
    try:
        await send_digests(context.application)
    except Exception:
        log.exception("sending the daily digests failed")


async def send_digests(app: App) -> int:
    """Send every chat its waiting digest, once per UTC day from ``digest_hour`` on; returns
    the chats served."""
    service = _service(app)
    if service is None:
        return 0
    settings = settings_of(app)
    now = datetime.fromtimestamp(app.bot_data.clock(), UTC)
    if now.hour < settings.digest_hour:
        return 0
    day = now.date().isoformat()
    subs = service.subscriptions
    served = 0
    for chat_id in await asyncio.to_thread(subs.digest_chats):
        if not _chat_allowed(settings, chat_id):
            continue
        pending = await asyncio.to_thread(subs.take_digest, chat_id, day, now.timestamp())
        if not pending:
            continue
        following = {s.id: s for s in await asyncio.to_thread(subs.following, chat_id)}
        items = [
            _Item(p.id, following[p.subscription_id], p.article_id, _source(app, p.article_id), p.block)
            for p in pending
            if p.subscription_id in following  # unfollowed since: dropped
        ]
        if not items:
            continue
        count = f"{len(items)} new article" + ("s" if len(items) != 1 else "")
        await _deliver(
            app, chat_id, items, header=f"📰 <b>Daily digest</b> — {count} on topics you follow", one=True
        )
        served += 1
    return served


def _source(app: App, article_id: str) -> str:
    article = archive_of(app).article(article_id)
    return article.source if article is not None else ""

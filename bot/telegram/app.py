"""The Telegram bot: a python-telegram-bot v22 Application around an :class:`Archive`.

``build_application(settings, archive)`` wires the handlers; ``run(...)`` starts long
polling (or a webhook). The archive (model + index) is loaded once, in ``post_init``
unless one is passed in, and lives in ``application.bot_data``; every question runs
in a worker thread so many chats are served at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Concatenate, ParamSpec, TypeGuard, TypeVar

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import render_telegram as tg
from bot.asked import as_of_on
from bot.config import TelegramSettings
from bot.paging import next_page
from bot.telegram import alerts as telegram_alerts
from bot.telegram.context import CONTEXT_TYPES, App, Context, archive_of, set_archive, settings_of
from bot.telegram.logs import redact_in_logs, tidy_logs
from bot.telegram.refresh import last_round_html, on_reindex, schedule_refresh
from bot.telegram.state import Conversation, RateLimit, Session
from bot.terminal import counted
from retrieval.answer.followup import expand_followup
from retrieval.archive import Archive
from retrieval.types import Answer, Article, AsOf

log = logging.getLogger("newsbot.telegram")
T = TypeVar("T")
P = ParamSpec("P")
#: a handler's work after its input is checked: (update, context, what it checked)
Act = Callable[Concatenate[Update, Context, P], Awaitable[None]]


COMMANDS: tuple[tuple[str, str], ...] = (
    ("ask", "Ask a question: /ask QUESTION"),
    ("more", "Next results for the last question"),
    ("latest", "The newest articles on a topic: /latest TOPIC"),
    ("sources", "The articles behind the last answer"),
    ("stats", "What the archive holds"),
    *telegram_alerts.COMMANDS,
    ("help", "What I know and how to ask"),
    ("start", "Welcome and examples"),
)
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (("reindex", "Refresh the index from the article folders"),)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]

APOLOGY = "Sorry, something went wrong while answering that. Please try again in a moment."
ARCHIVE_DOWN = "The archive's database is not reachable right now. Please try again in a minute."
INLINE_RESULTS = 5
MAX_ARTICLE_PARTS = 20  # longer articles: their link (or the first parts)


# --------------------------------------------------------------------------- context helpers


def _conversation(context: Context) -> Conversation:
    if context.chat_data is None:  # an update without a chat: nothing to remember
        return Conversation()
    return context.chat_data.conversation


# --------------------------------------------------------------------------- building


def build_application(
    settings: TelegramSettings,
    archive: Archive | None = None,
    *,
    load_archive: Callable[[], Archive] | None = None,
) -> App:
    """The bot, ready to run. Pass an open ``archive``, or ``load_archive`` to load it in post_init."""
    if archive is None and load_archive is None:
        raise ValueError("pass an archive or a way to load one")
    redact_in_logs(settings.token)
    tidy_logs()
    # Opt in to PTB's future timedelta attributes: a 429's RetryAfter otherwise warns.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    app = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(settings.file_url)
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.overall_max_rate,
                group_max_rate=settings.group_max_rate,
                max_retries=settings.max_retries,
            )
        )
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,
            )
        )
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(settings.concurrent_updates)
        .post_init(_post_init)
        .post_shutdown(telegram_alerts.stop)
        .build()
    )
    app.bot_data.settings = settings
    app.bot_data.archive = archive
    app.bot_data.load_archive = load_archive
    app.bot_data.limiter = RateLimit(settings.rate_calls, settings.rate_seconds)
    app.bot_data.inline_limiter = RateLimit(settings.rate_calls * 3, settings.rate_seconds)

    app.add_handler(TypeHandler(Update, _guard), group=-1)
    app.add_handler(CommandHandler(["start", "help"], on_help))
    app.add_handler(CommandHandler("ask", on_ask))
    app.add_handler(CommandHandler("more", on_more))
    app.add_handler(CommandHandler("latest", on_latest))
    app.add_handler(CommandHandler("sources", on_sources))
    app.add_handler(CommandHandler("stats", on_stats))
    app.add_handler(CommandHandler("reindex", on_reindex))
    telegram_alerts.install(app)
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND & filters.ChatType.PRIVATE, on_unknown)
    )
    app.add_handler(CallbackQueryHandler(on_more_button, pattern=r"^more:\d+$"))
    app.add_handler(CallbackQueryHandler(on_article_button, pattern=r"^art:\d+:\d+$"))
    app.add_handler(InlineQueryHandler(on_inline))
    app.add_error_handler(on_error)
    return app


async def _post_init(app: App) -> None:
    """Load the archive (once), and tell Telegram the command menu."""
    settings = settings_of(app)
    load = app.bot_data.load_archive
    if app.bot_data.archive is None and load is not None:
        started = time.perf_counter()
        app.bot_data.archive = await asyncio.to_thread(load)
        log.info("archive loaded in %.1f s", time.perf_counter() - started)
    archive = archive_of(app)
    set_archive(app, archive)
    await app.bot.set_my_commands([BotCommand(n, d) for n, d in COMMANDS])
    for admin in sorted(settings.admin_ids):
        try:
            await app.bot.set_my_commands(
                [BotCommand(n, d) for n, d in COMMANDS + ADMIN_COMMANDS], scope=BotCommandScopeChat(admin)
            )
        except TelegramError as exc:  # the admin has not talked to the bot yet
            log.warning("could not set the admin command menu for %s: %s", admin, exc)
    stats = archive.stats()
    log.info(
        "@%s ready: %d articles, %d passages, model %s%s",
        app.bot.username,
        stats.articles,
        stats.passages,
        stats.model,
        f"; allow-list of {counted(len(settings.allowed_ids), 'id')}" if settings.allowed_ids else "",
    )
    await telegram_alerts.start(app, archive)
    schedule_refresh(app)


def run(settings: TelegramSettings, load_archive: Callable[[], Archive]) -> None:
    """Run until Ctrl-C / SIGTERM: long polling, or a webhook when ``settings.webhook`` is set."""
    app = build_application(settings, load_archive=load_archive)
    hook = settings.webhook
    if hook is not None:
        path = re.sub(r"\A\w+://[^/]+/?", "", hook.url)
        log.info("webhook mode: listening on %s:%d/%s", hook.listen, hook.port, path)
        app.run_webhook(
            listen=hook.listen,
            port=hook.port,
            url_path=path,
            webhook_url=hook.url,
            secret_token=hook.secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        log.info("long polling %s", re.sub(r"/bot\Z", "", settings.api_url))
        app.run_polling(allowed_updates=ALLOWED_UPDATES)


# --------------------------------------------------------------------------- access


def _is_group(chat: Chat | None) -> TypeGuard[Chat]:
    return chat is not None and chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def addressed(message: Message, bot_username: str, bot_id: int) -> bool:
    """Whether a message speaks to the bot (always so in a private chat)."""
    if message.chat.type == Chat.PRIVATE:
        return True
    text = message.text or ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        target = command.partition("@")[2]
        return not target or target.lower() == bot_username.lower()
    return group_question(message, bot_username, bot_id) is not None


def group_question(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in a group message addressed to the bot, or None when it isn't.

    Addressed means: it mentions ``@bot_username`` (the mention is removed from the
    question) or it replies to one of the bot's messages.
    """
    text = message.text or ""
    mention = f"@{bot_username}".lower()
    found = re.search(rf"(?<![\w@]){re.escape(mention)}(?!\w)", text, re.I)
    if found:
        rest = text[: found.start()] + " " + text[found.end() :]
        return " ".join(rest.split()).strip(",:;—- ")
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return text.strip()
    return None


def _allowed(settings: TelegramSettings, update: Update) -> bool:
    if not settings.allowed_ids:
        return True
    user, chat = update.effective_user, update.effective_chat
    ids = {user.id} if user else set()
    if chat:
        ids.add(chat.id)
    return bool(ids & (settings.allowed_ids | settings.admin_ids))


async def _guard(update: Update, context: Context) -> None:
    """Runs before every handler: refuses everyone off the allow-list, politely."""
    settings = settings_of(context)
    if _allowed(settings, update):
        return
    user = update.effective_user
    chat = update.effective_chat
    log.info("refused: user %s in chat %s", user.id if user else "?", chat.id if chat else "?")
    refusal = "Sorry — this bot answers only the people its owner has allowed."
    if user:
        refusal += f" Your Telegram id is <code>{user.id}</code>"
        refusal += f" (this group's: <code>{chat.id}</code>)" if _is_group(chat) else ""
        refusal += "; send it to the owner to ask for access."
    if _slow_down(context, update):
        pass  # someone insisting: stay silent rather than flood them with refusals
    elif update.inline_query:
        await update.inline_query.answer(
            [],
            cache_time=0,
            is_personal=True,
            button=InlineQueryResultsButton(text="This bot is private", start_parameter="private"),
        )
    elif update.callback_query:
        await update.callback_query.answer("Sorry, this bot is private.", show_alert=True)
    elif update.message and addressed(update.message, context.bot.username, context.bot.id):
        await update.message.reply_text(refusal)
    raise ApplicationHandlerStop


def _slow_down(context: Context, update: Update, inline: bool = False) -> str:
    """ "" when the user may ask now (within the question or ``inline`` query budget), else
    the "slow down" text."""
    settings = settings_of(context)
    user = update.effective_user
    chat = update.effective_chat
    key = user.id if user else (chat.id if chat else 0)
    limiter = context.bot_data.inline_limiter if inline else context.bot_data.limiter
    wait = limiter.wait(key)
    if wait <= 0:
        return ""
    return (
        f"Slow down a little: at most {settings.rate_calls} questions per "
        f"{settings.rate_seconds:g} seconds. Try again in {max(1, round(wait))} s."
    )


def rate_limited(inline: bool = False) -> Callable[[Act[P]], Act[P]]:
    """Run a handler's work only while its user is within the question budget (or ``inline``'s);
    otherwise say "slow down" as the update calls for: a reply, a button's alert or an empty
    inline answer. Handlers check their input first, so a usage hint spends no budget."""

    def wrap(act: Act[P]) -> Act[P]:
        @functools.wraps(act)
        async def limited(update: Update, context: Context, *args: P.args, **kwargs: P.kwargs) -> None:
            slow = _slow_down(context, update, inline)
            if not slow:
                await act(update, context, *args, **kwargs)
            elif update.inline_query:
                await update.inline_query.answer(
                    [],
                    cache_time=0,
                    is_personal=True,
                    button=InlineQueryResultsButton(text="Slow down a little…", start_parameter="help"),
                )
            elif update.callback_query:
                await update.callback_query.answer(slow, show_alert=True)
            elif update.message:
                await update.message.reply_text(slow)

        return limited

    return wrap


# --------------------------------------------------------------------------- questions


async def on_text(update: Update, context: Context) -> None:
    message = update.message
    if message is None or not message.text:
        return
    if _is_group(message.chat):
        question = group_question(message, context.bot.username, context.bot.id)
        if question is None:
            return  # group chatter, not for us
    else:
        question = message.text
    await answer_question(update, context, question)


async def on_ask(update: Update, context: Context) -> None:
    message = update.message
    if message is None:
        return
    parts = (message.text or "").split(maxsplit=1)
    question = parts[1] if len(parts) > 1 else ""
    if not question.strip():
        examples = context.bot_data.examples or ["What happened?"]
        await message.reply_text(f"Usage: /ask QUESTION — for example:\n/ask {tg.esc(examples[0])}")
        return
    await answer_question(update, context, question)


async def answer_question(update: Update, context: Context, question: str) -> None:
    message = update.message
    assert message is not None
    if not question.strip():
        await message.reply_text("Please type a question.")
        return
    await _answer(update, context, message, question)


@rate_limited()
async def _answer(update: Update, context: Context, message: Message, question: str) -> None:
    conv = _conversation(context)
    previous = conv.last.question if conv.last else None
    query = expand_followup(question, previous)
    settings = settings_of(context)
    answer = await _ask(context, message.chat, query, settings.k, as_of=as_of_on(message.date.date()))
    session = conv.start(question, query, answer.answered)
    session.add(answer.quotes)
    header = f"<i>(searching: {tg.esc(query)})</i>" if query != question else ""
    parts = tg.answer_parts(answer, session.numbers(), header=header)
    keyboard = _keyboard(session, session.articles, more=bool(answer.more))
    await _send(message, parts, keyboard, reply=True)


async def _ask(
    context: Context, chat: Chat | None, query: str, k: int, *, as_of: AsOf | None = None
) -> Answer:
    """``archive.ask`` in a worker thread, the question dated ``as_of`` (the message's day);
    "typing…" shows when it takes a while."""
    archive = archive_of(context)  # this answer keeps the archive it started with
    work = asyncio.to_thread(archive.ask, query, k, as_of=as_of or as_of_on())
    return await _typing_while(context, chat, work)


async def on_latest(update: Update, context: Context) -> None:
    """/latest TOPIC: the newest articles on a topic, one quote each, newest first."""
    message = update.message
    if message is None:
        return
    parts = (message.text or "").split(maxsplit=1)
    topic = parts[1].strip() if len(parts) > 1 else ""
    if not topic:
        await message.reply_text("Usage: /latest TOPIC — for example: /latest Afghanistan conference")
        return
    await _latest(update, context, message, topic)


@rate_limited()
async def _latest(update: Update, context: Context, message: Message, topic: str) -> None:
    archive = archive_of(context)
    work = asyncio.to_thread(
        archive.latest, topic, settings_of(context).k, as_of=as_of_on(message.date.date())
    )
    answer = await _typing_while(context, message.chat, work)
    conv = _conversation(context)
    session = conv.start(topic, topic, answer.answered)
    session.add(answer.quotes)
    header = f"Newest on <i>{tg.esc(topic)}</i>:"
    parts_html = tg.answer_parts(answer, session.numbers(), header=header)
    await _send(message, parts_html, _keyboard(session, session.articles, more=False), reply=True)


async def _typing_while(context: Context, chat: Chat | None, work: Awaitable[T]) -> T:
    """Await ``work``; "typing…" shows in ``chat`` when it takes a while."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=settings_of(context).typing_after)
    if not done and chat is not None:
        with contextlib.suppress(TelegramError):
            await chat.send_action(ChatAction.TYPING)
    return await task


async def _send(
    message: Message,
    parts: Sequence[str],
    keyboard: InlineKeyboardMarkup | None,
    *,
    reply: bool,
) -> None:
    """Send the parts in order; the first replies to ``message`` (in groups), the last has the buttons."""
    for n, part in enumerate(parts):
        markup = keyboard if n == len(parts) - 1 else None
        if n == 0 and reply:
            await message.reply_text(part, reply_markup=markup)
        else:
            await message.chat.send_message(part, reply_markup=markup, message_thread_id=_thread(message))


def _thread(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


def _keyboard(session: Session, articles: Sequence[Article], *, more: bool) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    if more:
        rows.append([InlineKeyboardButton("More ▸", callback_data=f"more:{session.id}")])
    numbers = session.numbers()
    for article in articles:
        n = numbers[article.id]
        label = f"📄 Full article [{n}]"
        if article.source:
            label += f" · {tg.plain(article.source)[:28]}"
        rows.append([InlineKeyboardButton(label, callback_data=f"art:{session.id}:{n}")])
    return InlineKeyboardMarkup(rows) if rows else None


# --------------------------------------------------------------------------- /more, /sources


async def on_more(update: Update, context: Context) -> None:
    message = update.message
    if message is None:
        return
    session = _conversation(context).last
    if session is None:
        await message.reply_text("Ask a question first; /more then shows further results.")
        return
    await _more(update, context, message, session)


@rate_limited()
async def _more(update: Update, context: Context, message: Message, session: Session) -> None:
    await _show_more(context, message, session, reply=True)


async def on_more_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    session = _conversation(context).sessions.get(int(query.data.split(":")[1]))
    message = query.message if isinstance(query.message, Message) else None
    if session is None or message is None:
        await query.answer("That answer is too old — please ask again.", show_alert=True)
        return
    await _more_button(update, context, query, message, session)


@rate_limited()
async def _more_button(
    update: Update,
    context: Context,
    query: CallbackQuery,
    message: Message,
    session: Session,
) -> None:
    await query.answer()
    # The button has done its job: drop it from the old message, keep the others.
    if message.reply_markup is not None:
        rows = [
            [b for b in row if not (isinstance(b.callback_data, str) and b.callback_data.startswith("more:"))]
            for row in message.reply_markup.inline_keyboard
        ]
        with contextlib.suppress(TelegramError):
            await message.edit_reply_markup(InlineKeyboardMarkup([r for r in rows if r]))
    await _show_more(context, message, session, reply=False)


async def _show_more(context: Context, message: Message, session: Session, *, reply: bool) -> None:
    k = settings_of(context).k
    archive = archive_of(context)
    task = asyncio.to_thread(next_page, archive, session.query, session.quotes, k)
    fresh_quotes, answer = await _typing_while(context, message.chat, task)
    before = set(session.numbers())
    fresh = session.add(fresh_quotes)
    if not fresh:
        await _send(message, [f"No more results for <i>{tg.esc(session.question)}</i>."], None, reply=reply)
        return
    page = Answer(answer.question, tuple(fresh), answered=answer.answered)
    header = f"More for <i>{tg.esc(session.question)}</i>:"
    parts = tg.answer_parts(page, session.numbers(), header=header)
    new_articles = [a for a in session.articles if a.id not in before]
    await _send(message, parts, _keyboard(session, new_articles, more=bool(answer.more)), reply=reply)


async def on_sources(update: Update, context: Context) -> None:
    message = update.message
    if message is None:
        return
    session = _conversation(context).last
    if session is None or not session.articles:
        await message.reply_text("No answer yet — ask a question first.")
        return
    counts: dict[str, int] = {}
    for q in session.quotes:
        counts[q.article.id] = counts.get(q.article.id, 0) + 1
    entries = [tg.SourceEntry(a, n, counts.get(a.id, 0)) for n, a in enumerate(session.articles, 1)]
    parts = tg.sources_parts(entries, session.question)
    await _send(message, parts, _keyboard(session, session.articles, more=False), reply=True)


async def on_article_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    _, sid, num = query.data.split(":")
    session = _conversation(context).sessions.get(int(sid))
    message = query.message if isinstance(query.message, Message) else None
    n = int(num)
    if session is None or message is None or not 1 <= n <= len(session.articles):
        await query.answer("That answer is too old — please ask again.", show_alert=True)
        return
    await _article(update, context, query, message, session.articles[n - 1], n)


@rate_limited()
async def _article(
    update: Update,
    context: Context,
    query: CallbackQuery,
    message: Message,
    article: Article,
    n: int,
) -> None:
    await query.answer()
    # The text of the archive now (it may have been reindexed), else the one quoted.
    article = archive_of(context).article(article.id) or article
    parts = tg.article_parts(article, n)
    if len(parts) > MAX_ARTICLE_PARTS:
        if article.url:
            parts = [
                f"{tg.source_html(article, n)}\n\nThis article is long "
                f"({len(article.text):,} characters): "
                f'<a href="{tg.attr(article.url)}">read it at the source</a>.'
            ]
        else:
            parts = [
                *parts[:MAX_ARTICLE_PARTS],
                f"<i>(The article continues: {len(parts) - MAX_ARTICLE_PARTS} more parts not sent.)</i>",
            ]
    await _send(message, parts, None, reply=False)


# --------------------------------------------------------------------------- other commands


async def on_help(update: Update, context: Context) -> None:
    message = update.message
    if message is None:
        return
    stats = archive_of(context).stats()
    text = tg.help_html(
        stats,
        context.bot_data.examples,
        COMMANDS[:-1],  # /start is /help
        bot_username=context.bot.username,
    )
    await _send(message, tg.pack([text]), None, reply=True)


async def on_stats(update: Update, context: Context) -> None:
    message = update.message
    if message is None:
        return
    text = tg.stats_html(archive_of(context).stats())
    last = last_round_html(context.bot_data)
    await _send(message, tg.pack([text + ("\n" + last if last else "")]), None, reply=True)


async def on_unknown(update: Update, context: Context) -> None:
    message = update.message
    if message is None:
        return
    name = (message.text or "").split(maxsplit=1)[0]
    await message.reply_text(f"I don't know {tg.esc(name)}. /help lists what I can do.")


# --------------------------------------------------------------------------- inline mode


async def on_inline(update: Update, context: Context) -> None:
    inline = update.inline_query
    if inline is None:
        return
    settings = settings_of(context)
    personal = bool(settings.allowed_ids)  # never let Telegram's cache leak results to others
    question = inline.query.strip()
    if not question:
        await inline.answer(
            [],
            cache_time=300,
            is_personal=personal,
            button=InlineQueryResultsButton(text="Type a question about the news…", start_parameter="help"),
        )
        return
    await _inline_answer(update, context, inline, question, personal)


@rate_limited(inline=True)
async def _inline_answer(
    update: Update, context: Context, inline: InlineQuery, question: str, personal: bool
) -> None:
    answer = await asyncio.to_thread(archive_of(context).ask, question, INLINE_RESULTS, as_of=as_of_on())
    results = []
    for n, q in enumerate(answer.quotes):
        a = q.article
        title = tg.plain(" · ".join(p for p in (a.source, a.published) if p) or a.title or "Quote")
        results.append(
            InlineQueryResultArticle(
                id=str(n),
                title=title,
                description=tg.snippet(q.text),
                input_message_content=InputTextMessageContent(tg.inline_message(answer.question, q)),
            )
        )
    await inline.answer(
        results,
        cache_time=30,
        is_personal=personal,
        button=None
        if results
        else InlineQueryResultsButton(text="Nothing found — open the bot", start_parameter="help"),
    )


# --------------------------------------------------------------------------- errors


async def on_error(update: object, context: Context) -> None:
    """Log with the traceback; tell the user briefly; keep running.

    An unreachable database is expected now and then (a restart, a fail-over): it is
    logged in one line, and the next question tries again.
    """
    from retrieval.errors import StoreUnavailableError

    where = ""
    if isinstance(update, Update):
        chat = update.effective_chat
        where = f" (update {update.update_id}, chat {chat.id if chat else '?'})"
    apology = APOLOGY
    if isinstance(context.error, StoreUnavailableError):
        log.warning("answering failed%s: %s", where, context.error)
        apology = ARCHIVE_DOWN
    else:
        log.error("handling an update failed%s", where, exc_info=context.error)
    if not isinstance(update, Update):
        return
    with contextlib.suppress(TelegramError):
        if update.callback_query:
            await update.callback_query.answer(apology, show_alert=True)
        elif update.inline_query:
            await update.inline_query.answer([], cache_time=0, is_personal=True)
        elif update.message and addressed(update.message, context.bot.username, context.bot.id):
            await update.message.reply_text(apology)

"""Topic alerts in the console: /follow, /following, /unfollow, and alerts printed between
prompts after each background round. Follows are kept with the archive's subscriptions
(``INDEX/alerts.sqlite`` or the PostgreSQL database, as the Telegram bot's; the console is
chat 0), or for the session only when those cannot be opened."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text

from bot.render import quote_text, source_line
from bot.terminal import counted, styled
from bot.terminal import text as tt
from retrieval.archive import Archive
from retrieval.live.alerts import TopicMatcher, group_stories, story_key_of
from retrieval.live.subscriptions import (
    CONSOLE_CHAT,
    FollowError,
    Subscriptions,
    open_subscriptions,
    topic_key,
)
from retrieval.live.updates import UpdateReport
from retrieval.store import Location

HELP = """\
  /follow TOPIC              alerts when new articles about TOPIC arrive (with --articles/--feeds)
  /following                 the topics followed, with their ids and alerts
  /unfollow ID|all           stop following"""


class ConsoleAlerts:
    def __init__(
        self,
        out: Console,
        refreshing: bool,
        location: Location | Path | None = None,
        matcher: TopicMatcher | None = None,
    ) -> None:
        """``location``: where the archive lives, and so its subscriptions (None: this session only)."""
        self.out = out
        self.refreshing = refreshing
        self.location = location
        self.matcher = matcher or TopicMatcher()
        self._subscriptions: Subscriptions | None = None

    @property
    def subscriptions(self) -> Subscriptions:
        """Opened at first use, so a console that follows nothing touches nothing."""
        if self._subscriptions is None:
            if self.location is not None:
                try:
                    self._subscriptions = open_subscriptions(self.location)
                except Exception as exc:  # e.g. a read-only index folder or database role
                    self.out.print(
                        tt(f"Follows last for this session only: cannot keep them ({exc}).", "yellow")
                    )
            if self._subscriptions is None:
                self._subscriptions = Subscriptions.sqlite(":memory:")
        return self._subscriptions

    def follow(self, rest: str) -> None:
        if "--daily" in rest.split():
            self.out.print("Daily digests are for the Telegram bot; the console prints alerts as they come.")
            return
        try:
            sub = self.subscriptions.follow(CONSOLE_CHAT, rest)
        except FollowError as exc:
            message = (
                "Usage: /follow TOPIC, e.g. /follow Serena Williams comeback"
                if str(exc) == "empty"
                else str(exc)
            )
            self.out.print(tt(message, "yellow"))
            return
        note = "" if self.refreshing else " (start the console with --articles or --feeds to receive alerts)"
        self.out.print(styled("Following ", (sub.topic, "bold"), f" (#{sub.id}).{note}"))

    def following(self) -> None:
        subs = self.subscriptions.following(CONSOLE_CHAT)
        if not subs:
            self.out.print("No topic followed; /follow TOPIC adds one.")
        for s in subs:
            self.out.print(
                styled((f"#{s.id} ", "bold"), s.topic, (f" — {counted(s.alerts, 'alert')}", "dim"))
            )

    def unfollow(self, rest: str) -> None:
        arg = rest.strip().lstrip("#").lower()
        if arg != "all" and not arg.isdigit():
            self.out.print("Usage: /unfollow ID (from /following) or /unfollow all")
            return
        stopped = self.subscriptions.unfollow(CONSOLE_CHAT, None if arg == "all" else int(arg))
        if not stopped:
            self.out.print("No such topic; /following lists them.")
        for s in stopped:
            self.out.print(styled("No longer following ", (s.topic, "bold"), "."))

    def after_round(self, report: UpdateReport, archive: Archive) -> None:
        """Print the alerts of a finished round."""
        new = [*report.index.added, *report.index.updated]
        subs = self.subscriptions.active(CONSOLE_CHAT)  # the bot's chats are the bot's to alert
        if not new or not subs:
            return
        by_topic = {topic_key(s.topic): s for s in subs}
        matches = self.matcher.match(archive, [s.topic for s in subs], new)
        delivered = []
        for story in group_stories(matches, story_key_of(archive)):
            sub = by_topic[topic_key(story.match.topic)]
            sent = self.subscriptions.claim(sub, story.story, story.match.article.id, "")
            if sent is None:
                continue
            delivered.append(sent)
            line = Text("🔔 ", style="bold")
            line.append_text(tt(sub.topic, "bold"))
            self.out.print(line)
            self.out.print(quote_text(story.match.quote))
            also = ", ".join(dict.fromkeys(a.source or a.title for a in story.others))
            self.out.print(
                Text("   — " + source_line(story.match.article, story.match.quote.link), style="green")
            )
            if also:
                self.out.print(tt(f"   also in: {also}", "dim"))
        self.subscriptions.delivered(delivered)

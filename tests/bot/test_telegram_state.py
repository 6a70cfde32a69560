"""Per-user question budget and per-chat sessions."""

from __future__ import annotations

from bot.telegram.state import SESSIONS_KEPT, Conversation, RateLimit


def test_rate_limit_is_a_sliding_window_per_user() -> None:
    now = [0.0]
    limit = RateLimit(3, 60.0, clock=lambda: now[0])
    for t in (0.0, 10.0, 20.0):
        now[0] = t
        assert limit.wait(1) == 0.0
    assert limit.wait(1) == 40.0  # the fourth waits for the first to leave the window
    assert limit.wait(2) == 0.0  # another user is unaffected
    now[0] = 59.0
    assert limit.wait(1) == 1.0  # refused calls are not counted
    now[0] = 60.0
    assert limit.wait(1) == 0.0  # the first call left the window
    assert limit.wait(1) == 10.0  # now the one at t=10 must leave
    assert RateLimit(0, 60.0).wait(1) == 0.0  # 0 turns the limit off


def test_conversation_keeps_recent_sessions_for_buttons() -> None:
    conv = Conversation()
    sessions = [conv.start(f"q{n}", f"q{n}", True) for n in range(SESSIONS_KEPT + 5)]
    assert conv.last is sessions[-1]
    assert len(conv.sessions) == SESSIONS_KEPT
    assert sessions[0].id not in conv.sessions and sessions[-1].id in conv.sessions

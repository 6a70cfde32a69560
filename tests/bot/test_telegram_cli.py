"""`newsbot telegram`: settings errors are one clear line; the command runs end to end."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import config
from bot.cli import main
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.tg_html import visible_text
from tests.conftest import ROOT

GOOD = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["telegram", *args], env={config.ENV_TELEGRAM_TOKEN: "", **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_missing_or_malformed_tokens_are_clear_errors(tmp_path: Path, seed_index: Path) -> None:
    code, out = _run(["--index", str(seed_index)])
    assert code == 1 and "no bot token" in out and "@BotFather" in out and "Traceback" not in out

    code, out = _run(["--index", str(seed_index)], {config.ENV_TELEGRAM_TOKEN: "not-a-token-secret-value"})
    assert code == 1 and "does not hold a Telegram bot token" in out
    assert "not-a-token-secret-value" not in out  # never echo what might be a secret

    code, out = _run(["--index", str(seed_index), "--token-file", str(tmp_path / "nope")])
    assert code == 1 and "cannot read the token file" in out

    bad_file = tmp_path / "token"
    bad_file.write_text("123:short\n")
    code, out = _run(["--index", str(seed_index), "--token-file", str(bad_file)])
    assert code == 1 and "the token file" in out and "123:short" not in out


def test_other_settings_errors(tmp_path: Path, seed_index: Path) -> None:
    env = {config.ENV_TELEGRAM_TOKEN: GOOD}
    code, out = _run(["--index", str(seed_index), "--allowed-ids", "12, bob"], env)
    assert code == 1 and "'bob' is not a numeric Telegram id" in out
    code, out = _run(["--index", str(seed_index), "--api-url", "api.example.org/bot"], env)
    assert code == 1 and "must start with http" in out
    code, out = _run(["--index", str(seed_index), "--webhook-url", "http://bot.example.org/hook"], env)
    assert code == 1 and "https://" in out
    code, out = _run(
        ["--index", str(seed_index), "--webhook-url", "https://x.org/h", "--webhook-secret", "a b"], env
    )
    assert code == 1 and "webhook secret" in out
    code, out = _run(["--index", str(tmp_path / "no-index")], env)
    assert code == 1 and "Traceback" not in out and "index" in out.lower()


def test_the_command_hands_the_bot_one_settings_value(
    seed_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.telegram import app as telegram_app

    got: list[config.TelegramSettings] = []
    monkeypatch.setattr(telegram_app, "run", lambda settings, load_archive: got.append(settings))
    env = {config.ENV_TELEGRAM_TOKEN: GOOD}
    hook = ["--webhook-url", "https://bot.example.org/tg", "--webhook-secret", "s3cret", "--port", "8444"]
    code, out = _run(["--index", str(seed_index), "-k", "2", "--rate-limit", "4", *hook], env)
    assert code == 0, out
    (settings,) = got
    assert (settings.token, settings.k, settings.rate_calls) == (GOOD, 2, 4)
    assert settings.webhook == config.Webhook("https://bot.example.org/tg", "s3cret", "127.0.0.1", 8444)
    assert "s3cret" not in repr(settings) and GOOD not in repr(settings)
    assert _run(["--index", str(seed_index)], env)[0] == 0 and got[1].webhook is None  # long polling


def test_the_slow_down_check_is_written_once() -> None:
    """One decorator holds it (and the allow-list guard its own), not every handler."""
    import inspect

    from bot.telegram import app as telegram_app

    source = inspect.getsource(telegram_app)
    assert source.count("_slow_down(") == 3  # its definition, the guard, the decorator
    assert source.count("@rate_limited(") == 6


def test_settings_parsing() -> None:
    assert config.parse_ids("1, -100200 ,3;4", "x") == frozenset({1, -100200, 3, 4})
    assert config.parse_ids("", "x") == frozenset()
    settings = config.TelegramSettings(token=GOOD, api_url="http://127.0.0.1:8081/bot")
    assert settings.file_url == "http://127.0.0.1:8081/file/bot"
    assert GOOD not in repr(settings)
    assert len(config.webhook_secret(None)) >= 32


async def _newsbot(*args: str, token: str, api_url: str, cwd: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        config.ENV_TELEGRAM_TOKEN: token,
        config.ENV_TELEGRAM_API_URL: api_url,
        "PYTHONPATH": str(ROOT),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "telegram",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_the_command_serves_questions_and_stops_on_sigterm(
    fake_tg: FakeTelegram, seed_index: Path, tmp_path: Path
) -> None:
    proc = await _newsbot(
        "--index",
        str(seed_index),
        "--log-level",
        "debug",
        token=fake_tg.token,
        api_url=fake_tg.base_url,
        cwd=tmp_path,
    )
    try:
        await fake_tg.wait_for(lambda: fake_tg.called("setMyCommands"), timeout=60)
        await fake_tg.send_text("Where was the conference on Afghanistan held?", chat_id=5)
        (call,) = await fake_tg.wait_sent(5, timeout=30)
        assert "RASC News Agency" in visible_text(call.params["text"])
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = err.decode()
    assert proc.returncode == 0, log[-2000:]
    assert "ready: 1 articles" in log and "Calling Bot API endpoint" in log  # PTB's DEBUG lines are there
    assert fake_tg.token not in log and fake_tg.token.split(":")[1] not in log


async def test_a_rejected_token_or_unreachable_api_is_one_clear_line(
    fake_tg: FakeTelegram, seed_index: Path, tmp_path: Path
) -> None:
    proc = await _newsbot("--index", str(seed_index), token=GOOD, api_url=fake_tg.base_url, cwd=tmp_path)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert proc.returncode == 1
    assert "Error: Telegram rejected the bot token" in text and "Traceback" not in text
    assert GOOD not in text

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    proc = await _newsbot(
        "--index", str(seed_index), token=GOOD, api_url=f"http://127.0.0.1:{closed_port}/bot", cwd=tmp_path
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert proc.returncode == 1 and "cannot reach the Telegram Bot API" in text, text[-2000:]
    assert "Traceback" not in text and GOOD not in text


@pytest.mark.parametrize("value", ["0:" + "A" * 35, "12345:" + "A" * 10, GOOD + " extra"])
def test_token_shapes_rejected(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.ENV_TELEGRAM_TOKEN, value)
    with pytest.raises(config.SettingsError):
        config.telegram_token()

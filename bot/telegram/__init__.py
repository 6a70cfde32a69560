"""The Telegram bot (python-telegram-bot): the application, its handlers, context, refresh, alerts."""

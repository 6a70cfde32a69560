"""The answer wing: from retrieved passages to the sentences, quotes and short answer that answer."""

"""Live: a refresh round, topic alerts, and the subscriptions store (versioned schema)."""

"""Weekly reminders: who gets what, when, and their rate-limited, exactly-once delivery."""

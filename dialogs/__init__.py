"""The guided conversations: each turns a user's command or card submit into replies.

Nothing here sends anything: a handler returns a ``TurnResult`` (a card to put in place of the
submitted one, and the messages to send), and the Teams layer in ``bot/`` delivers it.
"""

"""Durable data: dialogues, agreements, conversation references, bot state, the SharePoint
outbox and the reminders, on SQLite (the embedded default) or PostgreSQL (several
instances), through one implementation over SQLAlchemy Core; no botbuilder import here."""

"""Durable data: the embedded SQLite default (dialogues, agreements, conversation references,
bot state). Plain, portable SQL so the same statements can later run on PostgreSQL; no
botbuilder import here."""

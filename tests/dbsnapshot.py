"""What the store holds of dialogues, agreements and self-checks, to show that a refused
input changed nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def snapshot(db_path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db_path)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("dialogues", "agreements", "self_checks")
        }
    finally:
        conn.close()

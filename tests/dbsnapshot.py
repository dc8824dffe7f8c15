"""What the store holds of dialogues, agreements and self-checks, to show that a refused
input changed nothing (on either engine)."""

from __future__ import annotations

from typing import Any

from tests.databases import Target, rows


def snapshot(db_path: Target) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: rows(db_path, f"SELECT * FROM {table} ORDER BY 1, 2")
        for table in ("dialogues", "agreements", "self_checks")
    }

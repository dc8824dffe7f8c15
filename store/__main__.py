"""The store from the command line, with the bot's settings (environment, .env):

python -m store upgrade    connect and migrate to the newest revision (the bot does this
                           at every start too; this is for a deployment step)
python -m store current    the engine, the revision the database is at, and whether it is
                           the one this code knows (changes nothing)
"""

from __future__ import annotations

import asyncio
import sys

from settings import Settings
from store.database import Database, StoreError
from store.migrate import head


async def _run(command: str) -> int:
    db = Database.from_settings(Settings())
    try:
        await db.open(migrate=command == "upgrade")
    except StoreError as error:
        print(f"Cannot open the store: {error}.", file=sys.stderr)
        return 1
    try:
        revision, state = await db.schema_version(), await db.schema_state()
        if command == "upgrade":
            print(f"{db.label}: at revision {revision} ({state}).")
        else:
            print(f"{db.engine_name} {db.label}: revision {revision} ({state}; code: {head()})")
    finally:
        await db.close()
    return 0


def main(argv: list[str]) -> int:
    if argv not in (["upgrade"], ["current"]):
        print(__doc__, file=sys.stderr)
        return 2
    return asyncio.run(_run(argv[0]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

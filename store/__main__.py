"""The store from the command line, with the bot's settings (environment, .env):

python -m store upgrade    connect and migrate to the newest revision (the bot does this
                           at every start too; this is for a deployment step)
python -m store current    the engine, the revision the database is at, and whether it is
                           the one this code knows (changes nothing)
python -m store copy --from <SQLite file or sqlite URL> --to <postgresql URL>
                           move a SQLite store into an empty PostgreSQL database, every
                           table in one transaction (once, when the bot moves to PostgreSQL)
"""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError

from settings import Settings
from store.copy import copy_store, summary
from store.database import Database, StoreError, shown, store_url
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


def _copy(source: str, target: str) -> int:
    """With the bot's DATABASE_AUTH and DATABASE_CLIENT_ID: in the web app, the bot's own
    identity signs in to the database it owns."""
    try:
        settings = Settings()
        copied = asyncio.run(
            copy_store(
                source,
                target,
                auth=settings.database_auth,
                client_id=settings.database_client_id,
            )
        )
    except StoreError as error:
        print(f"Nothing copied: {error}.", file=sys.stderr)
        return 1
    except ValidationError as error:
        print(
            f"Nothing copied: the settings are not valid ({error.error_count()} errors).",
            file=sys.stderr,
        )
        return 1
    print(summary(copied, shown(store_url(target))))
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[0] == "copy" and {argv[1], argv[3]} == {"--from", "--to"}:
        options = {argv[1]: argv[2], argv[3]: argv[4]}
        return _copy(options["--from"], options["--to"])
    if argv not in (["upgrade"], ["current"]):
        print(__doc__, file=sys.stderr)
        return 2
    return asyncio.run(_run(argv[0]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Admin commands for the SharePoint side (operator output in English, like the logs):

    python -m sharepoint provision   create the list, its columns and indexes and the folder
                                     (idempotent: a second run changes nothing and says so)
    python -m sharepoint status      where the agreements are kept, and how many are synced
    python -m sharepoint pending     every agreement version SharePoint does not have yet, and why

Settings come from the environment and .env, as for the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from settings import Settings
from sharepoint.provisioning import provision
from sharepoint.runtime import graph
from store.database import Database
from store.outbox import Outbox


async def _provision(settings: Settings) -> int:
    if not settings.sharepoint_enabled:
        print("SHAREPOINT_SITE_URL is not set: nothing to provision.")
        return 2
    async with graph(settings) as client:
        report = await provision(
            client,
            settings.sharepoint_site_url,
            settings.sharepoint_list_name,
            settings.sharepoint_library,
            settings.sharepoint_folder,
        )
    for change in report.changes:
        print(f"changed: {change}")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    if not report.changed:
        print("Nothing to change: the list, its columns and indexes and the folder are in place.")
    return 1 if report.problems else 0


async def _status(settings: Settings, listing: bool) -> int:
    db = Database.from_settings(settings)
    await db.open()
    try:
        outbox = Outbox(db)
        counts = await outbox.counts()
        if not settings.sharepoint_enabled:
            print(f"SharePoint is off: agreements are kept only in {db.label}.")
        else:
            print(
                f"Agreements go to the list '{settings.sharepoint_list_name}' on"
                f" {settings.sharepoint_site_url}; local copy in {db.label}."
            )
        print(
            f"agreement versions: {counts['total']}, in SharePoint: {counts['synced']},"
            f" not yet: {counts['pending']}"
        )
        if listing:
            for row in await outbox.pending():
                parts = [
                    name
                    for name, behind in (
                        ("item", row["item_revision"] < row["revision"]),
                        ("document", row["doc_revision"] < row["revision"]),
                    )
                    if behind
                ]
                print(
                    f"{row['dialogue_id']} v{row['version']}: {'+'.join(parts)} missing;"
                    f" attempts {row['attempts']}; reason: {row['last_error'] or 'not tried yet'};"
                    f" next try {row['next_attempt_at']}"
                )
    finally:
        await db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sharepoint", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("provision", help="create the list, columns, indexes and folder (idempotent)")
    sub.add_parser("status", help="where agreements are kept and how many are synced")
    sub.add_parser("pending", help="list what SharePoint does not have yet, and why")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "provision":
        return asyncio.run(_provision(settings))
    return asyncio.run(_status(settings, listing=args.command == "pending"))


if __name__ == "__main__":
    sys.exit(main())

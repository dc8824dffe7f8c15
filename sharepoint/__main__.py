"""Admin commands for the SharePoint side (operator output in English, like the logs):

    python -m sharepoint provision   create the list, its columns and indexes and the folder
                                     (idempotent: a second run changes nothing and says so)
    python -m sharepoint status      where the agreements are kept, and how many are synced
    python -m sharepoint pending     every agreement version SharePoint does not have yet, and why

Settings come from the environment and .env, as for the bot.

While Graph throttles or is down, ``provision`` keeps waiting as Graph asks (Retry-After,
counted from each answer; else backing off) for up to ``--deadline`` seconds, with a line on
stdout for every wait. Whatever goes wrong, a command ends with one line on stderr saying
what, and a non-zero exit code: 1 for a failure, 2 when SharePoint is not configured.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
import time
from datetime import UTC, datetime

import aiohttp
from azure.core.exceptions import ClientAuthenticationError
from pydantic import ValidationError

from settings import Settings
from sharepoint.graph import GraphError, GraphUnavailable
from sharepoint.provisioning import Report, provision
from sharepoint.runtime import graph
from store.database import Database, StoreError
from store.outbox import Outbox

#: How long ``provision`` keeps trying while Graph throttles or is down, by default.
DEADLINE = 300.0


class Failed(Exception):
    """The one line a command ends with when it cannot do its work."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _say(line: str) -> None:
    print(line, flush=True)


async def _provision(settings: Settings, deadline: float) -> int:
    if not settings.sharepoint_enabled:
        print("SHAREPOINT_SITE_URL is not set: nothing to provision.")
        return 2
    report = Report()
    try:
        async with graph(settings) as client:
            client.until = time.monotonic() + deadline
            client.on_wait = _say
            await provision(
                client,
                settings.sharepoint_site_url,
                settings.sharepoint_list_name,
                settings.sharepoint_library,
                settings.sharepoint_folder,
                report,
                actions_list=settings.sharepoint_actions_list_name,
            )
    except GraphUnavailable as error:
        _changes(report)
        answer = f"answers {error.reason}" if error.status else f"does not answer ({error.reason})"
        raise Failed(
            f"provision stopped after trying for up to {deadline:g} s: Graph still {answer};"
            " run it again later (it goes on where it stopped)"
        ) from error
    except GraphError as error:
        _changes(report)
        hint = (
            " (creating the list needs the fullcontrol grant on the site: docs/deploy.md, step 9)"
            if error.status == 403
            else ""
        )
        raise Failed(f"provision failed: {error.reason}{hint}") from error
    except ClientAuthenticationError as error:
        raise Failed(f"provision failed: the sign-in was refused: {_first_line(error)}") from error
    except (aiohttp.ClientError, OSError) as error:
        _changes(report)
        raise Failed(f"provision failed: Graph cannot be reached: {_first_line(error)}") from error
    except ValueError as error:  # settings the credential or the site address cannot use
        raise Failed(f"provision failed: {_first_line(error)}") from error
    _changes(report)
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    if not report.changed:
        print("Nothing to change: the list, its columns and indexes and the folder are in place.")
    return 1 if report.problems else 0


def _changes(report: Report) -> None:
    for change in report.changes:
        print(f"changed: {change}")


async def _status(settings: Settings, listing: bool) -> int:
    db = Database.from_settings(settings)
    try:
        if db.path is not None:
            # Opened once with plain sqlite3 first: a path that cannot be opened fails here,
            # not in aiosqlite, whose failed connect leaves its worker thread to report on stderr.
            db.path.parent.mkdir(parents=True, exist_ok=True)
            sqlite3.connect(db.path).close()
        await db.open()
        return await _report(settings, Outbox(db), listing, db.label)
    except (sqlite3.Error, OSError, StoreError) as error:
        raise Failed(f"cannot read the database {db.label}: {_first_line(error)}") from error
    finally:
        await db.close()


async def _report(settings: Settings, outbox: Outbox, listing: bool, where: str) -> int:
    counts = await outbox.counts()
    if not settings.sharepoint_enabled:
        print(f"SharePoint is off: agreements are kept only in {where}.")
    else:
        print(
            f"Agreements go to the list '{settings.sharepoint_list_name}' (their actions to"
            f" '{settings.sharepoint_actions_list_name}') on"
            f" {settings.sharepoint_site_url}; local copy in {where}."
        )
    print(
        f"agreement versions: {counts['total']}, in SharePoint: {counts['synced']},"
        f" not yet: {counts['pending']}"
    )
    held = await outbox.graph_wait()
    if held is not None and held[0] > datetime.now(UTC):
        print(f"Graph asked the bot to wait until {held[0]:%Y-%m-%d %H:%M:%S} UTC ({held[1]})")
    if listing:
        for row in await outbox.pending():
            parts = [
                name
                for name, behind in (
                    ("item", row["item_revision"] < row["revision"]),
                    ("document", row["doc_revision"] < row["revision"]),
                    ("actions", row["actions_revision"] < row["revision"]),
                )
                if behind
            ]
            print(
                f"{row['dialogue_id']} v{row['version']}: {'+'.join(parts)} missing;"
                f" attempts {row['attempts']}; reason: {row['last_error'] or 'not tried yet'};"
                f" next try {row['next_attempt_at']}"
            )
    return 0


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        wrong = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}"
            for e in error.errors()
        )
        raise Failed(f"the settings cannot be used: {wrong}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sharepoint", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    provisioning = sub.add_parser(
        "provision", help="create the list, columns, indexes and folder (idempotent)"
    )
    provisioning.add_argument(
        "--deadline",
        type=float,
        default=DEADLINE,
        metavar="SECONDS",
        help=f"keep trying while Graph throttles or is down, this long (default {DEADLINE:g})",
    )
    sub.add_parser("status", help="where agreements are kept and how many are synced")
    sub.add_parser("pending", help="list what SharePoint does not have yet, and why")
    args = parser.parse_args(argv)
    try:
        settings = _settings()
        if args.command == "provision":
            return asyncio.run(_provision(settings, args.deadline))
        return asyncio.run(_status(settings, listing=args.command == "pending"))
    except Failed as failure:
        print(failure, file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - an admin command ends with one line, always
        print(
            f"{args.command} failed: {type(error).__name__}: {_first_line(error)}", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        print(f"{args.command} stopped (Ctrl+C)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # Library warnings go to stdout with the progress lines: stderr holds only the last line.
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(name)s: %(message)s")
    sys.exit(main())

"""A week of pulses to 2,000 employees against a connector that enforces Teams' limits and
fails 1% of sends with a 5xx, with the sender killed about half way and started again.

The sender is the real ``python app.py reminders run`` process on a seeded SQLite file; this
process is Teams (``tests.teams_limits.RateLimitedConnector``). Reported: messages received,
lost and duplicated; the ledger's final states; 429s and 5xx; and the effective throughput,
delivered messages a second while a sender was running, as a ratio of the 50 a second that
Teams allows a tenant. The wait for a killed sender's lease to expire (at most its 4 s, plus
the new process's start) is reported separately as ``lease_wait_s``.

    python -m bench.reminder_delivery [--recipients 2000] [--failure-rate 0.01] [--signal KILL]
        [--hosts botbuilder,agents]

``--hosts botbuilder,agents`` runs the same week once per SDK (BOT_SDK of the sender), one
after the other in the same harness, and adds the Agents SDK/botbuilder ratios of the
throughput and of the senders' CPU time (``sender_cpu_s``, user + system of the sender
processes, from the kernel's accounting of reaped children). Measured 2026-12-02 (2,000
recipients): 49.4 and 49.3 messages a second (1.00x), sender CPU 1.02x, none lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core.reminders import iso_week
from core.schedule import WeeklySlot
from reminders.rate_limit import PER_TENANT_PER_SECOND
from reminders.scheduler import closed_days
from tests.reminder_seed import seed
from tests.teams_limits import RateLimitedConnector

ROOT = Path(__file__).resolve().parent.parent


def next_send_time():
    from datetime import date
    from datetime import time as clock

    day = date.today() + timedelta(weeks=1)
    year, week, _ = day.isocalendar()
    slot = WeeklySlot(0, clock(9, 0), ZoneInfo("Europe/Copenhagen"))
    return iso_week(year, week), slot.send_time(year, week, closed_days(year)) + timedelta(
        minutes=1
    )


HOSTS = ("botbuilder", "agents")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def sender(db_path: Path, at: str, host: str) -> asyncio.subprocess.Process:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MICROSOFT_APP")},
        "DATABASE_PATH": str(db_path),
        "LOG_LEVEL": "WARNING",
        "BOT_SDK": host,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "app.py",
        "reminders",
        "run",
        "--at",
        at,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )


def pending(db_path: Path, week: str) -> int:
    with sqlite3.connect(db_path) as db:
        return db.execute(
            "SELECT COUNT(*) FROM reminder_ledger WHERE week = ? AND state = 'pending'", (week,)
        ).fetchone()[0]


async def run(
    recipients: int, failure_rate: float, kill_signal: signal.Signals, host: str = "botbuilder"
) -> dict:
    # This process plays Teams: a garbage-collection pause here would bunch the arrivals it
    # records and make it refuse sends that left on time. The sender is not touched.
    gc.disable()
    connector = RateLimitedConnector(failure_rate=failure_rate)
    await connector.start()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.sqlite3"
        conversations = set(await seed(db_path, connector.url, recipients))
        week, moment = next_send_time()
        started, cpu_before = time.monotonic(), children_cpu()
        spans: list[tuple[float, float]] = []
        first = await sender(db_path, moment.isoformat(), host)
        span_start = time.monotonic()
        while len(connector.sent) < recipients // 2:
            await asyncio.sleep(0.01)
        first.send_signal(kill_signal)
        await first.wait()
        first_exit = time.monotonic()
        spans.append((span_start, time.monotonic()))
        killed_at = len(connector.sent)
        lease_wait_started = time.monotonic()
        runs, lease_wait = 1, 0.0
        while pending(db_path, week):
            process = await sender(db_path, moment.isoformat(), host)
            span_start = time.monotonic()
            out, _ = await process.communicate()
            runs += 1
            summary = json.loads(out or b"{}")
            if summary.get("lease_lost"):  # the killed sender's lease has not expired yet
                await asyncio.sleep(0.2)  # the lease is 4 s: ask again soon
                continue
            if lease_wait == 0.0:
                lease_wait = span_start - lease_wait_started
            spans.append((span_start, time.monotonic()))
        wall, sender_cpu = time.monotonic() - started, children_cpu() - cpu_before
        received = Counter(s.conversation_id for s in connector.sent)
        with sqlite3.connect(db_path) as db:
            states = dict(
                db.execute(
                    "SELECT state, COUNT(*) FROM reminder_ledger WHERE kind = 'pulse'"
                    " GROUP BY state"
                ).fetchall()
            )
    await connector.stop()
    gc.enable()
    delivered = sum(1 for c in conversations if received[c])
    sending_seconds = sum(end - start for start, end in spans)
    # Each sender's time from its first to its last accepted message: start-up and the wait
    # for a killed sender's lease are not sending time.
    before = [t for t in connector.accepted_at if t <= first_exit]
    after = [t for t in connector.accepted_at if t > first_exit]
    busy = sum(run[-1] - run[0] for run in (before, after) if len(run) > 1)
    return {
        "host": host,
        "recipients": recipients,
        "signal": kill_signal.name,
        "killed_after_sent": killed_at,
        "sender_runs": runs,
        "received_distinct": delivered,
        "lost": recipients - delivered,
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "ledger": states,
        "answers": dict(connector.answers),
        "lease_wait_s": round(lease_wait, 2),
        "sending_s": round(sending_seconds, 2),
        "sending_first_to_last_s": round(busy, 2),
        "wall_s": round(wall, 2),
        "sender_cpu_s": round(sender_cpu, 2),
        "throughput_per_s": round(delivered / busy, 2) if busy else None,
        "ratio_of_ceiling": round(delivered / busy / PER_TENANT_PER_SECOND, 3) if busy else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--failure-rate", type=float, default=0.01)
    parser.add_argument("--signal", choices=["KILL", "TERM"], default="KILL")
    parser.add_argument("--hosts", default="botbuilder", help="botbuilder and/or agents")
    args = parser.parse_args()
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    if set(hosts) - set(HOSTS) or not hosts:
        parser.error(f"--hosts: botbuilder and/or agents, not {args.hosts!r}")
    kill = signal.Signals[f"SIG{args.signal}"]
    results = [asyncio.run(run(args.recipients, args.failure_rate, kill, host)) for host in hosts]
    if len(results) == 1:
        print(json.dumps(results[0], indent=2))
        return
    botbuilder, agents = results
    ratios = {
        key: round(agents[key] / botbuilder[key], 2) if agents[key] and botbuilder[key] else None
        for key in ("throughput_per_s", "sender_cpu_s", "sending_first_to_last_s")
    }
    print(
        json.dumps(
            {"botbuilder": botbuilder, "agents": agents, "agents/botbuilder": ratios}, indent=2
        )
    )


if __name__ == "__main__":
    main()

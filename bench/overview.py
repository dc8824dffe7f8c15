"""The anonymous overview's cost: one unit of about 100 employees, and the whole municipality
(6,000 employees in 60 units, 5,000 agreements with their versions and follow-up items, a
finished self-check from most, a year of weekly pulses), in the same run, on SQLite and on
PostgreSQL (a private cluster, bench/postgres.py, unless ``--postgres-url`` names one).

Each size is seeded into its own fresh database with store.bulk (one executemany per table),
then ``store.overview.load_overview`` runs for the year (52 weeks of pulses: the largest
period) with no cache: the first call is reported apart, then the median of ``--repeat``
calls. Reported per size: the median time, the cost per employee, and for the municipality
also one unit's viewer (the suppression is computed on the whole table for every viewer, so
it costs the same) and a month.

    python -m bench.overview [--employees 6000] [--units 60] [--repeat 5] [--engines sqlite,postgresql]

Measured 2026-12-02 on the shared 2-core development machine, SQLite 3.40 and the private
PostgreSQL cluster, year 2026 (49 weeks begun), k = 5, median of 7; before = revision 427c5a8,
run just after, back to back (15:32–15:33 UTC, the machine in one of its slower phases):

    engine      size                  year (before)     per employee   one unit's viewer   a month
    sqlite      one unit (100)        36 ms  (30)         0.36 ms              -               -
    sqlite      municipality (6000)  421 ms  (550)        0.07 ms            311 ms          245 ms
    postgresql  one unit (100)        43 ms  (55)         0.43 ms              -               -
    postgresql  municipality (6000)  420 ms  (733)        0.07 ms            355 ms          246 ms

In a quiet phase (14:54) the municipality's year took 220 ms on SQLite and 213 ms on
PostgreSQL. The cost per employee at full size is 0.19 (SQLite) and 0.16 (PostgreSQL) of one
unit's (limit 1.2). Building and suppressing the table (38,000 cells, 17,000 sums) now takes
90–110 ms instead of 330–380 ms (core/overview_grid.py makes only the sums the suppression
reads); the rest is the counts, read with GROUP BY (the pulses from pulse_counts).
Seeding 6,000 employees takes about 3 s (SQLite) and 5 s (PostgreSQL), ANALYZE included.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.postgres import Cluster
from core.overview import parse_period, weeks_in
from store.bulk import insert_rows
from store.database import Database
from store.overview import load_overview
from tests.overview_population import generate, rows

TODAY = date(2026, 12, 2)
PERIOD = "2026"


async def measure(
    db: Database, repeat: int, units: frozenset[str] | None, period: str
) -> dict[str, float]:
    first = time.perf_counter()
    await load_overview(db, units=units, period=period, locale="da-DK", k=5, today=TODAY)
    first = time.perf_counter() - first
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await load_overview(db, units=units, period=period, locale="da-DK", k=5, today=TODAY)
        times.append(time.perf_counter() - start)
    return {"first_s": first, "median_s": statistics.median(times), "max_s": max(times)}


async def one_size(target: str | Path, employees: int, units: int, repeat: int) -> dict[str, Any]:
    weeks = weeks_in(parse_period(PERIOD, "da-DK"), TODAY)
    sizes: dict[str | None, int] = {f"Enhed {n + 1:02d}": employees // units for n in range(units)}
    people = generate(random.Random(employees), sizes, day=TODAY, weeks=weeks, agreement_rate=5 / 6)
    tables = rows(people, TODAY)
    db = Database(target)
    await db.open()
    try:
        start = time.perf_counter()
        await insert_rows(db, tables)
        seeded = time.perf_counter() - start
        result: dict[str, Any] = {
            "employees": len(people),
            "agreements": len(tables["agreements"]),
            "items": len(tables["action_items"]),
            "pulses": len(tables["pulse_answers"]),
            "seed_s": round(seeded, 2),
        }
        whole = await measure(db, repeat, None, PERIOD)
        result["year"] = whole
        result["per_employee_ms"] = 1000 * whole["median_s"] / len(people)
        if units > 1:
            result["one_unit_viewer"] = await measure(db, repeat, frozenset({"enhed 01"}), PERIOD)
            result["month"] = await measure(db, repeat, None, "2026-11")
        return result
    finally:
        await db.close()


def show(engine: str, label: str, r: dict[str, Any]) -> None:
    def t(m: dict[str, float]) -> str:
        return f"median {m['median_s'] * 1000:.0f} ms (first {m['first_s'] * 1000:.0f} ms, max {m['max_s'] * 1000:.0f} ms)"

    print(
        f"{engine:10} {label:13} {r['employees']:5} employees, {r['agreements']} agreement versions,"
        f" {r['items']} items, {r['pulses']} pulses; seeded in {r['seed_s']} s"
    )
    print(f"{'':10} {'':13} year: {t(r['year'])}; {r['per_employee_ms']:.3f} ms per employee")
    if "one_unit_viewer" in r:
        print(f"{'':10} {'':13} one unit's viewer: {t(r['one_unit_viewer'])}")
        print(f"{'':10} {'':13} a month: {t(r['month'])}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=6000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    cluster = Cluster(args.postgres_url)
    unit_size = args.employees // args.units
    try:
        if "postgresql" in engines:
            cluster.start()
        for engine in engines:
            results = {}
            for label, employees, units in (
                ("one unit", unit_size, 1),
                ("municipality", args.employees, args.units),
            ):
                if engine == "sqlite":
                    with tempfile.TemporaryDirectory() as tmp:
                        results[label] = await one_size(
                            Path(tmp) / "bench.sqlite3", employees, units, args.repeat
                        )
                else:
                    name = f"bench_overview_{employees}"
                    url = await cluster.create(name)
                    try:
                        results[label] = await one_size(url, employees, units, args.repeat)
                    finally:
                        await cluster.drop(name)
                show(engine, label, results[label])
            ratio = (
                results["municipality"]["per_employee_ms"] / results["one unit"]["per_employee_ms"]
            )
            print(
                f"{engine:10} per-employee cost, municipality / one unit: {ratio:.2f} (limit 1.2)"
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())

"""A backlog of agreements synced to the local Graph server under a Retry-After throttle model.

The backlog (default 10,000 agreement versions, each needing one list item and one summary
document) is made through the real store, so every version has its outbox row. Then the
real syncer (real GraphClient, real azure-identity ManagedIdentityCredential against the
server's token endpoint) drains it. The server throttles with a token bucket over requests
(each request inside a $batch counts, as Graph counts them): beyond it, a 429 with
Retry-After. Waits are scaled with GRAPH_WAIT_SCALE and the bucket's clock by the same factor,
so a model second is short but the client and server agree on it.

Reported (request counts are outer HTTP requests: a $batch counts once; the token endpoint is
not counted):

- item requests: requests that carried list item writes, against the minimum ⌈n/20⌉;
- document requests: requests that carried summary documents (each version has one, sent in
  batches of 20 as base64 PUT bodies), against the same ⌈n/20⌉;
- all Graph requests (also the 4 that find the site, list, drive and folder, and the 409
  lookups), against ⌈n/20⌉ and against the true minimum for items plus documents, 2⌈n/20⌉;
- requests that reached the server inside a Retry-After window it had given (its seconds
  scaled like the client's waits, counted from the moment before the answer was written):
  must be 0;
- wall time of the drain, lost (versions without their item or document) and duplicated
  (keys found more than once).

    python -m bench.sharepoint_sync [--agreements 10000] [--rate 20] [--burst 40] [--scale 0.05]
        [--instances 3 [--postgres-url URL]]

``--instances 3``: the same backlog on one PostgreSQL outbox (a private cluster on loopback,
bench/postgres.py, or ``--postgres-url``), drained once by 1 syncer process and once by 3
(each process its own Database, GraphClient and credential, as three app instances would
have; the Graph server stays in this process, which only watches the outbox), printed as one
table. The wall time includes the start of the syncer processes.

Columns beside the ones above: ``2x upload`` documents uploaded more than once and ``409s``
creates refused as duplicates (both would show a double claim), ``fill`` requests per $batch.

``--instances 3``, defaults, 2 shared cores busy with other work (load 3.5-4.5), 2026-12-01.
Before the instances took turns (each syncer paced itself, commit f73d1d5), two runs:

    instances  all req (/2min)  429s   in window  2x upload  409s  fill  lost dup  wall
            1  1,010 (1.010)    101    0          -          -     -     0    0    79.6 s
            3  1,187 (1.187)    3,455  61         -          -     -     0    0    71.7 s
            1  1,015 (1.015)    191    0          0          0     20.0  0    0    74.8 s
            3  1,330 (1.330)    6,325  125        0          0     20.0  0    0    55.4 s

(the first figures, on a quieter machine: 3 instances 1.627, 12,272 429s, 213 in a window).
The extra requests were neither double claims (no repeated upload, no 409) nor split batches
(every batch full): they were batches sent again because the entries in them bounced (429s
inside a batch), the three syncers emptying Graph's one bucket together while each paced
only itself; and requests already on their way from one instance arrived inside the window
another had just been given. With the store's turn (one request at a time from all
instances, one shared pacer and window; sharepoint/graph.py):

    instances  all req (/2min)  429s   in window  2x upload  409s  fill  lost dup  wall
            1  1,019 (1.019)    273    0          0          0     20.0  0    0    53.0 s
            3  1,032 (1.032)    368    0          0          0     20.0  0    0    52.3 s

Three instances now take as long as one: the bucket (400 requests a second, 20,000 inner
requests: 50 s) is the limit, not the number of senders.

Measured 2026-12-01 (one process for server and syncer, 2 shared cores), defaults (10,000
agreements; bucket 20 requests a model second, burst 40, 0.05 s a model second, i.e. at most
400 requests a second), two runs:

    item requests 514 / 500 (1.028)   document requests 508 / 500 (1.016)
    all Graph requests 1,026: 2.052 × ⌈n/20⌉, 1.026 × the items-plus-documents minimum
    429s 416   inside a Retry-After window 0   wall 57.2–60.4 s
    lost 0   duplicated 0

Before every Retry-After was counted from its answer (2026-12-01, same machine): item ratio
1.020–1.030, all requests 1,027, 429s 446–449, 35 requests inside a window (counted in the
second run), wall 50.4–54.4 s.
The difference in wall time is the rule itself: after each 429 the next request now waits
out the window from the answer, not from the request that got it.
Unthrottled (--rate 1000000 --burst 1000000, 2026-11-27): ratios 1.000 / 1.000, wall 9.8 s.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.postgres import Cluster
from settings import Settings
from sharepoint.provisioning import provision
from sharepoint.runtime import graph, syncer
from store.database import Database
from store.outbox import Outbox
from tests.graph_server import GraphServer, Throttle
from tests.sharepoint_agreements import LIST, SITE_URL, graph_settings, seed

ROOT = Path(__file__).resolve().parent.parent


async def run(agreements: int, rate: float, burst: float, scale: float) -> dict[str, float]:
    server = GraphServer(page_size=200)
    await server.start()
    os.environ.update(server.identity_env())
    settings = Settings(_env_file=None, **graph_settings(server.url, graph_wait_scale=scale))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.sqlite3")
        await db.open()
        made = time.perf_counter()
        await seed(db, agreements)
        made = time.perf_counter() - made
        async with graph(settings) as client:
            await provision(client, SITE_URL, LIST, "", settings.sharepoint_folder)
            server.throttle = Throttle(rate, burst, time_scale=scale)
            server.stats.kinds.clear()
            before_http, before_throttled = (
                server.stats.http,
                server.stats.faults.get("throttle_model", 0),
            )
            outbox = Outbox(db)
            started = time.perf_counter()
            task = asyncio.create_task(syncer(db, client, settings).run())
            while (await outbox.counts())["pending"]:
                await asyncio.sleep(0.05)
            wall = time.perf_counter() - started
            task.cancel()
        await db.close()
    await server.stop()

    return summary(server, agreements, made, before_http, before_throttled, scale, wall)


def summary(
    server: GraphServer,
    agreements: int,
    made: float,
    before_http: int,
    before_throttled: int,
    scale: float,
    wall: float,
) -> dict[str, float]:
    keys = Counter(i["fields"]["AgreementKey"] for i in server.items(LIST))
    wanted = {f"d{n:05d}:1" for n in range(agreements)}
    files = server.files()
    kinds = server.stats.kinds
    minimum = math.ceil(agreements / 20)
    items = kinds.get("batch:items", 0) + kinds.get("batch:mixed", 0)
    documents = kinds.get("batch:documents", 0) + kinds.get("batch:mixed", 0)
    http = server.stats.http - before_http
    return {
        "agreements": agreements,
        "seed_seconds": round(made, 1),
        "minimum_requests": minimum,
        "item_requests": items,
        "item_ratio": round(items / minimum, 3),
        "document_requests": documents,
        "document_ratio": round(documents / minimum, 3),
        "all_requests": http,
        "all_ratio_vs_n_over_20": round(http / minimum, 3),
        "all_ratio_vs_items_plus_documents": round(http / (2 * minimum), 3),
        "direct_requests": sum(v for k, v in kinds.items() if k.startswith("direct")),
        "throttled_429": server.stats.faults.get("throttle_model", 0) - before_throttled,
        "inside_retry_after": len(server.inside_windows(scale)),
        # Why requests are extra: entries throttled inside a batch (sent again later),
        # entries sent twice (a double claim: an upload or create repeated, a 409), and how
        # full the batches were.
        "repeated_uploads": server.stats.uploads - agreements,
        "conflicts_409": server.stats.conflicts.get(409, 0),
        "batch_fill": round(server.stats.inner / max(1, server.stats.batches), 1),
        "wall_seconds": round(wall, 2),
        "lost": len(wanted - set(keys))
        + sum(1 for n in range(agreements) if f"d{n:05d}-v1.html" not in files),
        "duplicated": sum(c - 1 for c in keys.values() if c > 1),
    }


async def seed_postgres(cluster: Cluster, agreements: int) -> float:
    """The backlog made once through the real store in a template database; each run
    copies it (CREATE DATABASE … TEMPLATE), so every run starts from the same outbox."""
    db = Database(await cluster.create("bench_sync_seed"))
    await db.open()
    made = time.perf_counter()
    await seed(db, agreements)
    made = time.perf_counter() - made
    await db.close()
    return made


async def run_instances(
    cluster: Cluster,
    instances: int,
    agreements: int,
    made: float,
    rate: float,
    burst: float,
    scale: float,
) -> dict[str, float]:
    """``instances`` syncer processes (each its own Database, Graph client and credential) on
    one PostgreSQL outbox, against one local Graph server in this process."""
    server = GraphServer(page_size=200)
    await server.start()
    os.environ.update(server.identity_env())
    settings = Settings(_env_file=None, **graph_settings(server.url, graph_wait_scale=scale))
    name = f"bench_sync_{instances}"
    url = await cluster.create(name, template="bench_sync_seed")
    db = Database(url)
    await db.open()
    procs: list[asyncio.subprocess.Process] = []
    try:
        async with graph(settings) as client:
            await provision(client, SITE_URL, LIST, "", settings.sharepoint_folder)
        server.throttle = Throttle(rate, burst, time_scale=scale)
        server.stats.kinds.clear()
        before_http, before_throttled = (
            server.stats.http,
            server.stats.faults.get("throttle_model", 0),
        )
        outbox = Outbox(db)
        started = time.perf_counter()
        for _ in range(instances):
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench.sharepoint_sync",
                    "--worker",
                    url,
                    server.url,
                    str(scale),
                    cwd=ROOT,
                )
            )
        while (await outbox.counts())["pending"]:
            for p in procs:
                if p.returncode is not None:
                    raise RuntimeError(f"a syncer process ended ({p.returncode})")
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - started
    finally:
        for p in procs:
            if p.returncode is None:
                p.terminate()
        for p in procs:
            await p.wait()
        await db.close()
        await cluster.drop(name)
        await server.stop()
    result = summary(server, agreements, made, before_http, before_throttled, scale, wall)
    return {"instances": instances, **result}


async def worker(url: str, graph_url: str, scale: float) -> None:
    """One syncer process: the real syncer on the PostgreSQL outbox until it is stopped."""
    settings = Settings(_env_file=None, **graph_settings(graph_url, graph_wait_scale=scale))
    db = Database(url)
    await db.open(migrate=False)
    try:
        async with graph(settings) as client:
            await syncer(db, client, settings).run()
    finally:
        await db.close()


async def compare(args: argparse.Namespace) -> list[dict[str, float]]:
    cluster = Cluster(args.postgres_url)
    try:
        cluster.start()
        made = await seed_postgres(cluster, args.agreements)
        return [
            await run_instances(
                cluster, n, args.agreements, made, args.rate, args.burst, args.scale
            )
            for n in sorted({1, args.instances})
        ]
    finally:
        if not cluster.own:
            await cluster.drop("bench_sync_seed")
        cluster.stop()


COLUMNS = (
    # (heading, key, format)
    ("instances", "instances", "d"),
    ("item req", "item_requests", "d"),
    ("item /min", "item_ratio", ".3f"),
    ("doc req", "document_requests", "d"),
    ("doc /min", "document_ratio", ".3f"),
    ("all req", "all_requests", "d"),
    ("all /2min", "all_ratio_vs_items_plus_documents", ".3f"),
    ("429s", "throttled_429", "d"),
    ("in window", "inside_retry_after", "d"),
    ("2x upload", "repeated_uploads", "d"),
    ("409s", "conflicts_409", "d"),
    ("fill", "batch_fill", ".1f"),
    ("lost", "lost", "d"),
    ("dup", "duplicated", "d"),
    ("wall s", "wall_seconds", ".1f"),
)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        asyncio.run(worker(sys.argv[2], sys.argv[3], float(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agreements", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=20.0, help="requests a model second")
    parser.add_argument("--burst", type=float, default=40.0, help="bucket size")
    parser.add_argument("--scale", type=float, default=0.05, help="seconds per model second")
    parser.add_argument(
        "--instances",
        type=int,
        default=0,
        help="N syncer processes on one PostgreSQL outbox, then 1 for comparison (default:"
        " the single in-process syncer on SQLite)",
    )
    parser.add_argument("--postgres-url", default=None, help="a server of your own")
    args = parser.parse_args()
    if args.instances:
        results = compare(args)
        results = asyncio.run(results)
        minimum = results[0]["minimum_requests"]
        print(
            f"{args.agreements} agreements on PostgreSQL (seeded once in"
            f" {results[0]['seed_seconds']} s), minimum {minimum} item and {minimum} document"
            f" requests; bucket {args.rate:g}/model s, burst {args.burst:g}, {args.scale:g} s"
            " a model second"
        )
        print(" ".join(f"{h:>{max(len(h), 6)}}" for h, _, _ in COLUMNS))
        for r in results:
            print(" ".join(f"{r[k]:>{max(len(h), 6)}{f}}" for h, k, f in COLUMNS))
        return
    result = asyncio.run(run(args.agreements, args.rate, args.burst, args.scale))
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()

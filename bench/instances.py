"""Turn throughput at saturation with 1, then 2 bot instances on one PostgreSQL database.

Each run gets a fresh database on a private PostgreSQL cluster on loopback (bench/postgres.py,
or the server of ``--postgres-url``) and starts N real ``app.py`` processes on it, one after
the other (the first migrates, the others find the schema current). A round-robin front (a
small aiohttp proxy, its own process, 127.0.0.1 only) spreads ``/api/messages`` over them, so
consecutive turns of one conversation land on different instances and every turn reads what
the other instance wrote. This process is the Teams side (the harness of bench.turn_latency):
``--conversations`` conversations walk the manager's dialogue back to back, no pause, which
keeps every instance busy; after ``--warmup`` seconds the turns finished in ``--seconds``
seconds are counted.

Reported per run: turns/s, p50/p99 of a turn through the front, and the CPU each part used
in the window as a share of one core (bots, front, PostgreSQL, harness), because on a small
machine they all share the same cores and the ratio 2/1 is bounded by that, not by the bot.

    python -m bench.instances [--conversations 64] [--seconds 15] [--warmup 3]
        [--postgres-url URL]

Measured 2026-12-01 (2 shared cores, load 0.2–1.4 at the start), defaults, two runs:

    instances  turns/s       p50 ms     p99 ms        cpu % of one core: bots front pg harness
            1  108.6 / 63.4  482 / 834  1185 / 2029   94 7 11 16   /  94 7 11 14
            2  148.8 / 108.8 330 / 461  1015 / 1634   145 10 20 24 / 149 9 18 22
    ratio 2/1: 1.37x / 1.72x

With 2 instances the machine is full (≈ 200 % of 200 %): bots, front, PostgreSQL and harness
share the two cores, so the ratio says more about the machine than about the bot. One
instance used only ≈ 94 % of a core, and its turns/s varied by 1.7× between runs at the
same CPU (its CPU per turn varied, not the load).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import statistics
import subprocess
import sys
import time

import aiohttp
from aiohttp import web

from bench.postgres import Cluster
from bench.turn_latency import _Url, cpu_seconds, dialogue_worker, free_port, start, wait_ready
from tests.connector import LocalConnector
from tests.harness import TeamsClient, User


def proxy_main(port: int, backends: list[str]) -> None:
    """The round-robin front: each request to the next backend, its answer passed back."""
    turn = itertools.cycle(backends)
    state: dict[str, aiohttp.ClientSession] = {}

    async def session_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        state["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        yield
        await state["s"].close()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("content-type", "authorization")
        }
        async with state["s"].post(
            f"{next(turn)}{request.path_qs}", data=body, headers=headers
        ) as answer:
            data = await answer.read()
            return web.Response(
                status=answer.status,
                body=data,
                content_type=answer.content_type if data else None,
            )

    app = web.Application()
    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/api/messages", forward)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def run(
    cluster: Cluster, connector: LocalConnector, instances: int, args: argparse.Namespace
) -> dict[str, float]:
    url = await cluster.create(f"bench_instances_{instances}")
    procs: list[subprocess.Popen] = []
    try:
        ports = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            for _ in range(instances):
                port = free_port()
                procs.append(
                    start(
                        [sys.executable, "app.py"],
                        {"PORT": str(port), "DATABASE_URL": url, "LOG_LEVEL": "WARNING"},
                    )
                )
                await wait_ready(session, f"http://127.0.0.1:{port}")
                ports.append(port)
            front_port = free_port()
            front = start(
                [sys.executable, "-m", "bench.instances", "--proxy", str(front_port)]
                + [f"http://127.0.0.1:{p}" for p in ports],
                {},
            )
            procs.append(front)
            front_url = f"http://127.0.0.1:{front_port}"
            await wait_ready(session, front_url)
            latencies: list[float] = []
            clients = [
                TeamsClient(
                    session,
                    _Url(front_url),
                    connector,
                    User(f"Bruger {i}", f"00000000-0000-0000-0000-{i:012d}"),
                )
                for i in range(args.conversations)
            ]
            gc.collect()
            gc.disable()  # as in bench.turn_latency: the harness's collector is not the bot's
            tasks = [asyncio.create_task(dialogue_worker(c, 10**9, latencies)) for c in clients]
            try:
                await asyncio.sleep(args.warmup)
                bots = [p.pid for p in procs[:-1]]

                def cpu() -> tuple[float, ...]:
                    return (
                        sum(cpu_seconds(pid) for pid in bots),
                        cpu_seconds(front.pid),
                        cluster.cpu_seconds(),
                        cpu_seconds(os.getpid()),
                    )

                n0, c0, t0 = len(latencies), cpu(), time.perf_counter()
                await asyncio.sleep(args.seconds)
                n1, c1, wall = len(latencies), cpu(), time.perf_counter() - t0
                window = sorted(latencies[n0:n1])
                for t in tasks:
                    if t.done() and t.exception():
                        raise t.exception()  # type: ignore[misc]
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                connector.reset()
                gc.enable()
    finally:
        # The front first, then the bots; waited for without blocking this loop, whose
        # LocalConnector answers the replies of the turns still in flight.
        for p in reversed(procs):
            p.terminate()
        for _ in range(200):
            if all(p.poll() is not None for p in procs):
                break
            await asyncio.sleep(0.05)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        await cluster.drop(f"bench_instances_{instances}")
    shares = [(b - a) / wall * 100 for a, b in zip(c0, c1, strict=True)]
    return {
        "instances": instances,
        "turns": n1 - n0,
        "turns_per_s": (n1 - n0) / wall,
        "p50_ms": statistics.median(window) * 1000,
        "p99_ms": window[int(len(window) * 0.99) - 1] * 1000,
        "cpu_bots": shares[0],
        "cpu_front": shares[1],
        "cpu_pg": shares[2],
        "cpu_harness": shares[3],
    }


async def main(args: argparse.Namespace) -> None:
    connector = LocalConnector()
    await connector.start()
    cluster = Cluster(args.postgres_url)
    results = []
    try:
        cluster.start()
        for n in (1, 2):
            results.append(await run(cluster, connector, n, args))
    finally:
        await connector.stop()
        cluster.stop()
    print(
        f"{args.conversations} conversations back to back, {args.seconds:g} s counted after"
        f" {args.warmup:g} s warm-up, {os.cpu_count()} cores; cpu as % of one core"
    )
    print(
        f"{'instances':>9} {'turns':>6} {'turns/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'bots %':>7} {'front %':>7} {'pg %':>6} {'harness %':>9} {'total %':>7}"
    )
    for r in results:
        total = r["cpu_bots"] + r["cpu_front"] + r["cpu_pg"] + r["cpu_harness"]
        print(
            f"{r['instances']:>9} {r['turns']:>6} {r['turns_per_s']:>8.1f} {r['p50_ms']:>7.1f}"
            f" {r['p99_ms']:>7.1f} {r['cpu_bots']:>7.0f} {r['cpu_front']:>7.0f}"
            f" {r['cpu_pg']:>6.0f} {r['cpu_harness']:>9.0f} {total:>7.0f}"
        )
    print(f"ratio 2/1: {results[1]['turns_per_s'] / results[0]['turns_per_s']:.2f}x turns/s")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--proxy":
        proxy_main(int(sys.argv[2]), sys.argv[3:])
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
        parser.add_argument("--conversations", type=int, default=64)
        parser.add_argument("--seconds", type=float, default=15.0, help="counted window")
        parser.add_argument("--warmup", type=float, default=3.0)
        parser.add_argument("--postgres-url", default=None)
        asyncio.run(main(parser.parse_args()))

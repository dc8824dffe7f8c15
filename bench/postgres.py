"""A private PostgreSQL cluster for the benchmarks, started the way scripts/postgres.sh starts
the tests' one: a temporary directory, 127.0.0.1 on a free port, trust on loopback only, run
as a user other than root (initdb refuses root), no fsync (bench data need not survive a
crash). ``--postgres-url`` in a benchmark uses a server of your own instead; the benchmark
then creates and drops its databases there.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin")):
        if os.access(f"{d}/pg_ctl", os.X_OK) and os.access(f"{d}/initdb", os.X_OK):
            return Path(d)
    raise RuntimeError(
        "no PostgreSQL: install it (apt-get install postgresql) or pass --postgres-url"
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """``url`` names the server's ``postgres`` database (SQLAlchemy form, asyncpg driver)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or ""
        self.own = url is None
        self._dir: str | None = None
        self._runas: list[str] = []
        self._bin: Path | None = None
        self.postmaster_pid: int | None = None

    def start(self) -> Cluster:
        if not self.own:
            return self
        self._bin = _bin_dir()
        self._dir = tempfile.mkdtemp(prefix="bench-pg-")
        if os.getuid() == 0:
            user = "postgres"
            try:
                import pwd

                pwd.getpwnam(user)
            except KeyError:
                user = "nobody"
            shutil.chown(self._dir, user)
            self._runas = ["runuser", "-u", user, "--"]
        data = f"{self._dir}/data"
        subprocess.run(
            [*self._runas, str(self._bin / "initdb"), "-D", data, "-U", "postgres", "-A", "trust"]
            + ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        Path(f"{data}/pg_hba.conf").write_text(
            "host all all 127.0.0.1/32 trust\nlocal all all trust\n"
        )
        port = _free_port()
        options = (
            f"-k {self._dir} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        subprocess.run(
            [*self._runas, str(self._bin / "pg_ctl"), "-D", data, "-l", f"{self._dir}/server.log"]
            + ["-w", "-s", "-o", options, "start"],
            check=True,
        )
        self.postmaster_pid = int(Path(f"{data}/postmaster.pid").read_text().split()[0])
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        return self

    def stop(self) -> None:
        if self.own and self._dir:
            subprocess.run(
                [*self._runas, str(self._bin / "pg_ctl"), "-D", f"{self._dir}/data"]
                + ["-m", "fast", "-w", "-s", "stop"],
                check=False,
            )
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _dsn(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(False)

    async def create(self, name: str, template: str | None = None) -> str:
        """A fresh database ``name`` (dropped first if there); its SQLAlchemy URL."""
        conn = await asyncpg.connect(self._dsn())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            tail = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{tail}')
        finally:
            await conn.close()
        return make_url(self.url).set(database=name).render_as_string(False)

    async def drop(self, name: str) -> None:
        conn = await asyncpg.connect(self._dsn())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def cpu_seconds(self) -> float:
        """CPU of the server (postmaster, its live backends, and the ones that ended); 0 for a
        server of your own."""
        if self.postmaster_pid is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")

        def stat(pid: int | str) -> list[str]:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

        own = stat(self.postmaster_pid)
        total = sum(int(own[i]) for i in (11, 12, 13, 14))
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                f = stat(pid)
            except OSError:
                continue
            if int(f[1]) == self.postmaster_pid:
                total += int(f[11]) + int(f[12])
        return total / tick

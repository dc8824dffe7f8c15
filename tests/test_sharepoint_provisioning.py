"""`python -m sharepoint provision` makes the list, its typed and indexed columns and the
document folder; a second run changes nothing and says so; a list made by hand is completed."""

from __future__ import annotations

import asyncio
import copy
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from settings import Settings
from sharepoint import schema
from sharepoint.provisioning import provision
from sharepoint.runtime import graph
from tests.graph_server import GraphServer
from tests.sharepoint_agreements import LIST, SITE_URL, graph_env, graph_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def server(monkeypatch) -> AsyncIterator[GraphServer]:
    s = GraphServer(page_size=5)
    await s.start()
    for key, value in s.identity_env().items():
        monkeypatch.setenv(key, value)
    yield s
    await s.stop()


async def run_cli(server: GraphServer, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_APP", "GRAPH_"))},
        **graph_env(server.url, server.identity_env(), str(tmp_path / "bot.sqlite3")),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sharepoint",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


def state(server: GraphServer) -> tuple:
    return copy.deepcopy(server.lists), copy.deepcopy(server.drive_items)


async def test_provisioning_twice_changes_nothing_the_second_time(server, tmp_path):
    code, first = await run_cli(server, tmp_path, "provision")
    assert code == 0, first
    assert "changed: list created: Hjemmearbejdsaftaler" in first
    assert "changed: folder created: Hjemmearbejdsaftaler" in first
    after_first = state(server)
    writes = (server.stats.http, len(server.lists))

    code, second = await run_cli(server, tmp_path, "provision")
    assert code == 0, second
    assert "Nothing to change" in second and "changed:" not in second
    assert state(server) == after_first
    assert len(server.lists) == writes[1] == 1

    columns = {c["name"]: c for c in server.the_list(LIST)["columns"].values()}
    key = columns[schema.KEY]
    assert key["indexed"] and key["enforceUniqueValues"]
    assert {n for n, c in columns.items() if c["indexed"]} >= {
        "AgreementKey",
        "DialogueId",
        "EmployeeId",
        "ManagerId",
        "Unit",
        "AgreementState",
        "FollowUpDate",
    }
    assert "number" in columns["DaysPerWeek"] and columns["FollowUpDate"]["dateTime"] == {
        "format": "dateOnly"
    }
    assert (
        "choice" in columns["Decision"] and columns["RulesTriggered"]["text"]["allowMultipleLines"]
    )


async def test_a_list_made_by_hand_gets_the_missing_columns_and_indexes(server):
    settings = Settings(_env_file=None, **graph_settings(server.url))
    async with graph(settings) as client:
        site = (await client.json("GET", "/sites/hjoerring.sharepoint.com:/sites/HR"))["id"]
        await client.json(
            "POST",
            f"/sites/{site}/lists",
            {
                "displayName": LIST,
                "columns": [
                    {"name": "DialogueId", "text": {}},
                    {"name": schema.KEY, "text": {}},
                    {"name": "DaysPerWeek", "text": {}},
                ],
                "list": {"template": "genericList"},
            },
        )
        report = await provision(client, SITE_URL, LIST, "", "Aftaler")
        again = await provision(client, SITE_URL, LIST, "", "Aftaler")
    assert "column DialogueId: indexed set" in report.changes
    assert f"column {schema.KEY}: enforceUniqueValues, indexed set" in report.changes
    assert "column added: Unit" in report.changes
    assert report.problems == ["column DaysPerWeek is text, expected number: not changed"]
    assert not again.changed and again.problems == report.problems


async def test_without_a_site_there_is_nothing_to_provision(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREPOINT")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sharepoint",
        "status",
        cwd=ROOT,
        env={**env, "DATABASE_PATH": str(tmp_path / "x.sqlite3")},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert "SharePoint is off: agreements are kept only in" in out.decode()

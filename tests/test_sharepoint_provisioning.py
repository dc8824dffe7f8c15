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
from tests.graph_server import Faults, GraphServer
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
    assert "changed: list created: Hjemmearbejdsopgaver" in first
    assert "changed: folder created: Hjemmearbejdsaftaler" in first
    after_first = state(server)
    writes = (server.stats.http, len(server.lists))

    code, second = await run_cli(server, tmp_path, "provision")
    assert code == 0, second
    assert "Nothing to change" in second and "changed:" not in second
    assert state(server) == after_first
    assert len(server.lists) == writes[1] == 2  # the agreements and their actions
    actions = {c["name"]: c for c in server.the_list("Hjemmearbejdsopgaver")["columns"].values()}
    assert actions["ActionKey"]["indexed"] and actions["ActionKey"]["enforceUniqueValues"]
    assert {n for n, c in actions.items() if c["indexed"]} >= {
        "AgreementKey",
        "DialogueId",
        "EmployeeId",
        "ManagerId",
        "DueDate",
        "ActionStatus",
    }

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


# --- the admin commands under throttling and failure: waits as asked, one line at the end ----


async def run_admin(
    server: GraphServer | None, tmp_path: Path, *args: str, **env: str
) -> tuple[int, str, str, float]:
    """The command in a subprocess with real waits (GRAPH_WAIT_SCALE 1): exit code, stdout,
    stderr and seconds taken."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_APP", "GRAPH_"))}
    if server is not None:
        base.update(graph_env(server.url, server.identity_env(), str(tmp_path / "bot.sqlite3")))
    base.update({"GRAPH_WAIT_SCALE": "1", **env})
    started = asyncio.get_running_loop().time()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sharepoint",
        *args,
        cwd=ROOT,
        env=base,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    took = asyncio.get_running_loop().time() - started
    return proc.returncode or 0, out.decode(), err.decode(), took


async def test_provisioning_under_throttling_waits_as_asked_and_finishes(server, tmp_path):
    # Longer than the four tries of one request: 6 answers 429 with Retry-After 1 s.
    server.faults = Faults(throttle=1.0, retry_after=1, limit=6)
    code, out, err, took = await run_admin(server, tmp_path, "provision")
    assert code == 0, out + err
    assert err == "" and "Traceback" not in out
    assert "changed: list created: Hjemmearbejdsaftaler" in out
    assert out.count("Graph asks to wait") == 6  # a progress line for every wait
    assert [w.status for w in server.windows] == [429] * 6
    assert server.inside_windows() == []
    assert took >= 6


async def test_provisioning_that_stays_throttled_ends_with_one_line(server, tmp_path):
    server.faults = Faults(throttle=1.0, retry_after=1)
    code, out, err, took = await run_admin(server, tmp_path, "provision", "--deadline", "3")
    assert code != 0
    assert "Traceback" not in out + err
    [line] = err.splitlines()
    assert "HTTP 429" in line and "provision" in line
    assert "Graph asks to wait" in out
    assert server.inside_windows() == []
    assert 2 <= took < 15  # it gave up at the deadline, not after the four tries of one request
    assert server.lists == {}


@pytest.mark.parametrize("command", ["provision", "status", "pending"])
async def test_a_bad_setting_ends_any_command_with_one_line(tmp_path, command):
    code, out, err, _ = await run_admin(
        None,
        tmp_path,
        command,
        SHAREPOINT_SITE_URL=SITE_URL,
        DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        GRAPH_TIMEOUT="soon",
    )
    assert code != 0 and "Traceback" not in out + err
    [line] = err.splitlines()
    assert "GRAPH_TIMEOUT" in line.upper()


@pytest.mark.parametrize("command", ["status", "pending"])
async def test_a_database_that_cannot_be_read_ends_with_one_line(tmp_path, command):
    folder = tmp_path / "not-a-file.sqlite3"
    folder.mkdir()
    code, out, err, _ = await run_admin(None, tmp_path, command, DATABASE_PATH=str(folder))
    assert code != 0 and "Traceback" not in out + err
    [line] = err.splitlines()
    assert str(folder) in line

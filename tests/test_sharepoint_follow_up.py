"""A follow-up's new version reaches SharePoint exactly once as its own list item and
document (keyed by dialogue and version), and the version it replaces is updated in place to
"superseded" once the new one is confirmed; also when Graph throttles and fails meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.dialogue import IN_PROGRESS
from sharepoint.runtime import graph, syncer
from store.database import Database
from store.dialogues import DialogueStore
from tests.graph_server import Faults, GraphServer
from tests.sharepoint_agreements import (
    LIST,
    expected_items,
    in_sharepoint,
    respond,
    revise,
    seed,
)
from tests.test_sharepoint_sync import drain, provisioned

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def server(monkeypatch) -> AsyncIterator[GraphServer]:
    s = GraphServer(page_size=10)
    await s.start()
    for key, value in s.identity_env().items():
        monkeypatch.setenv(key, value)
    yield s
    await s.stop()


@pytest.fixture
async def store(db_path) -> AsyncIterator[Database]:
    db = Database(db_path)
    await db.open()
    yield db
    await db.close()


async def follow_up(dialogues: DialogueStore, dialogue_id: str) -> None:
    """What "Følg op" stores: the confirmed dialogue back in progress, version 1 in force."""
    d = await dialogues.get(dialogue_id)
    assert d is not None and d.in_force_version == 1
    expected = d.version
    d.state, d.step, d.version = IN_PROGRESS, "review", expected + 1
    assert await dialogues.save(d, expected)


@pytest.mark.parametrize("faults", [None, Faults(throttle=0.3, server_error=0.2, limit=12)])
async def test_version_2_reaches_sharepoint_once_and_version_1_is_superseded(server, store, faults):
    settings = await provisioned(server)
    dialogues = DialogueStore(store)
    [d] = await seed(store, 1)
    await respond(dialogues, d, confirm=True)
    async with graph(settings) as client:
        sync = syncer(store, client, settings)
        await drain(sync)
        assert [i["fields"]["AgreementKey"] for i in server.items(LIST)] == ["d00000:1"]
        server.faults = faults or Faults()  # once the list is located
        await follow_up(dialogues, d.id)
        d = await dialogues.get(d.id)
        assert d is not None
        await revise(dialogues, d)  # concluded: version 2 awaits the employee
        await drain(sync)
        states = {k: v["AgreementState"] for k, v in in_sharepoint(server).items()}
        assert states == {
            "d00000:1": "Bekræftet af begge",  # still in force
            "d00000:2": "Venter på medarbejderens bekræftelse",
        }
        await respond(dialogues, d, confirm=True)
        await drain(sync)
    assert in_sharepoint(server) == await expected_items(store, server)
    states = {k: v["AgreementState"] for k, v in in_sharepoint(server).items()}
    assert states == {"d00000:1": "Afløst af en nyere version", "d00000:2": "Bekræftet af begge"}
    assert sorted(server.files()) == ["d00000-v1.html", "d00000-v2.html"]
    if faults is not None:
        assert sum(server.stats.faults.values()) > 0  # the faults did happen

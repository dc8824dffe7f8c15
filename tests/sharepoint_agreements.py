"""Agreements made through the real store (DialogueStore.conclude and .answer, which write the
outbox in the same transaction), for the SharePoint tests and the benchmark."""

from __future__ import annotations

from typing import Any

from core.agreement import build_record
from core.answers import AgreementRecord, DialogueAnswers
from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, DISPUTED, Dialogue
from sharepoint import schema
from store.database import Database, utc_now
from store.dialogues import DialogueStore
from tests.answers import typed_answers

UNITS = ("Teknik og Miljø", "Børn & Unge", "Sundhed", "HR's stab")


def answers(n: int) -> DialogueAnswers:
    return typed_answers(
        {
            "employee": {
                "unit": UNITS[n % len(UNITS)],
                "initiated_by": ("employee", "employer")[n % 2],
            },
            "tasks": {"days_per_week": str(1 + n % 3), "day_pattern": "flexible"},
            "technology": {"main_device": "laptop", "laptop_hours": str(n % 5)},
            "outcome": {"decision": "approved", "follow_up_date": f"2027-0{1 + n % 9}-15"},
        }
    )


async def conclude(store: DialogueStore, n: int, prefix: str = "d") -> Dialogue:
    """A new dialogue concluded as agreement version 1, sent to the employee."""
    d = Dialogue(
        id=f"{prefix}{n:05d}",
        manager_id="11111111-1111-1111-1111-111111111111",
        manager_name="Lone Leder",
        locale="da-DK",
        employee_id=f"e{n:05d}",
        employee_name=f"Medarbejder Nr. {n} <Ærø>",
        answers=answers(n),
    )
    await store.create(d)
    return await revise(store, d)


async def revise(store: DialogueStore, d: Dialogue) -> Dialogue:
    """The next agreement version of ``d``."""
    expected = d.version
    d.version += 1
    d.agreement_version += 1
    record = build_record(d, d.agreement_version, AWAITING_EMPLOYEE, utc_now())
    assert await store.conclude(d, expected, record)
    return d


async def respond(store: DialogueStore, d: Dialogue, confirm: bool) -> Dialogue:
    expected = d.version
    d.version += 1
    state = CONFIRMED if confirm else DISPUTED
    assert (
        await store.answer(d, expected, state, None if confirm else "PRIVAT-KOMMENTAR") is not None
    )
    return d


async def seed(db: Database, count: int, prefix: str = "d") -> list[Dialogue]:
    store = DialogueStore(db)
    return [await conclude(store, n, prefix) for n in range(count)]


SITE_URL = "https://hjoerring.sharepoint.com/sites/HR"
LIST = "Hjemmearbejdsaftaler"
ACTIONS_LIST = "Hjemmearbejdsopgaver"


def graph_settings(graph_url: str, **extra: object) -> dict[str, object]:
    """Settings for a bot or syncer that talks to the local Graph server with the real
    ManagedIdentityCredential (the server's identity_env() must be in the environment)."""
    return {
        "sharepoint_site_url": SITE_URL,
        "graph_credential": "managed_identity",
        "graph_host": graph_url,
        "graph_wait_scale": 0.01,
        "graph_timeout": 1.0,
        "sharepoint_sync_interval": 0.05,
        **extra,
    }


def graph_env(graph_url: str, identity: dict[str, str], database: str) -> dict[str, str]:
    """The same as environment variables, for a bot or CLI in a subprocess."""
    env = {k.upper(): str(v) for k, v in graph_settings(graph_url).items()}
    return {**env, **identity, "DATABASE_PATH": database}


async def expected_items(db: Database, server: Any) -> dict[str, dict]:
    """What SharePoint must show for every local agreement version, by key."""
    folder = next(i for i in server.drive_items.values() if i["name"] == "Hjemmearbejdsaftaler")
    rows = await db.fetchall("SELECT record FROM agreements")
    found = {}
    for row in rows:
        record = AgreementRecord.model_validate_json(row["record"])
        name = schema.document_name(record.dialogue_id, record.version)
        found[f"{record.dialogue_id}:{record.version}"] = schema.fields(
            record, f"{folder['webUrl']}/{name}"
        )
    return found


def in_sharepoint(server: Any) -> dict[str, dict]:
    items = server.items(LIST)
    keys = [i["fields"]["AgreementKey"] for i in items]
    assert len(keys) == len(set(keys)), "an agreement version is in the list twice"
    return {
        i["fields"]["AgreementKey"]: {
            k: v for k, v in i["fields"].items() if k not in ("id", "@odata.etag")
        }
        for i in items
    }


async def expected_documents(db: Database) -> dict[str, bytes]:
    """The summary document SharePoint must hold for every local agreement version."""
    from sharepoint import summary

    rows = await db.fetchall("SELECT record FROM agreements")
    found = {}
    for row in rows:
        record = AgreementRecord.model_validate_json(row["record"])
        name = schema.document_name(record.dialogue_id, record.version)
        found[name] = summary.render(record).encode("utf-8")
    return found


async def expected_actions(db: Database) -> dict[str, dict]:
    """What SharePoint's second list must show for every local action item, by key."""
    from store.action_items import ActionItemStore

    store = ActionItemStore(db)
    found = {}
    for row in await db.fetchall("SELECT dialogue_id, version FROM agreements"):
        for synced in await store.for_version(row["dialogue_id"], row["version"]):
            found[schema.action_key(synced.item)] = schema.action_fields(synced.item)
    return found


def actions_in_sharepoint(server: Any) -> dict[str, dict]:
    items = server.items(ACTIONS_LIST)
    keys = [i["fields"][schema.ACTION_KEY] for i in items]
    assert len(keys) == len(set(keys)), "an action item is in the list twice"
    return {
        i["fields"][schema.ACTION_KEY]: {
            k: v for k, v in i["fields"].items() if k not in ("id", "@odata.etag")
        }
        for i in items
    }

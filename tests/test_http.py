"""Malformed requests get a 4xx and change nothing; the service stays healthy."""

from __future__ import annotations

import json

import pytest

from tests.dbsnapshot import snapshot

pytestmark = [pytest.mark.both_engines, pytest.mark.both_hosts]


async def post_raw(session, bot, data: bytes, content_type: str = "application/json"):
    async with session.post(
        f"{bot.url}/api/messages", data=data, headers={"Content-Type": content_type}
    ) as r:
        return r.status, await r.text()


async def test_healthz_reports_version_store_engine_schema_mode_and_sdk(
    session, bot, engine, bot_sdk
):
    async with session.get(f"{bot.url}/healthz") as r:
        assert r.status == 200
        body = await r.json()
    assert body == {
        "status": "ok",
        "version": "0.1.0",
        "store": "ok",
        "engine": engine,
        "schema": "current",
        "mode": "local",
        "sdk": bot_sdk,
    }


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'"text"', "application/json", 400),
        (b"{}", "application/json", 400),
        (b'{"type": "message"}', "application/json", 400),
        (b'{"type": "message", "text": "hej"}', "text/plain", 415),
        (b"type=message", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_malformed_requests_get_4xx(
    session, bot, manager, db_path, data, content_type, status
):
    await manager.say("start")
    before = snapshot(db_path)
    code, text = await post_raw(session, bot, data, content_type)
    assert code == status
    assert "Traceback" not in text
    assert snapshot(db_path) == before


@pytest.mark.parametrize(
    "broken",
    [
        {"conversation": None},
        {"conversation": {"id": 5}},
        {"from": {}},
        {"serviceUrl": "ftp://example"},
        {"serviceUrl": 12},
        {"channelId": ""},
        {"type": ["message"]},
    ],
)
async def test_activities_missing_required_parts_get_400(session, bot, manager, broken):
    activity = {**manager.activity(text="hjælp"), **broken}
    code, _ = await post_raw(session, bot, json.dumps(activity).encode())
    assert code == 400


async def test_wrongly_typed_activity_fields_get_400_not_500(session, bot, manager):
    activity = {**manager.activity(text="hjælp"), "timestamp": "not a date", "entities": "x"}
    code, text = await post_raw(session, bot, json.dumps(activity).encode())
    assert code in (201, 400) and "Traceback" not in text


async def test_huge_body_gets_413(session, bot, manager):
    activity = manager.activity(text="x" * (300 * 1024))
    code, _ = await post_raw(session, bot, json.dumps(activity).encode())
    assert code == 413


async def test_local_mode_refuses_a_service_url_off_this_machine(session, bot, manager, connector):
    activity = {**manager.activity(text="hjælp"), "serviceUrl": "https://smba.example.net/emea/"}
    code, _ = await post_raw(session, bot, json.dumps(activity).encode())
    assert code == 403
    assert connector.sent == []


async def test_service_survives_bad_requests(session, bot, manager):
    for _ in range(3):
        await post_raw(session, bot, b"{bad")
    sent = await manager.say("hjælp")
    assert sent and sent[0].card is not None
    async with session.get(f"{bot.url}/healthz") as r:
        assert r.status == 200


async def test_channel_auth_is_enforced_when_an_app_id_is_set(tmp_path, session, manager):
    from tests.harness import BotServer

    server = BotServer(
        tmp_path / "auth.sqlite3",
        microsoft_app_id="00000000-0000-0000-0000-00000000abcd",
        microsoft_app_password="not-a-real-secret",
        microsoft_app_tenant_id="00000000-0000-0000-0000-0000000000001",
    )
    await server.start()
    try:
        manager.bot = server
        assert await manager.post(manager.activity(text="hjælp")) == 401
    finally:
        await server.stop()


async def test_only_allowed_tenants_reach_the_bot(tmp_path, session, manager, connector):
    from tests.harness import TENANT, BotServer

    server = BotServer(tmp_path / "tenants.sqlite3", allowed_tenant_ids=f"{TENANT.upper()}, other")
    await server.start()
    try:
        manager.bot = server
        foreign = manager.activity(text="hjælp")
        foreign["channelData"] = {"tenant": {"id": "99999999-9999-9999-9999-999999999999"}}
        foreign["conversation"]["tenantId"] = "99999999-9999-9999-9999-999999999999"
        assert await manager.post(foreign) == 403
        assert connector.sent == []
        assert await manager.post(manager.activity(text="hjælp")) == 201
        assert len(connector.sent) == 1
    finally:
        await server.stop()

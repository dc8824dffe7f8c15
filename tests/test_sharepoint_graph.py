"""The Graph client against the local Graph server: tokens from the real azure-identity
managed identity credential, the User-Agent Microsoft asks for, Retry-After, $batch, paging,
and the credential chosen by the settings."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from azure.identity import aio

from settings import Settings
from sharepoint import credentials
from sharepoint.graph import BATCH_LIMIT, USER_AGENT, GraphClient, GraphUnavailable, Response
from sharepoint.provisioning import provision
from sharepoint.runtime import graph
from tests.graph_server import Faults, GraphServer
from tests.sharepoint_agreements import LIST, SITE_URL, graph_settings


@pytest.fixture
async def server(monkeypatch) -> AsyncIterator[GraphServer]:
    s = GraphServer(page_size=4)
    await s.start()
    for key, value in s.identity_env().items():
        monkeypatch.setenv(key, value)
    yield s
    await s.stop()


def settings_for(server: GraphServer, **extra) -> Settings:
    return Settings(_env_file=None, **graph_settings(server.url, **extra))


async def test_missing_or_wrong_token_gets_401(server):
    async with aiohttp.ClientSession() as session:
        url = f"{server.url}/v1.0/sites/hjoerring.sharepoint.com:/sites/HR"
        for headers in ({}, {"Authorization": "Bearer forged"}):
            async with session.get(url, headers=headers) as r:
                assert r.status == 401
                assert (await r.json())["error"]["code"] == "InvalidAuthenticationToken"


async def test_requests_carry_the_managed_identity_token_and_the_user_agent(server):
    async with graph(settings_for(server)) as client:
        site = await client.json("GET", "/sites/hjoerring.sharepoint.com:/sites/HR")
    assert site["id"] == server.site_id
    assert server.stats.user_agents == {USER_AGENT}
    assert USER_AGENT == "NONISV|HjorringKommune|Hjemmearbejdsdialog/0.1.0"


async def test_retry_after_is_waited_for_then_the_caller_is_told(server):
    server.faults = Faults(throttle=1.0, retry_after=7)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    credential = aio.ManagedIdentityCredential()
    async with aiohttp.ClientSession() as session:
        client = GraphClient(
            session, credential, graph_host=server.url, wait_scale=0.5, sleep=sleep
        )
        with pytest.raises(GraphUnavailable) as caught:
            await client.request("GET", f"/sites/{server.site_id}")
    await credential.close()
    assert caught.value.status == 429
    # Retry-After 7 s, scaled, counted from each answer (the fake sleep takes no time, so a
    # hair less is left); no wait after the last try.
    assert waits == pytest.approx([3.5, 3.5, 3.5], abs=0.05)
    assert all(w <= 3.5 for w in waits)
    assert server.stats.http == 4


def exact_settings(server: GraphServer) -> Settings:
    """Waits not scaled: the server's Retry-After windows are real seconds."""
    return settings_for(server, graph_wait_scale=1.0)


async def test_a_429_inside_a_batch_holds_the_next_request_from_the_answer(server):
    server.faults = Faults(batch_throttle=1.0, retry_after=1, limit=2)
    path = f"/sites/{server.site_id}"
    async with graph(exact_settings(server)) as client:
        await client.json("GET", path)  # the token is fetched before the clock matters
        answers = await client.batch(
            [{"id": str(n), "method": "GET", "url": path} for n in range(5)]
        )
        assert sorted(a.status for a in answers.values()) == [200, 200, 200, 429, 429]
        await client.json("GET", path)  # the 1 s of the batch's 429s is not over yet
    [window] = server.windows
    assert window.inside_batch and window.status == 200 and window.seconds == 1
    assert server.inside_windows() == []
    after = [at for at, _ in server.arrivals if at > window.sent]
    assert window.sent + 1 <= after[0] < window.sent + 1.5  # waited, and not much longer


async def test_a_503_holds_the_next_request_and_a_success_holds_none(server):
    """A 503 with Retry-After on the outer request is retried when its window has passed,
    counted from its answer; the request after the success goes at once."""
    server.faults = Faults(unavailable=1.0, retry_after=1, limit=1)
    path = f"/sites/{server.site_id}"
    async with graph(exact_settings(server)) as client:
        await client.json("GET", path)
        started = len(server.arrivals)
        await client.json("GET", path)
    assert [w.status for w in server.windows] == [503]
    assert server.inside_windows() == []
    first, second = (at for at, _ in server.arrivals[started - 1 : started + 1])
    assert second - first < 0.5


def test_retry_after_is_read_in_seconds_and_as_an_http_date():
    assert Response(429, {"Retry-After": "3"}).retry_after() == 3.0
    assert Response(429, {"retry-after": "0"}).retry_after() == 0.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 < (Response(503, {"Retry-After": later}).retry_after() or 0) <= 30
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert Response(503, {"Retry-After": past}).retry_after() == 0.0
    assert Response(503, {"Retry-After": "soon"}).retry_after() is None
    assert Response(503, {}).retry_after() is None


async def test_5xx_and_resets_are_retried_until_they_pass(server):
    server.faults = Faults(server_error=0.3, reset=0.3, seed=3)
    async with graph(settings_for(server)) as client:
        client.attempts = 12
        for _ in range(10):
            site = await client.json("GET", f"/sites/{server.site_id}")
            assert site["id"] == server.site_id
    assert server.stats.faults.get("server_error") and server.stats.faults.get("reset")


async def test_batch_answers_each_request_on_its_own_in_any_order(server):
    server.faults = Faults(batch_throttle=0.4, retry_after=2, seed=11)
    path = f"/sites/{server.site_id}"
    async with graph(settings_for(server)) as client:
        answers = await client.batch(
            [{"id": str(n), "method": "GET", "url": path} for n in range(BATCH_LIMIT)]
        )
        with pytest.raises(ValueError):
            await client.batch([{"id": str(n), "method": "GET", "url": path} for n in range(21)])
        raw = await client.send(
            "POST",
            "/$batch",
            json_body={
                "requests": [{"id": str(n), "method": "GET", "url": path} for n in range(21)]
            },
        )
    assert set(answers) == {str(n) for n in range(BATCH_LIMIT)}
    throttled = [a for a in answers.values() if a.status == 429]
    assert throttled and all(a.retry_after() == 2 for a in throttled)
    assert all(a.body["id"] == server.site_id for a in answers.values() if a.status == 200)
    assert raw.status == 400  # more than 20 requests: the whole batch is refused
    assert server.stats.max_batch == BATCH_LIMIT


async def test_collections_are_read_across_pages(server):
    async with graph(settings_for(server)) as client:
        report = await provision(client, SITE_URL, LIST, "", "Aftaler")
        site = report.target.site_id  # type: ignore[union-attr]
        list_id = report.target.list_id  # type: ignore[union-attr]
        names = [c["name"] async for c in client.pages(f"/sites/{site}/lists/{list_id}/columns")]
        first = await client.json("GET", f"/sites/{site}/lists/{list_id}/columns")
    assert len(names) == len(server.the_list(LIST)["columns"]) > server.page_size
    assert len(first["value"]) == server.page_size and "@odata.nextLink" in first
    assert math.ceil(len(names) / server.page_size) > 1


async def test_filtering_needs_an_indexed_column(server):
    async with graph(settings_for(server)) as client:
        report = await provision(client, SITE_URL, LIST, "", "Aftaler")
        items = report.target.items  # type: ignore[union-attr]
        indexed = await client.request("GET", f"{items}?$filter=fields/AgreementKey eq 'x'")
        plain = await client.request("GET", f"{items}?$filter=fields/EmployeeName eq 'x'")
    assert indexed.status == 200 and indexed.body["value"] == []
    assert plain.status == 400


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("client_secret", {"graph_client_secret": "s3cret"}, aio.ClientSecretCredential),
        ("certificate", {"graph_certificate_path": "__CERT__"}, aio.CertificateCredential),
        ("managed_identity", {}, aio.ManagedIdentityCredential),
        ("workload_identity", {}, aio.WorkloadIdentityCredential),
    ],
)
async def test_the_setting_chooses_the_credential(kind, extra, expected, tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("federated")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    if extra.get("graph_certificate_path") == "__CERT__":
        extra = {"graph_certificate_path": str(make_certificate(tmp_path))}
    settings = Settings(
        _env_file=None,
        graph_credential=kind,
        graph_tenant_id="00000000-0000-0000-0000-000000000001",
        graph_client_id="00000000-0000-0000-0000-000000000002",
        graph_authority_host="login.microsoftonline.us",
        **extra,
    )
    credential = credentials.create_credential(settings)
    try:
        assert isinstance(credential, expected)
        if kind in ("client_secret", "certificate"):  # the sovereign cloud's authority
            assert credential._client._authority == "https://login.microsoftonline.us"
    finally:
        await credential.close()


def test_a_credential_with_missing_settings_is_named():
    settings = Settings(_env_file=None, graph_credential="client_secret")
    problem = credentials.credential_problem(settings)
    assert problem is not None and "GRAPH_TENANT_ID" in problem and "GRAPH_CLIENT_SECRET" in problem
    with pytest.raises(ValueError):
        credentials.create_credential(settings)
    assert (
        credentials.credential_problem(
            Settings(_env_file=None, graph_credential="managed_identity")
        )
        is None
    )


def make_certificate(tmp_path):
    """A self-signed PEM certificate with its key, as CertificateCredential reads it."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hjemmearbejdsdialog")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "graph.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path

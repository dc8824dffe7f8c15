"""The overview page's world for the tests: Entra ID as the local OpenID issuer (tests/
openid_issuer.py, serving a tenant's v2.0 metadata and keys), the directory as the local
Graph server (tests/graph_server.py: a work-environment group for Borgerservice, a MED
group for Vej og Park), HR for every unit by object id, an outsider, and agreements concluded in
three units through the bot's own stores (tests/overview_seed.py). tests/conftest.py
imports the fixtures.

A page token carries the claims of a Teams SSO access token ("Enable SSO for tab app",
learn.microsoft.com): ``iss``, ``aud`` ``api://<domain>/<app id>``, ``tid``, ``oid``,
``scp`` ``access_as_user``, ``exp``/``nbf``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.graph_server import GraphServer
from tests.harness import TENANT, BotServer
from tests.openid_issuer import OpenIdIssuer
from tests.overview_seed import seed_agreements

APP_ID = "5f0c2d1e-7a43-4b8e-9c61-2e8d4f7a9b30"
DOMAIN = "hjemmearbejde.example.dk"
AUDIENCE = f"api://{DOMAIN}/{APP_ID}"
OTHER_TENANT = "99999999-9999-9999-9999-999999999999"
WORK_ENVIRONMENT = "a1a1a1a1-0000-4000-8000-000000000001"  # the group's member
MED_MEMBER = "a1a1a1a1-0000-4000-8000-000000000002"
HR = "a1a1a1a1-0000-4000-8000-000000000003"
OUTSIDER = "a1a1a1a1-0000-4000-8000-000000000004"
WE_GROUP = "b2b2b2b2-0000-4000-8000-000000000001"
MED_GROUP = "b2b2b2b2-0000-4000-8000-000000000002"
#: Agreements concluded today, by unit.
SEEDED = {"Borgerservice": 6, "Vej og Park": 3, "Kultur": 4}
K = 3


@pytest.fixture
def overview_issuer() -> Iterator[OpenIdIssuer]:
    server = OpenIdIssuer(issuer=f"https://login.microsoftonline.com/{TENANT}/v2.0")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def overview_graph(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphServer]:
    server = GraphServer()
    await server.start()
    for key, value in server.identity_env().items():
        monkeypatch.setenv(key, value)
    for user in (WORK_ENVIRONMENT, MED_MEMBER, HR, OUTSIDER):
        server.directory.add_user(user, department="Borgerservice")
    server.directory.groups[WE_GROUP] = {WORK_ENVIRONMENT}
    server.directory.groups[MED_GROUP] = {MED_MEMBER}
    yield server
    await server.stop()


def signed_in_settings(entra: OpenIdIssuer, graph: GraphServer) -> dict[str, Any]:
    return {
        "microsoft_app_id": APP_ID,
        "microsoft_app_password": "placeholder",
        "microsoft_app_tenant_id": TENANT,
        "allowed_tenant_ids": TENANT,
        "entra_openid_metadata_url": entra.metadata_url,
        "channel_openid_metadata_url": entra.metadata_url,
        "channel_token_issuer": entra.issuer,
        "bot_domain": DOMAIN,
        "overview_min_group": K,
        "access_checks": "graph",
        "graph_credential": "managed_identity",
        "graph_host": graph.url,
        "graph_wait_scale": 0.01,
        "access_timeout": 2,
        "work_environment_groups": f"{WE_GROUP}:Borgerservice",
        "med_groups": f"{MED_GROUP}:Vej og Park",
        "hr_users": f"{HR}:*",
    }


@pytest.fixture
async def signed_in_bot(db_path, overview_issuer, overview_graph) -> AsyncIterator[BotServer]:
    """The bot with an app id (Teams SSO on), over seeded agreements."""
    await seed_agreements(db_path, SEEDED)
    server = BotServer(db_path, **signed_in_settings(overview_issuer, overview_graph))
    await server.start()
    yield server
    await server.stop()


def page_claims(entra: OpenIdIssuer, user: str, **overrides: Any) -> dict[str, Any]:
    sso = {"serviceurl": None, "tid": TENANT, "oid": user, "scp": "access_as_user", "ver": "2.0"}
    return entra.claims(AUDIENCE, "", **{**sso, **overrides})


def page_token(entra: OpenIdIssuer, user: str, **overrides: Any) -> str:
    return entra.sign(page_claims(entra, user, **overrides))

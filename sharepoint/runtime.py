"""Build the Graph client, the credential and the syncer from the settings, and close them:
one credential and one HTTP session per process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from settings import Settings
from sharepoint.credentials import create_credential
from sharepoint.graph import USER_AGENT, GraphClient
from sharepoint.site import Target, resolve
from sharepoint.syncer import Syncer
from store.database import Database
from store.outbox import Outbox


@asynccontextmanager
async def graph(settings: Settings, credential: Any = None) -> AsyncIterator[GraphClient]:
    """A Graph client for the process; the credential and the session are closed after."""
    own = credential is None
    credential = credential or create_credential(settings)
    try:
        async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session:
            yield GraphClient(
                session,
                credential,
                graph_host=settings.graph_host,
                timeout=settings.graph_timeout,
                wait_scale=settings.graph_wait_scale,
            )
    finally:
        if own:
            await credential.close()


def locator(client: GraphClient, settings: Settings) -> Callable[[], Awaitable[Target]]:
    async def locate() -> Target:
        return await resolve(
            client,
            settings.sharepoint_site_url,
            settings.sharepoint_list_name,
            settings.sharepoint_library,
            settings.sharepoint_folder,
            settings.sharepoint_actions_list_name,
        )

    return locate


def syncer(db: Database, client: GraphClient, settings: Settings) -> Syncer:
    return Syncer(
        Outbox(db), client, locator(client, settings), interval=settings.sharepoint_sync_interval
    )

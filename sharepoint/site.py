"""Where the agreements go: the site, the two lists (agreements, action items) and the
document folder, found by the names in the settings (read-only; ``provisioning`` creates
what is missing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlparse

from sharepoint.graph import GraphClient, GraphError

#: The second list's name unless the settings name another (SHAREPOINT_ACTIONS_LIST_NAME).
ACTIONS_LIST = "Hjemmearbejdsopgaver"


class NotProvisioned(Exception):
    """The list or the folder is missing: run ``python -m sharepoint provision``."""


@dataclass(frozen=True)
class Target:
    site_id: str
    list_id: str
    drive_id: str
    folder_id: str
    folder_url: str
    actions_list_id: str = ""

    @property
    def items(self) -> str:
        return f"/sites/{self.site_id}/lists/{self.list_id}/items"

    @property
    def action_items(self) -> str:
        """The items of the second list: one per dialogue, agreement version and action."""
        return f"/sites/{self.site_id}/lists/{self.actions_list_id}/items"

    def upload_path(self, name: str) -> str:
        return f"/drives/{self.drive_id}/items/{self.folder_id}:/{quote(name)}:/content"

    def document_url(self, name: str) -> str:
        """The summary document's address: the folder's address and the file name, known
        before the upload, so that the item and the document can be sent in any order."""
        return f"{self.folder_url.rstrip('/')}/{quote(name)}"


def site_path(site_url: str) -> str:
    """``GET /sites/{hostname}:/{server-relative-path}`` for a site URL."""
    parsed = urlparse(site_url.strip())
    if parsed.scheme != "https" or not parsed.hostname:
        raise ValueError("SHAREPOINT_SITE_URL must be an https:// address of a SharePoint site")
    path = parsed.path.rstrip("/")
    return f"/sites/{parsed.hostname}:{path}" if path else f"/sites/{parsed.hostname}"


async def get_site(client: GraphClient, site_url: str) -> dict[str, Any]:
    site: dict[str, Any] = await client.json("GET", site_path(site_url))
    return site


async def find_list(client: GraphClient, site_id: str, name: str) -> dict[str, Any] | None:
    async for found in client.pages(f"/sites/{site_id}/lists?$select=id,name,displayName"):
        if name in (found.get("displayName"), found.get("name")):
            return found
    return None


async def find_drive(client: GraphClient, site_id: str, library: str) -> dict[str, Any] | None:
    if not library:
        drive: dict[str, Any] = await client.json("GET", f"/sites/{site_id}/drive")
        return drive
    async for found in client.pages(f"/sites/{site_id}/drives?$select=id,name,webUrl"):
        if found.get("name") == library:
            return found
    return None


async def find_folder(client: GraphClient, drive_id: str, folder: str) -> dict[str, Any] | None:
    response = await client.request("GET", f"/drives/{drive_id}/root:/{quote(folder)}")
    if response.status == 404:
        return None
    if not response.ok:
        raise GraphError(response.status, "folder lookup failed")
    found: dict[str, Any] = response.body
    return found


async def resolve(
    client: GraphClient,
    site_url: str,
    list_name: str,
    library: str,
    folder: str,
    actions_list: str = ACTIONS_LIST,
) -> Target:
    site = await get_site(client, site_url)
    found_list = await find_list(client, site["id"], list_name)
    found_actions = await find_list(client, site["id"], actions_list)
    drive = await find_drive(client, site["id"], library)
    found_folder = await find_folder(client, drive["id"], folder) if drive else None
    if not found_list or not found_actions or not drive or not found_folder:
        raise NotProvisioned("a SharePoint list or the folder is missing")
    return Target(
        site_id=site["id"],
        list_id=found_list["id"],
        drive_id=drive["id"],
        folder_id=found_folder["id"],
        folder_url=found_folder["webUrl"],
        actions_list_id=found_actions["id"],
    )

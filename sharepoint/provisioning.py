"""Create the agreements list and the action items list, their columns and indexes, and the
folder for the summary documents: idempotent, so a second run changes nothing and says so.

Creating a list needs more than the "write" role of Sites.Selected: provision once with the
"fullcontrol" grant, then lower the grant to "write" for the running bot (docs/deploy.md,
step 9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sharepoint import schema
from sharepoint.graph import GraphClient, GraphError
from sharepoint.site import ACTIONS_LIST, Target, find_drive, find_folder, find_list, get_site

_TYPES = ("text", "number", "dateTime", "choice", "boolean")


def _type(column: dict[str, Any]) -> str | None:
    return next((t for t in _TYPES if t in column), None)


@dataclass
class Report:
    changes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    target: Target | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes)


async def provision(
    client: GraphClient,
    site_url: str,
    list_name: str,
    library: str,
    folder: str,
    report: Report | None = None,
    *,
    actions_list: str = ACTIONS_LIST,
) -> Report:
    """Make what is missing; the changes go into ``report`` as they are made, so a caller
    whose run is cut short (Graph down or throttling too long) can still say what changed."""
    report = Report() if report is None else report
    site = await get_site(client, site_url)
    site_id = site["id"]
    list_id = await _ensure_list(client, site_id, list_name, schema.columns(), report)
    actions_id = await _ensure_list(client, site_id, actions_list, schema.action_columns(), report)

    drive = await find_drive(client, site_id, library)
    if drive is None:
        raise GraphError(404, f"document library {library!r} not found on the site")
    made = await find_folder(client, drive["id"], folder)
    if made is None:
        made = await client.json(
            "POST",
            f"/drives/{drive['id']}/root/children",
            {"name": folder, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"},
        )
        report.changes.append(f"folder created: {folder}")
    report.target = Target(
        site_id, list_id, drive["id"], made["id"], made["webUrl"], actions_list_id=actions_id
    )
    return report


async def _ensure_list(
    client: GraphClient,
    site_id: str,
    list_name: str,
    wanted: list[dict[str, Any]],
    report: Report,
) -> str:
    """The list with these columns (typed, indexed, unique as wanted); its id."""
    found = await find_list(client, site_id, list_name)
    if found is None:
        found = await client.json(
            "POST",
            f"/sites/{site_id}/lists",
            {"displayName": list_name, "columns": wanted, "list": {"template": "genericList"}},
        )
        report.changes.append(f"list created: {list_name} ({len(wanted)} columns)")
    list_id = found["id"]

    existing = {
        c["name"]: c async for c in client.pages(f"/sites/{site_id}/lists/{list_id}/columns")
    }
    for column in wanted:
        have = existing.get(column["name"])
        if have is None:
            await client.json("POST", f"/sites/{site_id}/lists/{list_id}/columns", column)
            report.changes.append(f"column added: {column['name']}")
            continue
        if _type(have) != _type(column):
            report.problems.append(
                f"column {column['name']} is {_type(have)}, expected {_type(column)}: not changed"
            )
            continue
        patch = {
            key: True
            for key in ("indexed", "enforceUniqueValues")
            if column.get(key) and not have.get(key)
        }
        if patch:
            await client.json(
                "PATCH", f"/sites/{site_id}/lists/{list_id}/columns/{have['id']}", patch
            )
            report.changes.append(f"column {column['name']}: {', '.join(sorted(patch))} set")
    return str(list_id)

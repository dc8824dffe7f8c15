"""The overview page in the Teams app and its endpoints: ``install(app)`` adds them.

- ``GET /overview``: the page (a personal tab), static HTML of ours in the viewer's language
  (``?locale=``; Teams fills it in from the manifest's ``contentUrl``), under a strict
  Content-Security-Policy that lets only Teams frame it;
- ``GET /overview/static/<name>``: its script and style sheet, and chart.js and teams-js as
  scripts/setup.sh copies them from node_modules (web/vendor.py);
- ``GET /api/overview?unit=&period=``: the anonymous figures (core/overview_model.py) as JSON;
- ``GET /api/overview/export?format=csv|xlsx&unit=&period=``: the same as a file.

The page signs in with Teams SSO and sends the token as ``Authorization: Bearer``
(bot/bearer_tokens.py ``SignInTokens``). A missing or refused token gets 401 with
``WWW-Authenticate: Bearer``; a user outside the work-environment groups, MED and HR, or a
unit they may not see, 403; a malformed query 400. None of these bodies holds a figure. In
local mode (no app id) there is no sign-in: the endpoints answer only this machine, for
every unit, and the page says so. Tokens, names and figures are never logged.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.bearer_tokens import SignInTokens, TokenRefused
from bot.openid_keys import OpenIdKeys
from core.access import ALL_UNITS, covers
from core.overview import selectable_periods
from core.overview_export import overview_csv, overview_xlsx
from core.overview_model import Overview
from core.texts import pick_locale
from dialogs.access import Access, DirectoryUnavailable
from settings import Settings
from store.database import Database, StoreError
from store.overview import known_units, load_overview
from web import vendor
from web.overview_page import render_page

log = logging.getLogger(__name__)

#: Where a Teams client frames a tab: Teams on the web and desktop, the new Microsoft 365
#: domains (cloud.microsoft) and Outlook/Microsoft 365 app hosts of Teams apps.
FRAME_ANCESTORS = (
    "'self' https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft"
    " https://*.office.com https://*.microsoft365.com https://*.outlook.com https://*.skype.com"
)
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; base-uri 'none'; form-action 'none';"
    f" frame-ancestors {FRAME_ANCESTORS}"
)
_SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_NO_STORE = {"Cache-Control": "no-store", **_SECURITY}
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_FILE_TYPES = {"csv": "text/csv", "xlsx": vendor.XLSX}


class OverviewQuery(BaseModel):
    """The query of both endpoints; anything else in it is a malformed request."""

    model_config = ConfigDict(extra="forbid")

    #: A unit's name; empty: every unit the viewer may see.
    unit: str = Field("", max_length=200)
    #: A period key ("2026", "2026-Q3", "2026-09"); empty: the first one offered.
    period: str = Field("", pattern=r"^(\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?)?$")
    locale: str = Field("", max_length=20)


class ExportQuery(OverviewQuery):
    format: Literal["csv", "xlsx"]


class Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def _error(status: int, error: str, **headers: str) -> Refused:
    return Refused(web.json_response({"error": error}, status=status, headers=_NO_STORE | headers))


def _unauthorized(why: str, *, token_sent: bool = True) -> Refused:
    """401 with the challenge of RFC 6750: no error code when no token came at all."""
    log.warning("overview refused: %s", why)  # the reason only, never the token
    challenge = 'Bearer realm="overview"'
    if token_sent:
        challenge += ', error="invalid_token"'
    return _error(401, "unauthorized", **{"WWW-Authenticate": challenge})


def _is_loopback(remote: str | None) -> bool:
    try:
        return ipaddress.ip_address(remote or "").is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Viewer:
    units: frozenset[str]
    local: bool


class OverviewRoutes:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        access: Access,
        tokens: SignInTokens | None,
        today: Callable[[], date],
    ) -> None:
        self.settings = settings
        self.db = db
        self.access = access
        self.tokens = tokens
        self.today = today

    def install(self, app: web.Application) -> None:
        app.router.add_get("/overview", self.page)
        app.router.add_get("/overview/static/{name}", self.static)
        app.router.add_get("/api/overview", self.figures)
        app.router.add_get("/api/overview/export", self.export)

    # --- the page --------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        locale = pick_locale(request.query.get("locale"))
        html = render_page(
            locale,
            local=self.settings.local_mode,
            k=self.settings.overview_min_group,
            # A Teams client that does not fill in the manifest's {locale} leaves it as it is:
            # then the page takes the language from teams-js's context instead.
            locale_given=bool(_LOCALE.match(request.query.get("locale", ""))),
        )
        headers = {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"}
        return web.Response(
            text=html, content_type="text/html", charset="utf-8", headers=headers | _SECURITY
        )

    async def static(self, request: web.Request) -> web.StreamResponse:
        found = vendor.asset(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        path, content_type = found
        if not path.is_file():
            log.warning(
                "overview asset missing: run scripts/setup.sh (copies it from node_modules)"
            )
            raise web.HTTPNotFound()
        headers = {"Content-Type": content_type, "Cache-Control": "no-cache", **_SECURITY}
        return web.FileResponse(path, headers=headers)

    # --- the figures -----------------------------------------------------------------------

    async def _viewer(self, request: web.Request) -> Viewer:
        if self.settings.local_mode:
            if not _is_loopback(request.remote):
                raise _error(403, "local mode answers only this machine")
            return Viewer(frozenset({ALL_UNITS}), local=True)
        if self.tokens is None:
            raise _unauthorized("no sign-in configured")
        header = request.headers.get("Authorization", "")
        try:
            user = await self.tokens.user(header)
        except TokenRefused as refused:
            raise _unauthorized(str(refused), token_sent=bool(header.strip())) from None
        try:
            units = await self.access.overview_units(user)
        except DirectoryUnavailable:
            log.warning("overview refused: the directory did not answer")
            raise _error(503, "directory unavailable") from None
        if not units:
            log.warning("overview refused: not in a work-environment, MED or HR group")
            raise _error(403, "forbidden")
        return Viewer(units, local=False)

    async def _overview(
        self, request: web.Request, model: type[OverviewQuery]
    ) -> tuple[Viewer, OverviewQuery, Overview]:
        viewer = await self._viewer(request)
        if len(request.query) != len(set(request.query)):
            raise _error(400, "malformed query")  # a key given twice
        try:
            query = model.model_validate(dict(request.query))
        except ValidationError:
            raise _error(400, "malformed query") from None
        if query.unit and not covers(viewer.units, query.unit):
            log.warning("overview refused: a unit the viewer may not see")
            raise _error(403, "forbidden")
        locale = pick_locale(query.locale or None)
        periods = selectable_periods(self.today(), locale)
        period = query.period or periods[0].key
        if ALL_UNITS in viewer.units:
            scope = None
        else:
            scope = viewer.units
        if query.unit:
            scope = frozenset({query.unit.strip().casefold()})
        try:
            overview = await load_overview(
                self.db,
                units=scope,
                period=period,
                locale=locale,
                k=self.settings.overview_min_group,
                today=self.today(),
            )
        except ValueError:
            raise _error(400, "unknown period") from None
        except StoreError:
            raise _error(503, "store unavailable") from None
        return viewer, query, overview

    async def _units(self, viewer: Viewer) -> list[str]:
        """The units of the unit filter: those the viewer may see, spelt as stored."""
        known = await known_units(self.db)
        if ALL_UNITS in viewer.units:
            return known
        spelt = {u.casefold(): u for u in known}
        return sorted((spelt.get(u, u) for u in viewer.units), key=str.casefold)

    async def figures(self, request: web.Request) -> web.Response:
        try:
            viewer, query, overview = await self._overview(request, OverviewQuery)
            units = await self._units(viewer)
        except Refused as refused:
            return refused.response
        except StoreError:
            return _error(503, "store unavailable").response
        body: dict[str, Any] = {
            "mode": "local" if viewer.local else "signed_in",
            "unit": query.unit,
            "units": units,
            "periods": [
                {"key": p.key, "label": p.label}
                for p in selectable_periods(self.today(), overview.locale)
            ],
            "overview": overview.model_dump(mode="json"),
        }
        return web.json_response(body, headers=_NO_STORE)

    async def export(self, request: web.Request) -> web.Response:
        try:
            _, query, overview = await self._overview(request, ExportQuery)
        except Refused as refused:
            return refused.response
        kind = query.format  # type: ignore[attr-defined]
        body = overview_csv(overview) if kind == "csv" else overview_xlsx(overview)
        name = f"apv-overblik-{overview.period.key}.{kind}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"', **_NO_STORE}
        charset = "utf-8" if kind == "csv" else None
        return web.Response(
            body=body, content_type=_FILE_TYPES[kind], charset=charset, headers=headers
        )


def page_url(settings: Settings) -> str:
    """Where the page is: on BOT_DOMAIN, or on this machine in local mode."""
    if settings.bot_domain:
        return f"https://{settings.bot_domain}/overview"
    return f"http://127.0.0.1:{settings.port}/overview"


def install(
    app: web.Application,
    settings: Settings,
    db: Database,
    access: Access,
    today: Callable[[], date],
) -> None:
    """The page and its endpoints on ``app``; with an app id, the sign-in tokens are checked
    against the tenant's keys (fetched on first use, closed with the app)."""
    tokens = None
    if not settings.local_mode:
        tenants = settings.allowed_tenants or frozenset({settings.microsoft_app_tenant_id} - {""})
        keys = OpenIdKeys(settings.entra_metadata_url)
        tokens = SignInTokens(keys, settings.microsoft_app_id, settings.bot_domain, tenants)

        async def close_keys(_app: web.Application) -> None:
            await keys.close()

        app.on_cleanup.append(close_keys)
    OverviewRoutes(settings, db, access, tokens, today).install(app)

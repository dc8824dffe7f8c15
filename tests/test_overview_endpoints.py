"""The overview's endpoints through the real aiohttp app: GET /api/overview and
/api/overview/export answer a Teams SSO token of the work-environment group, MED or HR with
the figures of their units only; every other token gets 401 with WWW-Authenticate and no
figure, a user outside the groups or a unit not theirs 403, a malformed query 400. The page
itself is our static HTML under a strict Content-Security-Policy. In local mode the endpoints
work without sign-in and the page says so.

What is asserted about the figures is what the page shows: which units, that every hidden
cell has no value; never the placeholder's exact numbers (tests/overview_setup.py)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from core.texts import texts_for
from tests.harness import BotServer
from tests.openid_issuer import OpenIdIssuer, new_rsa_key
from tests.overview_seed import seed_agreements
from tests.overview_setup import (
    APP_ID,
    HR,
    MED_MEMBER,
    OTHER_TENANT,
    OUTSIDER,
    SEEDED,
    TENANT,
    WORK_ENVIRONMENT,
    page_claims,
    page_token,
)

pytestmark = pytest.mark.both_engines

WHOLE = None  # the whole municipality's UnitOverview has unit None


async def get(session, bot: BotServer, path: str, token: str | None = None, **headers: str):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with session.get(bot.url + path, headers=headers) as response:
        return response.status, dict(response.headers), await response.read()


async def figures(session, bot, token, query: str = "") -> dict[str, Any]:
    status, _, body = await get(session, bot, "/api/overview" + query, token)
    assert status == 200, body
    found: dict[str, Any] = json.loads(body)
    return found


def shown_units(body: dict[str, Any]) -> list[str | None]:
    return [u["unit"] for u in body["overview"]["units"]]


def cells(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for unit in body["overview"]["units"]:
        found.append(unit["people"])
        for figure in unit["figures"]:
            for series in figure["series"]:
                found.extend(series["cells"])
    return found


async def test_the_work_environment_group_sees_its_unit_and_the_municipality(
    session, signed_in_bot, overview_issuer
):
    body = await figures(session, signed_in_bot, page_token(overview_issuer, WORK_ENVIRONMENT))
    assert body["mode"] == "signed_in"
    assert shown_units(body) == ["Borgerservice", WHOLE]
    assert body["units"] == ["Borgerservice"]  # the unit filter offers only theirs
    assert "Vej og Park" not in str(body) and "Kultur" not in str(body)
    assert body["periods"] and body["overview"]["period"]["key"] == body["periods"][0]["key"]
    assert all(c["value"] is None for c in cells(body) if c["suppressed"])
    assert any(not c["suppressed"] for c in cells(body))  # 6 agreements, k = 2


async def test_med_members_see_their_unit_and_hr_every_unit(
    session, signed_in_bot, overview_issuer
):
    med = await figures(session, signed_in_bot, page_token(overview_issuer, MED_MEMBER))
    assert shown_units(med) == ["Vej og Park", WHOLE]
    hr = await figures(session, signed_in_bot, page_token(overview_issuer, HR))
    assert shown_units(hr) == [*sorted(SEEDED), WHOLE]
    assert hr["units"] == sorted(SEEDED)


async def test_the_unit_filter_narrows_to_one_of_the_viewers_units(
    session, signed_in_bot, overview_issuer
):
    token = page_token(overview_issuer, HR)
    body = await figures(session, signed_in_bot, token, "?unit=kultur&locale=en-US")
    assert shown_units(body)[0] == "Kultur" and len(shown_units(body)) == 2
    assert body["overview"]["locale"] == "en-US"


VALID: dict[str, Callable[[OpenIdIssuer], str]] = {
    "v2-issuer-app-id-uri": lambda e: page_token(e, WORK_ENVIRONMENT),
    # Teams' default: a v1.0 token (sts.windows.net) for the Application ID URI
    "v1-issuer": lambda e: page_token(
        e, WORK_ENVIRONMENT, iss=f"https://sts.windows.net/{TENANT}/"
    ),
    # a v2.0 token names the API by its app id
    "bare-app-id": lambda e: page_token(e, WORK_ENVIRONMENT, aud=APP_ID),
}


@pytest.mark.parametrize("case", list(VALID))
async def test_teams_sso_tokens_are_accepted(case, session, signed_in_bot, overview_issuer):
    body = await figures(session, signed_in_bot, VALID[case](overview_issuer))
    assert shown_units(body) == ["Borgerservice", WHOLE]


REFUSED: dict[str, Callable[[OpenIdIssuer], str | None]] = {
    "no-token": lambda e: None,
    "expired": lambda e: page_token(e, WORK_ENVIRONMENT, exp=int(time.time()) - 3600, nbf=0, iat=0),
    "other-audience": lambda e: page_token(e, WORK_ENVIRONMENT, aud="https://graph.microsoft.com"),
    "other-app": lambda e: page_token(e, WORK_ENVIRONMENT, aud="api://elsewhere.example/x"),
    "other-tenant-issuer": lambda e: page_token(
        e, WORK_ENVIRONMENT, iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"
    ),
    "other-tenant-claim": lambda e: page_token(e, WORK_ENVIRONMENT, tid=OTHER_TENANT),
    "bad-signature": lambda e: e.sign(page_claims(e, WORK_ENVIRONMENT), key=new_rsa_key()),
    "unknown-key": lambda e: e.sign(page_claims(e, WORK_ENVIRONMENT), key=new_rsa_key(), kid="x"),
    "alg-none": lambda e: e.unsigned_token(page_claims(e, WORK_ENVIRONMENT)),
    "alg-hs256": lambda e: e.hs256_with_public_key(page_claims(e, WORK_ENVIRONMENT)),
    "an-apps-token": lambda e: page_token(e, WORK_ENVIRONMENT, scp=None, roles=["x"]),
    "no-object-id": lambda e: page_token(e, WORK_ENVIRONMENT, oid=None),
    "not-a-jwt": lambda e: "not.a.token",
}


@pytest.mark.parametrize("path", ["/api/overview", "/api/overview/export?format=csv"])
@pytest.mark.parametrize("case", list(REFUSED))
async def test_other_tokens_get_401_and_no_figures(
    case, path, session, signed_in_bot, overview_issuer
):
    status, headers, body = await get(session, signed_in_bot, path, REFUSED[case](overview_issuer))
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert b"overview" not in body and b"Borgerservice" not in body


async def test_a_basic_or_empty_authorization_is_401(session, signed_in_bot):
    for header in ("Basic dXNlcjpwYXNz", "Bearer ", "Bearer"):
        status, headers, _ = await get(
            session, signed_in_bot, "/api/overview", Authorization=header
        )
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_user_outside_the_groups_gets_403_and_no_figures(
    session, signed_in_bot, overview_issuer
):
    for path in ("/api/overview", "/api/overview/export?format=xlsx"):
        status, _, body = await get(
            session, signed_in_bot, path, page_token(overview_issuer, OUTSIDER)
        )
        assert status == 403
        assert b"overview" not in body and b"Borgerservice" not in body


async def test_a_unit_that_is_not_theirs_gets_403(session, signed_in_bot, overview_issuer):
    token = page_token(overview_issuer, WORK_ENVIRONMENT)
    for path in (
        "/api/overview?unit=Vej%20og%20Park",
        "/api/overview/export?format=csv&unit=Vej%20og%20Park",
    ):
        status, _, body = await get(session, signed_in_bot, path, token)
        assert status == 403 and b"Vej og Park" not in body


@pytest.mark.parametrize(
    "query",
    [
        "?period=last-year",
        "?period=2026-13",
        "?period=1999",  # well-formed, but not a period the page offers
        "?colour=red",
        "?unit=" + "x" * 300,
        "?period=2026&period=2025",
    ],
)
async def test_a_malformed_query_gets_400(query, session, signed_in_bot, overview_issuer):
    status, _, body = await get(
        session, signed_in_bot, "/api/overview" + query, page_token(overview_issuer, HR)
    )
    assert status == 400 and b"overview" not in body


@pytest.mark.parametrize("query", ["", "?format=pdf", "?format=csv&extra=1"])
async def test_an_export_without_a_known_format_gets_400(
    query, session, signed_in_bot, overview_issuer
):
    status, _, _ = await get(
        session, signed_in_bot, "/api/overview/export" + query, page_token(overview_issuer, HR)
    )
    assert status == 400


@pytest.mark.parametrize(
    ("kind", "content_type", "magic"),
    [
        ("csv", "text/csv", b"\xef\xbb\xbf"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ],
)
async def test_the_export_is_an_attachment(
    kind, content_type, magic, session, signed_in_bot, overview_issuer
):
    status, headers, body = await get(
        session,
        signed_in_bot,
        f"/api/overview/export?format={kind}",
        page_token(overview_issuer, WORK_ENVIRONMENT),
    )
    assert status == 200
    assert headers["Content-Type"].startswith(content_type)
    assert re.fullmatch(rf'attachment; filename="[\w.-]+\.{kind}"', headers["Content-Disposition"])
    assert headers["Cache-Control"] == "no-store"
    assert body.startswith(magic)
    if kind == "csv":
        text = body.decode("utf-8-sig")
        assert "Borgerservice" in text and "Vej og Park" not in text


async def test_the_page_is_our_static_html_under_a_strict_policy(session, signed_in_bot):
    status, headers, body = await get(session, signed_in_bot, "/overview")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'self' https://teams.microsoft.com" in policy
    html = body.decode()
    assert '<html lang="da">' in html
    assert texts_for("da-DK")("overview.page.title") in html
    # no inline script: every script is a file of ours, or a JSON data block
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/overview/static/' in tag or 'type="application/json"' in tag
    assert texts_for("da-DK")("overview.page.local_banner") not in html
    _, _, english = await get(session, signed_in_bot, "/overview?locale=en-GB")
    assert b'<html lang="en">' in english
    assert texts_for("en-US")("overview.page.title").encode() in english


@pytest.mark.parametrize(
    "name",
    [
        "overview.js",
        "overview.css",
        "chart.umd.min.js",
        "MicrosoftTeams.min.js",
        "chart.js-LICENSE.txt",
        "teams-js-LICENSE.txt",
    ],
)
async def test_the_pages_files_are_served(name, session, signed_in_bot):
    status, headers, body = await get(session, signed_in_bot, f"/overview/static/{name}")
    assert status == 200 and body, "run scripts/setup.sh (python -m web.vendor) first"
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_nothing_else_is_served_from_the_static_path(session, signed_in_bot):
    for name in ("overview.html.j2", "..%2Fsettings.py", "vendor.py"):
        status, _, _ = await get(session, signed_in_bot, f"/overview/static/{name}")
        assert status == 404


async def test_local_mode_works_without_sign_in_and_says_so(session, db_path):
    await seed_agreements(db_path, SEEDED)
    bot = BotServer(db_path, overview_min_group=3)
    await bot.start()
    try:
        body = await figures(session, bot, None)
        assert body["mode"] == "local"
        assert shown_units(body) == [*sorted(SEEDED), WHOLE]
        _, _, html = await get(session, bot, "/overview")
        assert texts_for("da-DK")("overview.page.local_banner").encode() in html
    finally:
        await bot.stop()


async def test_a_directory_that_cannot_answer_gives_503_and_no_figures(
    session, signed_in_bot, overview_issuer, overview_graph
):
    overview_graph.directory.forbidden = True  # Graph answers 403 Authorization_RequestDenied
    status, _, body = await get(
        session, signed_in_bot, "/api/overview", page_token(overview_issuer, WORK_ENVIRONMENT)
    )
    assert status == 503 and b"overview" not in body and b"Borgerservice" not in body


async def test_no_token_or_object_id_in_the_logs(session, signed_in_bot, overview_issuer, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = [
        page_token(overview_issuer, WORK_ENVIRONMENT),
        page_token(overview_issuer, OUTSIDER),
        page_token(overview_issuer, WORK_ENVIRONMENT, aud="api://other/x"),
    ]
    for token in tokens:
        await get(session, signed_in_bot, "/api/overview", token)
        await get(session, signed_in_bot, "/api/overview/export?format=csv", token)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "overview refused" in logged  # the refusals are logged, by reason
    for secret in (*tokens, *(t.split(".")[1] for t in tokens), WORK_ENVIRONMENT, OUTSIDER):
        assert secret not in logged


@pytest.mark.parametrize(
    ("query", "lang", "given"),
    [("?locale=en-US", "en", True), ("?locale=%7Blocale%7D", "da", False), ("", "da", False)],
)
async def test_the_page_takes_the_language_from_the_url_or_else_from_teams(
    query, lang, given, session, signed_in_bot
):
    """A locale in the URL decides; a placeholder Teams left unfilled, or none, lets the page
    ask teams-js's context (the browser test follows that path)."""
    _, _, body = await get(session, signed_in_bot, "/overview" + query)
    html = body.decode()
    assert f'<html lang="{lang}">' in html
    data = re.search(r'<script type="application/json" id="overview-data">(.*?)</script>', html)
    assert data is not None and json.loads(data.group(1))["localeGiven"] is given

"""The overview tab in headless Chromium, framed by a test host that answers teams-js as
Teams does (tests/browser/teams_host.py), so the page goes through its real sign-in path:
``app.initialize``, ``app.getContext`` and ``authentication.getAuthToken``, whose token it
sends to /api/overview. Tokens come from the local Entra ID issuer (tests/overview_setup.py).

- A token of the work-environment group: a chart per figure for their unit and the whole
  municipality, and beside each a table with the same numbers as the API's answer, a hidden
  cell said as "skjult (færre end k personer)"; no other unit on the page.
- No token, an expired one, one for another audience, or a user outside the groups: no
  figure, no chart, a friendly message.
- HR narrows the page to one unit with the keyboard, and the CSV download holds that unit.
- axe-core finds no WCAG 2.1 A/AA violation on the page, in Danish and in English.
- Teams' dark and high-contrast themes (and, outside Teams, the browser's dark scheme) turn
  the page and its charts dark, with no WCAG 2.1 AA violation either.

Screenshots land in artifacts/browser/overview-*.png; the page's time to first chart
(performance marks in web/static/overview.js) is printed and saved in
artifacts/browser/overview-timing.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Frame, Page

from core.texts import texts_for
from tests.browser.playground import launch_chromium
from tests.browser.teams_host import open_in_host
from tests.harness import TENANT, BotServer
from tests.openid_issuer import OpenIdIssuer
from tests.overview_setup import AUDIENCE, HR, OUTSIDER, SEEDED, WORK_ENVIRONMENT, K, page_token

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


async def tab_frame(page: Page) -> Frame:
    element = await page.wait_for_selector("iframe#tab")
    frame = await element.content_frame()
    assert frame is not None, "the tab did not load"
    await frame.wait_for_load_state("domcontentloaded")
    return frame


async def api_answer(bot: BotServer, token: str, locale: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{bot.url}/api/overview?locale={locale}", headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def table_rows(frame: Frame, table_id: str) -> list[list[str]]:
    rows: list[list[str]] = await frame.eval_on_selector_all(
        f"#{table_id} tbody tr",
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(c => c.textContent.trim()))",
    )
    return rows


async def axe_violations(frame: Frame) -> list[dict[str, Any]]:
    # evaluate() runs outside the page's Content-Security-Policy; a <script> would not
    await frame.evaluate(AXE.read_text("utf-8"))
    found: list[dict[str, Any]] = await frame.evaluate(
        "async (options) => (await axe.run(document, options)).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))",
        AXE_OPTIONS,
    )
    return found


@pytest.mark.parametrize("locale", ["da-DK", "en-US"])
async def test_a_signed_in_member_sees_charts_and_tables_of_their_unit(
    locale, signed_in_bot, overview_issuer: OpenIdIssuer
):
    t = texts_for(locale)
    token = page_token(overview_issuer, WORK_ENVIRONMENT)
    expected = await api_answer(signed_in_bot, token, locale)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with launch_chromium(locale=locale, viewport=(1100, 1400)) as browser:
        page = await browser.new_page()
        started = time.monotonic()
        await open_in_host(
            page,
            signed_in_bot.url,
            "/overview",  # no ?locale=: the page takes Teams' locale from getContext
            token=token,
            locale=locale,
            user=WORK_ENVIRONMENT,
            tenant=TENANT,
        )
        frame = await tab_frame(page)
        await frame.wait_for_selector("canvas", timeout=15000)
        await frame.wait_for_selector("body[data-first-chart-ms]", state="attached")
        wall = time.monotonic() - started
        assert await frame.evaluate("document.documentElement.lang") == locale[:2]
        assert "authentication.getAuthToken" in await page.evaluate("window.hostCalls")
        text = await frame.inner_text("main")
        assert "Borgerservice" in text and "Vej og Park" not in text and "Kultur" not in text
        # Every figure of the API's answer is drawn, with its numbers in a table.
        units = expected["overview"]["units"]
        headings = await frame.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
        assert headings == [*(u["label"] for u in units), t("overview.page.export")]
        hidden = t("overview.page.suppressed", k=K)
        for u, unit in enumerate(units):
            for f, figure in enumerate(unit["figures"]):
                rows = await table_rows(frame, f"figure-{u}-{f}-table")
                for c, _ in enumerate(figure["categories"]):
                    for s, series in enumerate(figure["series"]):
                        cell = series["cells"][c]
                        if cell["suppressed"]:
                            assert rows[c][s] == hidden
                        else:
                            assert float(rows[c][s].replace(",", ".")) == cell["value"]
        charts = sum(len(unit["figures"]) for unit in units)
        assert await frame.locator("canvas[role=img][aria-label]").count() == charts
        assert await axe_violations(frame) == []
        timing = {
            "locale": locale,
            "page_start_to_first_chart_ms": int(
                await frame.evaluate("document.body.dataset.firstChartMs")
            ),
            "navigation_to_first_chart_ms": int(
                await frame.evaluate("document.body.dataset.firstChartSinceNavigationMs")
            ),
            "host_open_to_first_chart_s": round(wall, 3),
        }
        print("overview time to first chart:", timing)
        with (ARTIFACTS / "overview-timing.json").open("a", encoding="utf-8") as out:
            out.write(json.dumps(timing) + "\n")
        await page.screenshot(path=str(ARTIFACTS / f"overview-charts-{locale}.png"), full_page=True)
        # The filters are labelled, reachable by keyboard, and the export is offered.
        await frame.focus("#unit")
        await page.keyboard.press("Tab")
        assert await frame.evaluate("document.activeElement.id") == "period"
        assert await frame.is_visible("#export-csv")


REFUSALS = {
    "no-token": (lambda e: None, "signed_out"),
    "expired": (
        lambda e: page_token(e, WORK_ENVIRONMENT, exp=int(time.time()) - 3600, nbf=0, iat=0),
        "signed_out",
    ),
    "other-audience": (
        lambda e: page_token(e, WORK_ENVIRONMENT, aud=AUDIENCE.replace("api://", "api://x.")),
        "signed_out",
    ),
    "outside-the-groups": (lambda e: page_token(e, OUTSIDER), "not_allowed"),
}


async def test_without_a_good_token_or_a_role_the_page_shows_no_figures(
    signed_in_bot, overview_issuer: OpenIdIssuer
):
    t = texts_for("da-DK")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with launch_chromium(viewport=(1100, 900)) as browser:
        for case, (make, message) in REFUSALS.items():
            page = await browser.new_page()
            await open_in_host(
                page,
                signed_in_bot.url,
                "/overview?locale=da-DK",
                token=make(overview_issuer),
                user=WORK_ENVIRONMENT,
                tenant=TENANT,
            )
            frame = await tab_frame(page)
            status = frame.locator("#status.error")
            await status.wait_for(timeout=15000)
            assert await status.inner_text() == t(f"overview.page.{message}"), case
            assert await frame.locator("canvas, table").count() == 0, case
            assert "Borgerservice" not in await frame.inner_text("main"), case
            assert await frame.is_hidden("#export"), case
            assert await axe_violations(frame) == [], case
            await page.screenshot(path=str(ARTIFACTS / f"overview-refused-{case}.png"))
            await page.close()


async def test_hr_narrows_to_one_unit_by_keyboard_and_downloads_its_figures(
    signed_in_bot, overview_issuer: OpenIdIssuer
):
    token = page_token(overview_issuer, HR)
    async with launch_chromium(viewport=(1100, 1400)) as browser:
        page = await browser.new_page()
        await open_in_host(
            page, signed_in_bot.url, "/overview?locale=da-DK", token=token, user=HR, tenant=TENANT
        )
        frame = await tab_frame(page)
        await frame.wait_for_selector("canvas", timeout=15000)
        headings = await frame.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
        assert set(SEEDED) <= set(headings)
        # Keyboard only: the unit filter, a unit, on past the period to "Vis", Enter.
        await frame.focus("#unit")
        await frame.select_option("#unit", "Vej og Park")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        assert await frame.evaluate("document.activeElement.id") == "show"
        await page.keyboard.press("Enter")
        await frame.locator("h2", has_text="Borgerservice").wait_for(state="detached")
        headings = await frame.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
        assert "Vej og Park" in headings and "Kultur" not in headings
        await page.screenshot(path=str(ARTIFACTS / "overview-filtered-unit.png"), full_page=True)
        async with page.expect_download() as started:
            await frame.click("#export-csv")
        download = await started.value
        assert download.suggested_filename.endswith(".csv")
        exported = Path(await download.path()).read_bytes().decode("utf-8-sig")
        assert (
            "Vej og Park" in exported
            and "Kultur" not in exported
            and "Borgerservice" not in exported
        )


async def chart_colours(frame: Frame) -> list[str]:
    colours: list[str] = await frame.eval_on_selector_all(
        "canvas", "cs => cs.map(c => Chart.getChart(c).data.datasets[0].borderColor)"
    )
    return colours


async def test_in_teams_dark_and_high_contrast_themes_the_page_follows_and_stays_readable(
    signed_in_bot, overview_issuer: OpenIdIssuer
):
    """Teams reports "dark": the page and its charts are dark, with no WCAG 2.1 AA violation
    (colour contrast included); switching to high contrast in Teams redraws in it."""
    token = page_token(overview_issuer, WORK_ENVIRONMENT)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with launch_chromium(viewport=(1100, 1400)) as browser:
        page = await browser.new_page()
        await open_in_host(
            page,
            signed_in_bot.url,
            "/overview?locale=da-DK",
            token=token,
            user=WORK_ENVIRONMENT,
            tenant=TENANT,
            theme="dark",
        )
        frame = await tab_frame(page)
        await frame.wait_for_selector("canvas", timeout=15000)
        assert await frame.evaluate("document.documentElement.dataset.theme") == "dark"
        background = "getComputedStyle(document.documentElement).backgroundColor"
        assert await frame.evaluate(background) == "rgb(31, 31, 31)"
        assert set(await chart_colours(frame)) == {"#5CC3CF"}
        assert await axe_violations(frame) == []
        await page.screenshot(path=str(ARTIFACTS / "overview-charts-dark.png"), full_page=True)

        await page.evaluate("setTheme('contrast')")
        await frame.wait_for_selector("html[data-theme=contrast]", state="attached")
        await frame.wait_for_selector("canvas", timeout=15000)
        assert await frame.evaluate(background) == "rgb(0, 0, 0)"
        assert set(await chart_colours(frame)) == {"#FFFF00"}
        assert await axe_violations(frame) == []
        await page.screenshot(path=str(ARTIFACTS / "overview-charts-contrast.png"), full_page=True)


async def test_outside_teams_the_page_follows_the_browsers_dark_scheme(signed_in_bot):
    """Opened without Teams in a browser set to dark: the page is dark (and says the user
    must open it in Teams), with no WCAG 2.1 AA violation."""
    async with launch_chromium(viewport=(1100, 900)) as browser:
        page = await browser.new_page()
        await page.emulate_media(color_scheme="dark")
        await page.goto(f"{signed_in_bot.url}/overview?locale=da-DK")
        await page.locator("#status.error").wait_for(timeout=15000)
        assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
        await page.emulate_media(color_scheme="light")
        await page.wait_for_selector("html[data-theme=default]", state="attached")
        await page.emulate_media(color_scheme="dark")
        await page.wait_for_selector("html[data-theme=dark]", state="attached")
        assert await axe_violations(page.main_frame) == []

"""A minimal Teams host for a tab in headless Chromium: a page that frames the tab and answers
the postMessage requests of @microsoft/teams-js 2.58 (node_modules/@microsoft/teams-js,
dist/umd/MicrosoftTeams.js: ``initializeCommunication``, ``handleIncomingMessageFromParent``,
``getAuthTokenHelper``), as Teams does:

- a request from the tab is ``{id, uuidAsString, func, args, ...}`` posted to its parent;
- the host answers on the tab's window with ``{id, uuidAsString, args}``;
- ``initialize`` is answered with ``[frameContext, hostClientType, runtimeConfig (JSON),
  clientSupportedSDKVersion]``; ``getContext`` with ``[legacy context]`` (``locale``,
  ``entityId``, ``userObjectId``, ``tid``, ``theme``...); ``authentication.getAuthToken``
  with ``[true, token]`` or ``[false, reason]``;
- a theme change reaches the tab as ``{func: "themeChange", args: [theme]}`` without an id
  (the host page's ``setTheme(theme)`` sends it, as Teams does when the user switches).

teams-js accepts messages from its own origin (``verifyIncomingMessageOrigin``), so the host
is served at the bot's origin by the browser itself (``page.route``); the bot has no such
route. Anything else the tab asks is left unanswered, as a host without that capability
would.
"""

from __future__ import annotations

import json

from playwright.async_api import Page, Route

HOST_PATH = "/test-teams-host.html"

_RUNTIME = {
    "apiVersion": 4,
    "hostVersionsInfo": {"adaptiveCardSchemaVersion": {"majorVersion": 1, "minorVersion": 5}},
    "isLegacyTeams": False,
    "supports": {"app": {}, "authentication": {}, "pages": {"tabs": {}}, "teamsCore": {}},
}

_HOST = """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>Test host</title>
<style>body{margin:0} iframe{border:0;width:100%;height:100vh}</style></head>
<body><iframe id="tab" title="tab" src="__SRC__"></iframe>
<script>
const HOST = __HOST__;
window.hostCalls = [];
window.setTheme = (theme) => {
  HOST.theme = theme;
  document.getElementById("tab").contentWindow.postMessage(
    { func: "themeChange", args: [theme] }, new URL(HOST.src).origin);
};
window.addEventListener("message", (event) => {
  const m = event.data;
  if (!m || typeof m.func !== "string") return;
  window.hostCalls.push(m.func);
  let args = null;
  if (m.func === "initialize") {
    args = ["content", "web", JSON.stringify(HOST.runtime), "2.58.0"];
  } else if (m.func === "getContext") {
    args = [{ locale: HOST.locale, entityId: "overview", frameContext: "content",
              hostClientType: "web", userObjectId: HOST.user, tid: HOST.tenant, theme: HOST.theme,
              appSessionId: "test-session", sessionId: "test-session" }];
  } else if (m.func === "authentication.getAuthToken") {
    args = HOST.token ? [true, HOST.token] : [false, HOST.failure];
  }
  if (args !== null) {
    event.source.postMessage({ id: m.id, uuidAsString: m.uuidAsString, args }, event.origin);
  }
});
</script></body></html>"""


async def open_in_host(
    page: Page,
    base_url: str,
    tab_path: str,
    *,
    token: str | None,
    locale: str = "da-DK",
    user: str = "",
    tenant: str = "",
    failure: str = "FailedToGetToken",
    theme: str = "default",
) -> None:
    """Open ``tab_path`` of ``base_url`` framed by the test host, which hands out ``token``
    (None: getAuthToken fails with ``failure``) and reports Teams' ``theme`` (default, dark
    or contrast)."""
    host = {
        "src": base_url + tab_path,
        "theme": theme,
        "runtime": _RUNTIME,
        "locale": locale,
        "user": user,
        "tenant": tenant,
        "token": token,
        "failure": failure,
    }
    html = _HOST.replace("__SRC__", base_url + tab_path).replace(
        "__HOST__", json.dumps(host).replace("<", "\\u003c")
    )

    async def serve(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    await page.route(base_url + HOST_PATH, serve)
    await page.goto(base_url + HOST_PATH)

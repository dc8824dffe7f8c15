"""Drive the real Microsoft 365 Agents Playground web UI from pytest (playwright, async API).

Three layers, usable on their own:

* :func:`run_playground` -- starts ``agentsplayground`` as a subprocess on a free port with an
  identity config generated from a Python dict (:func:`make_config`), waits for
  ``/_debug/ping`` and kills the whole process group at exit. On failure the exception gets
  a note with the playground's log file path and its last lines, because config errors only
  ever appear in that log file.
* :func:`launch_chromium` -- the Debian Chromium with the flags that work headless here, a
  fresh profile in a temp dir and every non-loopback request aborted (the UI fetches fonts
  from a CDN; it renders fine without them and tests must never reach the internet).
* :class:`PlaygroundPage` -- page helpers: open a chat, send text, wait for bot text, find the
  latest Adaptive Card, fill a card input *by its Adaptive Card input id*, click a card
  action, wait for new/replaced cards, read validation errors, save screenshots (also
  automatically on failure), and send a custom activity (the only way to get a non-en-US
  ``locale`` to the bot).

Why the page helpers also listen to the UI's WebSocket: the playground renders cards with the
``adaptivecards`` JS renderer + Fluent UI v9 controls, and the renderer gives every control a
random DOM id (``__ac-<uuid>``); the Adaptive Card input id appears nowhere in the DOM. The
UI receives each bot message (with the card JSON) over ``/_ws_conversation/...``, so the
driver records those frames (read-only) and maps an input id to the N-th
``.ac-input-container`` of the rendered card (the renderer emits exactly one per input, in
document order), cross-checked against the input's visible label. Everything the tests *do*
still goes through the real UI (clicks and key presses); the WebSocket is only read.

Pinned to ``@microsoft/m365agentsplayground`` 0.2.28; see FINDINGS.md next to this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from playwright.async_api import (
    BrowserContext,
    Locator,
    Page,
    Route,
    WebSocket,
    async_playwright,
)
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

__all__ = [
    "CHROMIUM_ARGS",
    "DEFAULT_BOT",
    "DEFAULT_TENANT_ID",
    "BotMessage",
    "CardInput",
    "InputValue",
    "Playground",
    "PlaygroundError",
    "PlaygroundPage",
    "card_inputs",
    "launch_chromium",
    "make_config",
    "make_user",
    "open_playground",
    "run_playground",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_BIN = Path(
    os.environ.get(
        "AGENTS_PLAYGROUND_BIN", REPO_ROOT / "node_modules" / ".bin" / "agentsplayground"
    )
)
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

DEFAULT_TENANT_ID = "00000000-0000-0000-0000-0000000000001"
DEFAULT_BOT: dict[str, str] = {"id": "00000000-0000-0000-0000-00000000000011", "name": "Test Bot"}

# --- DOM anchors (playground 0.2.28). Kept together so a version bump is a one-place fix. ---
#: the root of each top-level card in the transcript (nested ShowCard cards are not matched)
CARD_SELECTOR = ".ac-preview-panel > .ac-adaptiveCard"
#: one per Adaptive Card input, in document order (emitted by the adaptivecards renderer)
INPUT_CONTAINER_SELECTOR = ".ac-input-container"
#: the Lexical rich-text compose box
COMPOSE_SELECTOR = "[contenteditable='true'][role='textbox']"
#: every transcript message (user and bot) has a header element labelled "Message header";
#: bot messages additionally carry a "Message author" element inside the header
MESSAGE_SELECTOR = "div:has(> [aria-label='Message header'])"
AUTHOR_SELECTOR = "[aria-label='Message author']"
STALE_ATTR = "data-pg-stale"


T = TypeVar("T")


class PlaygroundError(RuntimeError):
    """The playground did not start, or the UI did not reach the expected state."""


# ---------------------------------------------------------------------------------------------
# Identity config
# ---------------------------------------------------------------------------------------------


def make_user(
    user_id: str,
    name: str,
    *,
    aad_object_id: str | None = None,
    email: str | None = None,
    upn: str | None = None,
) -> dict[str, str]:
    """Build one playground user entry.

    The playground's schema requires all seven keys (note its spelling ``userPrincipleName``).
    ``id`` arrives at the bot as ``from.id``, ``aadObjectId`` as ``from.aadObjectId``,
    ``name`` as ``from.name`` (message activities only).
    """
    given, _, surname = name.partition(" ")
    mail = email or f"{re.sub(r'[^a-z0-9]+', '.', name.lower()).strip('.')}@example.com"
    return {
        "id": user_id,
        "name": name,
        "userPrincipleName": upn or mail,
        "aadObjectId": aad_object_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"pg-user:{user_id}")),
        "givenName": given,
        "surname": surname or given,
        "email": mail,
    }


def make_config(
    current_user: Mapping[str, str],
    users: Sequence[Mapping[str, str]] = (),
    *,
    tenant_id: str = DEFAULT_TENANT_ID,
    bot: Mapping[str, str] = DEFAULT_BOT,
    personal_chat_id: str | None = None,
    group_chat_name: str = "Group Chat",
    team_name: str = "My Team",
) -> dict[str, Any]:
    """Build a complete, valid playground config dict (schema version 0.1.1).

    ``users`` may hold 0-5 entries; it is padded with filler users because the playground
    insists on *exactly* five (otherwise it exits, reporting the error only in its log file).
    The personal chat id defaults to a fresh UUID: two playgrounds with the same id would
    give two different people the same ``conversation.id`` at the bot.
    """
    others = [dict(u) for u in users]
    if len(others) > 5:
        raise ValueError("the playground supports exactly 5 users besides currentUser")
    taken = {current_user["id"], *(u["id"] for u in others)}
    n = 1
    while len(others) < 5:
        filler_id = f"filler-user-{n}"
        n += 1
        if filler_id not in taken:
            others.append(make_user(filler_id, f"Filler User{n - 1}"))
            taken.add(filler_id)
    ids = [current_user["id"], *(u["id"] for u in others)]
    if len(set(ids)) != len(ids):
        raise ValueError(f"user ids must be unique: {ids}")
    if len(bot["name"]) > 42:
        raise ValueError("bot name is limited to 42 characters by the playground schema")
    chat_id = personal_chat_id or str(uuid.uuid4())
    return {
        "version": "0.1.1",
        "tenantId": tenant_id,
        "bot": dict(bot),
        "currentUser": dict(current_user),
        "users": others,
        "personalChat": {"id": chat_id},
        "groupChat": {"id": f"group-{chat_id}", "name": group_chat_name},
        "team": {
            "id": f"team-{chat_id}",
            "name": team_name,
            "aadGroupId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pg-team:{chat_id}")),
            "channels": [{"id": f"channel-{chat_id}", "name": "Announcements"}],
        },
    }


# ---------------------------------------------------------------------------------------------
# Playground process
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_debug/ping", timeout=1) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"<{path} not readable>"


@dataclass
class Playground:
    """A running playground instance (see :func:`run_playground`)."""

    port: int
    config: dict[str, Any]
    workdir: Path
    config_path: Path
    log_path: Path
    stdout_path: Path
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def service_url(self) -> str:
        """What the bot sees as ``activity.service_url`` (the playground uses ``localhost``)."""
        return f"http://localhost:{self.port}/_connector"

    @property
    def personal_chat_id(self) -> str:
        return str(self.config["personalChat"]["id"])

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)


@contextlib.asynccontextmanager
async def run_playground(
    bot_endpoint: str,
    config: Mapping[str, Any] | None = None,
    *,
    port: int | None = None,
    workdir: Path | None = None,
    channel: str = "msteams",
    ready_timeout: float = 30.0,
    extra_env: Mapping[str, str] | None = None,
) -> AsyncIterator[Playground]:
    """Start ``agentsplayground`` for ``bot_endpoint`` (``http://127.0.0.1:PORT/api/messages``).

    Start the bot *before* opening the UI: on page load the playground waits up to 15 s for
    the bot endpoint. The config dict (default: ``make_config(make_user("user-id-0", "Alex
    Wilber"))``) is written as JSON, which is valid YAML, so no YAML library is needed. The
    playground silently moves to a random port when the requested one is taken, so the real
    port is read from its "Listening on N" line. The process runs in its own session and the
    whole group is terminated at exit. Exceptions raised inside the block get a note with the
    log path and tail.
    """
    if not PLAYGROUND_BIN.exists():
        raise PlaygroundError(f"{PLAYGROUND_BIN} not found: run `npm ci` in {REPO_ROOT}")
    cfg = dict(config) if config is not None else make_config(make_user("user-id-0", "Alex Wilber"))
    owned_tmp = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="agentsplayground-")) if workdir is None else Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    config_path = wd / "playground-config.yml"
    config_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False), encoding="utf-8")
    log_path = wd / "playground.log"
    stdout_path = wd / "playground.stdout"
    requested = port or _free_port()
    env = {
        **os.environ,
        "TEAMSAPPTESTER_BROWSER": "none",
        "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config_path),
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(log_path),
        **(extra_env or {}),
    }
    args = [
        str(PLAYGROUND_BIN),
        "-e",
        bot_endpoint,
        "-c",
        channel,
        "-p",
        str(requested),
        "--disable-telemetry",
    ]
    with open(stdout_path, "wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *args,
            cwd=str(wd),
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    failed = True
    try:
        actual = await _wait_ready(proc, requested, stdout_path, log_path, ready_timeout)
        pg = Playground(actual, cfg, wd, config_path, log_path, stdout_path, proc)
        try:
            yield pg
        except Exception as exc:
            exc.add_note(f"agentsplayground log: {log_path}\n--- last lines ---\n{_tail(log_path)}")
            raise
        failed = False
    finally:
        await _kill_group(proc)
        # keep the directory (config, log, stdout) as evidence when anything failed
        if owned_tmp and not failed and os.environ.get("KEEP_PLAYGROUND_LOGS") != "1":
            shutil.rmtree(wd, ignore_errors=True)


async def _wait_ready(
    proc: asyncio.subprocess.Process,
    requested: int,
    stdout_path: Path,
    log_path: Path,
    timeout: float,
) -> int:
    deadline = time.monotonic() + timeout
    port: int | None = None
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            break
        if port is None:
            m = re.search(r"Listening on (\d+)", stdout_path.read_text(errors="replace"))
            port = int(m.group(1)) if m else None
        if port is not None and await asyncio.to_thread(_ping, port):
            return port
        await asyncio.sleep(0.2)
    await _kill_group(proc)
    raise PlaygroundError(
        f"agentsplayground (requested port {requested}) not ready within {timeout}s, "
        f"exit code {proc.returncode}.\nlog {log_path}:\n{_tail(log_path)}\n"
        f"stdout {stdout_path}:\n{_tail(stdout_path, 15)}"
    )


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the whole process group (node exits within ~1 s), SIGKILL after 5 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.returncode is not None:  # reaped: its pid/pgid may already be reused
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
            return
        except TimeoutError:
            continue


# ---------------------------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------------------------


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOOPBACK_HOSTS


async def _loopback_only(route: Route) -> None:
    if _is_loopback(route.request.url):
        await route.continue_()
    else:
        await route.abort("blockedbyclient")


@contextlib.asynccontextmanager
async def launch_chromium(
    *,
    locale: str = "da-DK",
    timezone_id: str = "Europe/Copenhagen",
    viewport: tuple[int, int] = (1400, 1600),
    executable_path: str = CHROMIUM_PATH,
    extra_args: Iterable[str] = (),
) -> AsyncIterator[BrowserContext]:
    """Launch headless Debian Chromium with a fresh profile; only loopback traffic allowed.

    ``locale``/``timezone_id`` only change how the *browser* formats dates and times in
    cards (the playground always sends ``locale: en-US`` to the bot). One context per
    launch: use two launches for two users.
    """
    with tempfile.TemporaryDirectory(prefix="pg-chromium-") as profile:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile,
                executable_path=executable_path,
                headless=True,
                args=[*CHROMIUM_ARGS, *extra_args],
                locale=locale,
                timezone_id=timezone_id,
                viewport={"width": viewport[0], "height": viewport[1]},
                service_workers="block",
            )
            try:
                await context.route("**/*", _loopback_only)
                yield context
            finally:
                await context.close()


# ---------------------------------------------------------------------------------------------
# Adaptive Card model (from the card JSON)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardInput:
    """One input of a card, as declared in the card JSON, with its document-order index."""

    index: int
    id: str
    type: str
    spec: Mapping[str, Any]

    @property
    def label(self) -> str | None:
        label = self.spec.get("label")
        return label if isinstance(label, str) else None

    @property
    def choices(self) -> list[tuple[str, str]]:
        """``(title, value)`` pairs of an Input.ChoiceSet."""
        return [
            (str(c.get("title", "")), str(c.get("value", ""))) for c in self.spec.get("choices", [])
        ]


def card_inputs(card: Mapping[str, Any]) -> list[CardInput]:
    """List a card's inputs in the order the renderer emits them (body, then ShowCard cards)."""
    found: list[Mapping[str, Any]] = []

    def walk_elements(elements: Iterable[Any]) -> None:
        for el in elements or ():
            if not isinstance(el, Mapping):
                continue
            t = str(el.get("type", ""))
            if t.startswith("Input."):
                found.append(el)
            walk_elements(el.get("items", ()))
            for col in el.get("columns", ()) or ():
                if isinstance(col, Mapping):
                    walk_elements(col.get("items", ()))
            for row in el.get("rows", ()) or ():
                for cell in (row or {}).get("cells", ()) if isinstance(row, Mapping) else ():
                    if isinstance(cell, Mapping):
                        walk_elements(cell.get("items", ()))
            if t == "ActionSet":
                walk_actions(el.get("actions", ()))

    def walk_actions(actions: Iterable[Any]) -> None:
        for a in actions or ():
            if (
                isinstance(a, Mapping)
                and a.get("type") == "Action.ShowCard"
                and isinstance(a.get("card"), Mapping)
            ):
                walk_card(a["card"])

    def walk_card(c: Mapping[str, Any]) -> None:
        walk_elements(c.get("body", ()))
        walk_actions(c.get("actions", ()))

    walk_card(card)
    return [CardInput(i, str(el.get("id", "")), str(el["type"]), el) for i, el in enumerate(found)]


# ---------------------------------------------------------------------------------------------
# Conversation stream recorder
# ---------------------------------------------------------------------------------------------


@dataclass
class BotMessage:
    """A bot message as the UI received it over its conversation WebSocket."""

    message_id: str
    conversation_id: str
    text: str | None
    attachments: list[dict[str, Any]]
    created_at: float
    updated_at: float | None = None
    update_count: int = 0
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [
            a["content"]
            for a in self.attachments
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
            and isinstance(a.get("content"), dict)
        ]


class _StreamRecorder:
    """Reads (never writes) the UI's ``/_ws_conversation/`` frames: createMessage/updateMessage."""

    def __init__(self) -> None:
        self.messages: dict[str, BotMessage] = {}
        self.order: list[str] = []
        self.frames: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    def attach(self, page: Page) -> None:
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: WebSocket) -> None:
        if "_ws_conversation" in ws.url:
            ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload: str | bytes) -> None:
        try:
            frame = json.loads(payload)
        except (ValueError, TypeError):
            return
        if not isinstance(frame, dict):
            return
        self.frames.append(frame)
        msg = frame.get("message")
        action = frame.get("action")
        if not isinstance(msg, dict) or "messageId" not in msg:
            return
        mid = str(msg["messageId"])
        now = time.monotonic()
        attachments = [a for a in msg.get("attachments") or [] if isinstance(a, dict)]
        if action == "createMessage" or mid not in self.messages:
            if mid not in self.messages:
                self.order.append(mid)
            self.messages[mid] = BotMessage(
                mid,
                str(frame.get("actionConversationId", "")),
                msg.get("text"),
                attachments,
                now,
                raw=msg,
            )
        elif action == "updateMessage":
            m = self.messages[mid]
            m.text, m.attachments, m.raw = msg.get("text"), attachments, msg
            m.updated_at, m.update_count = now, m.update_count + 1
        self._changed.set()

    def in_conversation(self, conversation_id: str | None) -> list[BotMessage]:
        return [
            self.messages[m]
            for m in self.order
            if conversation_id is None or self.messages[m].conversation_id == conversation_id
        ]

    async def wait(self, predicate: Callable[[], T | None], timeout: float) -> T:
        deadline = time.monotonic() + timeout
        while True:
            self._changed.clear()  # before checking, so a frame arriving meanwhile is not missed
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PlaygroundError("timed out waiting for a conversation stream event")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))


# ---------------------------------------------------------------------------------------------
# Page helpers
# ---------------------------------------------------------------------------------------------

InputValue = str | int | float | bool | dt.date | dt.time | Sequence[str] | None


async def open_playground(
    context: BrowserContext,
    playground: Playground | str,
    *,
    chat: str = "Personal Chat",
    timeout: float = 30.0,
) -> PlaygroundPage:
    """Open the playground UI in a new tab and select ``chat`` (a tree item label).

    Each page load makes the playground send ``installationUpdate`` + ``conversationUpdate``
    to the bot again (same conversation id) and start with an empty transcript.
    """
    url = playground.url if isinstance(playground, Playground) else playground
    # a persistent context starts with one blank tab: use it rather than leaving it around
    blank = [p for p in context.pages if p.url == "about:blank"]
    page = blank[0] if blank else await context.new_page()
    pp = PlaygroundPage(page, url, playground if isinstance(playground, Playground) else None)
    await pp.open(chat=chat, timeout=timeout)
    return pp


class PlaygroundPage:
    """High-level, UI-driven helpers for one playground tab. Timeouts are in seconds."""

    def __init__(
        self,
        page: Page,
        url: str,
        playground: Playground | None = None,
        *,
        default_timeout: float = 15.0,
    ) -> None:
        self.page = page
        self.url = url
        self.playground = playground
        self.timeout = default_timeout
        self.stream = _StreamRecorder()
        self.stream.attach(page)
        self.page_errors: list[str] = []
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.conversation_ids: dict[str, str] = {}
        self.conversation_id: str | None = None
        self.bot_name: str | None = playground.config["bot"]["name"] if playground else None

    # -- navigation -------------------------------------------------------------------------

    async def open(self, *, chat: str = "Personal Chat", timeout: float = 30.0) -> None:
        """Load the UI and select a chat; waits until the compose box is usable."""
        await self.page.goto(self.url, wait_until="domcontentloaded", timeout=timeout * 1000)
        await self._load_conversation_ids()
        await self.select_chat(chat, timeout=timeout)

    async def select_chat(self, name: str, *, timeout: float | None = None) -> None:
        """Click a chat in the left tree: "Personal Chat", "Group Chat", "<Team> - General"..."""
        t = (timeout or self.timeout) * 1000
        await self.page.get_by_role("treeitem", name=name, exact=True).click(timeout=t)
        await self.page.locator(COMPOSE_SELECTOR).wait_for(state="visible", timeout=t)
        self.conversation_id = self.conversation_ids.get(name)

    async def _load_conversation_ids(self) -> None:
        """Map tree item labels to conversation ids, to keep other chats' cards out of the
        card <-> JSON mapping. Uses our own config when we started the playground (asking
        ``/_internal/v1/config`` adds "Connecting to your application" lines to its log)."""
        if self.playground is not None:
            cfg = self.playground.config
            team = cfg["team"]
            self.conversation_ids = {
                "Personal Chat": cfg["personalChat"]["id"],
                cfg["groupChat"]["name"]: cfg["groupChat"]["id"],
                f"{team['name']} - General": team["id"],
                **{f"{team['name']} - {ch['name']}": ch["id"] for ch in team.get("channels", [])},
            }
            return
        resp = await self.page.request.get(
            self.url.rstrip("/") + "/_internal/v1/config", timeout=30_000
        )
        if not resp.ok:
            return
        cfg = (await resp.json()).get("config", {})
        self.bot_name = self.bot_name or cfg.get("bot", {}).get("name")
        self.conversation_ids["Personal Chat"] = cfg.get("personalChat", {}).get("id", "")
        for g in cfg.get("groupChats", []):
            self.conversation_ids[g["name"]] = g["id"]
        for team in cfg.get("teams", []):
            for ch in team.get("channels", []):
                self.conversation_ids[f"{team['name']} - {ch['name']}"] = ch["id"]

    # -- messages ---------------------------------------------------------------------------

    def messages(self) -> Locator:
        """All transcript messages (user and bot), in display order."""
        return self.page.locator(MESSAGE_SELECTOR)

    def bot_messages(self) -> Locator:
        """Transcript messages that have an author header (bot messages)."""
        author = self.page.locator(AUTHOR_SELECTOR)
        if self.bot_name:
            author = author.filter(has_text=self.bot_name)
        return self.messages().filter(has=author)

    async def send_text(self, text: str) -> None:
        """Type ``text`` into the compose box and press Enter (one line; Enter sends)."""
        box = self.page.locator(COMPOSE_SELECTOR)
        await box.click()
        await self.page.keyboard.insert_text(text)
        await self.page.keyboard.press("Enter")

    async def wait_for_bot_text(
        self, text: str | re.Pattern[str], *, timeout: float | None = None
    ) -> Locator:
        """Wait until a bot message contains ``text`` (substring, or a regex); return it."""
        loc = self.bot_messages().filter(has_text=text).last
        try:
            await loc.wait_for(state="visible", timeout=(timeout or self.timeout) * 1000)
        except PlaywrightTimeoutError as e:
            raise PlaygroundError(
                f"no bot message containing {text!r} within {timeout or self.timeout}s; bot messages: "
                f"{await self.bot_messages().all_inner_texts()}"
            ) from e
        return loc

    async def send_and_wait(
        self, text: str, expect: str | re.Pattern[str], *, timeout: float | None = None
    ) -> Locator:
        """Send ``text`` and wait for a *new* bot message containing ``expect``."""
        before = await self.bot_messages().filter(has_text=expect).count()
        await self.send_text(text)
        loc = self.bot_messages().filter(has_text=expect).nth(before)
        try:
            await loc.wait_for(state="visible", timeout=(timeout or self.timeout) * 1000)
        except PlaywrightTimeoutError as e:
            raise PlaygroundError(
                f"no new bot message containing {expect!r} after sending {text!r}; bot messages: "
                f"{await self.bot_messages().all_inner_texts()}"
            ) from e
        return loc

    async def send_custom_activity(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Send an activity through the UI's "Mock an Activity > Custom activity" dialog.

        The only way to give the bot a non-``en-US`` ``locale`` (normal UI messages always say
        en-US), e.g. ``{"type": "message", "text": "hej", "locale": "da-DK"}``. The dialog's
        own template (conversation, from, recipient, serviceUrl) is fetched the way the UI does
        and ``fields`` are merged over it; ``channelData.tenant`` and ``from.name`` are added
        from our config because the template lacks them. The user's message itself is not
        shown in the transcript, only the bot's reply. Returns the activity sent.
        """
        if not self.conversation_id:
            raise PlaygroundError("select a chat with a known conversation id first")
        t = self.timeout * 1000
        resp = await self.page.request.get(
            f"{self.url.rstrip('/')}/_internal/v1/customActivities/template"
            f"?conversationId={self.conversation_id}"
        )
        activity: dict[str, Any] = await resp.json()
        if self.playground is not None:
            cfg = self.playground.config
            activity.setdefault("channelData", {"tenant": {"id": cfg["tenantId"]}})
            activity.setdefault("from", {}).setdefault("name", cfg["currentUser"]["name"])
        for key, val in fields.items():
            if isinstance(val, Mapping) and isinstance(activity.get(key), dict):
                activity[key] = {**activity[key], **val}
            else:
                activity[key] = val
        chat = next(
            (n for n, cid in self.conversation_ids.items() if cid == self.conversation_id), None
        )
        await self.page.get_by_role("button", name="Mock an Activity").click(timeout=t)
        await self.page.get_by_role("menuitem", name="Custom activity").click(timeout=t)
        dialog = self.page.get_by_role("dialog", name="Custom activity")
        await dialog.locator("[role=code]").click(timeout=t)  # Monaco editor
        await self.page.keyboard.press("ControlOrMeta+A")
        await self.page.keyboard.insert_text(json.dumps(activity, ensure_ascii=False))
        # Monaco auto-closes the first brace/quote: drop whatever it appended after the cursor
        await self.page.keyboard.press("Shift+ControlOrMeta+End")
        await self.page.keyboard.press("Delete")
        await dialog.get_by_role("button", name="Send activity").click(timeout=t)
        await dialog.wait_for(state="hidden", timeout=t)
        if chat:
            await self.select_chat(chat)
        return activity

    # -- cards ------------------------------------------------------------------------------

    def cards(self) -> Locator:
        """All top-level Adaptive Cards in the transcript, oldest first."""
        return self.page.locator(CARD_SELECTOR)

    def latest_card(self) -> Locator:
        return self.cards().last

    def card(self, index: int = -1) -> Locator:
        return self.cards().last if index == -1 else self.cards().nth(index)

    async def card_count(self) -> int:
        return await self.cards().count()

    async def wait_for_card_count(self, n: int, *, timeout: float | None = None) -> None:
        """Wait until at least ``n`` top-level cards are rendered."""
        try:
            await self.page.wait_for_function(
                "([sel, n]) => document.querySelectorAll(sel).length >= n",
                arg=[CARD_SELECTOR, n],
                timeout=(timeout or self.timeout) * 1000,
            )
        except PlaywrightTimeoutError as e:
            raise PlaygroundError(f"expected >= {n} cards, have {await self.card_count()}") from e

    async def mark_cards_stale(self) -> int:
        """Tag every rendered card root; returns the card count. Use before an action whose
        reply replaces a card in place (``update_activity``): the renderer builds a new root
        for the new content, so the tag disappears -- see :meth:`wait_for_card_replaced`."""
        return int(
            await self.page.evaluate(
                "([sel, attr]) => { const cs = document.querySelectorAll(sel);"
                " cs.forEach(c => c.setAttribute(attr, c.innerText)); return cs.length; }",
                [CARD_SELECTOR, STALE_ATTR],
            )
        )

    async def wait_for_card_replaced(self, index: int, *, timeout: float | None = None) -> Locator:
        """Wait until card ``index`` (as counted when marked; -1 = last) was re-rendered with
        new content, i.e. lost its stale tag or changed its text. Requires mark_cards_stale()."""
        try:
            await self.page.wait_for_function(
                """([sel, attr, index]) => {
                    const cs = document.querySelectorAll(sel);
                    const c = index < 0 ? cs[cs.length + index] : cs[index];
                    if (!c) return false;
                    return !c.hasAttribute(attr) || c.getAttribute(attr) !== c.innerText;
                }""",
                arg=[CARD_SELECTOR, STALE_ATTR, index],
                timeout=(timeout or self.timeout) * 1000,
            )
        except PlaywrightTimeoutError as e:
            raise PlaygroundError(f"card {index} was not replaced") from e
        return self.card(index)

    async def submit_card(
        self,
        action_title: str,
        *,
        card_index: int = -1,
        replaced: bool = True,
        new_cards: int = 0,
        timeout: float | None = None,
    ) -> None:
        """Click an action of a card and wait for the typical bot reaction: the card replaced
        in place (``replaced``) and/or ``new_cards`` more cards at the end."""
        count = await self.mark_cards_stale()
        idx = card_index if card_index >= 0 else count + card_index
        await self.click_action(action_title, card_index=card_index)
        if replaced:
            await self.wait_for_card_replaced(idx, timeout=timeout)
        if new_cards:
            await self.wait_for_card_count(count + new_cards, timeout=timeout)

    async def click_action(self, title: str, *, card_index: int = -1) -> None:
        """Click a card action button by its exact title (Action.Submit/Execute/OpenUrl/ShowCard)."""
        card = self.card(card_index)
        await card.get_by_role("button", name=title, exact=True).click(timeout=self.timeout * 1000)

    async def validation_errors(self, card_index: int = -1) -> list[str]:
        """Visible input error messages (``errorMessage``) of a card, e.g. after a blocked submit."""
        return list(
            await self.card(card_index).evaluate(
                """(card) => {
                const out = [];
                for (const el of card.querySelectorAll('[aria-labelledby]')) {
                    for (const id of el.getAttribute('aria-labelledby').split(/\\s+/)) {
                        const t = document.getElementById(id);
                        if (t && t.classList.contains('ac-textBlock') && t.offsetParent !== null
                            && !out.includes(t.innerText)) out.push(t.innerText);
                    }
                }
                return out;
            }"""
            )
        )

    # -- card JSON and inputs ---------------------------------------------------------------

    def bot_stream(self) -> list[BotMessage]:
        """Bot messages of the selected chat as received over the WebSocket (oldest first)."""
        return self.stream.in_conversation(self.conversation_id)

    async def card_json(self, card_index: int = -1) -> dict[str, Any]:
        """The JSON of a rendered top-level card (current version, after any update)."""
        count = await self.card_count()
        if count == 0:
            raise PlaygroundError("no card rendered")
        idx = card_index if card_index >= 0 else count + card_index

        def pick() -> dict[str, Any] | None:
            cards = [c for m in self.bot_stream() for c in m.cards]
            return cards[idx] if len(cards) == count else None

        try:
            return await self.stream.wait(pick, timeout=5.0)
        except PlaygroundError as e:
            got = len([c for m in self.bot_stream() for c in m.cards])
            raise PlaygroundError(
                f"{count} cards rendered but {got} received over the stream"
            ) from e

    async def _input_control(self, input_id: str, card_index: int) -> tuple[CardInput, Locator]:
        spec = next(
            (i for i in card_inputs(await self.card_json(card_index)) if i.id == input_id), None
        )
        if spec is None:
            raise PlaygroundError(f"card {card_index} has no input with id {input_id!r}")
        card = self.card(card_index)
        rendered = await card.locator(INPUT_CONTAINER_SELECTOR).count()
        if spec.index >= rendered:
            raise PlaygroundError(
                f"input {input_id!r} is #{spec.index} but card {card_index} renders {rendered} inputs; "
                "inputs of an Action.ShowCard appear only after clicking that action"
            )
        container = card.locator(INPUT_CONTAINER_SELECTOR).nth(spec.index)
        if spec.label:
            # cross-check the positional mapping with the visible label; fall back to the label
            dom_label = await container.evaluate(
                "(c) => { const l = c.parentElement && c.parentElement.querySelector(':scope > label');"
                " return l ? l.innerText.replace(/\\s*\\*\\s*$/, '').trim() : null; }"
            )
            if dom_label != spec.label.strip():
                pattern = re.compile(rf"^\s*{re.escape(spec.label.strip())}\s*\*?\s*$")
                label = card.locator("label.ac-richTextBlock").filter(has_text=pattern)
                if await label.count() != 1:
                    raise PlaygroundError(
                        f"cannot locate input {input_id!r} (label {spec.label!r}) in card {card_index}"
                    )
                container = label.locator(
                    "xpath=following-sibling::*[contains(concat(' ', @class, ' '), ' ac-input-container ')][1]"
                )
        return spec, container

    async def fill_input(self, input_id: str, value: InputValue, *, card_index: int = -1) -> None:
        """Set a card input by its Adaptive Card ``id`` through the UI controls.

        Values use Adaptive Card wire formats (or Python types): Input.Text/Number -> str or
        number; Input.Date -> ``"YYYY-MM-DD"`` or ``date``; Input.Time -> ``"HH:MM"`` or
        ``time``; ChoiceSet -> a choice *value* (not title), multi-select -> list of values or
        ``"a,b"``; Toggle -> bool or its valueOn/valueOff. ``None``/``""`` clears text-like inputs.
        """
        spec, box = await self._input_control(input_id, card_index)
        t = self.timeout * 1000
        s = spec.spec
        if spec.type == "Input.Text":
            control = box.locator("textarea" if s.get("isMultiline") else "input").first
            await control.fill("" if value is None else str(value), timeout=t)
        elif spec.type == "Input.Number":
            control = box.get_by_role("spinbutton")
            await control.fill("" if value is None else str(value), timeout=t)
            await control.press("Tab")  # Fluent SpinButton commits on blur
        elif spec.type == "Input.Date":
            control = box.locator("input").first
            text = "" if value in (None, "") else _date_text(value)
            await control.fill(text, timeout=t)
            await control.press("Tab")  # DatePicker parses typed text on blur
            if text and not (await control.input_value()):
                raise PlaygroundError(f"date picker {input_id!r} rejected {value!r}")
        elif spec.type == "Input.Time":
            control = box.get_by_role("combobox")
            await control.fill("" if value is None else _time_text(value), timeout=t)
            await control.press("Enter")  # freeform TimePicker: Enter commits typed "HH:MM"
            if await control.get_attribute("aria-expanded") == "true":
                await control.press("Escape")
        elif spec.type == "Input.Toggle":
            on = str(s.get("valueOn", "true"))
            want = value is True or (isinstance(value, str) and value in (on, "true"))
            await box.get_by_role("checkbox").set_checked(want, timeout=t)
        elif spec.type == "Input.ChoiceSet":
            await self._choose(spec, box, value)
        else:
            raise PlaygroundError(f"unsupported input type {spec.type} for {input_id!r}")

    async def fill_inputs(self, values: Mapping[str, InputValue], *, card_index: int = -1) -> None:
        """:meth:`fill_input` for several inputs of the same card, in the given order."""
        for key, val in values.items():
            await self.fill_input(key, val, card_index=card_index)

    async def _choose(self, spec: CardInput, box: Locator, value: InputValue) -> None:
        s, t = spec.spec, self.timeout * 1000
        by_value = {v: title for title, v in spec.choices}
        multi = bool(s.get("isMultiSelect"))
        if value is None:
            wanted: list[str] = []
        elif isinstance(value, str):
            wanted = [v for v in value.split(",") if v] if multi else [value]
        elif isinstance(value, Sequence):
            wanted = [str(v) for v in value]
        else:
            wanted = [str(value)]
        unknown = [v for v in wanted if v not in by_value]
        if unknown:
            raise PlaygroundError(
                f"{spec.id!r}: no choice with value {unknown}; choices {spec.choices}"
            )
        titles = [by_value[v] for v in wanted]
        if s.get("style") == "expanded":
            if multi:
                for title, _ in spec.choices:
                    await (await _option_control(box, title)).set_checked(
                        title in titles, timeout=t
                    )
            elif titles:
                await (await _option_control(box, titles[0])).check(timeout=t)
            return
        # compact / filtered: Fluent Combobox; the list renders in a portal whose id is in
        # the combobox's aria-controls. Single select: role=option; multi-select: a role=menu
        # of role=menuitemcheckbox (aria-checked).
        combo = box.get_by_role("combobox").first
        if await combo.get_attribute("aria-expanded") != "true":
            await combo.click(timeout=t)
        listbox_id = await combo.get_attribute("aria-controls")
        listbox = (
            self.page.locator(f"[id='{listbox_id}']")
            if listbox_id
            else self.page.get_by_role("listbox").last
        )
        await listbox.wait_for(state="visible", timeout=t)

        def option(title: str) -> Locator:
            return listbox.locator("[role=option], [role=menuitemcheckbox]").filter(
                has_text=re.compile(rf"^\s*{re.escape(title)}\s*$")
            )

        if multi:
            for title, _ in spec.choices:
                opt = option(title)
                state = await opt.evaluate(
                    "(o) => o.getAttribute('aria-checked') === 'true' || o.getAttribute('aria-selected') === 'true'"
                )
                if state != (title in titles):
                    await opt.click(timeout=t)
            if await combo.get_attribute("aria-expanded") == "true":
                await combo.press("Escape")
        elif titles:
            await option(titles[0]).click(timeout=t)

    # -- artifacts --------------------------------------------------------------------------

    async def screenshot(
        self, artifacts_dir: Path | str, name: str, *, card_only: bool = False
    ) -> Path:
        """Save a PNG (whole viewport, or just the latest card) to ``artifacts_dir/name.png``."""
        d = Path(artifacts_dir)
        d.mkdir(parents=True, exist_ok=True)
        path = d / (name if name.endswith(".png") else f"{name}.png")
        if card_only:
            await self.latest_card().screenshot(path=str(path))
        else:
            await self.page.screenshot(path=str(path))
        return path

    @contextlib.asynccontextmanager
    async def capture_on_failure(self, artifacts_dir: Path | str, name: str) -> AsyncIterator[None]:
        """On an exception inside the block, save ``name``.png and ``name``.html and add their
        paths to the exception as a note (so a failing pytest shows where to look)."""
        try:
            yield
        except Exception as exc:
            with contextlib.suppress(Exception):
                png = await self.screenshot(artifacts_dir, name)
                html = await self.save_html(artifacts_dir, name)
                exc.add_note(f"playground UI at failure: {png} {html}")
            raise

    async def save_html(self, artifacts_dir: Path | str, name: str) -> Path:
        """Save the current DOM (for debugging selectors after a failure)."""
        d = Path(artifacts_dir)
        d.mkdir(parents=True, exist_ok=True)
        path = d / (name if name.endswith(".html") else f"{name}.html")
        path.write_text(await self.page.content(), encoding="utf-8")
        return path


async def _option_control(box: Locator, title: str) -> Locator:
    """The radio/checkbox of an expanded choice, found through its ``<label for>``.

    Not by accessible name: the checkboxes' ``aria-labelledby`` prepends the group label
    (and error text), so their computed name is e.g. "Ugedage Mandag", not "Mandag".
    """
    label = box.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(title)}\s*$"))
    if await label.count() != 1:
        raise PlaygroundError(
            f"expected one choice labelled {title!r}, found {await label.count()}"
        )
    target = await label.get_attribute("for")
    return box.locator(f"[id='{target}']")


def _date_text(value: InputValue) -> str:
    # "YYYY-MM-DDT00:00" (no zone) is parsed as *local* midnight by the DatePicker's
    # Date.parse; a bare "YYYY-MM-DD" is parsed as UTC and lands on the previous day in
    # timezones west of UTC.
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00"
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return f"{text}T00:00"
    return text


def _time_text(value: InputValue) -> str:
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)

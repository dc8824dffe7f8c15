"""Property-based fuzzing of the real HTTP endpoint with Hypothesis.

Against the real application on loopback (BotServer), with a LocalConnector that records
everything the bot sends:

* generated activities (a Teams activity with fields replaced by odd JSON, service URLs on and
  off this machine, invokes, conversation updates): never a 5xx, never a stack trace in a
  response or in what the bot sent, nothing sent for a service URL off this machine, and when
  the bot can answer (a service URL that reaches the connector, ids that fit in the header and
  URL botbuilder puts them in) no failed turn. The turn-error handler turns an exception in the
  bot into a 201 and an apology, so its error log line and the apology are what a bug looks
  like here, more often than a 500;
* raw bodies (random bytes, non-JSON, JSON that is not an object) with any content type: a 4xx;
* generated card submits (Action.Submit values and Action.Execute invokes) by the manager, the
  employee and an outsider, against a dialogue mid-way, one awaiting the employee's
  confirmation and a self-check in progress: no 5xx, no failed turn, a refusal ("Intet er
  ændret", or the same card again with errors) changes nothing in the store, and nobody
  changes a row they are not a party to; and the current card of each, answered with its real
  envelope by someone who is not its party, is refused.

Hypothesis runs synchronously: each test runs the server on its own event loop and drives it
with loop.run_until_complete. The store is shared by the examples of a test; the card-submit
test rebuilds a situation that earlier examples used up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from core.dialogue import SEQUENCE as DIALOGUE_SEQUENCE
from core.fields import SELF_CHECK_BY_ID, STEPS_BY_ID
from core.self_check import SEQUENCE as SELF_CHECK_SEQUENCE
from core.texts import texts_for
from tests.answers import FOLLOW_UP, SELF_CHECK_ANSWERS, STEP_ANSWERS
from tests.conftest import EMPLOYEE, MANAGER, OTHER
from tests.connector import LocalConnector
from tests.dbsnapshot import snapshot
from tests.harness import BOT_ID, TENANT, BotServer, TeamsClient, User, action_data

pytestmark = pytest.mark.both_hosts

#: FUZZ_SCALE=10 for a longer run (the default keeps the file well under a minute).
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        database=None,  # no .hypothesis/ folder in the repository
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


DA, EN = texts_for("da-DK"), texts_for("en-US")
#: What the turn-error handler says: the sign of an exception inside a turn.
APOLOGIES = (DA("commands.error"), EN("commands.error"))
STACK_TRACE = ("Traceback", 'File "')
#: A refusal: the notices all say "nothing changed"; a card with errors is the re-prompt.
REFUSALS = ("Intet er ændret", DA("errors.intro"), DA("confirm.comment_error"))

#: The card verbs of the route table (dialogs/routes.py) that act on a dialogue or self-check.
DIALOGUE_VERBS = ("next", "back", "later", "cancel", "edit", "conclude", "revise")
EMPLOYEE_VERBS = (
    "sc_start",
    "sc_next",
    "sc_back",
    "sc_later",
    "confirm",
    "dispute",
    "show_agreement",
)
PLAIN_VERBS = (
    "start",
    "help",
    "continue",
    "my_data",
    "my_data_export",
    "hr_export",
    "item_status",
)
#: Follow-up, renewal and the employee's own request (dialogs/follow_up.py, own_request.py).
REQUEST_VERBS = (
    "follow_up",
    "reopen",
    "ask_follow_up",
    "request",
    "request_send",
    "request_start",
)
ALL_VERBS = tuple(DIALOGUE_VERBS) + tuple(EMPLOYEE_VERBS) + PLAIN_VERBS + REQUEST_VERBS
COMMANDS = (
    "hjælp",
    "help",
    "?",
    "start",
    "ny samtale",
    "fortsæt",
    "continue",
    "status",
    "afbryd",
    "cancel",
    "selvtjek",
    "self-check",
    "bed om samtale",
    "request",
    "mine data",
    "my data",
    "hr",
    "hr eksport",
    "hr slet",
    "hr slet 22222222-2222-2222-2222-222222222222",
    "HJÆLP",
    "  status  ",
)

EXECUTE_HELP = {"action": {"type": "Action.Execute", "verb": "help", "data": {"verb": "help"}}}


# --- the running bot -----------------------------------------------------------------------


class RecordingConnector(LocalConnector):
    """A LocalConnector that also keeps every body the bot sent it, decoded for searching."""

    def __init__(self) -> None:
        super().__init__()
        self.payloads: list[tuple[str, str]] = []  # (conversation id, body)

    async def _record(self, request) -> None:
        raw = await request.text()
        try:
            text = json.dumps(json.loads(raw), ensure_ascii=False)
        except ValueError:
            text = raw
        self.payloads.append((request.match_info.get("cid", ""), text))

    async def _create(self, request):
        await self._record(request)
        return await super()._create(request)

    async def _send(self, request):
        await self._record(request)
        return await super()._send(request)

    async def _update(self, request):
        await self._record(request)
        return await super()._update(request)


class TurnFailures(logging.Handler):
    """The turn-error handler's log lines (bot/adapter.py)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


class Running:
    """The bot, a recording connector and an HTTP session on a private event loop, so that a
    synchronous @given function can drive them."""

    def __init__(self, tmp_path: Path) -> None:
        self.db_path = tmp_path / "fuzz.sqlite3"
        self.loop = asyncio.new_event_loop()
        self.connector = RecordingConnector()
        self.bot = BotServer(self.db_path)
        self.failures = TurnFailures()
        self.session: aiohttp.ClientSession | None = None

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def __enter__(self) -> Running:
        logging.getLogger("bot.adapter").addHandler(self.failures)
        self.run(self._start())
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.close()
            logging.getLogger("bot.adapter").removeHandler(self.failures)

    async def _start(self) -> None:
        await self.connector.start()
        await self.bot.start()
        self.session = aiohttp.ClientSession()

    async def _stop(self) -> None:
        if self.session:
            await self.session.close()
        await self.bot.stop()
        await self.connector.stop()

    def client(self, user: User) -> TeamsClient:
        assert self.session is not None
        return TeamsClient(self.session, self.bot, self.connector, user)

    async def post(self, body: bytes, content_type: str | None = "application/json"):
        assert self.session is not None
        headers = {"Content-Type": content_type} if content_type is not None else {}
        async with self.session.post(
            f"{self.bot.url}/api/messages", data=body, headers=headers
        ) as response:
            return response.status, await response.text()

    def begin(self) -> int:
        """Mark the start of one example; returns the index of its first payload."""
        self.failures.records.clear()
        return len(self.connector.payloads)

    def sent_since(self, start: int, conversation_id: str | None = None) -> list[str]:
        return [
            text
            for cid, text in self.connector.payloads[start:]
            if conversation_id is None or cid == conversation_id
        ]


def assert_no_stack_trace(*texts: str) -> None:
    for text in texts:
        for marker in STACK_TRACE:
            assert marker not in text, text[:2000]


def assert_no_apology(*texts: str) -> None:
    for text in texts:
        for apology in APOLOGIES:
            assert apology not in text, text[:2000]


# --- strategies ----------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and Infinity too: json.dumps writes them, json.loads reads them
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
#: Ids Teams could send: printable ASCII. Other text fits neither a URL nor an HTTP header.
HEADER_SAFE = re.compile(r"[!-~](?:[ -~]*[!-~])?")
SAFE_IDS = st.from_regex(r"[!-~]{1,40}", fullmatch=True)
IDS = SAFE_IDS | st.text(min_size=1, max_size=40)
#: URL-like strings from characters that break URL parsing, but never a loopback address (an
#: unreachable loopback service URL costs botbuilder ~10 s of retries per request).
URLISH = st.builds(
    lambda scheme, rest: f"{scheme}://{rest}",
    st.sampled_from(["http", "https", "HTTP", "ftp", "file", ""]),
    st.text(alphabet="[]:@.%/#?x0v-", max_size=16),
)


def account(user: User) -> dict[str, Any]:
    return {"id": user.channel_id, "name": user.name, "aadObjectId": user.aad_object_id}


def card_values() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"verb": st.sampled_from(ALL_VERBS) | JSON},
        optional={
            "dialogue_id": IDS | JSON,
            "check_id": IDS | JSON,
            "step": st.sampled_from(DIALOGUE_SEQUENCE.ids + SELF_CHECK_SEQUENCE.ids) | JSON,
            "version": st.integers(-2, 40) | JSON,
            "comment": st.text(max_size=60) | JSON,
            "edit_step": st.sampled_from(DIALOGUE_SEQUENCE.ids) | JSON,
            "reason": st.text(max_size=60) | JSON,
            "request_id": IDS | JSON,
            "manager": st.text(max_size=40) | JSON,
            "attach_self_check": st.sampled_from(["true", "false"]) | JSON,
        },
    )


def activities(connector_url: str) -> st.SearchStrategy[dict[str, Any]]:
    port = urlsplit(connector_url).port
    reachable = [
        connector_url,
        connector_url.rstrip("/"),
        f"http://localhost:{port}/",
        f"HTTP://127.0.0.1:{port}/",
    ]
    elsewhere = [
        "https://smba.trafficmanager.net/emea/",
        "http://example.com/",
        "http://127.0.0.1.nip.io/",
        f"http://0.0.0.0:{port}/",
        f"http://127.1:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://localhost.:{port}/",
        "https://evil.example#@127.0.0.1/",
        "http://127.0.0.1@evil.example/",
        "ftp://127.0.0.1/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://",
        "",
        f"{connector_url}nowhere/",  # on this machine, but the connector answers 404
    ]
    conversation = st.fixed_dictionaries(
        {"id": IDS},
        optional={
            "conversationType": st.sampled_from(["personal", "groupChat", "channel"]) | JSON,
            "tenantId": st.just(TENANT) | JSON,
            "isGroup": JSON,
            "name": JSON,
        },
    )
    sender = st.sampled_from([MANAGER, EMPLOYEE, OTHER]).map(account) | st.fixed_dictionaries(
        {"id": IDS | JSON},
        optional={"name": st.text(max_size=30) | JSON, "aadObjectId": IDS | JSON, "role": JSON},
    )
    members = st.lists(
        st.sampled_from([{"id": BOT_ID}, account(MANAGER), account(EMPLOYEE)]) | JSON,
        max_size=3,
    )
    mention = st.fixed_dictionaries(
        {"type": st.just("mention") | JSON},
        optional={
            "mentioned": st.just({"id": BOT_ID, "name": "Hjemmearbejde"}) | JSON,
            "text": st.sampled_from(["<at>Hjemmearbejde</at>", "<at>Hjem(me</at>", "<at></at>"])
            | JSON,
        },
    )
    invoke_value = st.fixed_dictionaries(
        {
            "action": st.fixed_dictionaries(
                {"type": st.just("Action.Execute") | JSON},
                optional={"verb": st.sampled_from(ALL_VERBS) | JSON, "data": card_values() | JSON},
            )
            | JSON
        }
    )
    text = (
        st.sampled_from(COMMANDS)
        | st.text(max_size=200)
        | st.builds(
            lambda a, b: f"<at>{a}</at> {b}", st.text(max_size=15), st.sampled_from(COMMANDS)
        )
        | JSON
    )
    fuzzed = {
        "type": st.sampled_from(
            ["message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction"]
            + ["typing", "event", "endOfConversation", "messageUpdate", "messageDelete", "trace"]
            + ["", "Message", "handoff"]
        )
        | JSON,
        "serviceUrl": st.sampled_from(elsewhere) | URLISH | URLISH | JSON,
        "channelId": st.sampled_from(["emulator", "webchat", ""]) | JSON,
        "from": sender | JSON,
        "conversation": conversation | JSON,
        "recipient": JSON,
        "id": IDS | JSON,
        "timestamp": JSON,
        "text": text,
        "textFormat": st.sampled_from(["plain", "markdown", "xml"]) | JSON,
        "value": card_values() | invoke_value | JSON,
        "name": st.sampled_from(
            ["adaptiveCard/action", "task/fetch", "composeExtension/query", "signin/verifyState"]
        )
        | JSON,
        "channelData": st.fixed_dictionaries(
            {},
            optional={
                "tenant": st.fixed_dictionaries({}, optional={"id": IDS | JSON}) | JSON,
                "team": JSON,
                "channel": JSON,
                "eventType": JSON,
                "source": JSON,
            },
        )
        | JSON,
        "entities": st.lists(mention | JSON, max_size=3) | JSON,
        "locale": st.sampled_from(["da-DK", "en-US", "da", "de-DE", "", "xx-XX"]) | JSON,
        "replyToId": st.integers(1000, 1300).map(str) | IDS | JSON,
        "membersAdded": members | JSON,
        "membersRemoved": members | JSON,
        "action": st.sampled_from(["add", "remove", "add-upgrade"]) | JSON,
        "deliveryMode": st.sampled_from(["normal", "expectReplies", "notification"]) | JSON,
        "attachments": st.lists(JSON, max_size=2) | JSON,
        "localTimezone": st.text(max_size=20) | JSON,
    }
    # A Teams activity from one of the users (a typed command or a card submit) with one to
    # three fields replaced or added, and sometimes one taken away: most fuzzed activities
    # are then still readable and reach the bot.
    base = st.builds(
        lambda user, url, content, extra: {
            "type": "message",
            "id": "in-fuzz",
            "timestamp": "2026-11-26T10:00:00.000Z",
            "serviceUrl": url,
            "channelId": "msteams",
            "from": account(user),
            "conversation": {
                "conversationType": "personal",
                "id": f"a:fuzz-{user.aad_object_id[:4]}",
                "tenantId": TENANT,
            },
            "recipient": {"id": BOT_ID, "name": "Hjemmearbejde"},
            "locale": user.locale,
            "channelData": {"tenant": {"id": TENANT}},
            **content,
            **extra,
        },
        st.sampled_from([MANAGER, EMPLOYEE, OTHER]),
        st.sampled_from(reachable),
        st.fixed_dictionaries({"text": st.sampled_from(COMMANDS)})
        | st.fixed_dictionaries({"value": card_values()})
        | st.fixed_dictionaries(
            {
                "type": st.just("invoke"),
                "name": st.just("adaptiveCard/action"),
                "value": invoke_value,
            }
        )
        | st.fixed_dictionaries({"type": st.just("conversationUpdate"), "membersAdded": members})
        | st.fixed_dictionaries(
            {"type": st.just("installationUpdate"), "action": st.sampled_from(["add", "remove"])}
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "deliveryMode": st.sampled_from(["expectReplies", "normal"]),
                "replyToId": st.integers(1000, 1300).map(str),
                "entities": st.lists(mention, max_size=2),
            },
        ),
    )
    # The fields the endpoint itself reads come up more often.
    keys = sorted(fuzzed) + ["serviceUrl"] * 4 + ["type", "value", "conversation", "from"] * 2
    keys += ["deliveryMode", "text", "name", "channelData"]
    return st.builds(
        lambda activity, changes, drop: {
            k: v for k, v in {**activity, **changes}.items() if k not in drop
        },
        base,
        st.lists(
            st.sampled_from(keys).flatmap(lambda key: st.tuples(st.just(key), fuzzed[key])),
            max_size=3,
        ).map(dict),
        st.just(set())
        | st.sets(
            st.sampled_from(
                ["type", "serviceUrl", "channelId", "from", "conversation", "recipient", "text"]
            ),
            min_size=1,
            max_size=1,
        ),
    )


def host_of(url: Any) -> str | None:
    """The host of a service URL as the bot's local-mode check reads it; None if unreadable."""
    if not isinstance(url, str):
        return None
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None


def _fits_a_path(value: Any) -> bool:
    """botbuilder puts str(value) in the connector URL; the LocalConnector's routes
    ({cid}, {aid}) match no braces."""
    return "{" not in str(value) and "}" not in str(value)


def deliverable(activity: dict[str, Any], reachable: set[str]) -> bool:
    """Whether the bot can answer: a service URL that reaches the connector, a conversation id
    that fits in the header botbuilder sends it in (x-ms-conversation-id) and in the URL, and
    an activity id (the reply's replyToId) that fits in the URL."""
    conversation, url = activity.get("conversation"), activity.get("serviceUrl")
    return (
        isinstance(url, str)
        and url in reachable
        and isinstance(conversation, dict)
        and isinstance(conversation.get("id"), str)
        and HEADER_SAFE.fullmatch(conversation["id"]) is not None
        and _fits_a_path(conversation["id"])
        and _fits_a_path(activity.get("id"))
    )


# --- (a) generated activities ----------------------------------------------------------------


def test_generated_activities_never_break_the_endpoint(tmp_path):
    with Running(tmp_path) as bot:
        url = bot.connector.url
        port = urlsplit(url).port
        reachable = {url, url.rstrip("/"), f"http://localhost:{port}/", f"HTTP://127.0.0.1:{port}/"}
        seen: Counter[str] = Counter()

        @fuzz(250)
        @given(activity=activities(url))
        def check(activity: dict[str, Any]) -> None:
            start = bot.begin()
            status, body = bot.run(bot.post(json.dumps(activity).encode()))
            sent = bot.sent_since(start)
            note(f"status={status} body={body[:300]!r} turn failures={bot.failures.messages()}")
            seen[f"{status}"] += 1
            assert status < 500, (status, body)
            assert_no_stack_trace(body, *sent)
            if host_of(activity.get("serviceUrl")) not in (None, "localhost", "127.0.0.1", "::1"):
                assert status in (400, 403), (status, body)
                assert not sent, "the bot answered a service URL off this machine"
            if deliverable(activity, reachable):
                seen["deliverable"] += 1
                assert not bot.failures.records, bot.failures.messages()
                assert_no_apology(body, *sent)

        check()
        print(dict(seen))
        # Not vacuous: the bot really answered many of the generated activities.
        assert seen["201"] >= 25 and seen["deliverable"] >= 25, seen


# --- raw bodies ------------------------------------------------------------------------------

CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "APPLICATION/JSON",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "application/vnd.api+json",
    "",
    None,
]


def test_raw_bodies_get_a_4xx(tmp_path):
    with Running(tmp_path) as bot:
        client = bot.client(MANAGER)
        valid = json.dumps(client.activity(text="hjælp")).encode()
        bodies = st.one_of(
            st.binary(max_size=300),
            st.text(max_size=200).map(str.encode),
            JSON.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
            st.integers(0, len(valid) - 1).map(lambda n: valid[:n]),
            st.binary(min_size=1, max_size=20).map(lambda junk: valid + junk),
            st.sampled_from([b"", b"null", b"{}", b"[]", b"\xef\xbb\xbf{}", b"NaN", b"1e999"]),
            st.sampled_from(["utf-16", "utf-32", "latin-1"]).map(
                lambda enc: json.dumps(client.activity(text="hjælp"), ensure_ascii=False).encode(
                    enc
                )
            ),
        )

        @fuzz(150)
        @given(body=bodies, content_type=st.sampled_from(CONTENT_TYPES))
        def check(body: bytes, content_type: str | None) -> None:
            start = bot.begin()
            status, text = bot.run(bot.post(body, content_type))
            note(f"status={status} body={text[:300]!r}")
            assert status < 500, (status, text)
            assert_no_stack_trace(text, *bot.sent_since(start))
            assert not bot.failures.records, bot.failures.messages()
            media = (content_type or "application/octet-stream").split(";")[0].strip().lower()
            if media != "application/json":
                assert status == 415, (status, text)

        check()


# --- (b) generated card submits --------------------------------------------------------------

FIELD_IDS = sorted(
    {f.id for s in STEPS_BY_ID.values() for f in s.fields}
    | {f.id for s in SELF_CHECK_BY_ID.values() for f in s.fields}
    | {"comment", "edit_step"}
)
CHOICES = sorted(
    {
        c
        for steps in (STEPS_BY_ID, SELF_CHECK_BY_ID)
        for s in steps.values()
        for f in s.fields
        for c in f.choices
    }
)
FIELD_VALUES = st.one_of(
    st.sampled_from(CHOICES),
    st.sampled_from(
        ["", " ", "true", "false", "mon,thu", "mon,mon", ",", "08:00", "24:00", "7:5", "15:30"]
        + ["2026-02-30", FOLLOW_UP, "1999-01-01", "9999-12-31", "NaN", "inf", "-1", "1e309"]
        + ["0x10", "٣", "3.5", " 2 ", "16", "17", "Mette Sørensen", "<at>x</at>"]
        + list(DIALOGUE_SEQUENCE.ids)
    ),
    st.text(max_size=40),
    st.builds(
        lambda char, n: char * n,
        st.sampled_from(["x", "æ", "😀", " ", "\n"]),
        st.sampled_from([199, 200, 201, 499, 500, 501, 999, 1000, 1001, 3000]),
    ),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    JSON,
)

#: The world the card submits are aimed at, read from the store before every example.
World = dict[str, tuple[str, str, int]]  # target -> (id, step, version)
TARGET_VERBS = {
    "mid_way": DIALOGUE_VERBS,
    "awaiting": ("confirm", "dispute", "show_agreement", "revise"),
    "self_check": ("sc_next", "sc_back", "sc_later", "sc_start"),
}
PARTY = {"mid_way": "manager", "awaiting": "employee", "self_check": "employee"}
IMPOSTORS = {
    "mid_way": ("employee", "outsider"),
    "awaiting": ("manager", "outsider"),
    "self_check": ("manager", "outsider"),
}
#: The verbs only the party of a situation may use on its current card.
PARTY_VERBS = {
    "mid_way": DIALOGUE_VERBS,
    "awaiting": ("confirm", "dispute"),
    "self_check": ("sc_next", "sc_back", "sc_later"),
}


def read_world(db_path: Path) -> dict[str, tuple[str, str, int] | None]:
    conn = sqlite3.connect(db_path)
    try:

        def dialogue(state: str):
            return conn.execute(
                "SELECT id, step, version FROM dialogues WHERE manager_id = ? AND employee_id = ?"
                " AND state = ? ORDER BY updated_at DESC, id DESC LIMIT 1",
                (MANAGER.aad_object_id, EMPLOYEE.aad_object_id, state),
            ).fetchone()

        check = conn.execute(
            "SELECT id, step, version FROM self_checks WHERE employee_id = ?"
            " AND state = 'in_progress' ORDER BY updated_at DESC, id DESC LIMIT 1",
            (EMPLOYEE.aad_object_id,),
        ).fetchone()
        return {
            "mid_way": dialogue("in_progress"),
            "awaiting": dialogue("awaiting_employee"),
            "self_check": check,
        }
    finally:
        conn.close()


def rows(db_path: Path) -> dict[tuple[str, Any], dict[str, Any]]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        found: dict[tuple[str, Any], dict[str, Any]] = {}
        for row in conn.execute("SELECT * FROM dialogues"):
            found[("dialogues", row["id"])] = dict(row)
        for row in conn.execute("SELECT * FROM agreements"):
            found[("agreements", (row["dialogue_id"], row["version"]))] = dict(row)
        for row in conn.execute("SELECT * FROM self_checks"):
            found[("self_checks", row["id"])] = dict(row)
        return found
    finally:
        conn.close()


def may_change(user: User, table: str, row: dict[str, Any]) -> bool:
    """What a user's card submit may change: the manager their own draft (or disputed)
    dialogue; the employee an agreement waiting for them and their own self-check. Linking a
    dialogue typed in by name to the user who has that name is allowed too."""
    me, name = user.aad_object_id, user.name.casefold()
    unlinked = (
        row.get("employee_id") is None and (row.get("employee_name") or "").casefold() == name
    )
    if table == "dialogues":
        return (
            (row["manager_id"] == me and row["state"] in ("in_progress", "disputed"))
            or (row["employee_id"] == me and row["state"] == "awaiting_employee")
            or unlinked
        )
    if table == "agreements":
        return (row["employee_id"] == me and row["state"] == "awaiting_employee") or unlinked
    return row["employee_id"] == me


def cards_in(sent) -> list:
    return [s for s in sent if s.card is not None]


async def new_dialogue(manager: TeamsClient, until: str | None) -> None:
    """A dialogue answered up to the step ``until``; with None, concluded."""
    card = cards_in(await manager.say("start"))[-1]
    for step, answers in STEP_ANSWERS.items():
        if step == until:
            return
        data = action_data(card.card, "next")
        assert data["step"] == step, data
        card = cards_in(await manager.submit(card, {**data, **answers}))[-1]
    await manager.submit(card, action_data(card.card, "conclude"))


async def self_check_mid_way(employee: TeamsClient) -> None:
    sent = await employee.say("selvtjek")
    card = next(
        s for s in reversed(cards_in(sent)) if "sc_next" in json.dumps(s.card, ensure_ascii=False)
    )
    data = action_data(card.card, "sc_next")
    if data["step"] == "sc_work":
        await employee.submit(card, {**data, **SELF_CHECK_ANSWERS["sc_work"]})


#: Stand-ins resolved against the world after drawing: Hypothesis needs the same draws
#: whatever the store holds, so the strategy never looks at the world itself.
CURRENT, SHIFTED = object(), object()
ID_CHOICES = ["mid_way", "awaiting", "self_check", "+x", "upper", "", "x" * 65]
VERSION_SHIFTS = [-1, 1, -100, 2**63]


@st.composite
def card_submits(draw) -> tuple[str, str, dict[str, Any]]:
    """(target, actor, submitted data); the envelope holds stand-ins for the world's ids."""
    target = draw(st.sampled_from(sorted(PARTY)))
    party = st.just(PARTY[target])
    actor = draw(party | party | st.sampled_from(["manager", "employee", "outsider"]))
    verb = draw(
        st.sampled_from(TARGET_VERBS[target])
        | st.sampled_from(TARGET_VERBS[target])
        | st.sampled_from(ALL_VERBS)
        | st.text(max_size=12)
        | JSON
    )
    if draw(st.booleans()):  # the envelope of the target's current card
        item_id, step, version = CURRENT, CURRENT, CURRENT
        dropped: set[str] = set()
    else:
        item_id = draw(
            st.just(CURRENT) | st.sampled_from(ID_CHOICES).map(lambda c: ("id", c)) | IDS | JSON
        )
        step = draw(
            st.just(CURRENT)
            | st.sampled_from(DIALOGUE_SEQUENCE.ids + SELF_CHECK_SEQUENCE.ids + ("sc_done",))
            | JSON
        )
        version = draw(
            st.just(CURRENT)
            | st.sampled_from(VERSION_SHIFTS).map(lambda n: (SHIFTED, n))
            | st.sampled_from([(SHIFTED, "float"), (SHIFTED, "str")])
            | st.sampled_from([0, True, False, None])
            | JSON
        )
        dropped = draw(st.sets(st.sampled_from(["verb", "id", "step", "version"]), max_size=2))
    real_answers = draw(st.booleans())
    fields = draw(
        st.dictionaries(st.sampled_from(FIELD_IDS) | st.text(max_size=10), FIELD_VALUES, max_size=4)
    )
    removed = draw(st.sets(st.sampled_from(FIELD_IDS), max_size=2))
    id_key = "check_id" if target == "self_check" else "dialogue_id"
    envelope = {"verb": verb, id_key: item_id, "step": step, "version": version}
    for key in dropped:
        envelope.pop(id_key if key == "id" else key)
    return (
        target,
        actor,
        {"real_answers": real_answers, "fields": fields, "removed": removed, "envelope": envelope},
    )


def resolve(world: World, target: str, drawn: dict[str, Any]) -> dict[str, Any]:
    """The submitted data: stand-ins replaced by the world's current ids, step and version,
    the step's real answers (if drawn) under the drawn field values."""
    current_id, current_step, current_version = world[target]
    envelope = {}
    for key, value in drawn["envelope"].items():
        if value is CURRENT:
            value = {"step": current_step, "version": current_version}.get(key, current_id)
        elif isinstance(value, tuple) and value and value[0] == "id":
            choice = value[1]
            value = {
                "+x": current_id + "x",
                "upper": current_id.upper(),
            }.get(choice, world[choice][0] if choice in world else choice)
        elif isinstance(value, tuple) and value and value[0] is SHIFTED:
            shift = value[1]
            value = (
                float(current_version)
                if shift == "float"
                else str(current_version)
                if shift == "str"
                else current_version + shift
            )
        envelope[key] = value
    step = envelope.get("step")
    fields: dict[str, Any] = {}
    if drawn["real_answers"] and isinstance(step, str):
        fields.update(STEP_ANSWERS.get(step) or SELF_CHECK_ANSWERS.get(step) or {})
    fields.update(drawn["fields"])
    for key in drawn["removed"]:
        fields.pop(key, None)
    return {**fields, **envelope}


def test_generated_card_submits_refuse_without_changing_anything(tmp_path):
    with Running(tmp_path) as bot:
        clients = {
            "manager": bot.client(MANAGER),
            "employee": bot.client(EMPLOYEE),
            "outsider": bot.client(OTHER),
        }
        users = {"manager": MANAGER, "employee": EMPLOYEE, "outsider": OTHER}
        for client in clients.values():
            bot.run(client.say("hjælp"))  # every chat is known; each has a card to answer
        outcomes: Counter[tuple[str, str]] = Counter()

        async def ensure_world() -> World:
            """Rebuild what earlier examples used up (a cancelled or confirmed dialogue, a
            finished self-check), so that every example meets all three situations."""
            world = read_world(bot.db_path)
            if world["awaiting"] is None:
                await new_dialogue(clients["manager"], None)
            if world["mid_way"] is None:
                await new_dialogue(clients["manager"], "technology")
            if world["self_check"] is None:
                await self_check_mid_way(clients["employee"])
            world = read_world(bot.db_path)
            assert all(world.values()), world
            return world  # type: ignore[return-value]

        def submit(who: str, target: str, payload: dict[str, Any], data) -> bool:
            """Send one card submit and check what holds for every submit; True if refused."""
            client, user = clients[who], users[who]
            as_invoke = data.draw(st.sampled_from([False, False, False, True]), label="invoke")
            if as_invoke:
                activity = client.activity(
                    "invoke",
                    name="adaptiveCard/action",
                    value={"action": {"type": "Action.Execute", "data": payload}},
                )
            else:
                card = client.last_card()
                reply_to = data.draw(st.sampled_from([card.id, "999999"]), label="replyToId")
                activity = client.activity(value=payload, replyToId=reply_to)
            note(f"target={target} actor={who} invoke={as_invoke} payload={payload!r}")
            before, rows_before = snapshot(bot.db_path), rows(bot.db_path)
            start = bot.begin()
            status, body = bot.run(bot.post(json.dumps(activity).encode()))
            note(f"status={status} turn failures={bot.failures.messages()}")
            sent = bot.sent_since(start)
            if as_invoke:
                assert status == 200, (status, body)
            else:
                assert status == 201, (status, body)
            assert_no_stack_trace(body, *sent)
            assert_no_apology(body, *sent)
            assert not bot.failures.records, bot.failures.messages()

            answer = bot.sent_since(start, client.conversation_id)
            refused = any(marker in text for text in answer for marker in REFUSALS)
            after, rows_after = snapshot(bot.db_path), rows(bot.db_path)
            if refused:
                assert after == before, f"refused ({answer}) but the store changed"
            for (table, key), row in rows_before.items():
                if rows_after.get((table, key)) != row:
                    assert may_change(user, table, row), f"{who} changed {table} {key}"
            outcome = "refused" if refused else ("changed" if after != before else "other")
            outcomes[(who, outcome)] += 1
            outcomes[(target, outcome)] += 1
            return refused

        @fuzz(250)
        @given(data=st.data())
        def anything(data) -> None:
            world = bot.run(ensure_world())
            note(f"world={world}")
            target, who, drawn = data.draw(card_submits())
            submit(who, target, resolve(world, target, drawn), data)

        @fuzz(100)
        @given(data=st.data())
        def impostors(data) -> None:
            """The current card of a situation, answered by someone who is not its party."""
            world = bot.run(ensure_world())
            note(f"world={world}")
            target = data.draw(st.sampled_from(sorted(PARTY)), label="target")
            who = data.draw(st.sampled_from(IMPOSTORS[target]), label="impostor")
            id_key = "check_id" if target == "self_check" else "dialogue_id"
            drawn = {
                "real_answers": data.draw(st.booleans(), label="real answers"),
                "fields": data.draw(
                    st.dictionaries(st.sampled_from(FIELD_IDS), FIELD_VALUES, max_size=2),
                    label="fields",
                ),
                "removed": set(),
                "envelope": {
                    "verb": data.draw(st.sampled_from(PARTY_VERBS[target]), label="verb"),
                    id_key: CURRENT,
                    "step": CURRENT,
                    "version": CURRENT,
                },
            }
            assert submit(who, target, resolve(world, target, drawn), data), "not refused"

        anything()
        impostors()
        print(dict(outcomes))
        # Not vacuous: every actor was refused, and submits did get through to change things.
        for who in ("manager", "employee", "outsider"):
            assert outcomes[(who, "refused")] >= 5, outcomes
        assert outcomes[("manager", "changed")] + outcomes[("employee", "changed")] >= 2, outcomes


# --- inputs that once broke the bot, one each ------------------------------------------------------------------


async def test_a_mention_entity_without_mentioned_does_not_fail_the_turn(manager):
    before = len(manager.seen())
    activity = manager.activity(text="hjælp", entities=[{"type": "mention"}])
    assert await manager.post(activity) == 201
    sent = manager.seen()[before:]
    assert not [s for s in sent if s.text in APOLOGIES]
    assert sent and sent[0].card is not None  # the help card


@pytest.mark.parametrize("url", ["http://[", "http://x]/", "http://[x]/"])
async def test_a_service_url_with_a_broken_host_gets_400(manager, url):
    assert await manager.post({**manager.activity(text="hjælp"), "serviceUrl": url}) == 400


@pytest.mark.parametrize("delivery_mode", ["normal", "expectReplies"])
async def test_action_execute_is_answered_with_200(manager, delivery_mode):
    activity = manager.activity(
        "invoke", name="adaptiveCard/action", value=EXECUTE_HELP, deliveryMode=delivery_mode
    )
    assert await manager.post(activity) == 200


async def test_an_invoke_the_bot_cannot_answer_is_not_a_5xx(manager):
    activity = manager.activity("invoke", name="adaptiveCard/action", value=EXECUTE_HELP)
    activity["conversation"]["id"] = "a:line\nbreak"  # no reply can be sent to it
    assert await manager.post(activity) < 500


async def test_a_null_member_in_members_added_does_not_fail_the_turn(manager):
    before = len(manager.seen())
    activity = manager.activity("conversationUpdate", membersAdded=[None, {"id": BOT_ID}])
    assert await manager.post(activity) == 201
    sent = manager.seen()[before:]
    assert not [s for s in sent if s.text in APOLOGIES]

"""Delivery under Teams' limits: the pacer's arithmetic on a fake clock, then the real bot
sending a week of pulses to a connector that enforces the limits and fails some sends."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter

import pytest

from app import CLOCK, REMINDERS
from core.reminders import (
    BACKOFF_BASE_SECONDS,
    RETRY,
    SENT,
    UNREACHABLE,
    classify,
    parse_retry_after,
    retry_delay,
)
from reminders.rate_limit import TeamsPacer
from tests.harness import BotServer
from tests.reminder_seed import seed
from tests.teams_limits import RateLimitedConnector
from tests.test_reminders import send_time

pytestmark = pytest.mark.both_hosts


def most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_many_conversations_share_fifty_a_second():
    """With answers that come back at once: 50 a second, never more, and no slower."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = TeamsPacer(clock=lambda: now[0], sleep=sleep)
    departures = []
    for n in range(1000):
        async with pacer.departure(f"a:{n}"):
            departures.append(now[0])
    assert most_in_any_window(departures, 1.0 - 1e-9) <= 50  # float edge
    assert departures[-1] == pytest.approx(19.0)  # the 1,000th leaves in the 20th second


async def test_teams_never_sees_fifty_in_a_second_however_the_network_delays():
    """Teams counts a request at some moment between its departure and its answer. With
    answers taking 0-20 ms at random, out of order, 40 at a time, and each request counted at a
    random moment of its trip, no window ever holds more than the limit. (The window is
    shortened to a tenth of a second, real time, so the test is quick; the arithmetic is the
    same.)"""
    rng = random.Random(5)
    window, limit = 0.1, 50
    pacer = TeamsPacer(per_second=limit, window=window)
    counted: list[float] = []
    tickets = iter(range(600))  # shared by the senders

    async def sender() -> None:
        for n in tickets:
            async with pacer.departure(f"a:{n}"):
                left = time.monotonic()
                await asyncio.sleep(rng.uniform(0.0, 0.02))
                back = time.monotonic()
            counted.append(rng.uniform(left, back))

    await asyncio.gather(*(sender() for _ in range(40)))
    assert len(counted) == 600
    busiest = most_in_any_window(counted, window)
    assert limit // 2 <= busiest <= limit  # the senders pressed the limit, and it held


async def test_with_the_limit_in_flight_the_next_send_waits_for_an_answer():
    """In flight, a send may be counted by Teams at any moment, however long it takes: with
    the limit in flight nothing leaves until an answer comes, then a window after it."""
    pacer = TeamsPacer(per_second=2, window=0.1)
    answers = [asyncio.Event(), asyncio.Event()]
    left = []

    async def send(n: int, answer: asyncio.Event | None) -> None:
        async with pacer.departure(f"a:{n}"):
            left.append(n)
            if answer:
                await answer.wait()

    first = [asyncio.create_task(send(n, answers[n])) for n in (0, 1)]
    third = asyncio.create_task(send(2, None))
    await asyncio.sleep(0.3)  # three windows: still waiting, as both may yet be counted
    assert left == [0, 1] and not third.done()
    answers[0].set()
    await asyncio.wait_for(third, 2)
    answers[1].set()
    await asyncio.gather(*first)


async def test_a_429_holds_every_send_for_its_retry_after():
    now = [100.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = TeamsPacer(clock=lambda: now[0], sleep=sleep)
    async with pacer.departure("a:1"):
        pass
    pacer.hold(3)
    async with pacer.departure("a:2"):
        assert now[0] >= 103.0


async def test_a_person_whose_sends_fail_fast_is_not_flooded(db_path):
    """Three reminders to one person (pulse, digest, nudge), each failing fast three times and
    retried at once: Teams still never sees more than 7 of them in a second or 8 in two,
    because the person's requests go one at a time, 0.3 s after the answer before."""
    from datetime import UTC, datetime

    from reminders.delivery import Delivery, Recipient, SendOutcome
    from store.database import Database
    from store.reminders import SENT, ReminderStore

    requests: list[float] = []
    failures = Counter()

    class Transport:
        async def find(self, user_id):
            return Recipient(f"a:{user_id}", "da-DK")

        async def prepare(self, recipient, message):
            async def send():
                requests.append(time.monotonic())
                await asyncio.sleep(0.005)
                failures[message["kind"]] += 1
                return SendOutcome(503 if failures[message["kind"]] <= 3 else 201)

            return send

    async def compose(row, recipient):
        return {"kind": row.kind}

    db = Database(db_path)
    await db.open()
    try:
        store = ReminderStore(db)
        week = "2026-W49"
        kinds = [("e1", "pulse"), ("e1", "digest"), ("e1", "nudge")]
        await store.plan(week, kinds, datetime.now(UTC))
        delivery = Delivery(store, Transport(), compose, backoff_base=0.001)
        await asyncio.wait_for(delivery.deliver(week), 30)
        assert await store.counts(week) == {SENT: 3} and len(requests) == 12
        assert most_in_any_window(requests, 1.0) <= 7
        assert most_in_any_window(requests, 2.0) <= 8
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (201, SENT),
        (429, RETRY),
        (412, RETRY),
        (502, RETRY),
        (503, RETRY),
        (504, RETRY),
        (500, RETRY),
        (None, RETRY),
        (403, UNREACHABLE),
        (404, UNREACHABLE),
        (400, "failed"),
    ],
)
def test_what_each_answer_means(status, verdict):
    assert classify(status) == verdict


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("", None),
        ("soon", None),
        ("-1", None),
        ("inf", None),
        ("nan", None),
        ("99999", 300.0),
    ],
)
def test_a_retry_after_header_is_read_with_care(header, seconds):
    assert parse_retry_after(header) == seconds


def test_backoff_honours_retry_after_and_grows_with_jitter():
    assert 5 <= retry_delay(0, 5.0) <= 5.25
    waits = [retry_delay(6, None) for _ in range(200)]
    assert (
        max(waits) <= BACKOFF_BASE_SECONDS * 2**6 and len({round(w, 3) for w in waits}) > 150
    )  # spread out


@pytest.fixture
async def limited():
    connector = RateLimitedConnector(failure_rate=0.03)
    await connector.start()
    yield connector
    await connector.stop()


async def test_a_week_to_many_employees_stays_under_the_limits(db_path, limited):
    conversations = await seed(db_path, limited.url, employees=150)
    bot = BotServer(db_path)
    await bot.start()
    try:
        bot.app[CLOCK].set(send_time(bot, 1))
        bot.app[REMINDERS].delivery.backoff_base = 0.05
        report = await bot.app[REMINDERS].run_once()
    finally:
        await bot.stop()
    received = Counter(s.conversation_id for s in limited.sent)
    assert {c: received[c] for c in conversations} == dict.fromkeys(conversations, 1)
    assert report["sent"] == 150, report
    assert limited.answers[429] == 0, limited.answers  # paced: Teams never had to say no
    assert sum(limited.answers[s] for s in (500, 502, 503, 504)) > 0  # faults were retried


async def test_an_overeager_sender_is_slowed_by_429s_and_still_sends_once(db_path, limited):
    conversations = await seed(db_path, limited.url, employees=120)
    bot = BotServer(db_path)
    await bot.start()
    try:
        bot.app[CLOCK].set(send_time(bot, 1))
        delivery = bot.app[REMINDERS].delivery
        delivery.backoff_base = 0.05
        delivery.pacer = TeamsPacer(per_second=400)  # as if the limit were not known
        report = await bot.app[REMINDERS].run_once()
    finally:
        await bot.stop()
    assert limited.answers[429] > 0 and report.get("retry_429", 0) > 0, (limited.answers, report)
    received = Counter(s.conversation_id for s in limited.sent)
    assert {c: received[c] for c in conversations} == dict.fromkeys(conversations, 1)


async def test_a_dead_senders_unfinished_sends_become_uncertain_not_resent(db_path):
    """Holder A dies while one message is on its way: once A's lease has expired, B takes
    over, the row A was sending is marked uncertain (never sent twice), the rest go on."""
    from datetime import UTC, datetime, timedelta

    from store.database import Database
    from store.reminders import PENDING, SENDING, UNCERTAIN, LedgerRow, ReminderStore

    db = Database(db_path)
    await db.open()
    try:
        store = ReminderStore(db)
        t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
        await store.plan("2026-W49", [("e1", "pulse"), ("e2", "pulse")], t0)
        assert await store.take_lease("A", t0, 30)
        on_its_way = LedgerRow("e1", "pulse", "2026-W49", 0)
        assert await store.mark(on_its_way, SENDING, expected=PENDING)
        assert not await store.take_lease("B", t0 + timedelta(seconds=29), 30)  # A may live
        assert await store.take_lease("B", t0 + timedelta(seconds=31), 30)
        assert await store.counts("2026-W49") == {UNCERTAIN: 1, PENDING: 1}
        assert [
            r.recipient_id for r in await store.due("2026-W49", t0 + timedelta(minutes=1), 10)
        ] == ["e2"]
        assert [p["state"] for p in await store.problems()] == [UNCERTAIN]
    finally:
        await db.close()


async def test_only_a_message_about_to_leave_is_sending_when_the_sender_dies(db_path):
    """A sender dies with one message on its way and others waiting for the tenant's room:
    only the first can be uncertain for the next sender; the waiting ones stay pending and are
    sent by it. (Marking rows ``sending`` earlier lost them when a sender was killed.)"""
    from datetime import UTC, datetime

    from reminders.delivery import Delivery, Recipient, SendOutcome
    from store.database import Database
    from store.reminders import PENDING, SENDING, ReminderStore

    db = Database(db_path)
    await db.open()
    leaving, forever = asyncio.Event(), asyncio.Event()

    class Transport:
        async def find(self, user_id):
            return Recipient(f"a:{user_id}", "da-DK")

        async def prepare(self, recipient, message):
            async def send():
                leaving.set()
                await forever.wait()  # on its way when the process dies
                return SendOutcome(201)

            return send

    async def compose(row, recipient):
        return {"type": "AdaptiveCard"}

    try:
        store = ReminderStore(db)
        week = "2026-W49"
        await store.plan(week, [(f"e{n}", "pulse") for n in range(1, 5)], datetime.now(UTC))
        pacer = TeamsPacer(per_second=1)  # the others wait for the first one's answer
        delivery = Delivery(store, Transport(), compose, pacer=pacer, backoff_base=0.01)
        sender = asyncio.create_task(delivery.deliver(week))
        await asyncio.wait_for(leaving.wait(), 10)
        await asyncio.sleep(0.3)  # the others are prepared and at their departure by now
        sender.cancel()  # killed: nothing after this point runs
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        assert await store.counts(week) == {SENDING: 1, PENDING: 3}
    finally:
        await db.close()


async def test_a_send_that_cannot_be_prepared_is_retried_then_given_up(db_path):
    """Nothing left (e.g. the bot's token could not be fetched): the row is retried with
    backoff like any unanswered send, never marked as being sent, and given up after the last
    attempt, without spinning."""
    from datetime import UTC, datetime

    from core.reminders import MAX_ATTEMPTS
    from reminders.delivery import Delivery, Recipient
    from store.database import Database
    from store.reminders import FAILED, ReminderStore

    calls = []

    class Transport:
        async def find(self, user_id):
            return Recipient(f"a:{user_id}", "da-DK")

        async def prepare(self, recipient, message):
            calls.append(recipient.conversation_id)
            raise ConnectionError("no token")

    async def compose(row, recipient):
        return {"type": "AdaptiveCard"}

    db = Database(db_path)
    await db.open()
    try:
        store = ReminderStore(db)
        await store.plan("2026-W49", [("e1", "pulse")], datetime.now(UTC))
        delivery = Delivery(store, Transport(), compose, backoff_base=0.001)
        report = await asyncio.wait_for(delivery.deliver("2026-W49"), 30)
        assert await store.counts("2026-W49") == {FAILED: 1}
        assert len(calls) == MAX_ATTEMPTS and report.counts["failed"] == 1
    finally:
        await db.close()


async def test_the_transport_signs_in_before_the_departure_and_then_only_sends():
    """The bot's token is fetched while preparing (a slow sign-in keeps the row pending, not
    ``sending``); the send is one new message in the chat; a refusal's status and Retry-After
    are read from the connector's error, and a dropped connection is no answer."""
    from types import SimpleNamespace

    from bot.reminder_transport import ReminderTransport
    from reminders.delivery import SendOutcome
    from tests.reminder_seed import reference

    events = []
    answers = [None, SimpleNamespace(status_code=429, headers={"Retry-After": "3"}), "reset"]

    class Credentials:
        microsoft_app_id = "app"

        def get_access_token(self):
            events.append("token")

    class Conversations:
        async def send_to_conversation(self, conversation_id, activity):
            events.append(("sent", conversation_id, activity.reply_to_id, activity.recipient.id))
            answer = answers.pop(0)
            if answer == "reset":
                raise ConnectionResetError
            if answer is not None:
                error = Exception("refused")
                error.response = answer
                raise error

    client = SimpleNamespace(
        config=SimpleNamespace(credentials=Credentials()), conversations=Conversations()
    )

    class Factory:
        async def create(self, service_url, audience):
            events.append(("client", service_url))
            return client

    adapter = SimpleNamespace(
        bot_framework_authentication=SimpleNamespace(create_connector_factory=lambda _: Factory()),
        create_claims_identity=lambda app_id: None,
    )

    class People:
        async def for_user(self, user_id):
            return [reference(user_id, "a:e1", "http://connector")]

    transport = ReminderTransport(adapter, People(), "app")
    recipient = await transport.find("e1")
    outcomes = []
    for _ in range(3):
        send = await transport.prepare(recipient, {"type": "AdaptiveCard", "body": []})
        assert events[-1] == "token"  # signed in before the departure
        outcomes.append(await send())
    assert outcomes == [SendOutcome(201), SendOutcome(429, 3.0), SendOutcome(None)]
    assert events[:3] == [("client", "http://connector"), "token", ("sent", "a:e1", None, "29:e1")]


@pytest.mark.parametrize("renewals", ["slow", "failing"])
async def test_the_sender_keeps_a_slow_lease_and_stops_at_once_without_one(db_path, renewals):
    """Renewals that take two seconds each keep the lease (the holder never loses it while
    they succeed); renewals that fail make the sender stop before its lease can have run out:
    no message leaves after that, the rest stay pending for the next holder."""
    import time
    from datetime import UTC, datetime

    from reminders.delivery import LEASE_MARGIN, LEASE_SECONDS, Delivery, Recipient, SendOutcome
    from store.database import Database
    from store.reminders import PENDING, SENT, ReminderStore

    departures: list[float] = []

    class Transport:
        async def find(self, user_id):
            return Recipient(f"a:{user_id}", "da-DK")

        async def prepare(self, recipient, message):
            async def send():
                departures.append(time.monotonic())
                await asyncio.sleep(0.5)
                return SendOutcome(201)

            return send

    async def compose(row, recipient):
        return {"type": "AdaptiveCard"}

    class Store(ReminderStore):
        takes = 0

        async def take_lease(self, holder, now, seconds):
            self.takes += 1
            if self.takes > 1:
                if renewals == "failing":
                    raise ConnectionError("the database is gone")
                await asyncio.sleep(2.0)
            return await super().take_lease(holder, now, seconds)

    db = Database(db_path)
    await db.open()
    try:
        store = Store(db)
        week = "2026-W49"
        rows = 100  # 8 at a time, half a second each: about six seconds
        await store.plan(week, [(f"e{n}", "pulse") for n in range(rows)], datetime.now(UTC))
        delivery = Delivery(store, Transport(), compose, pacer=TeamsPacer())
        started = time.monotonic()
        report = await asyncio.wait_for(delivery.deliver(week), 60)
        counts = await store.counts(week)
        if renewals == "slow":
            assert not report.lease_lost and counts == {SENT: rows}, (report, counts)
            assert store.takes >= 3  # renewed all along, each renewal slow
        else:
            assert report.lease_lost, report
            assert max(departures) < started + LEASE_SECONDS - LEASE_MARGIN / 2
            assert counts == {SENT: len(departures), PENDING: rows - len(departures)}, counts
    finally:
        await db.close()


@pytest.mark.parametrize("bot_sdk", ["agents"], indirect=True)  # builds the Agents host itself
async def test_the_agents_transport_signs_in_before_the_departure_and_then_only_sends(
    connector, monkeypatch
):
    """On the Agents host with an app id: the bot's token is fetched while preparing, the
    send carries it to the connector as one new message in the chat, a 429's status and
    Retry-After come back as they were answered, and a prepared send that is never made
    opens no connection."""
    from microsoft_agents.authentication.msal import MsalAuth

    from bot.agents_host import AgentsHost
    from reminders.delivery import SendOutcome
    from settings import Settings
    from tests.harness import TENANT
    from tests.reminder_seed import reference

    events: list[str] = []

    async def get_token(provider, resource_url, scopes, force_refresh=False) -> str:
        events.append(f"token for {provider.configuration.CLIENT_ID}")
        return "outbound-test-token"

    monkeypatch.setattr(MsalAuth, "get_access_token", get_token)
    settings = Settings(
        _env_file=None,
        bot_sdk="agents",
        microsoft_app_id="app",
        microsoft_app_password="placeholder",
        microsoft_app_tenant_id=TENANT,
    )

    class People:
        async def for_user(self, user_id):
            return [reference(user_id, "a:e1", connector.url)]

    host = AgentsHost(settings)
    transport = host.reminder_transport(People(), "")  # type: ignore[arg-type]
    recipient = await transport.find("e1")
    assert recipient is not None
    connector.faults_in["a:e1"] = [429]
    outcomes = []
    for _ in range(2):
        send = await transport.prepare(recipient, {"type": "AdaptiveCard", "body": []})
        assert events[-1] == "token for app" and len(connector.authorizations) == len(outcomes)
        outcomes.append(await send())
    await transport.prepare(recipient, {"type": "AdaptiveCard", "body": []})  # never sent
    assert outcomes == [SendOutcome(429, 1.0), SendOutcome(201)]
    assert connector.authorizations == ["Bearer outbound-test-token"] * 2
    [sent] = connector.in_conversation("a:e1")
    assert sent.activity.get("replyToId") is None and sent.activity["recipient"]["id"] == "29:e1"
    await host.close()

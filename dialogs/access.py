"""The one access check of the route table: who may start, lead or follow up a dialogue, and
who has HR's role.

A route names its rule (``Route.access`` in dialogs/routes.py); ``Access.refusal`` runs it
before the handler, so a new verb gets the check by declaring it there:

- ``MANAGES``: may start dialogues (a member of MANAGER_GROUP_ID when one is named);
- ``LEADS``: the dialogue the data points at (``dialogue_id``, else the actor's open one), or
  the employee's request it answers (``request_id``: "Start samtalen"), is about an employee
  whom the actor leads: their manager in Entra ID, the substitute that manager or HR named,
  or HR for the employee's unit (core/access.py weighs this). A former manager, changed in
  Entra ID after the dialogue began, is refused from the next turn on (once the cached answer
  has expired), on the dialogue's steps and on its follow-up and reopening alike;
- ``HR``: HR's commands.

The employee chosen on the first step is checked by the same ``leads`` before anything is
stored or sent (dialogs/manager_dialogue.py). When Graph cannot answer, the action is
refused with "try again later" and nothing changes. With the checks off (local mode), only
the object-id lists count and every manager leads their own dialogues, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from core.access import AS_MANAGER, Employee, Roles, covers, lead_reason, overview_units
from dialogs.card_data import Pointed
from dialogs.turn import Actor, TurnResult
from directory.graph_directory import DirectoryUnavailable, GraphDirectory
from store.dialogues import DialogueStore
from store.requests import RequestStore
from store.substitutes import SubstituteStore

log = logging.getLogger(__name__)

MANAGES = "manages"
LEADS = "leads"
HR = "hr"
#: The anonymous overview: the work-environment group, MED members and HR of a unit.
OVERVIEW = "overview"
RULES = (MANAGES, LEADS, HR, OVERVIEW)

__all__ = ["HR", "LEADS", "MANAGES", "OVERVIEW", "Access", "DirectoryUnavailable"]


class Access:
    def __init__(
        self,
        dialogues: DialogueStore,
        substitutes: SubstituteStore,
        *,
        hr_users: dict[str, frozenset[str]],
        hr_groups: dict[str, frozenset[str]] | None = None,
        work_environment_groups: dict[str, frozenset[str]] | None = None,
        manager_group: str = "",
        requests: RequestStore | None = None,
    ) -> None:
        self.dialogues = dialogues
        self.requests = requests
        self.substitutes = substitutes
        self.hr_users = hr_users
        self.hr_groups = hr_groups or {}
        self.work_environment_groups = work_environment_groups or {}
        self.manager_group = manager_group.lower()
        #: Set at start when the checks are on (ACCESS_CHECKS); None: lists only.
        self.directory: GraphDirectory | None = None
        #: MED members by object id and by group (set_med); they see the overview.
        self.med_users: dict[str, frozenset[str]] = {}
        self.med_groups: dict[str, frozenset[str]] = {}

    @property
    def on(self) -> bool:
        return self.directory is not None

    # --- the facts ------------------------------------------------------------------------

    def _groups(self) -> frozenset[str]:
        named = {*self.hr_groups, *self.work_environment_groups, *self.med_groups}
        if self.manager_group:
            named.add(self.manager_group)
        return frozenset(named)

    async def roles(self, user_id: str) -> Roles:
        """A user's roles from the lists and, with the checks on, their groups."""
        user = user_id.lower()
        hr_units = set(self.hr_users.get(user, frozenset()))
        environment: set[str] = set()
        may_manage = True
        if self.directory is not None:
            member_of = await self.directory.groups_of(user, self._groups())
            for group, units in self.hr_groups.items():
                if group in member_of:
                    hr_units |= units
            for group, units in self.work_environment_groups.items():
                if group in member_of:
                    environment |= units
            if self.manager_group:
                may_manage = self.manager_group in member_of or bool(hr_units)
        return Roles(frozenset(hr_units), frozenset(environment), may_manage)

    async def leads(self, leader_id: str, employee_id: str) -> str | None:
        """Why ``leader_id`` may lead a dialogue about the employee (core/access.py), or
        None. Raises DirectoryUnavailable when Graph cannot tell."""
        if self.directory is None:
            return AS_MANAGER
        manager = await self.directory.manager_of(employee_id)
        return await self._lead_reason(
            leader_id, employee_id, manager, lambda: self.roles(leader_id)
        )

    async def led_among(
        self, leader_id: str, employee_ids: Iterable[str]
    ) -> tuple[frozenset[str], frozenset[str]]:
        """Of many employees (``status``, the digest): those ``leader_id`` leads now by the
        same rule as ``leads``, and those that could not be checked because Graph did not
        answer for them; the rest they do not lead. The managers are asked in batches
        (GraphDirectory.managers_of), not once per employee. Ids in lower case."""
        wanted = frozenset(e.lower() for e in employee_ids)
        if self.directory is None:
            return wanted, frozenset()
        managers = await self.directory.managers_of(wanted)
        led: set[str] = set()
        unchecked = set(wanted - managers.keys())
        known: list[Roles | DirectoryUnavailable] = []

        async def roles() -> Roles:  # the leader's groups, asked once for all the employees
            if not known:  # a failure is kept too: Graph is not asked again for each one
                try:
                    known.append(await self.roles(leader_id))
                except DirectoryUnavailable as error:
                    known.append(error)
            if isinstance(known[0], DirectoryUnavailable):
                raise known[0]
            return known[0]

        for employee_id, manager in managers.items():
            try:
                if await self._lead_reason(leader_id, employee_id, manager, roles) is not None:
                    led.add(employee_id)
            except DirectoryUnavailable:
                unchecked.add(employee_id)
        return frozenset(led), frozenset(unchecked)

    async def managers_of(self, employee_ids: Iterable[str]) -> dict[str, str | None]:
        """The employees' managers in Entra ID now (GraphDirectory.managers_of: None when none
        is named, left out when Graph did not answer); empty with the checks off."""
        if self.directory is None:
            return {}
        return await self.directory.managers_of(employee_ids)

    async def _lead_reason(
        self,
        leader_id: str,
        employee_id: str,
        manager: str | None,
        leader_roles: Callable[[], Awaitable[Roles]],
    ) -> str | None:
        assert self.directory is not None
        employee = Employee(employee_id, manager)
        if lead_reason(leader_id, employee, Roles(), None) is not None:
            return AS_MANAGER  # the common case: no more to read
        substitute = await self.substitutes.of(manager) if manager else None
        reason = lead_reason(leader_id, employee, Roles(), substitute)
        if reason is not None:
            return reason
        roles = await leader_roles()
        if not roles.is_hr:
            return None
        unit = await self.directory.unit_of(employee_id)
        return lead_reason(leader_id, Employee(employee_id, manager, unit), roles, substitute)

    async def hr_units(self, actor: Actor) -> frozenset[str] | None:
        """The units the actor is HR for; None when they are not HR."""
        roles = await self.roles(actor.user_id)
        return roles.hr_units or None

    async def hr_for_unit_of(self, actor: Actor, user_id: str) -> bool:
        """Whether the actor is HR for the unit of ``user_id`` (a manager, for naming their
        substitute)."""
        roles = await self.roles(actor.user_id)
        if not roles.is_hr:
            return False
        unit = await self.directory.unit_of(user_id) if self.directory is not None else None
        return covers(roles.hr_units, unit)

    # --- the anonymous overview -----------------------------------------------------------

    def set_med(self, users: dict[str, frozenset[str]], groups: dict[str, frozenset[str]]) -> None:
        """The MED members: MED_USERS and MED_GROUPS."""
        self.med_users, self.med_groups = users, groups

    async def viewer_roles(self, user_id: str) -> Roles:
        """The roles of a viewer of the overview (an Entra object id from a chat turn or a
        sign-in token), MED membership included. Raises DirectoryUnavailable."""
        user = user_id.lower()
        roles = await self.roles(user)
        med = set(self.med_users.get(user, frozenset()))
        if self.directory is not None and self.med_groups:
            # the same question as roles() asked (all the named groups): a cached answer
            member_of = await self.directory.groups_of(user, self._groups())
            for group, units in self.med_groups.items():
                if group in member_of:
                    med |= units
        return Roles(roles.hr_units, roles.work_environment_units, roles.may_manage, frozenset(med))

    async def overview_units(self, user_id: str) -> frozenset[str]:
        """The units whose overview the viewer may see ("*" = all); empty: none."""
        return overview_units(await self.viewer_roles(user_id))

    # --- the route guard --------------------------------------------------------------------

    async def refusal(self, rule: str | None, actor: Actor, data: Any) -> TurnResult | None:
        """None when the rule lets the actor on, else the polite refusal."""
        if rule is None:
            return None
        t = actor.texts
        try:
            if rule == MANAGES:
                if not (await self.roles(actor.user_id)).may_manage:
                    log.warning("start refused: not in the managers' group")
                    return TurnResult.say(t("access.not_a_manager"))
            elif rule == HR:
                if await self.hr_units(actor) is None:
                    log.warning("HR command refused: not an HR user")
                    return TurnResult.say(t("hr.refused"))
            elif rule == LEADS:
                return await self._leads_refusal(actor, data)
            elif rule == OVERVIEW:
                if not await self.overview_units(actor.user_id):
                    log.warning("overview refused: not in a work-environment, MED or HR group")
                    return TurnResult.say(t("overview.card.refused"))
        except DirectoryUnavailable as error:
            log.warning("access check failed closed: the directory did not answer (%s)", error)
            return TurnResult.say(t("access.unavailable"))
        return None

    async def _leads_refusal(self, actor: Actor, data: Any) -> TurnResult | None:
        if self.directory is None:
            return None
        request_id = getattr(data, "request_id", None)
        if isinstance(request_id, str) and self.requests is not None:
            return await self._request_refusal(actor, request_id)
        chosen = getattr(data, "dialogue_id", None)
        dialogue = await self.dialogues.get(chosen) if isinstance(chosen, str) and chosen else None
        if isinstance(data, Pointed) and (
            dialogue is None or not dialogue.is_open or dialogue.manager_id != actor.user_id
        ):
            # "fortsæt" and "afbryd" fall back to the actor's open dialogue: that one is checked.
            dialogue = await self.dialogues.latest_open(actor.user_id)
        # Not the actor's dialogue, or no employee chosen yet: the handler's own checks answer.
        if dialogue is None or dialogue.manager_id != actor.user_id or not dialogue.employee_id:
            return None
        if await self.leads(actor.user_id, dialogue.employee_id) is None:
            log.warning(
                "dialogue verb refused: not the employee's manager", extra={"dialogue": dialogue.id}
            )
            return TurnResult.say(actor.texts("access.not_your_employee"))
        return None

    async def _request_refusal(self, actor: Actor, request_id: str) -> TurnResult | None:
        """ "Start samtalen" on an employee's request: the employee named the actor as their
        manager; Entra ID must agree before the dialogue opens."""
        assert self.requests is not None
        request = await self.requests.get(request_id)
        # Not sent to the actor: the handler's own check answers.
        if request is None or request.manager_id.lower() != actor.user_id.lower():
            return None
        if await self.leads(actor.user_id, request.employee_id) is None:
            log.warning("request start refused: not the employee's manager")
            return TurnResult.say(actor.texts("access.not_their_manager"))
        return None

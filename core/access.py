"""Who may do what: the rules of access, free of botbuilder and of Microsoft Graph.

Only an employee's own manager leads the dialogue about them, or a substitute that manager
(or HR) has named, or HR for the employee's unit. The facts come from Entra ID (the
employee's manager and department, the actor's groups) through dialogs/access.py; here they
are weighed. A unit is compared casefolded; "*" stands for every unit.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_UNITS = "*"

#: Why someone may lead a dialogue about an employee.
AS_MANAGER = "manager"
AS_SUBSTITUTE = "substitute"
AS_HR = "hr"


def unit_map(spec: str) -> dict[str, frozenset[str]]:
    """``"<object id>:<unit>|<unit>,<object id>:*"`` as {object id (lower case): units
    (casefolded)}; an id without units stands for every unit."""
    found: dict[str, frozenset[str]] = {}
    for entry in spec.split(","):
        who, _, units = entry.partition(":")
        if who.strip():
            found[who.strip().lower()] = frozenset(
                u.strip().casefold() for u in units.split("|") if u.strip()
            ) or frozenset({ALL_UNITS})
    return found


def id_list(spec: str) -> frozenset[str]:
    """Comma-separated object ids, lower case."""
    return frozenset(part.strip().lower() for part in spec.split(",") if part.strip())


def covers(units: frozenset[str], unit: str | None) -> bool:
    """Whether a role for ``units`` reaches ``unit``."""
    if ALL_UNITS in units:
        return True
    return bool(unit) and (unit or "").strip().casefold() in units


@dataclass(frozen=True)
class Employee:
    """What the directory says about the employee a dialogue is about."""

    user_id: str
    #: Their manager's object id; None when Entra ID names no manager.
    manager_id: str | None
    #: Their department (the unit), when it was asked for.
    unit: str | None = None


@dataclass(frozen=True)
class Roles:
    """The actor's roles, from the object-id lists and the Entra ID groups together."""

    hr_units: frozenset[str] = frozenset()
    work_environment_units: frozenset[str] = frozenset()
    #: May start dialogues: a member of the "managers who may use the bot" group, or any
    #: user when no such group is named.
    may_manage: bool = True
    #: The units whose MED committee the actor sits on.
    med_units: frozenset[str] = frozenset()

    @property
    def is_hr(self) -> bool:
        return bool(self.hr_units)


def overview_units(roles: Roles) -> frozenset[str]:
    """The units whose anonymous overview (the APV figures) a viewer may see: those of their
    work-environment group, their MED committee and their HR role together ("*" = every
    unit). Empty: they may see none."""
    if ALL_UNITS in (units := roles.hr_units | roles.work_environment_units | roles.med_units):
        return frozenset({ALL_UNITS})
    return units


def lead_reason(
    actor_id: str, employee: Employee, roles: Roles, substitute_for_manager: str | None
) -> str | None:
    """Why ``actor_id`` may lead a dialogue about ``employee``, or None when they may not.

    ``substitute_for_manager`` is the substitute the employee's manager has named (or HR
    has named for them), if any."""
    actor = actor_id.lower()
    manager = (employee.manager_id or "").lower()
    if manager and actor == manager:
        return AS_MANAGER
    if manager and substitute_for_manager and actor == substitute_for_manager.lower():
        return AS_SUBSTITUTE
    if covers(roles.hr_units, employee.unit):
        return AS_HR
    return None

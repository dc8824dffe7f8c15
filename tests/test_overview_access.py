"""Who may see the anonymous overview of which units (core/access.py ``overview_units``):
the units of the work-environment group, MED and HR roles together; "*" from any of them
means every unit; no role, no unit."""

from __future__ import annotations

from core.access import ALL_UNITS, Roles, covers, overview_units, unit_map


def test_the_three_roles_add_up():
    roles = Roles(
        hr_units=frozenset({"teknik"}),
        work_environment_units=frozenset({"borgerservice"}),
        med_units=frozenset({"kultur", "teknik"}),
    )
    assert overview_units(roles) == {"teknik", "borgerservice", "kultur"}


def test_every_unit_from_any_role_is_every_unit():
    assert overview_units(Roles(med_units=frozenset({ALL_UNITS, "x"}))) == {ALL_UNITS}
    assert covers(overview_units(Roles(hr_units=frozenset({ALL_UNITS}))), "Any unit")


def test_no_role_sees_nothing():
    assert overview_units(Roles()) == frozenset()
    assert not covers(overview_units(Roles()), "Teknik")


def test_med_users_are_read_like_hr_users():
    spec = "A1A1A1A1-0000-4000-8000-000000000002:Teknik|Kultur, b:*"
    assert unit_map(spec) == {
        "a1a1a1a1-0000-4000-8000-000000000002": {"teknik", "kultur"},
        "b": {ALL_UNITS},
    }

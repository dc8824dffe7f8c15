"""The production start: `APP_ENV=production python app.py` with settings from the environment."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAKE_CREDENTIALS = {
    "MICROSOFT_APP_ID": "00000000-0000-0000-0000-00000000abcd",
    "MICROSOFT_APP_PASSWORD": "placeholder-not-a-secret",
    "MICROSOFT_APP_TENANT_ID": "00000000-0000-0000-0000-0000000000001",
    "ALLOWED_TENANT_IDS": "00000000-0000-0000-0000-0000000000001",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The same identity under the Agents SDK's own names (BOT_SDK=agents).
AGENTS = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
AGENTS_CREDENTIALS = {
    "BOT_SDK": "agents",
    AGENTS + "CLIENTID": FAKE_CREDENTIALS["MICROSOFT_APP_ID"],
    AGENTS + "CLIENTSECRET": FAKE_CREDENTIALS["MICROSOFT_APP_PASSWORD"],
    AGENTS + "TENANTID": FAKE_CREDENTIALS["MICROSOFT_APP_TENANT_ID"],
    AGENTS + "AUTHTYPE": "ClientSecret",
    "ALLOWED_TENANT_IDS": FAKE_CREDENTIALS["ALLOWED_TENANT_IDS"],
}
#: Each host with the settings its users know: (the SDK /healthz names, the settings).
STARTS = {
    "botbuilder": ("botbuilder", FAKE_CREDENTIALS),
    "agents-microsoft-app-names": ("agents", {**FAKE_CREDENTIALS, "BOT_SDK": "agents"}),
    "agents-own-names": ("agents", AGENTS_CREDENTIALS),
}


def run_app(env: dict[str, str], tmp_path: Path) -> subprocess.Popen:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MICROSOFT_APP", "CONNECTIONS__", "BOT_SDK"))
    }
    return subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={**clean, "DATABASE_PATH": str(tmp_path / "prod.sqlite3"), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_health(port: int, deadline: float = 20) -> dict:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return json.loads(r.read())
        except OSError:
            time.sleep(0.1)
    raise AssertionError("no /healthz answer")


@pytest.mark.parametrize("start", list(STARTS))
def test_production_start_answers_healthz_logs_json_and_stops_gracefully(tmp_path, start):
    sdk, credentials = STARTS[start]
    port = free_port()
    proc = run_app({"APP_ENV": "production", "PORT": str(port), **credentials}, tmp_path)
    try:
        assert wait_health(port) == {
            "status": "ok",
            "version": "0.1.0",
            "store": "ok",
            "engine": "sqlite",
            "schema": "current",
            "mode": "authenticated",
            "sdk": sdk,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert not any("LOCAL MODE" in line["message"] for line in lines)
    assert "placeholder-not-a-secret" not in err


def test_production_refuses_local_mode(tmp_path):
    proc = run_app({"APP_ENV": "production", "PORT": str(free_port())}, tmp_path)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "refusing to start in local mode" in err
    assert "Traceback" not in err


def test_incomplete_single_tenant_settings_are_named(tmp_path):
    env = {"PORT": str(free_port()), "MICROSOFT_APP_ID": FAKE_CREDENTIALS["MICROSOFT_APP_ID"]}
    proc = run_app(env, tmp_path)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID" in err
    assert "Traceback" not in err


def test_env_example_documents_every_setting():
    """Under the name it is read by: the Agents SDK's names for the settings that have one."""
    from pydantic import AliasChoices

    from settings import Settings

    documented = {
        line.split("=", 1)[0].strip().lower()
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    names = {
        str(f.validation_alias.choices[0]).lower()
        if isinstance(f.validation_alias, AliasChoices)
        else name
        for name, f in Settings.model_fields.items()
    }
    assert documented == names


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {AGENTS + "CLIENTID": FAKE_CREDENTIALS["MICROSOFT_APP_ID"]},
            "read only with BOT_SDK=agents",
        ),
        (
            {**AGENTS_CREDENTIALS, "MICROSOFT_APP_ID": "00000000-0000-0000-0000-00000000ffff"},
            "CLIENTID and MICROSOFT_APP_ID differ",
        ),
        ({**AGENTS_CREDENTIALS, AGENTS + "AUTHTYPE": "Certificate"}, "AUTHTYPE=Certificate"),
        (
            {k: v for k, v in AGENTS_CREDENTIALS.items() if k != AGENTS + "TENANTID"},
            "MICROSOFT_APP_TENANT_ID",
        ),
    ],
    ids=["agents-names-on-botbuilder", "two-names-differ", "unsupported-auth-type", "no-tenant"],
)
def test_a_setting_that_the_chosen_sdk_cannot_use_is_named(tmp_path, env, named):
    proc = run_app({"PORT": str(free_port()), **env}, tmp_path)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert named in err and "Traceback" not in err


def test_production_needs_the_tenant_allow_list(tmp_path):
    env = {k: v for k, v in FAKE_CREDENTIALS.items() if k != "ALLOWED_TENANT_IDS"}
    proc = run_app({"APP_ENV": "production", "PORT": str(free_port()), **env}, tmp_path)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "ALLOWED_TENANT_IDS" in err and "Traceback" not in err

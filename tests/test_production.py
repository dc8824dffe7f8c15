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


def run_app(env: dict[str, str], tmp_path: Path) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MICROSOFT_APP")}
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


def test_production_start_answers_healthz_logs_json_and_stops_gracefully(tmp_path):
    port = free_port()
    proc = run_app({"APP_ENV": "production", "PORT": str(port), **FAKE_CREDENTIALS}, tmp_path)
    try:
        assert wait_health(port) == {
            "status": "ok",
            "version": "0.1.0",
            "store": "ok",
            "engine": "sqlite",
            "schema": "current",
            "mode": "authenticated",
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
    from settings import Settings

    documented = {
        line.split("=", 1)[0].strip().lower()
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert documented == set(Settings.model_fields)


def test_production_needs_the_tenant_allow_list(tmp_path):
    env = {k: v for k, v in FAKE_CREDENTIALS.items() if k != "ALLOWED_TENANT_IDS"}
    proc = run_app({"APP_ENV": "production", "PORT": str(free_port()), **env}, tmp_path)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "ALLOWED_TENANT_IDS" in err and "Traceback" not in err

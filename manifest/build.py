"""Build the Teams app package that an admin uploads in the Teams admin center.

    python -m manifest.build [--out appPackage.zip] [--env-file .env]

Settings come from the environment, then from the optional env file (the
environment wins):

    MICROSOFT_APP_ID       the bot's Entra application (client) ID - required
    BOT_DOMAIN             host name the bot is served from - required
    TEAMS_APP_ID           Teams app ID; defaults to MICROSOFT_APP_ID
    APP_VERSION            package version; defaults to the project version
    AAD_APP_CLIENT_ID      another app registration for SSO (webApplicationInfo); unset:
                           the bot's own, api://<BOT_DOMAIN>/<MICROSOFT_APP_ID>, which the
                           overview tab signs in with
    AAD_APP_RESOURCE       SSO resource; defaults to api://botid-<AAD_APP_CLIENT_ID>
    DEVELOPER_WEBSITE_URL, DEVELOPER_PRIVACY_URL, DEVELOPER_TERMS_URL

manifest.template.json uses the Agents Toolkit placeholder syntax ${{NAME}},
so the Toolkit's teamsApp/zipAppPackage can read the same template.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tomllib
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "manifest.template.json"
PACKAGE_FILES = ("color.png", "outline.png", "da-dk.json", "en-us.json")
FALLBACK_VERSION = "0.1.0"

DEFAULTS = {
    "DEVELOPER_WEBSITE_URL": "https://hjoerring.dk",
    "DEVELOPER_PRIVACY_URL": "https://hjoerring.dk/databeskyttelse",
    "DEVELOPER_TERMS_URL": "https://hjoerring.dk",
}
KEYS = (
    "MICROSOFT_APP_ID",
    "BOT_DOMAIN",
    "TEAMS_APP_ID",
    "APP_VERSION",
    "AAD_APP_CLIENT_ID",
    "AAD_APP_RESOURCE",
    *DEFAULTS,
)

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"
)
PLACEHOLDER = re.compile(r"\$\{\{\s*([A-Z][A-Z0-9_]*)\s*\}\}")


class BuildError(Exception):
    """A setting is missing or wrong; the message tells the admin what to fix."""


def project_version() -> str:
    """The version in pyproject.toml, so the package follows the code's version."""
    pyproject = HERE.parent / "pyproject.toml"
    if pyproject.is_file():
        version = tomllib.loads(pyproject.read_text("utf-8")).get("project", {}).get("version")
        if isinstance(version, str) and version:
            return version
    return FALLBACK_VERSION


def read_settings(env: Mapping[str, str | None]) -> dict[str, str]:
    """Pick our keys from env, fill defaults and check them; all problems at once."""
    s = {key: (env.get(key) or "").strip() for key in KEYS}
    for key, default in DEFAULTS.items():
        s[key] = s[key] or default
    s["APP_VERSION"] = s["APP_VERSION"] or project_version()
    s["TEAMS_APP_ID"] = s["TEAMS_APP_ID"] or s["MICROSOFT_APP_ID"]
    if "://" in s["BOT_DOMAIN"]:  # tolerate a pasted URL such as https://host/api/messages
        s["BOT_DOMAIN"] = urlsplit(s["BOT_DOMAIN"]).hostname or ""

    errors = []
    if not s["MICROSOFT_APP_ID"]:
        errors.append(
            "MICROSOFT_APP_ID is not set. Set it to the bot's Microsoft Entra "
            "application (client) ID, e.g. MICROSOFT_APP_ID=00000000-0000-0000-0000-000000000000."
        )
    for key in ("MICROSOFT_APP_ID", "TEAMS_APP_ID", "AAD_APP_CLIENT_ID"):
        if s[key] and not GUID.match(s[key]):
            errors.append(
                f"{key} must be a GUID such as 00000000-0000-0000-0000-000000000000, got {s[key]!r}."
            )
    if not s["BOT_DOMAIN"]:
        errors.append(
            "BOT_DOMAIN is not set. Set it to the bot's host name, e.g. BOT_DOMAIN=hjemmearbejde.example.dk."
        )
    elif not HOSTNAME.match(s["BOT_DOMAIN"]):
        errors.append(
            f"BOT_DOMAIN must be a host name such as hjemmearbejde.example.dk, got {s['BOT_DOMAIN']!r}."
        )
    if not SEMVER.match(s["APP_VERSION"]):
        errors.append(f"APP_VERSION must look like 1.2.3, got {s['APP_VERSION']!r}.")
    for key in DEFAULTS:
        if not s[key].startswith("https://"):
            errors.append(f"{key} must be an https:// address, got {s[key]!r}.")
    if s["AAD_APP_RESOURCE"] and not s["AAD_APP_CLIENT_ID"]:
        errors.append(
            "AAD_APP_RESOURCE is set but AAD_APP_CLIENT_ID is not; SSO needs both (or neither)."
        )
    if errors:
        raise BuildError("\n".join(errors))
    return s


def _fill(node: object, settings: Mapping[str, str]) -> object:
    """Replace ${{NAME}} in every string of the parsed template."""
    if isinstance(node, str):

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if not settings.get(name):
                raise BuildError(f"The template uses ${{{{{name}}}}}, but {name} has no value.")
            return settings[name]

        return PLACEHOLDER.sub(value, node)
    if isinstance(node, list):
        return [_fill(item, settings) for item in node]
    if isinstance(node, dict):
        return {key: _fill(item, settings) for key, item in node.items()}
    return node


def render_manifest(settings: Mapping[str, str]) -> dict[str, Any]:
    manifest = _fill(json.loads(TEMPLATE.read_text("utf-8")), settings)
    if not isinstance(manifest, dict):
        raise BuildError(f"{TEMPLATE.name} must hold a JSON object.")
    if settings["AAD_APP_CLIENT_ID"]:
        client_id = settings["AAD_APP_CLIENT_ID"]
        manifest["webApplicationInfo"] = {
            "id": client_id,
            "resource": settings["AAD_APP_RESOURCE"] or f"api://botid-{client_id}",
        }
        # The Bot Framework sign-in flow (OAuth card) runs on this domain.
        manifest["validDomains"].append("token.botframework.com")
    else:
        # The overview tab's single sign-on: Teams asks Entra ID for a token for the bot's
        # own app registration, exposed as this Application ID URI (docs/deploy.md).
        app_id = settings["MICROSOFT_APP_ID"]
        manifest["webApplicationInfo"] = {
            "id": app_id,
            "resource": f"api://{settings['BOT_DOMAIN']}/{app_id}",
        }
    return manifest


def build(out: Path, env: Mapping[str, str | None]) -> Path:
    """Write the zip: manifest.json, the two icons and the two language files."""
    manifest = render_manifest(read_settings(env))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        for name in PACKAGE_FILES:
            zf.write(HERE / name, arcname=name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m manifest.build", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out", default="appPackage.zip", help="zip to write (default: appPackage.zip)"
    )
    parser.add_argument(
        "--env-file", default=".env", help="optional env file to read (default: .env)"
    )
    args = parser.parse_args(argv)

    env_file = Path(args.env_file)
    file_values = dotenv_values(env_file) if env_file.is_file() else {}
    env = {**file_values, **os.environ}
    try:
        out = build(Path(args.out), env)
    except BuildError as exc:
        print(f"Cannot build the Teams app package:\n{exc}", file=sys.stderr)
        return 2
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The Teams app package: build it, validate it offline, and check the validator bites.

Needs `node` and the npm packages from package.json (`npm ci`), like CI has.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
MANIFEST_DIR = REPO / "manifest"
VALIDATOR = MANIFEST_DIR / "validate.mjs"

BOT_ID = "0f3c9a51-7b2e-4d8a-9c61-2a4b5e6f7081"
DOMAIN = "hjemmearbejde.example.dk"
SSO_ID = "6d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d5e"
EXPECTED_FILES = {"manifest.json", "color.png", "outline.png", "da-dk.json", "en-us.json"}
SETTING_KEYS = (
    "MICROSOFT_APP_ID",
    "BOT_DOMAIN",
    "TEAMS_APP_ID",
    "APP_VERSION",
    "AAD_APP_CLIENT_ID",
    "AAD_APP_RESOURCE",
    "DEVELOPER_WEBSITE_URL",
    "DEVELOPER_PRIVACY_URL",
    "DEVELOPER_TERMS_URL",
)
DA_COMMANDS = ["hjælp", "start", "fortsæt", "status", "afbryd", "selvtjek"]
EN_COMMANDS = ["help", "start", "continue", "status", "cancel", "self-check"]
#: The overview answers only in the personal chat (a group chat would see the figures), so
#: only the personal list offers it.
DA_PERSONAL, EN_PERSONAL = [*DA_COMMANDS, "overblik"], [*EN_COMMANDS, "overview"]


def run_build(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m manifest.build` as an admin would, with only the given settings.

    It runs in tmp_path so that a developer's own .env in the repository is not read.
    """
    env = {k: v for k, v in os.environ.items() if k not in SETTING_KEYS}
    env["PYTHONPATH"] = str(REPO)
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-m", "manifest.build", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_validator(target: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the manifest validator needs Node.js 20")
    return subprocess.run(
        [node, str(VALIDATOR), str(target)], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def build_package(tmp_path: Path, **settings: str) -> Path:
    out = tmp_path / "out" / "appPackage.zip"
    result = run_build(tmp_path, "--out", str(out), **settings)
    assert result.returncode == 0, result.stderr
    assert out.is_file()
    return out


def unpack(package: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(package) as zf:
        zf.extractall(into)
    return into


def read_manifest(package: Path) -> dict:
    with zipfile.ZipFile(package) as zf:
        return json.loads(zf.read("manifest.json").decode("utf-8"))


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(tmp_path_factory.mktemp("pkg"), MICROSOFT_APP_ID=BOT_ID, BOT_DOMAIN=DOMAIN)


# ------------------------------------------------------------------ the build


def test_built_package_passes_the_offline_validator(package: Path) -> None:
    result = run_validator(package)
    assert result.returncode == 0, result.stderr
    assert "schema v1.30" in result.stdout


def test_unpacked_package_and_its_manifest_file_pass_too(package: Path, tmp_path: Path) -> None:
    folder = unpack(package, tmp_path / "pkg")
    for target in (folder, folder / "manifest.json"):
        result = run_validator(target)
        assert result.returncode == 0, result.stderr


def test_package_holds_exactly_the_expected_files(package: Path) -> None:
    with zipfile.ZipFile(package) as zf:
        names = zf.namelist()
    assert sorted(names) == sorted(EXPECTED_FILES)


def test_manifest_uses_the_newest_bundled_ga_schema(package: Path) -> None:
    schema_dir = (
        REPO / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
    )
    versions = [d.name[1:] for d in schema_dir.iterdir() if d.name[1:2].isdigit()]
    newest = max(versions, key=lambda v: tuple(int(part) for part in v.split(".")))
    manifest = read_manifest(package)
    assert manifest["manifestVersion"] == newest
    assert manifest["$schema"].endswith(f"/v{newest}/MicrosoftTeams.schema.json")


def test_icons_have_the_right_sizes_and_outline_is_white_on_transparent(package: Path) -> None:
    with zipfile.ZipFile(package) as zf:
        color = Image.open(BytesIO(zf.read("color.png")))
        outline = Image.open(BytesIO(zf.read("outline.png"))).convert("RGBA")
    assert color.size == (192, 192)
    assert outline.size == (32, 32)
    pixels = [outline.getpixel((x, y)) for y in range(32) for x in range(32)]
    for corner in ((0, 0), (31, 0), (0, 31), (31, 31)):
        assert outline.getpixel(corner)[3] == 0, f"corner {corner} is not transparent"
    visible = [p for p in pixels if p[3] > 0]
    assert visible, "the outline icon is empty"
    assert sum(p[3] == 0 for p in pixels) > 32 * 32 // 3, "the background is not transparent"
    assert all(p[:3] == (255, 255, 255) for p in visible), "the outline icon has non-white pixels"


def test_bot_id_and_domain_come_from_the_settings(package: Path) -> None:
    manifest = read_manifest(package)
    assert manifest["id"] == BOT_ID  # TEAMS_APP_ID defaults to the bot id
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == [DOMAIN]
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert manifest["version"] == project["version"]  # APP_VERSION defaults to the project's
    # The overview tab signs in with the bot's own app registration (Teams SSO).
    assert manifest["webApplicationInfo"] == {"id": BOT_ID, "resource": f"api://{DOMAIN}/{BOT_ID}"}
    assert "${{" not in json.dumps(manifest)


def test_the_overview_tab_is_a_personal_tab_on_the_bots_domain(package: Path) -> None:
    manifest = read_manifest(package)
    (tab,) = manifest["staticTabs"]
    assert tab["entityId"] == "overview"  # the chat card's deep link opens this entity
    assert tab["scopes"] == ["personal"]
    assert tab["contentUrl"] == f"https://{DOMAIN}/overview?locale={{locale}}"
    with zipfile.ZipFile(package) as zf:
        english = json.loads(zf.read("en-us.json"))
    assert english["staticTabs[0].name"] == "Overview"


def test_other_settings_are_applied(tmp_path: Path) -> None:
    teams_app_id = "11111111-2222-4333-8444-555555555555"
    package = build_package(
        tmp_path,
        MICROSOFT_APP_ID=BOT_ID,
        BOT_DOMAIN=f"https://{DOMAIN}/api/messages",  # a pasted URL is reduced to its host
        TEAMS_APP_ID=teams_app_id,
        APP_VERSION="1.4.2",
        DEVELOPER_PRIVACY_URL="https://intra.hjoerring.dk/privatliv",
    )
    manifest = read_manifest(package)
    assert manifest["id"] == teams_app_id
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == [DOMAIN]
    assert manifest["version"] == "1.4.2"
    assert manifest["developer"]["privacyUrl"] == "https://intra.hjoerring.dk/privatliv"
    assert manifest["developer"]["websiteUrl"].startswith("https://")


def test_settings_can_come_from_an_env_file_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text(
        f"MICROSOFT_APP_ID={BOT_ID}\nBOT_DOMAIN=from-file.example.dk\n", encoding="utf-8"
    )
    out = tmp_path / "appPackage.zip"
    result = run_build(tmp_path, "--out", str(out), "--env-file", str(env_file), BOT_DOMAIN=DOMAIN)
    assert result.returncode == 0, result.stderr
    manifest = read_manifest(out)
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == [DOMAIN]


def test_sso_settings_add_web_application_info(tmp_path: Path) -> None:
    package = build_package(
        tmp_path, MICROSOFT_APP_ID=BOT_ID, BOT_DOMAIN=DOMAIN, AAD_APP_CLIENT_ID=SSO_ID
    )
    manifest = read_manifest(package)
    assert manifest["webApplicationInfo"] == {"id": SSO_ID, "resource": f"api://botid-{SSO_ID}"}
    assert manifest["validDomains"] == [DOMAIN, "token.botframework.com"]
    result = run_validator(package)
    assert result.returncode == 0, result.stderr


def test_sso_resource_setting_is_used(tmp_path: Path) -> None:
    resource = f"api://{DOMAIN}/botid-{SSO_ID}"
    package = build_package(
        tmp_path,
        MICROSOFT_APP_ID=BOT_ID,
        BOT_DOMAIN=DOMAIN,
        AAD_APP_CLIENT_ID=SSO_ID,
        AAD_APP_RESOURCE=resource,
    )
    assert read_manifest(package)["webApplicationInfo"] == {"id": SSO_ID, "resource": resource}


def test_missing_bot_id_gives_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "appPackage.zip"
    result = run_build(tmp_path, "--out", str(out), BOT_DOMAIN=DOMAIN)
    assert result.returncode != 0
    assert "MICROSOFT_APP_ID is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"MICROSOFT_APP_ID": "not-a-guid", "BOT_DOMAIN": DOMAIN},
            "MICROSOFT_APP_ID must be a GUID",
        ),
        ({"MICROSOFT_APP_ID": BOT_ID}, "BOT_DOMAIN is not set"),
        (
            {"MICROSOFT_APP_ID": BOT_ID, "BOT_DOMAIN": "not a host"},
            "BOT_DOMAIN must be a host name",
        ),
        (
            {"MICROSOFT_APP_ID": BOT_ID, "BOT_DOMAIN": DOMAIN, "APP_VERSION": "1.0"},
            "APP_VERSION must look like",
        ),
        (
            {"MICROSOFT_APP_ID": BOT_ID, "BOT_DOMAIN": DOMAIN, "AAD_APP_RESOURCE": "api://x"},
            "AAD_APP_CLIENT_ID",
        ),
    ],
)
def test_wrong_settings_are_refused_without_a_traceback(
    tmp_path: Path, settings: dict, message: str
) -> None:
    result = run_build(tmp_path, "--out", str(tmp_path / "appPackage.zip"), **settings)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ the texts


def test_commands_are_listed_for_personal_and_group_chat(package: Path) -> None:
    bot = read_manifest(package)["bots"][0]
    assert bot["scopes"] == ["personal", "groupChat"]
    assert bot["supportsFiles"] is False
    assert [cl["scopes"] for cl in bot["commandLists"]] == [["personal"], ["groupChat"]]
    personal, group = bot["commandLists"]
    assert [c["title"] for c in personal["commands"]] == DA_PERSONAL
    assert [c["title"] for c in group["commands"]] == DA_COMMANDS
    for command_list in bot["commandLists"]:
        assert all(c["description"] for c in command_list["commands"])


def test_language_files_cover_the_same_texts() -> None:
    da = json.loads((MANIFEST_DIR / "da-dk.json").read_text("utf-8"))
    en = json.loads((MANIFEST_DIR / "en-us.json").read_text("utf-8"))
    assert set(da) == set(en)
    assert da["name.short"] == "Hjemmearbejde"
    assert da["name.full"] == "Hjemmearbejdsdialog"
    for lang, lists in ((da, (DA_PERSONAL, DA_COMMANDS)), (en, (EN_PERSONAL, EN_COMMANDS))):
        for li, titles in enumerate(lists):
            keys = [f"bots[0].commandLists[{li}].commands[{ci}].title" for ci in range(len(titles))]
            assert [lang[k] for k in keys] == titles
        assert f"bots[0].commandLists[1].commands[{len(lists[1])}].title" not in lang


# ------------------------------------------------------------------ the validator bites


def _break_manifest(folder: Path, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def _break_json(name: str, change):
    def breaker(folder: Path) -> None:
        path = folder / name
        data = json.loads(path.read_text("utf-8"))
        change(data)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    return breaker


def _replace_outline(image: Image.Image):
    def breaker(folder: Path) -> None:
        image.save(folder / "outline.png")

    return breaker


def _with_red_dot() -> Image.Image:
    icon = Image.open(MANIFEST_DIR / "outline.png").convert("RGBA")
    icon.putpixel((16, 16), (200, 0, 0, 255))
    return icon


BREAKAGES = {
    "wrong field type": (
        _break_json("manifest.json", lambda m: m["bots"][0].__setitem__("supportsFiles", "no")),
        "/bots/0/supportsFiles must be boolean",
    ),
    "bot id not a GUID": (
        _break_json("manifest.json", lambda m: m["bots"][0].__setitem__("botId", "my-bot")),
        "/bots/0/botId must match pattern",
    ),
    "required field missing": (
        _break_json("manifest.json", lambda m: m.pop("developer")),
        "must have required property 'developer'",
    ),
    "unknown field": (
        _break_json("manifest.json", lambda m: m.__setitem__("colour", "#00616E")),
        '"additionalProperty":"colour"',
    ),
    "unknown scope": (
        _break_json("manifest.json", lambda m: m["bots"][0]["scopes"].append("meeting")),
        "/bots/0/scopes/2 must be equal to one of the allowed values",
    ),
    "localized name too long": (
        _break_json("en-us.json", lambda d: d.__setitem__("name.short", "x" * 31)),
        "en-us.json: /name.short must NOT have more than 30 characters",
    ),
    "localization key with no manifest text": (
        _break_json(
            "en-us.json", lambda d: d.__setitem__("bots[0].commandLists[0].commands[9].title", "x")
        ),
        "does not match a text in the manifest",
    ),
    "default language file out of step": (
        _break_json("da-dk.json", lambda d: d.__setitem__("name.short", "Noget andet")),
        'da-dk.json: "name.short" differs from the manifest',
    ),
    "outline icon wrong size": (
        _replace_outline(Image.new("RGBA", (48, 48), (255, 255, 255, 0))),
        "must be 32x32 pixels, it is 48x48",
    ),
    "outline icon not transparent": (
        _replace_outline(Image.new("RGBA", (32, 32), (255, 255, 255, 255))),
        "needs a transparent background",
    ),
    "outline icon not white": (
        _replace_outline(_with_red_dot()),
        "may only use white",
    ),
    "missing language file": (
        lambda folder: (folder / "en-us.json").unlink(),
        "en-us.json: missing from the package",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_validator_rejects_a_broken_package(package: Path, tmp_path: Path, breakage: str) -> None:
    folder = unpack(package, tmp_path / "pkg")
    breaker, expected = BREAKAGES[breakage]
    breaker(folder)
    result = run_validator(folder)
    assert result.returncode == 1, result.stdout
    assert expected in result.stderr


def test_validator_reads_a_zip_and_reports_a_broken_one(package: Path, tmp_path: Path) -> None:
    folder = unpack(package, tmp_path / "pkg")
    _break_manifest(folder, lambda m: m.__setitem__("accentColor", "teal"))
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(EXPECTED_FILES):
            zf.write(folder / name, arcname=name)
    result = run_validator(broken)
    assert result.returncode == 1
    assert "/accentColor must match pattern" in result.stderr


def test_validator_reports_an_unusable_target(tmp_path: Path) -> None:
    result = run_validator(tmp_path / "nothing-here.zip")
    assert result.returncode == 2
    assert "does not exist" in result.stderr

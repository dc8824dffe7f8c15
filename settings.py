"""All settings in one typed object, read from environment variables and an optional ``.env``.

Every key is documented in ``.env.example``. With no Microsoft app credentials the bot runs in
local mode (Agents Playground, embedded SQLite); each remote part switches on when its
settings are present.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.access import id_list, unit_map
from core.policy import POLICY_FILE

#: The prefix of the Agents SDK's names for its service connection (its env configuration).
AGENTS = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
#: The Agents SDK's AUTHTYPE values this bot supports, as the MICROSOFT_APP_TYPE they mean.
AGENTS_AUTH_TYPES = {"clientsecret": "SingleTenant", "usermanagedidentity": "UserAssignedMSI"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(3978, ge=1, le=65535)
    #: The store: sqlite+aiosqlite:///<file> (embedded, one instance) or
    #: postgresql+asyncpg://<user>[:<password>]@<host>:5432/<database> (several instances).
    database_url: str = "sqlite+aiosqlite:///data/hjemmearbejde.sqlite3"
    #: Read only when DATABASE_URL is not set: the SQLite file (the first release's setting).
    database_path: Path | None = None
    #: "password" (in DATABASE_URL, or none) or "entra": an Entra ID token from the managed
    #: identity (azure-identity) is the password of each new PostgreSQL connection, over TLS.
    database_auth: Literal["password", "entra"] = "password"
    #: With DATABASE_AUTH=entra: the client id of a user-assigned managed identity; empty =
    #: the system-assigned one (or AZURE_CLIENT_ID, or a developer's Azure CLI sign-in).
    database_client_id: str = ""
    #: PostgreSQL: seconds a statement, or the wait for a pooled connection, may take before
    #: the turn gives up with the friendly "try again" (a server or network that hangs).
    database_timeout: float = Field(15.0, gt=0, le=300)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    timezone: str = "Europe/Copenhagen"
    #: Empty: every user gets the language of their Teams locale. The Agents Playground always
    #: sends en-US, so scripts/run.sh sets da-DK to show the bot in Danish.
    force_locale: Literal["", "da-DK", "en-US"] = ""
    #: The guidance as data (rules, thresholds, who acts, sources); see docs/policy.md.
    policy_file: Path = POLICY_FILE

    #: The SDK that carries activities in and out: botbuilder 4.17 (the default) or the
    #: Microsoft 365 Agents SDK 1.9 ("agents"); see docs/deploy.md.
    bot_sdk: Literal["botbuilder", "agents"] = "botbuilder"
    #: The Agents SDK's own names for the bot's identity, read only with BOT_SDK=agents; they
    #: fill the MICROSOFT_APP_* settings below (which both hosts read) when those are unset.
    agents_client_id: str = Field(
        "", validation_alias=AliasChoices(AGENTS + "CLIENTID", "agents_client_id")
    )
    agents_client_secret: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices(AGENTS + "CLIENTSECRET", "agents_client_secret"),
    )
    agents_tenant_id: str = Field(
        "", validation_alias=AliasChoices(AGENTS + "TENANTID", "agents_tenant_id")
    )
    agents_auth_type: str = Field(
        "", validation_alias=AliasChoices(AGENTS + "AUTHTYPE", "agents_auth_type")
    )

    microsoft_app_id: str = ""
    microsoft_app_password: SecretStr = SecretStr("")
    microsoft_app_type: Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"] = "SingleTenant"
    microsoft_app_tenant_id: str = ""
    #: Where channel tokens are checked (OpenID metadata) and who must have issued them.
    #: Empty: the public Bot Framework cloud. Set for a sovereign cloud or a test issuer.
    channel_openid_metadata_url: str = ""
    channel_token_issuer: str = ""

    #: Comma-separated Entra tenant ids whose activities are accepted; empty: any tenant
    #: (local mode). Activities from any other tenant are refused before the bot sees them.
    allowed_tenant_ids: str = ""

    #: HR: who may list and export agreement records, and for which units:
    #: "<Entra object id>:<unit>|<unit>,<object id>:*" (* = every unit). A fallback for
    #: small set-ups and local mode beside HR_GROUPS.
    hr_users: str = ""

    # --- who may do what: Entra ID through Microsoft Graph (docs/deploy.md, permissions) ---
    #: "auto": on with MICROSOFT_APP_ID (Teams), off in local mode; "graph": on (also in
    #: local mode, against a test directory); "off": only the object-id lists (refused in
    #: production).
    access_checks: Literal["auto", "graph", "off"] = "auto"
    #: Minutes an answer of the directory (a manager, a department, group membership) is
    #: reused before it is asked again.
    access_cache_minutes: float = Field(5.0, ge=0, le=120)
    #: Seconds before a directory request counts as unanswered (the turn is refused politely).
    access_timeout: float = Field(5.0, gt=0, le=60)
    #: HR as Entra ID security groups, with their units: "<group id>:<unit>|<unit>,<group id>:*".
    hr_groups: str = ""
    #: The work-environment group of each unit: "<group id>:<unit>|<unit>,...".
    work_environment_groups: str = ""
    #: The MED committee of each unit: "<group id>:<unit>|<unit>,...". Its members, the
    #: work-environment groups and HR see the anonymous overview of their units.
    med_groups: str = ""
    #: MED members by object id: "<object id>:<unit>|<unit>" (a fallback beside MED_GROUPS,
    #: and for local mode).
    med_users: str = ""
    #: Optional: only members of this group (transitively) may start dialogues as managers.
    manager_group_id: str = ""
    #: Days the employee's self-check answers are kept after the last change to their
    #: dialogues, and pulse answers after they were given; a daily job deletes older ones.
    retention_days: int = Field(365, ge=1, le=3650)
    #: The anonymous overview's threshold: no figure describes fewer people than this
    #: (core/overview.py; the export too).
    overview_min_group: int = Field(5, ge=3, le=25)

    #: The weekly reminders (pulse, manager digest, nudges): weekday and local time of the
    #: send (a public holiday moves it to the next working day), and what triggers a run:
    #: "internal" (this process), "external" (only POST /api/reminders/run) or "off".
    reminder_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday"] = "monday"
    reminder_time: time = time(9, 0)
    reminder_scheduler: Literal["internal", "external", "off"] = "internal"
    #: Bearer secret for POST /api/reminders/run and GET /api/reminders/status; without it
    #: those endpoints do not exist. At least 32 characters.
    reminders_run_secret: SecretStr = SecretStr("")
    #: Callers that may use those endpoints with an Entra ID token instead of the secret (a
    #: scheduler's managed identity): their object or app ids, comma-separated. The token's
    #: audience must be MICROSOFT_APP_ID (or api://<app id>).
    reminders_caller_ids: str = ""
    #: Where those tokens are checked; empty: Entra ID's metadata for
    #: MICROSOFT_APP_TENANT_ID on GRAPH_AUTHORITY_HOST.
    entra_openid_metadata_url: str = ""

    # --- the overview page in the Teams app (a personal tab, signed in with Teams SSO) ---
    #: The host name the bot and the page are served from (as in the manifest): the page's
    #: sign-in tokens must be for ``api://<BOT_DOMAIN>/<MICROSOFT_APP_ID>``.
    bot_domain: str = ""
    #: The Teams app's id (the manifest's ``id``), for the chat card's link to the page;
    #: empty: MICROSOFT_APP_ID, as manifest/build.py does.
    teams_app_id: str = ""

    #: "graph": Teams' people picker; "text": a typed name or e-mail; "auto": picker when
    #: app credentials are set (real Teams), typed text in local mode.
    people_picker: Literal["auto", "graph", "text"] = "auto"
    max_body_bytes: int = Field(256 * 1024, ge=1024, le=4 * 1024 * 1024)
    #: In local mode the bot only answers service URLs on these hosts (the Agents Playground).
    local_service_hosts: str = "localhost,127.0.0.1,::1"

    # --- SharePoint (system of record) through Microsoft Graph; empty site URL = local only ---
    #: The site that holds the agreements list, e.g. https://contoso.sharepoint.com/sites/HR.
    sharepoint_site_url: str = ""
    sharepoint_list_name: str = "Hjemmearbejdsaftaler"
    #: The second list: the follow-up actions of each agreement version.
    sharepoint_actions_list_name: str = "Hjemmearbejdsopgaver"
    #: The document library for the summary documents; empty: the site's default library.
    sharepoint_library: str = ""
    sharepoint_folder: str = "Hjemmearbejdsaftaler"
    #: How the bot signs in to Graph: client_secret, certificate, managed_identity or
    #: workload_identity (AKS: AZURE_FEDERATED_TOKEN_FILE from the environment).
    graph_credential: Literal[
        "client_secret", "certificate", "managed_identity", "workload_identity"
    ] = "client_secret"
    #: Empty: MICROSOFT_APP_TENANT_ID / MICROSOFT_APP_ID / MICROSOFT_APP_PASSWORD.
    graph_tenant_id: str = ""
    graph_client_id: str = ""
    graph_client_secret: SecretStr = SecretStr("")
    graph_certificate_path: str = ""
    graph_certificate_password: SecretStr = SecretStr("")
    #: Sovereign clouds: the Entra authority host and the Graph endpoint.
    graph_authority_host: str = "login.microsoftonline.com"
    graph_host: str = "https://graph.microsoft.com"
    #: Seconds between outbox passes when there is nothing due.
    sharepoint_sync_interval: float = Field(5.0, gt=0, le=3600)
    #: At shutdown: seconds to send what the last turns saved, before the process exits.
    sharepoint_flush_seconds: float = Field(10.0, ge=0, le=120)
    #: Seconds before one Graph request counts as timed out.
    graph_timeout: float = Field(30.0, gt=0, le=600)
    #: Multiplies every wait (Retry-After, backoff); below 1 only in tests.
    graph_wait_scale: float = Field(1.0, gt=0, le=1.0)

    @field_validator("database_path", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _production_defaults(self) -> Settings:
        """In production, listen on all interfaces and log JSON unless told otherwise."""
        if self.app_env == "production":
            if "host" not in self.model_fields_set:
                self.host = "0.0.0.0"
            if "log_format" not in self.model_fields_set:
                self.log_format = "json"
        return self

    @property
    def database(self) -> str | Path:
        """Where the store is: DATABASE_URL, or the file of DATABASE_PATH when only that is
        set."""
        if self.database_path is not None and "database_url" not in self.model_fields_set:
            return self.database_path
        return self.database_url

    @property
    def local_mode(self) -> bool:
        return not self.microsoft_app_id

    @property
    def use_people_picker(self) -> bool:
        if self.people_picker == "auto":
            return not self.local_mode
        return self.people_picker == "graph"

    def _agents_names(self) -> dict[str, str]:
        """The Agents SDK's settings that are set: {their name: value}."""
        given = {
            "CLIENTID": self.agents_client_id,
            "CLIENTSECRET": self.agents_client_secret.get_secret_value(),
            "TENANTID": self.agents_tenant_id,
            "AUTHTYPE": self.agents_auth_type,
        }
        return {AGENTS + name: value for name, value in given.items() if value}

    @model_validator(mode="after")
    def _read_agents_names(self) -> Settings:
        """With BOT_SDK=agents, the Agents SDK's names stand in for unset MICROSOFT_APP_*."""
        if self.bot_sdk != "agents" or self.agents_problem():
            return self
        if self.agents_client_id and not self.microsoft_app_id:
            self.microsoft_app_id = self.agents_client_id
        if (
            self.agents_client_secret.get_secret_value()
            and not self.microsoft_app_password.get_secret_value()
        ):
            self.microsoft_app_password = self.agents_client_secret
        if self.agents_tenant_id and not self.microsoft_app_tenant_id:
            self.microsoft_app_tenant_id = self.agents_tenant_id
        if self.agents_auth_type and "microsoft_app_type" not in self.model_fields_set:
            self.microsoft_app_type = AGENTS_AUTH_TYPES[self.agents_auth_type.lower()]  # type: ignore[assignment]
        return self

    def agents_problem(self) -> str | None:
        """Why the Agents SDK's names cannot be used as they are set."""
        names = self._agents_names()
        if not names:
            return None
        if self.bot_sdk != "agents":
            return f"{', '.join(names)} are read only with BOT_SDK=agents; use MICROSOFT_APP_*"
        auth_type = self.agents_auth_type
        if auth_type and auth_type.lower() not in AGENTS_AUTH_TYPES:
            return (
                f"{AGENTS}AUTHTYPE={auth_type} is not supported here; use ClientSecret or"
                " UserManagedIdentity"
            )
        same = (
            ("CLIENTID", self.agents_client_id, "MICROSOFT_APP_ID", self.microsoft_app_id),
            (
                "TENANTID",
                self.agents_tenant_id,
                "MICROSOFT_APP_TENANT_ID",
                self.microsoft_app_tenant_id,
            ),
            (
                "CLIENTSECRET",
                self.agents_client_secret.get_secret_value(),
                "MICROSOFT_APP_PASSWORD",
                self.microsoft_app_password.get_secret_value(),
            ),
        )
        for name, value, other, other_value in same:
            if value and other_value and value != other_value:
                return f"{AGENTS}{name} and {other} differ; set one of them"
        return None

    def credential_problem(self) -> str | None:
        """What is missing for channel authentication with the configured app type."""
        problem = self.agents_problem()
        if problem:
            return problem
        if self.local_mode:
            return None
        if self.microsoft_app_type == "SingleTenant":
            missing = [
                name
                for name, value in (
                    ("MICROSOFT_APP_PASSWORD", self.microsoft_app_password.get_secret_value()),
                    ("MICROSOFT_APP_TENANT_ID", self.microsoft_app_tenant_id),
                )
                if not value
            ]
            if missing:
                return f"MICROSOFT_APP_TYPE=SingleTenant also needs {' and '.join(missing)}"
        if self.microsoft_app_type == "UserAssignedMSI" and not self.microsoft_app_tenant_id:
            return "MICROSOFT_APP_TYPE=UserAssignedMSI also needs MICROSOFT_APP_TENANT_ID"
        if (
            self.microsoft_app_type == "MultiTenant"
            and not self.microsoft_app_password.get_secret_value()
        ):
            return "MICROSOFT_APP_TYPE=MultiTenant also needs MICROSOFT_APP_PASSWORD"
        if self.app_env == "production" and not self.allowed_tenants:
            return "APP_ENV=production needs ALLOWED_TENANT_IDS (the municipality's tenant id)"
        return None

    def reminder_problem(self) -> str | None:
        secret = self.reminders_run_secret.get_secret_value()
        if secret and len(secret) < 32:
            return "REMINDERS_RUN_SECRET must be at least 32 characters"
        if self.reminder_scheduler == "external" and not (secret or self.reminder_callers):
            return "REMINDER_SCHEDULER=external needs REMINDERS_RUN_SECRET or REMINDERS_CALLER_IDS"
        if self.reminder_callers and self.local_mode:
            return "REMINDERS_CALLER_IDS needs MICROSOFT_APP_ID (the tokens' audience)"
        return None

    def access_problem(self) -> str | None:
        if self.app_env == "production" and not self.checks_directory:
            return (
                "APP_ENV=production needs ACCESS_CHECKS=auto or graph: without them anyone"
                " could lead a dialogue about any employee"
            )
        return None

    @property
    def allowed_tenants(self) -> frozenset[str]:
        return frozenset(t.strip().lower() for t in self.allowed_tenant_ids.split(",") if t.strip())

    @property
    def hr_units(self) -> dict[str, frozenset[str]]:
        """{HR user's object id: the units (casefolded) they may see; "*" for all}."""
        return unit_map(self.hr_users)

    @property
    def hr_group_units(self) -> dict[str, frozenset[str]]:
        return unit_map(self.hr_groups)

    @property
    def work_environment_units(self) -> dict[str, frozenset[str]]:
        return unit_map(self.work_environment_groups)

    @property
    def med_group_units(self) -> dict[str, frozenset[str]]:
        return unit_map(self.med_groups)

    @property
    def med_units(self) -> dict[str, frozenset[str]]:
        """{MED member's object id: their units (casefolded)}."""
        return unit_map(self.med_users)

    @property
    def checks_directory(self) -> bool:
        """Whether access is checked in Entra ID through Graph."""
        if self.access_checks == "auto":
            return not self.local_mode
        return self.access_checks == "graph"

    @property
    def reminder_callers(self) -> frozenset[str]:
        return id_list(self.reminders_caller_ids)

    @property
    def entra_metadata_url(self) -> str:
        if self.entra_openid_metadata_url:
            return self.entra_openid_metadata_url
        tenant = self.microsoft_app_tenant_id or "organizations"
        return f"https://{self.graph_authority_host}/{tenant}/v2.0/.well-known/openid-configuration"

    @property
    def overview_app_id(self) -> str:
        """The Teams app's id in the link to the overview tab."""
        return self.teams_app_id or self.microsoft_app_id

    @property
    def sharepoint_enabled(self) -> bool:
        return bool(self.sharepoint_site_url.strip())

    @property
    def local_hosts(self) -> frozenset[str]:
        return frozenset(
            h.strip().lower() for h in self.local_service_hosts.split(",") if h.strip()
        )

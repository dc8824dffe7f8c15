"""The one azure-identity credential of the process, chosen by GRAPH_CREDENTIAL.

azure-identity caches tokens per credential instance, so the process makes one and closes it
at shutdown. Secrets come only from the environment (through Settings).
"""

from __future__ import annotations

import os
from typing import Any

from settings import Settings


def _ids(settings: Settings) -> tuple[str, str]:
    tenant = settings.graph_tenant_id or settings.microsoft_app_tenant_id
    client = settings.graph_client_id or settings.microsoft_app_id
    return tenant, client


def _secret(settings: Settings) -> str:
    return (
        settings.graph_client_secret.get_secret_value()
        or settings.microsoft_app_password.get_secret_value()
    )


def credential_problem(settings: Settings) -> str | None:
    """What GRAPH_CREDENTIAL still needs, or None."""
    tenant, client = _ids(settings)
    kind = settings.graph_credential
    needs: list[str] = []
    if kind in ("client_secret", "certificate", "workload_identity"):
        needs += [
            name for name, v in (("GRAPH_TENANT_ID", tenant), ("GRAPH_CLIENT_ID", client)) if not v
        ]
    if kind == "client_secret" and not _secret(settings):
        needs.append("GRAPH_CLIENT_SECRET")
    if kind == "certificate" and not settings.graph_certificate_path:
        needs.append("GRAPH_CERTIFICATE_PATH")
    if kind == "workload_identity" and not os.environ.get("AZURE_FEDERATED_TOKEN_FILE"):
        needs.append("AZURE_FEDERATED_TOKEN_FILE")
    if needs:
        return f"GRAPH_CREDENTIAL={kind} also needs {', '.join(needs)}"
    return None


def create_credential(settings: Settings) -> Any:
    """An ``azure.identity.aio`` credential; the caller closes it."""
    from azure.identity import aio

    problem = credential_problem(settings)
    if problem:
        raise ValueError(problem)
    tenant, client = _ids(settings)
    authority = settings.graph_authority_host
    kind = settings.graph_credential
    if kind == "client_secret":
        return aio.ClientSecretCredential(tenant, client, _secret(settings), authority=authority)
    if kind == "certificate":
        password = settings.graph_certificate_password.get_secret_value()
        return aio.CertificateCredential(
            tenant,
            client,
            certificate_path=settings.graph_certificate_path,
            password=password.encode() if password else None,
            authority=authority,
        )
    if kind == "managed_identity":
        return aio.ManagedIdentityCredential(client_id=settings.graph_client_id or None)
    return aio.WorkloadIdentityCredential(
        tenant_id=tenant,
        client_id=client,
        token_file_path=os.environ["AZURE_FEDERATED_TOKEN_FILE"],
        authority=authority,
    )

"""Many employees with a confirmed home-working agreement and a 1:1 chat with the bot, written
through the bot's own stores: the audience for reminder tests and the delivery benchmark."""

from __future__ import annotations

import uuid
from pathlib import Path

from core.answers import DialogueAnswers
from core.dialogue import CONFIRMED, Dialogue
from store.conversations import ConversationStore
from store.database import Database
from store.dialogues import DialogueStore
from tests.harness import BOT_ID, TENANT


def reference(user_id: str, conversation_id: str, service_url: str) -> dict:
    """A conversation reference as botbuilder stores it for a Teams 1:1 chat."""
    return {
        "user": {"id": f"29:{user_id}", "aadObjectId": user_id},
        "bot": {"id": BOT_ID, "name": "Hjemmearbejde"},
        "conversation": {"id": conversation_id, "conversationType": "personal", "tenantId": TENANT},
        "channelId": "msteams",
        "locale": "da-DK",
        "serviceUrl": service_url,
    }


async def seed(db_path: Path, service_url: str, employees: int, per_manager: int = 10) -> list[str]:
    """Confirmed agreements for ``employees`` employees (and their managers' chats too);
    returns the employees' conversation ids."""
    db = Database(db_path)
    await db.open()
    dialogues, people = DialogueStore(db), ConversationStore(db)
    conversations = []
    try:
        for n in range(employees):
            manager_id = str(uuid.UUID(int=1_000_000 + n // per_manager))
            employee_id = str(uuid.UUID(int=2_000_000 + n))
            await dialogues.create(
                Dialogue(
                    id=uuid.uuid4().hex,
                    manager_id=manager_id,
                    manager_name=f"Leder {n // per_manager}",
                    locale="da-DK",
                    state=CONFIRMED,
                    employee_id=employee_id,
                    employee_name=f"Medarbejder {n}",
                    answers=DialogueAnswers.model_validate(
                        {"outcome": {"decision": "approved", "follow_up_date": "2099-01-01"}}
                    ),
                    agreement_version=1,
                )
            )
            for user_id in (employee_id, manager_id):
                cid = f"a:{user_id}"
                await people.remember(
                    user_id, cid, TENANT, service_url, reference(user_id, cid, service_url)
                )
            conversations.append(f"a:{employee_id}")
    finally:
        await db.close()
    return conversations

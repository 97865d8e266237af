"""Every table of the project in one MetaData: what migrations create and backups copy.

Each module declares its own tables; this is only the list of those modules.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot import conversations, dossiers, feedback, guide_store, store
from bot.staff import accounts, history, review, sessions
from voice import outbox

MODULES = (store, guide_store, history, review, accounts, sessions, dossiers, feedback, conversations, outbox)


def _merged() -> sa.MetaData:
    merged = sa.MetaData()
    for module in MODULES:
        for table in module.metadata.tables.values():
            table.to_metadata(merged)
    return merged


metadata = _merged()

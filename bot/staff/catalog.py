"""Finding procedures for staff: by code, or by words of the name or an alias, with or without diacritics."""

from __future__ import annotations

from bot.procedure import Procedure
from bot.store import KnowledgeStore
from bot.text import fold, normalize


def search_procedures(store: KnowledgeStore, query: str, include_retired: bool = False) -> list[Procedure]:
    procedures = store.procedures(include_retired=include_retired)
    needle = fold(normalize(query)).strip()
    if not needle:
        return sorted(procedures, key=lambda p: (-p.popularity, p.code))
    found = [p for p in procedures if needle in p.code or needle in fold(normalize(" ".join([p.name, *p.aliases])))]
    # Code matches first, then the most used.
    return sorted(found, key=lambda p: (not p.code.startswith(needle), -p.popularity, p.code))

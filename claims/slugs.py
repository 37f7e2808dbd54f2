"""Free slugs for new claims and speakers, made unique against the table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils.text import slugify

if TYPE_CHECKING:
    from claims.models import Claim, Speaker


def free_slugs(model: type[Claim] | type[Speaker], wanted: list[str]) -> list[str]:
    """`wanted`, each made unique against the table and the rest of the list."""
    manager: Any = model.objects
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT slug FROM {model._meta.db_table} WHERE slug = ANY(%s)",  # noqa: S608
            [sorted(set(wanted))],
        )
        taken = {slug for (slug,) in cursor.fetchall()}
    result = []
    for slug in wanted:
        candidate, number = slug, 2
        # A numbered slug may be taken too: asked one by one, a rare path.
        while candidate in taken or (candidate != slug and manager.filter(slug=candidate).exists()):
            candidate = f"{slug[:110]}-{number}"
            number += 1
        taken.add(candidate)
        result.append(candidate)
    return result


def slug_for_statement(model: type[Claim], statement: str) -> str:
    """A free slug from a statement's first words."""
    return free_slugs(model, [slugify(statement)[:80].rstrip("-") or "claim"])[0]

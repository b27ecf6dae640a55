"""The table of schema migrations: ``(schema, from_major) -> (to_version, fn)``.

Migration modules register themselves with :func:`register_migration`;
:func:`geno_lewm.versioning.load_document` applies them. This module imports nothing of
``geno_lewm``, so migrations and the loader do not import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[tuple[str, int], tuple[str, Migration]] = {}


def register_migration(schema: str, from_major: int, to_version: str) -> Callable[[Migration], Migration]:
    """Register ``fn`` as the migration of ``schema`` documents from ``from_major`` to ``to_version``."""

    def deco(fn: Migration) -> Migration:
        MIGRATIONS[(schema, from_major)] = (to_version, fn)
        return fn

    return deco

"""Which database a query reads: the primary, or the read replica chosen for this request.

factcheck.db.read_routing chooses per request and records the choice here, in a
ContextVar: it is set only for the length of a request, so a management command,
a worker or the checkpoint signer that runs after the response (nothing set)
always reads the primary. Writes always go to the primary, whatever was chosen.

Inside a transaction on the primary (every write request is one,
factcheck.middleware.AtomicWritesMiddleware) reads stay on the primary too: a
transaction that read from a replica could decide on rows older than the ones
it locks and writes.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

_chosen: ContextVar[str | None] = ContextVar("factcheck_read_replica", default=None)

# Read on the primary whatever the request: the session (a reader's session written
# on one request must be there on the next, and a message shown once must not be
# shown again from a replica that has not seen it consumed) and the login lockouts.
PRIMARY_APPS = frozenset({"sessions", "axes"})


def read_alias() -> str:
    """The alias this request reads from: the replica chosen for it, else the primary."""
    alias = _chosen.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


def read_from(alias: str) -> Token[str | None]:
    """Read from `alias` until `reset(token)`: the per-request choice."""
    return _chosen.set(None if alias == DEFAULT_DB_ALIAS else alias)


def reset(token: Token[str | None]) -> None:
    _chosen.reset(token)


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads where the request was routed, everything else on
    the primary (`default`)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        if model._meta.app_label in PRIMARY_APPS:
            return DEFAULT_DB_ALIAS
        # Not None: Django would then follow an instance's own database, and an
        # object read from a replica during a request must not keep later reads there.
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Every alias is the same database (replicas are copies of the primary).
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        # Replicas replay the primary's schema changes; they cannot run their own.
        return db == DEFAULT_DB_ALIAS

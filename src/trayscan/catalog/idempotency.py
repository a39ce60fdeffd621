"""Stored answers of requests sent with an `Idempotency-Key`, in the catalog database (so every replica of a
PostgreSQL catalog sees them).

A request first reserves its (key, scope) with its fingerprint; the reservation is the row's primary key, so of
two concurrent requests with one key only one runs. The answer is then stored on the row, or the row is
released when the request failed in a way a retry may fix (5xx). Rows expire after `ttl`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from trayscan.catalog.db import Database
from trayscan.catalog.models import IdempotencyKey, utcnow

# A reservation with no answer this old belongs to a request that died (a crash between its work and storing
# its answer): a retry may run it again.
ABANDONED_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int | None  # None: the first request is still running
    body: dict[str, Any] | None


class IdempotencyRecords:
    def __init__(self, database: Database, ttl: timedelta) -> None:
        self.database = database
        self.ttl = ttl

    def reserve(self, key: str, scope: str, fingerprint: str) -> Stored | None:
        """None: reserved for this request, which must `answer` or `release`. Otherwise the earlier request's."""
        now = utcnow()
        with self.database.session() as session:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < now))
            row = session.get(IdempotencyKey, (key, scope))
            if row is not None and row.status is None and row.created_at < now - ABANDONED_AFTER:
                session.delete(row)
                row = None
            if row is not None:
                return Stored(row.fingerprint, row.status, row.body)
        try:
            with self.database.session() as session:
                session.add(IdempotencyKey(
                    key=key, scope=scope, fingerprint=fingerprint, created_at=now, expires_at=now + self.ttl
                ))
        except IntegrityError:  # a concurrent request with this key reserved it first
            with self.database.session() as session:
                row = session.get(IdempotencyKey, (key, scope))
                if row is None:
                    return self.reserve(key, scope, fingerprint)
                return Stored(row.fingerprint, row.status, row.body)
        return None

    def answer(self, key: str, scope: str, status: int, body: dict[str, Any]) -> None:
        with self.database.session() as session:
            row = session.get(IdempotencyKey, (key, scope))
            if row is not None:
                row.status, row.body = status, body

    def release(self, key: str, scope: str) -> None:
        with self.database.session() as session:
            session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.key == key, IdempotencyKey.scope == scope, IdempotencyKey.status.is_(None)
                )
            )

    def keys(self) -> list[tuple[str, str]]:
        with self.database.session() as session:
            return [(row.key, row.scope) for row in session.scalars(select(IdempotencyKey))]

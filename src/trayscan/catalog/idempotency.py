"""Stored answers of requests sent with an `Idempotency-Key`, in the catalog database (so every replica of a
PostgreSQL catalog sees them).

A request first reserves its (key, scope) with its fingerprint; the reservation is the row's primary key, so of
two concurrent requests with one key only one runs. A successful answer is stored on the row in the same
transaction as the request's work (`store_answer`, called by the catalog writes of checkout, product creation
and enrolment), so no crash can leave the work done and its answer lost; a 4xx answer is stored after, and the
row is released when the request failed in a way a retry may fix (5xx). Rows expire after `ttl`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trayscan.catalog.db import Database
from trayscan.catalog.models import IdempotencyKey, utcnow

# A reservation with no answer this old belongs to a request that died (a crash between its work and storing
# its answer): a retry may run it again.
ABANDONED_AFTER = timedelta(minutes=5)


@dataclass
class AnswerClaim:
    """The reserved (key, scope) of the request running in this context, and the status of its success answer."""

    key: str
    scope: str
    status: int
    stored: bool = False  # the answer went into the work's transaction (valid once that transaction committed)


# Set by the API around a request's work; the worker thread it runs in sees it (anyio copies the context).
_claim: ContextVar[AnswerClaim | None] = ContextVar("trayscan_idempotency_claim", default=None)


@contextmanager
def answering(claim: AnswerClaim) -> Iterator[AnswerClaim]:
    token = _claim.set(claim)
    try:
        yield claim
    finally:
        _claim.reset(token)


def store_answer(session: Session, body: Callable[[], dict[str, Any]]) -> None:
    """Inside the transaction that does a request's work: when the request holds an Idempotency-Key, its answer
    is stored on the key's row and commits (or rolls back) with the work."""
    claim = _claim.get()
    if claim is None:
        return
    row = session.get(IdempotencyKey, (claim.key, claim.scope))
    if row is not None:
        row.status, row.body = claim.status, body()
        claim.stored = True


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

"""`Idempotency-Key` on the POSTs that create something: a retry with the same key gets the first answer.

The key names one attempt of one request: the same key with the same request (same photo bytes, same product)
answers what the first answered (same receipt id; no second product; no duplicate images), with
`Idempotent-Replayed: true`. The same key with a different request is a 422 `idempotency_key_reused`; while the
first is still running, a 409 `idempotency_key_in_use`. Answers 2xx and 4xx are kept (for 24 h, in the catalog);
after a 5xx the key is free again, so a retry runs the request again.

The request's fingerprint is made of what it means, not its bytes on the wire: a multipart retry has a new
boundary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from trayscan import errors
from trayscan.api.concurrency import CpuRunner
from trayscan.api.errors import status_of
from trayscan.catalog.idempotency import AnswerClaim, answering
from trayscan.schemas import ErrorBody
from trayscan.services import Services

KEY_PATTERN = r"^[!-~]{1,200}$"  # printable ASCII, no spaces: a UUID or any client token
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=KEY_PATTERN,
        description="A token unique to this attempt (a UUID): a retry with it gets the first answer",
    ),
]


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


async def idempotent(
    services: Services,
    runner: CpuRunner,
    key: str | None,
    scope: str,
    request_fingerprint: str,
    status_code: int,
    work: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    """Run `work` once per key; its answer (or its 4xx) is stored and replayed to retries."""
    if key is None:
        return JSONResponse((await work()).model_dump(mode="json"), status_code=status_code)
    records = services.idempotency
    earlier = await runner.run(records.reserve, key, scope, request_fingerprint)
    if earlier is not None:
        if earlier.fingerprint != request_fingerprint:
            raise errors.IdempotencyKeyReusedError(
                "this Idempotency-Key was used for a different request: use a new key for a new request"
            )
        if earlier.status is None or earlier.body is None:
            raise errors.IdempotencyKeyInUseError("the first request with this Idempotency-Key is still running")
        return JSONResponse(earlier.body, status_code=earlier.status, headers={REPLAYED_HEADER: "true"})
    try:
        with answering(AnswerClaim(key, scope, status_code)) as claim:
            body = (await work()).model_dump(mode="json")
    except errors.TrayscanError as error:
        status = status_of(error)
        if status >= 500:
            await runner.run(records.release, key, scope)
        else:
            await runner.run(records.answer, key, scope, status, ErrorBody(code=error.code, detail=error.detail).model_dump())
        raise
    except BaseException:
        await runner.run(records.release, key, scope)
        raise
    if not claim.stored:  # work that writes nothing to the catalog: the answer is stored now
        await runner.run(records.answer, key, scope, status_code, body)
    return JSONResponse(body, status_code=status_code)

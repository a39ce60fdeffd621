"""Issue 22, deliverable 2: schemathesis against the app's own OpenAPI document, seeded and bounded.

Every generated request (valid and invalid) must get a declared status with the declared body, never a 500.
`make test` runs a small budget (TRAYSCAN_FUZZ_EXAMPLES, default 15 a route, and a short stateful run);
`make fuzz` a large one. The server is the real app on fake models, with two enrolled products.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import CheckFunction, positive_data_acceptance

from trayscan.api import create_app
from trayscan.api.idempotency import KEY_PATTERN

from ..conftest import ADMIN, COLA, LEMONADE, create_product, enrol, make_settings
from ..fakes import BlobDetector, HistogramEmbedder

EXAMPLES = int(os.environ.get("TRAYSCAN_FUZZ_EXAMPLES", "15"))  # generated requests per route
# Sequences of the stateful run, and calls in each: a sequence of S steps costs S requests, so its budget is its own.
STATEFUL_EXAMPLES = int(os.environ.get("TRAYSCAN_FUZZ_SEQUENCES", "15"))
STATEFUL_STEPS = int(os.environ.get("TRAYSCAN_FUZZ_STEPS", "10"))
SEED = 22


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    tmp_path: Path = tmp_path_factory.mktemp("fuzz")
    settings = make_settings(tmp_path, limits={"admin_writes_per_minute": 1_000_000})  # fuzz the routes, not the limit
    app = create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder())
    with TestClient(app) as client:
        create_product(client, "COLA", "3.50")
        create_product(client, "LEMONADE", "2.25")
        enrol(client, "COLA", COLA)
        enrol(client, "LEMONADE", LEMONADE)
        yield app


def fuzz_settings(examples: int = EXAMPLES, **extra: object) -> settings:
    return settings(
        max_examples=examples, derandomize=True, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), **extra,
    )


def excluded_checks(operation: schemathesis.APIOperation) -> list[CheckFunction]:
    # Photos are any bytes to OpenAPI: a schema-valid upload need not be an image, so a 415/422 is right.
    photos = "multipart/form-data" in str(operation.definition.raw.get("requestBody", ""))
    return [positive_data_acceptance] if photos else []


def fresh_idempotency_key(case: schemathesis.Case) -> None:
    """A client sends a new key with each new request: a generated key reused for another body is rightly a 422
    `idempotency_key_reused`, which the positive checks would count against the server. Malformed keys stay."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(KEY_PATTERN, key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex  # type: ignore[index]


def test_every_route_answers_as_documented(fuzzed_app: object) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @fuzz_settings()
        def run(case: schemathesis.Case) -> None:
            fresh_idempotency_key(case)
            case.call_and_validate(headers=ADMIN, excluded_checks=excluded_checks(case.operation))

        try:
            run()
        except (Exception, ExceptionGroup) as error:  # every operation is fuzzed; failures reported together
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)


def test_stateful_sequences_answer_as_documented(fuzzed_app: object) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    machine = schema.as_state_machine()

    class Staff(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: schemathesis.Case) -> None:
            fresh_idempotency_key(case)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": ADMIN}

        def validate_response(  # type: ignore[override]
            self, response: schemathesis.Response, case: schemathesis.Case,
            additional_checks: list[CheckFunction] | None = None, **kwargs: object,
        ) -> None:
            case.validate_response(
                response, additional_checks=additional_checks, excluded_checks=excluded_checks(case.operation),
                headers=ADMIN, transport_kwargs=kwargs,
            )

    run_state_machine_as_test(
        Staff, settings=fuzz_settings(STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS)
    )

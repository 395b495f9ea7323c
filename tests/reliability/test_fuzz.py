"""Fuzzing: schemathesis generates requests from the running app's OpenAPI schema, valid and invalid.

Every operation is exercised in both of schemathesis' generation modes (data that fits the schema, and data that
does not), with the admin token so that the write paths are reached too. Over more than 1,000 cases there must be
no 5xx, no dropped connection, and every response must match the schema: a documented status, a documented content
type, a body that fits its schema. The counts go to the terminal summary and ``test-artifacts/fuzz-report.txt``.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis  # dev dependencies: installed by `make test`, so never skipped
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from tests.reliability.conftest import report
from tests.reliability.server import ADMIN, ARTIFACTS, Server, copy_store, start, stop

#: Examples per operation and generation mode (about 30 pairs can vary their input: > 1,000 cases).
EXAMPLES = 40
MINIMUM_CASES = 1000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, seeded_store: Path) -> Iterator[Server]:
    """A server of its own (the fuzzer writes as the admin), with a short query timeout."""
    folder = tmp_path_factory.mktemp("fuzz")
    server = start(folder, copy_store(seeded_store, folder), {"IOIR_QUERY_TIMEOUT": "5"})
    try:
        yield server
    finally:
        stop(server)


def test_no_server_error_and_no_schema_violation_over_a_thousand_cases(
    fuzzed: Server, request: pytest.FixtureRequest
) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json")
    per_operation: collections.Counter[str] = collections.Counter()
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    session = requests.Session()

    def exercise(operation: Any, mode: Any) -> None:
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            per_operation[operation.label] += 1
            try:
                response = case.call(base_url=fuzzed.url, headers=ADMIN, session=session, timeout=60)
            except requests.RequestException as exc:
                failures.append(f"{operation.label} [{mode.value}] no answer ({exc!r}): {case.as_curl_command()}")
                return
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except (Failure, FailureGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}] {exc}")

        with contextlib.suppress(Unsatisfiable):  # nothing in the operation can be made invalid (no parameters)
            run()

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            exercise(operation, mode)

    total = sum(per_operation.values())
    lines = [
        f"schemathesis: {total} cases over {len(per_operation)} operations, {len(failures)} failures",
        "  statuses: " + ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items())),
    ]
    lines += [f"  {label}: {n}" for label, n in sorted(per_operation.items())]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-report.txt").write_text("\n".join(lines + failures) + "\n", encoding="utf-8")
    for line in lines[:2]:
        report(request.config, line)
    assert failures == [], "\n\n".join(failures[:20])
    assert total >= MINIMUM_CASES, lines[0]
    assert not any(code >= 500 for code in statuses), statuses
    assert fuzzed.process.poll() is None

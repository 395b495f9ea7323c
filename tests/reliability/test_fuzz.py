"""Fuzzing: schemathesis generates requests from the running app's OpenAPI schema, valid and invalid.

Every operation is exercised in both of schemathesis' generation modes (data that fits the schema, and data that
does not), with the admin token so that the write paths are reached too. Over more than 1,000 cases there must be
no 5xx, no dropped connection, and every response must match the schema: a documented status, a documented content
type, a body that fits its schema. The counts go to the terminal summary and ``test-artifacts/fuzz-report.txt``.

SPARQL updates get a fuzzer of their own (hypothesis, as the admin): the text schemathesis makes up never reaches
what the parser recurses on, so this one strings together operator chains, brackets, paths and data of every
length the body limit allows, and the server must answer each with a status below 500 and stay up.
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
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
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


#: Where a fuzzed update's generated middle goes: (head, tail), all confined to one graph of their own.
UPDATE_FRAMES = [
    ("INSERT { GRAPH <urn:fuzz:g> { <urn:fuzz:s> <urn:fuzz:p> 1 } } WHERE { FILTER(", ") }"),
    ("DELETE { GRAPH <urn:fuzz:g> { ?s ?p ?o } } WHERE { GRAPH <urn:fuzz:g> { ?s ?p ?o } FILTER(", ") }"),
    ("INSERT { GRAPH <urn:fuzz:g> { ?s <urn:fuzz:p> 1 } } WHERE { ?s ", " ?o }"),
    ("INSERT { GRAPH <urn:fuzz:g> { <urn:fuzz:s> <urn:fuzz:p> ", " } } WHERE {}"),
    ("INSERT DATA { GRAPH <urn:fuzz:g> { <urn:fuzz:s> <urn:fuzz:p> ", " } }"),
    ("", ""),
]
#: Pieces the parser recurses or loops on, repeated to build chains.
UPDATE_LINKS = [
    "!", "||", "&&", "+", "-", "*", "/", "|", "^", "(", ")", "[", "]", "{", "}", "<<", ">>", "<<(", ")>>", ",", ";",
    " UNION ", " . ", "1", "true", "?o", "<urn:p>", '"x"', "'", "\\", "#", "\n", " IN (", " EXISTS {", " a ", "@en",
]  # fmt: skip
UPDATE_EXAMPLES = 150
#: The longest chain generated (huge ones are the explicit examples): keeps every case well under a second.
UPDATE_LINK_REPEAT = 3000
ADMIN_UPDATE = {"Content-Type": "application/sparql-update", **ADMIN}


#: Well-formed chains inside ``FILTER(…)``: (start, link, end), the link repeated.
VALID_CHAINS = [
    ("", "!", "true"),
    ("1", " || 1", ""),
    ("1", "&&1", ""),
    ("0", "+1", " > 0"),
    ("1", "*1", " > 0"),
    ("1 IN (1", ",1", ")"),
    ('CONCAT("a"', ',"a"', ') != ""'),
    ("EXISTS { ?s <urn:p>", "|<urn:p>", " ?o }"),
]


@st.composite
def chained_updates(draw: st.DrawFn) -> str:
    """A well-formed update whose filter is one long chain (parsed, then applied)."""
    start, link, end = draw(st.sampled_from(VALID_CHAINS))
    repeat = draw(st.integers(0, UPDATE_LINK_REPEAT))
    return f"{UPDATE_FRAMES[0][0]}{start}{link * repeat}{end}{UPDATE_FRAMES[0][1]}"


@st.composite
def mixed_updates(draw: st.DrawFn) -> str:
    """An update text: a frame around chains of pieces, with some free text mixed in."""
    head, tail = draw(st.sampled_from(UPDATE_FRAMES))
    parts = draw(
        st.lists(
            st.one_of(
                st.tuples(st.sampled_from(UPDATE_LINKS), st.integers(1, UPDATE_LINK_REPEAT)).map(lambda p: p[0] * p[1]),
                st.text(max_size=40),
            ),
            max_size=6,
        )
    )
    return head + "".join(parts) + tail


def test_fuzzed_admin_updates_never_get_a_server_error_nor_crash_it(
    fuzzed: Server, request: pytest.FixtureRequest
) -> None:
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    session = requests.Session()

    @settings(
        max_examples=UPDATE_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(text=st.one_of(chained_updates(), mixed_updates()), form=st.booleans())
    @example(text="INSERT { <https://e/a> <https://e/b> 1 } WHERE { FILTER(" + "!" * 500_000 + "true) }", form=False)
    @example(text="INSERT { <urn:s> <urn:p> 1 } WHERE { FILTER(1" + "||1" * 690_000 + ") }", form=False)
    @example(text="INSERT { <urn:s> <urn:p> 1 } WHERE { FILTER(1" + "&&1" * 300_000 + ") }", form=True)
    @example(
        text="INSERT { <urn:s> <urn:p> 1 } WHERE { FILTER(" + "(" * 300_000 + "1" + ")" * 300_000 + ") }", form=False
    )
    @example(text="INSERT { <urn:s> <urn:p> 1 } WHERE { ?s ?p (" + "1 " * 1_000_000 + ") }", form=False)
    def run(text: str, form: bool) -> None:
        try:
            if form:
                response = session.post(f"{fuzzed.url}/sparql", data={"update": text}, headers=ADMIN, timeout=120)
            else:
                response = session.post(f"{fuzzed.url}/sparql", data=text.encode(), headers=ADMIN_UPDATE, timeout=120)
        except requests.RequestException as exc:
            failures.append(f"no answer ({exc!r}) to a {len(text)}-character update: {text[:200]!r}")
            return
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} to a {len(text)}-character update: {text[:200]!r}")
        elif response.status_code >= 400 and not response.json().get("detail"):
            failures.append(f"{response.status_code} without a message: {text[:200]!r}")

    run()
    total = sum(statuses.values())
    line = "update fuzzing: " + f"{total} cases, statuses " + ", ".join(f"{c}×{n}" for c, n in sorted(statuses.items()))
    report(request.config, line)
    assert failures == [], "\n".join(failures[:20])
    assert total >= UPDATE_EXAMPLES
    with fuzzed.client() as client:
        assert client.get("/health").status_code == 200
    assert fuzzed.process.poll() is None

"""``ioir-kg coverage``: sentences of the source documents, cited, reviewed as holding no fact, or uncited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ioir_kg.config import PROJECT_ROOT
from ioir_kg.errors import BadInput
from ioir_kg.validation.coverage import Exclusion, find_document, measure_document, read_exclusions
from tests.conftest import IN_CI, SEEDS_DIR

TEXT = (
    "ABSTRACT\n\nThe EU relies on NATO for planning in Bosnia.\n"
    "It also relies on the UN for legiti-\nmacy in Kosovo.\n\n"
    "References\n\nAlter, K. and S. Meunier (2009) The politics of regime complexity, Perspectives.\n\n"
    "Smith, J. (2010) Another book on the subject, Press."
)


def _statuses(quotes: list[str], exclusions: list[Exclusion]) -> list[tuple[str, str]]:
    cov = measure_document("s9", "doc.txt", "Doc", TEXT, quotes, exclusions)
    return [(s.text[:20], s.status) for s in cov.sentences]


def test_headings_are_fragments_and_sentences_start_uncited() -> None:
    assert _statuses([], []) == [
        ("The EU relies on NAT", "uncited"),
        ("It also relies on th", "uncited"),
        ("Alter, K. and S. Meu", "uncited"),
        ("Smith, J. (2010) Ano", "uncited"),
    ]


@pytest.mark.parametrize("quote", ["on the UN for legitimacy in Kosovo", "on the UN for legiti-macy in Kosovo"])
def test_a_quote_across_a_hyphenated_line_break_cites_its_sentence(quote: str) -> None:
    assert [status for _, status in _statuses([quote], [])] == ["uncited", "cited", "uncited", "uncited"]


def test_a_short_overlap_does_not_cite_the_next_sentence() -> None:
    statuses = _statuses(["NATO for planning in Bosnia. It"], [])
    assert [status for _, status in statuses] == ["cited", "uncited", "uncited", "uncited"]


def test_a_repeated_passage_is_cited_wherever_it_stands() -> None:
    text = "The EU relies on NATO for planning in Bosnia.\n\nBody text here about something.\n\n" * 2
    cov = measure_document("s9", "doc.txt", "Doc", text, ["The EU relies on NATO for planning in Bosnia."], [])
    assert [s.status for s in cov.sentences] == ["cited", "uncited", "cited", "uncited"]


def test_exclusions_mark_one_sentence_or_a_range_and_unused_ones_are_reported() -> None:
    one = Exclusion("s9", "It also relies", "", "no fact")
    rest = Exclusion("s9", "Alter, K.", "END", "bibliography")
    stale = Exclusion("s9", "No such sentence", "", "typo")
    other_document = Exclusion("s8", "The EU relies", "", "another document")
    cov = measure_document("s9", "doc.txt", "Doc", TEXT, [], [one, rest, stale, other_document])
    assert [s.status for s in cov.sentences] == ["uncited", "reviewed_no_fact", "reviewed_no_fact", "reviewed_no_fact"]
    assert cov.counts() == {"sentences": 4, "cited": 0, "reviewed_no_fact": 3, "uncited": 1}
    assert cov.to_json()["stale_exclusions"] == ["No such sentence"]


def test_a_cited_sentence_in_an_excluded_range_counts_as_cited() -> None:
    rest = Exclusion("s9", "The EU relies", "It also", "example")
    cov = measure_document("s9", "doc.txt", "Doc", TEXT, ["It also relies on the UN for legitimacy"], [rest])
    assert [s.status for s in cov.sentences] == ["reviewed_no_fact", "cited", "uncited", "uncited"]


def test_find_document_names_the_known_ones() -> None:
    cov = measure_document("s9", "doc.txt", "Doc", TEXT, [], [])
    assert find_document([cov], "doc.txt") is cov
    with pytest.raises(BadInput, match="no source document 'x'; known: s9"):
        find_document([cov], "x")


def test_exclusion_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("# comment\ns000\tFirst words\t\treason\ns000\tonly two\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"x\.tsv:3: expected 4 tab-separated fields"):
        read_exclusions(path)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env.update(IOIR_STORE_PATH=str(tmp_path / "store"), IOIR_SEEDS_DIR=str(SEEDS_DIR))
    return subprocess.run(
        [sys.executable, "-m", "ioir_kg", "coverage", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def test_cli_reports_all_five_documents(tmp_path: Path) -> None:
    if not SEEDS_DIR.is_dir():
        if IN_CI:
            pytest.fail(f"source documents missing: {SEEDS_DIR}")
        pytest.skip(f"source documents missing: {SEEDS_DIR}")
    result = _cli(tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)
    assert [d["source"] for d in documents] == ["s000", "s001", "s002", "s003", "s004"]
    for doc in documents:
        assert doc["sentences"] == doc["cited"] + doc["reviewed_no_fact"] + doc["uncited"] > 100
        assert doc["cited"] > 0
        assert doc["stale_exclusions"] == [], f"{doc['source']}: exclusions that match no sentence"

    table = _cli(tmp_path)
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split()[:5] == ["source", "sentences", "cited", "reviewed", "uncited"]
    assert table.stdout.splitlines()[-1].startswith("total")

    uncited = _cli(tmp_path, "--uncited", "s002")
    assert uncited.returncode == 0
    assert len(uncited.stdout.splitlines()) == next(d["uncited"] for d in documents if d["source"] == "s002")

    unknown = _cli(tmp_path, "--uncited", "s999")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("ioir-kg: no source document 's999'; known: s000, s001")


def test_committed_exclusions_parse() -> None:
    path = PROJECT_ROOT / "data" / "coverage" / "reviewed-no-fact.tsv"
    exclusions = read_exclusions(path)
    assert all(e.source in {"s000", "s001", "s002", "s003", "s004"} and e.reason for e in exclusions)

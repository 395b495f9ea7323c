"""``ioir-kg validate`` and ``ioir-kg assert``: the real console script over a copy of the bundled store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.assertions.conftest import HERE, copy_store
from tests.conftest import require_system

VALID = HERE / "valid" / "dependency-micro-eupol-supported-by-isaf.ttl"
WITH_METADATA = HERE / "valid" / "dependency-micro-nato-staff-dg-home.ttl"
INVALID = HERE / "invalid" / "range-violation-person-launches-mission.ttl"


def run(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_") or k == "IOIR_SEEDS_DIR"}
    env["IOIR_STORE_PATH"] = str(store)
    return subprocess.run(
        [sys.executable, "-m", "ioir_kg", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


@pytest.fixture
def store(tmp_path: Path, bundled_store_path: Path) -> Path:
    return copy_store(bundled_store_path, tmp_path)


def test_validate_exit_codes(store: Path, tmp_path: Path) -> None:
    good = run(store, "validate", str(VALID))
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("conforms: 0 violations")

    bad = run(store, "validate", str(INVALID), "--format", "json")
    assert bad.returncode == 1, bad.stderr
    report = json.loads(bad.stdout)
    assert report["conforms"] is False
    assert {"S05", "owl:disjointWith"} <= {r["rule"] for r in report["results"]}

    turtle = run(store, "validate", str(INVALID), "--format", "turtle")
    assert turtle.returncode == 1
    assert "sh:ValidationReport" in turtle.stdout

    missing = run(store, "validate", str(tmp_path / "missing.ttl"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("ioir-kg: ")
    assert len(missing.stderr.splitlines()) == 1
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .", encoding="utf-8")
    assert run(store, "validate", str(broken)).returncode == 2
    assert run(store, "validate", str(VALID), "--reasoner", "pellet").returncode == 2


def test_assert_stores_what_conforms_and_nothing_else(store: Path) -> None:
    meta = {
        line[2:].split(":", 1)[0]: line.split(":", 1)[1].strip()
        for line in WITH_METADATA.read_text().splitlines()
        if line.startswith("# ") and ":" in line
    }
    accepted = run(
        store,
        "assert",
        str(WITH_METADATA),
        "--source",
        meta["source"],
        "--quote",
        meta["quote"],
        "--contributor",
        "cli-test",
    )
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.startswith("accepted: ")
    query = "SELECT ?who WHERE { GRAPH ?g { ?g <http://www.w3.org/ns/prov#wasAttributedTo> ?who } }"
    answer = json.loads(run(store, "query", query, "--format", "json").stdout)
    assert [b["who"]["value"] for b in answer["results"]["bindings"]] == [
        "https://w3id.org/ioir/id/contributor/cli-test"
    ]

    rejected = run(store, "assert", str(INVALID))
    assert rejected.returncode == 1
    assert "does not conform" in rejected.stdout
    assert "nothing was written" in rejected.stderr
    again = json.loads(run(store, "query", query, "--format", "json").stdout)
    assert len(again["results"]["bindings"]) == 1


@pytest.mark.slow
def test_validate_with_hermit_over_the_whole_graph(store: Path) -> None:
    require_system("java", "the HermiT reasoner")
    meta = {
        line[2:].split(":", 1)[0]: line.split(":", 1)[1].strip()
        for line in WITH_METADATA.read_text().splitlines()
        if line.startswith("# ") and ":" in line
    }
    stored = run(store, "assert", str(WITH_METADATA), "--source", meta["source"], "--quote", meta["quote"])
    assert stored.returncode == 0, stored.stderr  # the whole graph then includes an assertion with its provenance
    good = run(store, "validate", str(VALID), "--reasoner", "hermit", "--format", "json")
    assert good.returncode == 0, good.stdout + good.stderr
    assert json.loads(good.stdout)["consistency"]["reasoner"] == "hermit"
    bad = run(
        store,
        "validate",
        str(HERE / "invalid" / "disjoint-types-mission-as-organization.ttl"),
        "--reasoner",
        "hermit",
        "--format",
        "json",
    )
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["consistency"] == {
        "reasoner": "hermit",
        "consistent": False,
        "message": "HermiT: inconsistent: the ontology and data together have no model",
    }
    assert {"owl:disjointWith", "owl:consistency"} <= {r["rule"] for r in report["results"]}

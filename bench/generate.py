"""A deterministic generator of synthetic data in the ontology's own shape.

The graph is built from *blocks*; each block is one international organization with its acronym,
two bodies, two missions (each with a mandate issued by a body, a theatre and dates), four resource
dependencies (level, resource type, theatre, context) and three cooperation instruments (parties,
date, place), every node with an ``ioir:Evidence`` node quoting one of a few synthetic sources. A
block is about 170 triples; the number of blocks is chosen so the file holds ``target`` triples
(within a block). The same ``target`` and ``seed`` always give byte-identical N-Triples.

>>> import io
>>> buf = io.StringIO()
>>> stats = write_ntriples(buf, 2_000)
>>> stats.triples == buf.getvalue().count("\\n"), 1_800 < stats.triples < 2_200
(True, True)
>>> stats.acronym(0), stats.org(0)
('AAAA', 'https://w3id.org/ioir/id/org/syn-o0')
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

ID = "https://w3id.org/ioir/id/"
IOIR = "https://w3id.org/ioir/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
UNIT_OF = "http://www.w3.org/ns/org#unitOf"
DC_DATE = "http://purl.org/dc/terms/date"
DC_SOURCE = "http://purl.org/dc/terms/source"
DC_TITLE = "http://purl.org/dc/terms/title"
DC_IDENTIFIER = "http://purl.org/dc/terms/identifier"
PROV_VALUE = "http://www.w3.org/ns/prov#value"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Triples in one block, measured (used to size the graph; the exact count is reported).
TRIPLES_PER_BLOCK = 168
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}

LEVELS = ("level-macro", "level-meso", "level-micro")
RESOURCES = (
    "resource-funding",
    "resource-personnel",
    "resource-military-assets",
    "resource-logistics",
    "resource-security-provision",
    "resource-planning-capacity",
    "resource-information",
    "resource-expertise",
    "resource-legitimacy",
    "resource-political-support",
)
BODY_CLASSES = ("Council", "Secretariat", "Commission", "Department", "Agency", "Committee")
MISSION_CLASSES = ("CivilianMission", "MilitaryOperation", "PeacekeepingOperation", "PoliceMission", "TrainingMission")
INSTRUMENT_CLASSES = (
    "JointDeclaration",
    "MemorandumOfUnderstanding",
    "ExchangeOfLetters",
    "FrameworkAgreement",
    "CoordinationMeeting",
    "LiaisonArrangement",
)
ADJECTIVES = (
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
    "Atlantic",
    "Pacific",
    "Baltic",
    "Adriatic",
    "Sahel",
    "Andean",
    "Caspian",
    "Nordic",
    "Alpine",
    "Arctic",
    "Aegean",
    "Danube",
    "Mekong",
    "Horn",
    "Great Lakes",
)
THEMES = (
    "Security",
    "Defence",
    "Peace",
    "Stability",
    "Maritime",
    "Police",
    "Justice",
    "Development",
    "Border",
    "Humanitarian",
    "Cooperation",
    "Monitoring",
)
NOUNS = ("Organization", "Union", "Alliance", "Community", "Council", "Pact", "Partnership", "Forum")
BODY_NOUNS = ("Council", "Secretariat", "Commission", "Directorate", "Agency", "Committee")
PLACES = (
    "Arvenia",
    "Belmora",
    "Calador",
    "Dravia",
    "Estoria",
    "Fennmark",
    "Galvania",
    "Horvath",
    "Istra",
    "Jorvik",
    "Kalmar",
    "Lunaria",
    "Morvant",
    "Norland",
    "Ostrava",
    "Pellan",
    "Quirin",
    "Rovena",
    "Sarmatia",
    "Tessaly",
)
WORDS = (
    "the organizations agreed to exchange liaison officers and share information on the ground",
    "the mission relied on the logistics and air transport provided by its partner",
    "both secretariats met regularly to coordinate planning and avoid duplication",
    "the council authorized the deployment under chapter seven of the charter",
    "funding for the operation came largely from the partner organization",
)


@dataclass(frozen=True)
class GenStats:
    """What was written: counts, and the IRIs and labels the query mix uses."""

    triples: int
    blocks: int
    places: int
    seed: int

    def org(self, i: int) -> str:
        """The IRI of organization ``i``."""
        return f"{ID}org/syn-o{i}"

    def acronym(self, i: int) -> str:
        """The acronym (``skos:altLabel``) of organization ``i``."""
        return "A" + _b26(i, 3)

    def org_label(self, i: int) -> str:
        """The name (``skos:prefLabel``) of organization ``i``."""
        return _org_label(i)


def _b26(n: int, width: int) -> str:
    letters = []
    for _ in range(width):
        n, r = divmod(n, 26)
        letters.append(chr(ord("A") + r))
    out = "".join(reversed(letters))
    return out if n == 0 else _b26(n, width + 1)


def _org_label(i: int) -> str:
    a = ADJECTIVES[i % len(ADJECTIVES)]
    t = THEMES[(i // len(ADJECTIVES)) % len(THEMES)]
    n = NOUNS[(i // (len(ADJECTIVES) * len(THEMES))) % len(NOUNS)]
    return f"{a} {t} {n} {i}"


def _lit(text: str, lang: str | None = "en") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def _typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def blocks_for(target: int) -> int:
    """How many blocks make about ``target`` triples."""
    return max(1, round(target / TRIPLES_PER_BLOCK))


def _block(i: int, blocks: int, places: int, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """The triples of block ``i`` as (subject IRI, predicate IRI, object in N-Triples syntax)."""
    org = f"{ID}org/syn-o{i}"
    label = _org_label(i)
    evidence_count = 0

    def evidence(node: str) -> Iterator[tuple[str, str, str]]:
        nonlocal evidence_count
        ev = f"{ID}evidence/syn-{i}-{evidence_count}"
        evidence_count += 1
        yield node, IOIR + "evidence", f"<{ev}>"
        yield ev, RDF_TYPE, f"<{IOIR}Evidence>"
        yield ev, DC_SOURCE, f"<{ID}source/syn-s{rng.randrange(20)}>"
        yield ev, PROV_VALUE, _lit(f"{WORDS[rng.randrange(len(WORDS))]} ({label})", None)
        yield ev, IOIR + "locator", _lit(f"p. {rng.randrange(1, 300)}", None)

    def other_org() -> str:
        j = rng.randrange(blocks - 1) if blocks > 1 else 0
        return f"{ID}org/syn-o{j + 1 if j >= i else j}"

    def place() -> str:
        return f"{ID}place/syn-p{rng.randrange(places)}"

    yield org, RDF_TYPE, f"<{IOIR}InternationalOrganization>"
    yield org, RDFS_LABEL, _lit(label)
    yield org, PREF, _lit(label)
    yield org, ALT, _lit("A" + _b26(i, 3))
    yield from evidence(org)
    bodies = []
    for k in range(2):
        body = f"{ID}body/syn-b{i}-{k}"
        bodies.append(body)
        body_label = f"{label} {BODY_NOUNS[(i + k) % len(BODY_NOUNS)]}"
        yield body, RDF_TYPE, f"<{IOIR}OrganizationalBody>"
        yield body, RDF_TYPE, f"<{IOIR}{BODY_CLASSES[(i + k) % len(BODY_CLASSES)]}>"
        yield body, RDFS_LABEL, _lit(body_label)
        yield body, PREF, _lit(body_label)
        yield body, UNIT_OF, f"<{org}>"
        yield from evidence(body)
    missions = []
    for k in range(2):
        mission = f"{ID}mission/syn-m{i}-{k}"
        mandate = f"{ID}mandate/syn-d{i}-{k}"
        missions.append(mission)
        theatre = PLACES[rng.randrange(len(PLACES))]
        mission_label = f"{label} {THEMES[(i + k) % len(THEMES)]} Mission in {theatre}"
        start = 1990 + rng.randrange(30)
        yield mission, RDF_TYPE, f"<{IOIR}Mission>"
        yield mission, RDF_TYPE, f"<{IOIR}{MISSION_CLASSES[(i + k) % len(MISSION_CLASSES)]}>"
        yield mission, RDFS_LABEL, _lit(mission_label)
        yield mission, PREF, _lit(mission_label)
        yield mission, ALT, _lit(f"M{_b26(2 * i + k, 3)}")
        yield mission, IOIR + "launchedBy", f"<{org}>"
        if rng.random() < 0.1:
            yield mission, IOIR + "launchedBy", f"<{other_org()}>"
        yield mission, IOIR + "deployedIn", f"<{place()}>"
        yield mission, IOIR + "hasMandate", f"<{mandate}>"
        yield mission, IOIR + "startDate", _typed(str(start), "gYear")
        if rng.random() < 0.5:
            yield (
                mission,
                IOIR + "endDate",
                _typed(f"{start + 1 + rng.randrange(8)}-{rng.randrange(1, 13):02d}", "gYearMonth"),
            )
        yield from evidence(mission)
        resolution = rng.random() < 0.5
        number = 1000 + (2 * i + k) % 9000
        mandate_label = (
            f"Resolution {number} on {mission_label}" if resolution else f"Council decision on {mission_label}"
        )
        yield mandate, RDF_TYPE, f"<{IOIR}Mandate>"
        if resolution:
            yield mandate, RDF_TYPE, f"<{IOIR}SecurityCouncilResolution>"
            yield mandate, IOIR + "resolutionNumber", _typed(str(number), "positiveInteger")
        yield mandate, RDFS_LABEL, _lit(mandate_label)
        yield mandate, PREF, _lit(mandate_label)
        yield (
            mandate,
            IOIR + "issuedBy",
            f"<{bodies[0] if rng.random() < 0.5 else f'{ID}body/syn-b{rng.randrange(blocks)}-0'}>",
        )
        yield mandate, DC_DATE, _typed(f"{start}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", "date")
        yield from evidence(mandate)
    for k in range(4):
        dependency = f"{ID}dependency/syn-r{i}-{k}"
        provider = other_org()
        level = LEVELS[rng.randrange(len(LEVELS))]
        resource = RESOURCES[rng.randrange(len(RESOURCES))]
        dep_label = f"{label} depends on {provider.rsplit('-o', 1)[1]} for {resource[9:].replace('-', ' ')}"
        yield dependency, RDF_TYPE, f"<{IOIR}ResourceDependency>"
        yield dependency, RDFS_LABEL, _lit(dep_label)
        yield dependency, PREF, _lit(dep_label)
        yield dependency, IOIR + "dependent", f"<{org}>"
        yield dependency, IOIR + "provider", f"<{provider}>"
        yield dependency, IOIR + "resourceType", f"<{ID}concept/{resource}>"
        yield dependency, IOIR + "dependencyLevel", f"<{ID}concept/{level}>"
        yield dependency, IOIR + "theatre", f"<{place()}>"
        if rng.random() < 0.5:
            yield dependency, IOIR + "context", f"<{missions[k % 2]}>"
        yield from evidence(dependency)
    for k in range(3):
        instrument = f"{ID}instrument/syn-i{i}-{k}"
        partner = f"{ID}org/syn-o{(i + 1) % blocks}" if k == 0 else other_org()
        kind = INSTRUMENT_CLASSES[(i + k) % len(INSTRUMENT_CLASSES)]
        ins_label = f"{kind} between {label} and organization {partner.rsplit('-o', 1)[1]}"
        yield instrument, RDF_TYPE, f"<{IOIR}{kind}>"
        yield instrument, RDFS_LABEL, _lit(ins_label)
        yield instrument, PREF, _lit(ins_label)
        yield instrument, IOIR + "party", f"<{org}>"
        yield instrument, IOIR + "party", f"<{partner}>"
        yield instrument, DC_DATE, _typed(f"{1995 + rng.randrange(28)}-{rng.randrange(1, 13):02d}-01", "date")
        if rng.random() < 0.3:
            yield instrument, IOIR + "signedAt", f"<{place()}>"
        yield from evidence(instrument)


def _shared(places: int) -> Iterator[tuple[str, str, str]]:
    for p in range(places):
        node = f"{ID}place/syn-p{p}"
        name = f"{PLACES[p % len(PLACES)]} {p}"
        yield node, RDF_TYPE, f"<{IOIR}Country>"
        yield node, RDFS_LABEL, _lit(name)
        yield node, PREF, _lit(name)
    for s in range(20):
        node = f"{ID}source/syn-s{s}"
        yield node, RDF_TYPE, f"<{IOIR}SourceDocument>"
        yield node, RDFS_LABEL, _lit(f"Synthetic source document {s}")
        yield node, DC_TITLE, _lit(f"Synthetic source document {s}")
        yield node, DC_IDENTIFIER, _lit(f"syn-{s:03d}.txt", None)


def write_ntriples(out: TextIO, target: int, *, seed: int = 42) -> GenStats:
    """Write about ``target`` triples to ``out`` as N-Triples; deterministic for a given target and seed."""
    blocks = blocks_for(target)
    places = max(20, blocks // 25)
    rng = random.Random(seed)
    count = 0
    lines: list[str] = []
    for s, p, o in _shared(places):
        lines.append(f"<{s}> <{p}> {o} .\n")
    for i in range(blocks):
        for s, p, o in _block(i, blocks, places, rng):
            lines.append(f"<{s}> <{p}> {o} .\n")
        if len(lines) >= 50_000:
            count += len(lines)
            out.write("".join(lines))
            lines.clear()
    count += len(lines)
    out.write("".join(lines))
    return GenStats(count, blocks, places, seed)


def generate(target: int, folder: Path, *, seed: int = 42) -> tuple[Path, GenStats]:
    """``folder/synthetic-{target}.nt`` (reused when its stats file says it is complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"synthetic-{target}.nt"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        stats = GenStats(**json.loads(meta.read_text(encoding="utf-8")))
        if stats.seed == seed and path.stat().st_size > 0:
            return path, stats
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        stats = write_ntriples(handle, target, seed=seed)
    tmp.replace(path)
    meta.write_text(json.dumps(asdict(stats)), encoding="utf-8")
    return path, stats


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.generate 1m [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("size", help=f"triples: a number or one of {', '.join(SIZES)}")
    parser.add_argument("--out", type=Path, default=Path("var/bench/data"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    target = SIZES.get(args.size.lower()) or int(args.size)
    started = time.perf_counter()
    path, stats = generate(target, args.out, seed=args.seed)
    print(f"{path}: {stats.triples} triples, {stats.blocks} blocks in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

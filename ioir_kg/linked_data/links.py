"""The committed linkset to Wikidata (``data/links/wikidata.ttl``) and its re-check against a SPARQL endpoint.

Every link triple (``owl:sameAs`` or ``skos:exactMatch`` to ``http://www.wikidata.org/entity/Q…``) lives in the
linkset file, each with a ``prov:Entity`` record of its corroborating sources. :func:`check_links` asks a
Wikidata-shaped SPARQL endpoint (Wikidata's own by default) whether each item still exists, is not a redirect
(Wikidata's RDF states ``wd:Qold owl:sameAs wd:Qnew`` for a merged item) and has, in any language, a label
(``rdfs:label``, ``schema:name``) or alias (``skos:altLabel``) equal — ignoring case — to the entity's
``skos:prefLabel`` or one of its ``skos:altLabel`` values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from pyoxigraph import Literal, NamedNode, QuerySolutions, RdfFormat, Store, parse

from ioir_kg import __version__
from ioir_kg.config import Settings
from ioir_kg.errors import BadInput, BadRdf, IoirError
from ioir_kg.namespaces import PREFIXES

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
#: Wikidata's public SPARQL endpoint, the default of ``ioir-kg links check``.
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
OWL_SAME_AS = PREFIXES["owl"] + "sameAs"
SKOS_EXACT_MATCH = PREFIXES["skos"] + "exactMatch"
#: The link predicates of the linkset.
LINK_PREDICATES = (OWL_SAME_AS, SKOS_EXACT_MATCH)
#: Seconds to connect to the endpoint; to wait for an answer.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
#: Items per request (Wikidata's query service answers long VALUES blocks slowly).
BATCH = 50

_LINKS = f"""PREFIX owl: <{PREFIXES["owl"]}> PREFIX skos: <{PREFIXES["skos"]}>
SELECT ?entity ?predicate ?item WHERE {{
  ?entity ?predicate ?item .
  FILTER(?predicate IN (owl:sameAs, skos:exactMatch) && STRSTARTS(STR(?item), "{WIKIDATA_ENTITY}") && isIRI(?entity))
}}"""
SKOS_PREF_LABEL = NamedNode(PREFIXES["skos"] + "prefLabel")
SKOS_ALT_LABEL = NamedNode(PREFIXES["skos"] + "altLabel")


class EndpointUnavailable(IoirError):
    """The SPARQL endpoint could not be reached or did not answer (exit code 3)."""

    status: ClassVar[int] = 503
    exit_code: ClassVar[int] = 3
    title: ClassVar[str] = "Endpoint unavailable"


@dataclass(frozen=True)
class Link:
    """One link of the linkset: the entity, the predicate, the Wikidata item, and the entity's labels."""

    entity: str
    predicate: str
    item: str
    labels: frozenset[str] = field(default_factory=frozenset)

    @property
    def qid(self) -> str:
        """The item's Q-id (``Q7184``)."""
        return self.item[len(WIKIDATA_ENTITY) :]


@dataclass(frozen=True)
class Finding:
    """A link that no longer holds, and why."""

    link: Link
    problem: str

    def line(self) -> str:
        """One line for people: ``org/nato owl:sameAs Q7184: …``."""
        entity = self.link.entity.rsplit("/id/", 1)[-1]
        predicate = "owl:sameAs" if self.link.predicate == OWL_SAME_AS else "skos:exactMatch"
        return f"{entity} {predicate} {self.link.qid}: {self.problem}"


def default_linkset(settings: Settings) -> Path:
    """``data/links/wikidata.ttl`` under the data root."""
    return settings.bundled_dirs[1] / "links" / "wikidata.ttl"


def read_links(linkset: Path, data_dirs: Iterable[Path] = ()) -> list[Link]:
    """The links stated in ``linkset``, with the labels of their entities read from it and the Turtle under
    ``data_dirs`` (links stated in other files there are not included)."""
    links, labels = _parse(linkset), Store()
    labels.extend(links)
    for path in sorted(p for d in data_dirs if d.is_dir() for p in d.rglob("*.ttl")):
        if path.resolve() != linkset.resolve():
            labels.extend(_parse(path))
    result = links.query(_LINKS)
    assert isinstance(result, QuerySolutions)
    found = sorted({(row["entity"], row["predicate"].value, row["item"].value) for row in result}, key=str)
    out = []
    for entity, predicate, item in found:
        names = {
            quad.object.value
            for prop in (SKOS_PREF_LABEL, SKOS_ALT_LABEL)
            for quad in labels.quads_for_pattern(entity, prop, None)
            if isinstance(quad.object, Literal)
        }
        out.append(Link(entity.value, predicate, item, frozenset(names)))
    return out


def _parse(path: Path) -> Store:
    store = Store()
    try:
        store.extend(parse(path=str(path), format=RdfFormat.TURTLE))
    except (OSError, SyntaxError) as exc:
        raise BadRdf(f"{path}: {exc}") from None
    return store


def check_endpoint_url(url: str) -> str:
    """``url`` if it is an absolute ``http(s)`` URL, else :class:`BadInput`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(f"--endpoint must be an http(s) URL, not {url!r}")
    return url


class WikidataEndpoint:
    """A Wikidata-shaped SPARQL endpoint, queried with form POSTs (JSON results)."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.url = check_endpoint_url(url)
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            headers={"User-Agent": f"ioir-kg/{__version__} (links check)"},
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def select(self, query: str) -> list[dict[str, Any]]:
        """The bindings of a SELECT query."""
        try:
            response = self._client.post(
                self.url, data={"query": query}, headers={"Accept": "application/sparql-results+json"}
            )
        except httpx.HTTPError as exc:
            raise EndpointUnavailable(f"{self.url} did not answer: {exc or type(exc).__name__}") from None
        if response.status_code != 200:
            raise EndpointUnavailable(f"{self.url} answered {response.status_code}: {response.text[:200]!r}")
        try:
            bindings: list[dict[str, Any]] = response.json()["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            raise EndpointUnavailable(f"{self.url} did not answer with SPARQL JSON results") from None
        return bindings


def _sparql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def check_links(links: list[Link], endpoint: WikidataEndpoint) -> list[Finding]:
    """Findings for the links whose item is deleted, redirected, or has no label matching the entity's labels."""
    findings: list[Finding] = []
    for start in range(0, len(links), BATCH):
        findings += _check_batch(links[start : start + BATCH], endpoint)
    return findings


def _check_batch(links: list[Link], endpoint: WikidataEndpoint) -> list[Finding]:
    items = sorted({link.item for link in links})
    values = " ".join(f"<{item}>" for item in items)
    status = endpoint.select(
        f"""PREFIX owl: <{PREFIXES["owl"]}>
SELECT ?item ?target ?exists WHERE {{
  VALUES ?item {{ {values} }}
  OPTIONAL {{ ?item owl:sameAs ?target FILTER(isIRI(?target) && ?target != ?item) }}
  BIND(EXISTS {{ ?item ?p ?o }} AS ?exists)
}}"""
    )
    exists = {b["item"]["value"] for b in status if b.get("exists", {}).get("value") in ("true", "1")}
    redirects: dict[str, str] = {}
    for b in status:
        if "target" in b:
            redirects[b["item"]["value"]] = b["target"]["value"]
    pairs = sorted({(link.item, name.casefold()) for link in links for name in link.labels})
    matched: set[tuple[str, str]] = set()
    if pairs:
        rows = " ".join(f"(<{item}> {_sparql_string(name)})" for item, name in pairs)
        answer = endpoint.select(
            f"""PREFIX rdfs: <{PREFIXES["rdfs"]}> PREFIX schema: <http://schema.org/>
PREFIX skos: <{PREFIXES["skos"]}>
SELECT DISTINCT ?item ?name WHERE {{
  VALUES (?item ?name) {{ {rows} }}
  ?item rdfs:label|schema:name|skos:altLabel ?label .
  FILTER(LCASE(STR(?label)) = ?name)
}}"""
        )
        matched = {(b["item"]["value"], b["name"]["value"]) for b in answer}
    findings = []
    for link in links:
        if link.item not in exists:
            findings.append(Finding(link, "the item has no triples (deleted, or never existed)"))
        elif link.item in redirects:
            target = redirects[link.item].removeprefix(WIKIDATA_ENTITY)
            findings.append(Finding(link, f"the item is a redirect (owl:sameAs {target})"))
        elif not any((link.item, name.casefold()) in matched for name in link.labels):
            shown = ", ".join(sorted(link.labels)) or "(the entity has no label)"
            findings.append(Finding(link, f"no label or alias of the item matches the entity's labels ({shown})"))
    return findings


__all__ = [
    "WIKIDATA_SPARQL",
    "EndpointUnavailable",
    "Finding",
    "Link",
    "WikidataEndpoint",
    "check_endpoint_url",
    "check_links",
    "default_linkset",
    "read_links",
]

"""How much of each source document is coded: its sentences, which are cited by evidence, which are reviewed.

A document is split into paragraphs at blank lines and each paragraph into sentences with pysbd; a
"sentence" of fewer than :data:`MIN_WORDS` words (a heading, a page number, a running header) is a
fragment and is not counted. A sentence is **cited** when an evidence quote of that document covers at
least :data:`MIN_OVERLAP` of its characters (or all of it, if it is shorter); **reviewed** when the
committed exclusion list names it as holding no fact; **uncited** otherwise.

Quotes are matched as the quote check matches them: whitespace runs collapsed, and a word hyphenated
across a line break found either with its hyphen or joined.

>>> text = "Rome was founded long ago.\\n\\nIt grew into an em-\\npire. Page 3"
>>> cov = measure_document("s9", "doc.txt", "A test", text, ["It grew into an empire."], [])
>>> [(s.text, s.status) for s in cov.sentences]
[('Rome was founded long ago.', 'uncited'), ('It grew into an em-pire.', 'cited')]
>>> cov.counts()
{'sentences': 2, 'cited': 1, 'reviewed_no_fact': 0, 'uncited': 1}
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pysbd
from pyoxigraph import QuerySolutions

from ioir_kg.errors import BadInput
from ioir_kg.namespaces import sparql_prologue
from ioir_kg.store.base import KnowledgeStore
from ioir_kg.validation.quotes import collapse

#: Fewer words than this (words with a letter) make a fragment, not a sentence.
MIN_WORDS = 4
#: Characters of a sentence a quote must cover for the sentence to count as cited.
MIN_OVERLAP = 25
STATUSES = ("cited", "reviewed_no_fact", "uncited")

_BREAK_HYPHEN = re.compile(r"-[ \t]*\r?\n\s*")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_SOFT = "\u00ad"  # marks a hyphen that stood at a line break (rendered as "-", dropped in the joined variant)
_WORD = re.compile(r"\w*[^\W\d_]\w*")

_EVIDENCE_QUERY = """SELECT DISTINCT ?src ?file ?title ?evidence ?quote WHERE {
  ?src a ioir:SourceDocument ; dcterms:identifier ?file .
  OPTIONAL { ?src skos:prefLabel ?title }
  OPTIONAL { ?evidence dcterms:source ?src ; prov:value ?quote }
}"""


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document: its character span in the collapsed text, its text and its status."""

    start: int
    end: int
    text: str
    status: str


@dataclass(frozen=True)
class Exclusion:
    """A committed review: the sentences from ``first`` (to ``until``, or only that one) hold no fact."""

    source: str
    first: str
    until: str
    reason: str

    def starts(self, sentence: str) -> bool:
        """Whether ``sentence`` is the first sentence this exclusion names."""
        return sentence.startswith(self.first)


@dataclass(frozen=True)
class DocumentCoverage:
    """The coverage of one source document."""

    source: str
    file: str
    title: str
    sentences: tuple[Sentence, ...]
    unused_exclusions: tuple[Exclusion, ...] = field(default=())

    def counts(self) -> dict[str, int]:
        """Sentences in all and per status."""
        counts = {"sentences": len(self.sentences)} | dict.fromkeys(STATUSES, 0)
        for sentence in self.sentences:
            counts[sentence.status] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        """The document's figures as ``ioir-kg coverage --format json`` prints them."""
        counts = self.counts()
        share = counts["cited"] / counts["sentences"] if counts["sentences"] else 0.0
        stale = [e.first for e in self.unused_exclusions]
        return (
            {"source": self.source, "file": self.file, "title": self.title}
            | counts
            | {
                "cited_share": round(share, 4),
                "stale_exclusions": stale,
            }
        )


def read_exclusions(path: Path) -> list[Exclusion]:
    """Read the exclusion list: tab-separated ``source, first words, until (or empty), reason``; ``#`` comments."""
    if not path.is_file():
        return []
    rows: list[Exclusion] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 4 or not row[0] or not row[1] or not row[3]:
                raise BadInput(f"{path}:{number}: expected 4 tab-separated fields: source, first words, until, reason")
            rows.append(Exclusion(row[0], collapse(row[1]), collapse(row[2]), row[3].strip()))
    return rows


def _normalise(text: str) -> str:
    """Collapse whitespace inside paragraphs, one newline between them, mark hyphens at line breaks."""
    text = _BREAK_HYPHEN.sub(_SOFT, text)
    return "\n".join(p for p in (collapse(par) for par in _PARAGRAPH.split(text)) if p)


def _segments(normalised: str) -> list[tuple[int, int]]:
    """Sentence spans of the normalised text, paragraph by paragraph."""
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    spans: list[tuple[int, int]] = []
    offset = 0
    for paragraph in normalised.split("\n"):
        for span in segmenter.segment(paragraph.replace(_SOFT, "-")):
            text = span.sent.rstrip()
            if text.strip():
                spans.append((offset + span.start, offset + span.start + len(text)))
        offset += len(paragraph) + 1
    return spans


def _quote_spans(normalised: str, quotes: Iterable[str]) -> list[tuple[int, int]]:
    """Every place each quote occurs in the normalised text, hyphen kept or joined.

    A passage the document repeats (an executive summary restating the body) is cited wherever it stands.
    """
    flat = normalised.replace("\n", " ")  # same length: offsets stay valid
    hyphened = flat.replace(_SOFT, "-")
    joined_index = [i for i, char in enumerate(flat) if char != _SOFT]
    joined = flat.replace(_SOFT, "")
    spans = []
    for quote in quotes:
        needle = collapse(quote)
        if not needle:
            continue
        spans += [(at, at + len(needle)) for at in _occurrences(hyphened, needle)]
        spans += [(joined_index[at], joined_index[at + len(needle) - 1] + 1) for at in _occurrences(joined, needle)]
    return spans


def _occurrences(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def measure_document(
    source: str, file: str, title: str, text: str, quotes: Sequence[str], exclusions: Sequence[Exclusion]
) -> DocumentCoverage:
    """Classify every sentence of ``text`` as cited (by ``quotes``), reviewed (``exclusions``) or uncited."""
    normalised = _normalise(text)
    display = normalised.replace(_SOFT, "-")
    quoted = _quote_spans(normalised, quotes)
    mine = [e for e in exclusions if e.source == source]
    used: set[Exclusion] = set()
    open_range: Exclusion | None = None
    sentences = []
    for start, end in _segments(normalised):
        text_ = display[start:end]
        if len(_WORD.findall(text_)) < MIN_WORDS:
            continue
        starting = next((e for e in mine if e.starts(text_)), None)
        reviewed = open_range is not None or starting is not None
        if starting is not None:
            used.add(starting)
            open_range = starting if starting.until else None
        if open_range is not None and open_range.until != "END" and text_.startswith(open_range.until):
            open_range = None
        need = min(MIN_OVERLAP, end - start)
        if any(_overlap((start, end), span) >= need for span in quoted):
            status = "cited"
        else:
            status = "reviewed_no_fact" if reviewed else "uncited"
        sentences.append(Sentence(start, end, text_, status))
    unused = tuple(e for e in mine if e not in used)
    return DocumentCoverage(source, file, title, tuple(sentences), unused)


def source_evidence(store: KnowledgeStore, id_base: str) -> dict[str, tuple[str, str, list[str]]]:
    """Per source slug: its file name, its title and the quotes of its evidence, from the store."""
    result = store.query(sparql_prologue() + _EVIDENCE_QUERY)
    assert isinstance(result, QuerySolutions)
    found: dict[str, tuple[str, str, list[str]]] = {}
    for row in result:
        iri = row["src"].value
        slug = iri.removeprefix(f"{id_base}source/")
        entry = found.setdefault(slug, (row["file"].value, row["title"].value if row["title"] else slug, []))
        if row["quote"] is not None:
            entry[2].append(row["quote"].value)
    return dict(sorted(found.items()))


def measure_coverage(
    store: KnowledgeStore, id_base: str, seeds_dir: Path, exclusions: Sequence[Exclusion]
) -> list[DocumentCoverage]:
    """The coverage of every source document in the store whose text is in ``seeds_dir``."""
    documents = []
    for slug, (file, title, quotes) in source_evidence(store, id_base).items():
        path = seeds_dir / file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"the text of source {slug} is not readable at {path} (set IOIR_SEEDS_DIR): {exc}") from None
        documents.append(measure_document(slug, file, title, text, quotes, exclusions))
    return documents


def render_table(documents: Sequence[DocumentCoverage]) -> str:
    """The plain-text table ``ioir-kg coverage`` prints."""
    lines = [f"{'source':8} {'sentences':>9} {'cited':>6} {'reviewed':>8} {'uncited':>7} {'cited %':>7}  title"]
    totals = dict.fromkeys(("sentences", *STATUSES), 0)
    for doc in documents:
        c = doc.counts()
        totals = {k: totals[k] + c[k] for k in totals}
        lines.append(_row(doc.source, c, doc.title))
    lines.append(_row("total", totals, ""))
    return "\n".join(lines) + "\n"


def _row(name: str, c: dict[str, int], title: str) -> str:
    share = 100 * c["cited"] / c["sentences"] if c["sentences"] else 0.0
    return (
        f"{name:8} {c['sentences']:>9} {c['cited']:>6} {c['reviewed_no_fact']:>8} {c['uncited']:>7}"
        f" {share:>6.1f}%  {title[:70]}"
    ).rstrip()


def find_document(documents: Sequence[DocumentCoverage], name: str) -> DocumentCoverage:
    """The document named by its slug (``s000``) or file name; :class:`BadInput` for any other name."""
    for doc in documents:
        if name in (doc.source, doc.file):
            return doc
    known = ", ".join(doc.source for doc in documents)
    raise BadInput(f"no source document {name!r}; known: {known}")

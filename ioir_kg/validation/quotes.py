"""Check that evidence quotes occur verbatim in their source documents, and find where they sit.

The comparison collapses runs of whitespace (line breaks included) to one space, and accepts a word hyphenated
across a line break either joined or with its hyphen. Nothing else is forgiven: case, punctuation, quotation marks
and every other character must be as in the text.

>>> index = SourceTexts({"s000": "resource depen-\\ndency at the macro\\n level"})
>>> index.contains("s000", "resource dependency at the macro level")
True
>>> index.contains("s000", "resource depen-dency at the macro level")
True
>>> index.contains("s000", "resource dependency at the micro level")
False

:func:`locate` answers where a quote sits as offsets into the text as stored (Python string indices, i.e. Unicode
code points, of the UTF-8 text): ``text[start:end]`` normalises to the normalised quote.

>>> locate("resource depen-\\ndency at the macro\\n level", "dependency at the")
(9, 28)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_BREAK_HYPHEN = re.compile(r"-[ \t]*\r?\n\s*")


def collapse(text: str) -> str:
    """Collapse every whitespace run to one space and strip the ends."""
    return " ".join(text.split())


def _variants(text: str) -> tuple[str, str]:
    return collapse(_BREAK_HYPHEN.sub("-", text)), collapse(_BREAK_HYPHEN.sub("", text))


def normalised_forms(text: str) -> tuple[str, str]:
    """The two normal forms of a text: hyphens at line breaks kept, and joined (whitespace collapsed in both)."""
    return _variants(text)


class OffsetIndex:
    """One normal form of a text with, for each of its characters, the offset in the original it comes from."""

    def __init__(self, text: str, *, join_hyphens: bool) -> None:
        chars: list[str] = []
        positions: list[int] = []
        i, n = 0, len(text)
        while i < n:
            match = _BREAK_HYPHEN.match(text, i) if text[i] == "-" else None
            if match is not None:
                if not join_hyphens:
                    chars.append("-")
                    positions.append(i)
                i = match.end()
                continue
            if text[i].isspace():
                j = i
                while j < n and text[j].isspace():
                    j += 1
                if chars and j < n:
                    chars.append(" ")
                    positions.append(i)
                i = j
                continue
            chars.append(text[i])
            positions.append(i)
            i += 1
        self.text = "".join(chars)
        self.positions = positions

    def find(self, needle: str) -> tuple[int, int] | None:
        """Offsets ``(start, end)`` in the original text of the first occurrence of the normalised ``needle``."""
        at = self.text.find(needle) if needle else -1
        if at < 0:
            return None
        return self.positions[at], self.positions[at + len(needle) - 1] + 1


class Locator:
    """Both normal forms of one text with their offsets, built once to locate many quotes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._indexes = (OffsetIndex(text, join_hyphens=False), OffsetIndex(text, join_hyphens=True))

    def find(self, quote: str) -> tuple[int, int] | None:
        """Where ``quote`` first occurs (whitespace and hyphenation at line breaks forgiven), or ``None``."""
        needle = collapse(quote)
        for index in self._indexes:
            found = index.find(needle)
            if found is not None:
                return found
        return None


def locate(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` first occurs in ``text`` (whitespace and hyphenation at line breaks forgiven), or ``None``."""
    return Locator(text).find(quote)


def matches(fragment: str, quote: str) -> bool:
    """Whether ``fragment`` (a slice of a text) is ``quote`` up to the forgiven differences."""
    return collapse(quote) in normalised_forms(fragment)


class SourceTexts:
    """The normalised texts of source documents, keyed by source id (``s000`` …)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = {key: _variants(text) for key, text in texts.items()}

    @classmethod
    def from_dir(cls, seeds_dir: Path, files: Mapping[str, str]) -> SourceTexts:
        """Read the documents ``files`` (id → file name) from ``seeds_dir``; a missing file raises ``OSError``."""
        return cls({key: (seeds_dir / name).read_text(encoding="utf-8") for key, name in files.items()})

    def contains(self, source: str, quote: str) -> bool:
        """Whether ``quote`` occurs verbatim (after normalisation) in the document ``source``."""
        variants = self._texts.get(source)
        needle = collapse(quote)
        return variants is not None and bool(needle) and any(needle in text for text in variants)


def bundled_source_files(data_dir: Path) -> dict[str, str]:
    """The bundled source documents, id (``s000`` …) → file name, as ``data/sources.ttl`` names them
    (``dcterms:identifier``); what the data tests and the load-time registration read instead of a fixed list."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCTERMS, RDF

    graph = Graph().parse(data_dir / "sources.ttl", format="turtle")
    found: dict[str, str] = {}
    for node in graph.subjects(RDF.type, URIRef("https://w3id.org/ioir/ontology#SourceDocument")):
        for value in graph.objects(node, DCTERMS.identifier):
            if str(value).endswith((".txt", ".md", ".pdf")):
                found[str(node).rsplit("/", 1)[-1]] = str(value)
    return dict(sorted(found.items()))

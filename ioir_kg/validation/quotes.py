"""Check that evidence quotes occur verbatim in their source documents.

The comparison collapses runs of whitespace (line breaks included) to one space, and
accepts a word hyphenated across a line break either joined or with its hyphen.

>>> index = SourceTexts({"s000": "resource depen-\\ndency at the macro\\n level"})
>>> index.contains("s000", "resource dependency at the macro level")
True
>>> index.contains("s000", "resource depen-dency at the macro level")
True
>>> index.contains("s000", "resource dependency at the micro level")
False
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_BREAK_HYPHEN = re.compile(r"-[ \t]*\r?\n\s*")

#: ``dcterms:identifier`` of each source document is its file name; the key is its IRI slug.
SOURCE_FILES: dict[str, str] = {
    "s000": "000_0d96909962605923.txt",
    "s001": "001_c76a84e2d7b2a235.txt",
    "s002": "002_e989cbb4d9311421.txt",
    "s003": "003_b566d51b6e71e355.txt",
    "s004": "004_cc89b877990f1ee3.txt",
}


def collapse(text: str) -> str:
    """Collapse every whitespace run to one space and strip the ends."""
    return " ".join(text.split())


def _variants(text: str) -> tuple[str, str]:
    return collapse(_BREAK_HYPHEN.sub("-", text)), collapse(_BREAK_HYPHEN.sub("", text))


class SourceTexts:
    """The normalised texts of the source documents, keyed by source slug (``s000`` …)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = {key: _variants(text) for key, text in texts.items()}

    @classmethod
    def from_dir(cls, seeds_dir: Path) -> SourceTexts:
        """Read the five documents from ``seeds_dir``; a missing file raises ``FileNotFoundError``."""
        return cls({key: (seeds_dir / name).read_text(encoding="utf-8") for key, name in SOURCE_FILES.items()})

    def contains(self, source: str, quote: str) -> bool:
        """Whether ``quote`` occurs verbatim (after normalisation) in the document ``source``."""
        variants = self._texts.get(source)
        needle = collapse(quote)
        return variants is not None and bool(needle) and any(needle in text for text in variants)

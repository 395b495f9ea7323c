"""A source's bibliographic record as BibTeX and as CSL-JSON (what reference managers import)."""

from __future__ import annotations

import json
import re
from typing import Any

from ioir_kg.validation.sources import SourceRecord

__all__ = ["bibtex", "csl_json"]


def _escape(value: str) -> str:
    """Protect BibTeX's special characters (braces kept balanced by escaping them)."""
    return re.sub(r"([{}%&$#_\\])", r"\\\1", value)


def _split(name: str) -> tuple[str, str]:
    parts = name.split()
    return (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (name, "")


def bibtex(record: SourceRecord) -> str:
    """One ``@misc``/``@article`` entry keyed by the source id; fields as far as the record knows them."""
    kind = "article" if record.venue and "journal" in record.venue.lower() else "misc"
    fields: list[tuple[str, str]] = [("title", record.title or record.label)]
    if record.creators:
        fields.append(
            ("author", " and ".join(f"{last}, {first}".strip(", ") for last, first in map(_split, record.creators)))
        )
    if record.year:
        fields.append(("year", record.year))
    if record.venue:
        fields.append(("journal" if kind == "article" else "howpublished", record.venue))
    if record.doi:
        fields.append(("doi", record.doi))
    if record.url:
        fields.append(("url", record.url))
    if record.description and not record.title:
        fields.append(("note", record.description))
    body = ",\n".join(f"  {key} = {{{_escape(value)}}}" for key, value in fields)
    return f"@{kind}{{{record.id},\n{body}\n}}\n"


def csl_json(record: SourceRecord) -> str:
    """A CSL-JSON array holding the one item (``article-journal`` with a journal, else ``document``)."""
    item: dict[str, Any] = {
        "id": record.id,
        "type": "article-journal" if record.venue and "journal" in record.venue.lower() else "document",
        "title": record.title or record.label,
    }
    if record.creators:
        item["author"] = [{"family": last, "given": first} for last, first in map(_split, record.creators)]
    if record.year:
        item["issued"] = {"date-parts": [[int(record.year)]]}
    if record.venue:
        item["container-title"] = record.venue
    if record.doi:
        item["DOI"] = record.doi
    if record.url:
        item["URL"] = record.url
    return json.dumps([item], ensure_ascii=False, indent=2)

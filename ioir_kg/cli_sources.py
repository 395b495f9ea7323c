"""``ioir-kg source add``: register a document as a source (the twin of ``POST /sources``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ioir_kg.config import get_settings
from ioir_kg.errors import BadInput
from ioir_kg.store.loading import opened_store

source_app = typer.Typer(help="The source documents that evidence cites.", no_args_is_help=True)
_TYPES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown", ".pdf": "application/pdf"}


@source_app.command("add")
def add(
    file: Annotated[Path, typer.Argument(help="The document: .txt, .md or .pdf.")],
    title: Annotated[str, typer.Option(help="Its title.")],
    author: Annotated[list[str] | None, typer.Option(help="An author (repeat for several).")] = None,
    year: Annotated[str | None, typer.Option(help="Year of publication.")] = None,
    url: Annotated[str | None, typer.Option(help="Where it is published.")] = None,
    doi: Annotated[str | None, typer.Option(help="Its DOI (instead of --url).")] = None,
    licence: Annotated[str | None, typer.Option(help="Its licence (an IRI or a name).")] = None,
    contributor: Annotated[str, typer.Option(help="Who registers it.")] = "admin",
) -> None:
    """Register a document; print its id and IRI as JSON (the existing ones for a document already registered)."""
    from ioir_kg.validation.sources import Bibliography, SourceRegistry, extract_text

    media_type = _TYPES.get(file.suffix.lower())
    if media_type is None:
        raise BadInput(f"{file}: a source is a .txt, .md or .pdf file")
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"{file}: not readable ({exc.strerror})") from None
    settings = get_settings()
    bib = Bibliography.from_params(title, author or (), year, url, doi, licence)
    text = extract_text(body, media_type)
    if len(body) > settings.max_body_bytes:
        raise BadInput(f"{file}: larger than {settings.max_body_bytes} bytes (IOIR_MAX_BODY_BYTES)")
    with opened_store(settings) as store:
        record, created = SourceRegistry(store, settings).register(text, bib, contributor=contributor)
    typer.echo(json.dumps({"id": record.id, "iri": record.iri, "created": created}))

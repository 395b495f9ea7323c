"""The ``ioir-kg`` command line: a thin layer over the functions the app calls.

Exit codes: 0 ok, 1 non-conformant result, 2 bad input (one line on stderr), 3 store or environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ioir_kg.config import Backend, Settings, get_settings
from ioir_kg.errors import BadInput, IoirError, StoreUnavailable
from ioir_kg.sparql.competency import get_query, load_catalogue, run_competency
from ioir_kg.sparql.results import OUTPUT_FORMATS, write_result
from ioir_kg.store.loading import load_sources, opened_store

app = typer.Typer(
    name="ioir-kg",
    help="Knowledge graph of inter-organizational relations in international security.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def load(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="RDF files or folders (default: ontology/ and data/).")
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Reload even unchanged files.")] = False,
    backend: Annotated[
        Backend | None,
        typer.Option("--backend", help="Load into this backend instead of IOIR_BACKEND (remote: IOIR_REMOTE_*)."),
    ] = None,
) -> None:
    """Load RDF files, one named graph per file; unchanged files are skipped."""
    settings = get_settings() if backend is None else get_settings(backend=backend)
    with opened_store(settings, sync_bundled=False) as store:
        results = load_sources(store, settings, paths or None, force=rebuild)
    for r in results:
        count = "" if r.triples is None else f" {r.triples} triples"
        typer.echo(f"{r.status.value:9} {r.graph}{count}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the API and the web pages with uvicorn (requests must arrive within IOIR_CLIENT_TIMEOUT)."""
    import uvicorn

    from ioir_kg.api.app import create_app
    from ioir_kg.api.connections import ClientTimeoutProtocol

    settings = get_settings()
    protocol = ClientTimeoutProtocol.configured(settings)
    # uvicorn's own X-Forwarded-For handling (on for 127.0.0.1 by default) is off: the app reads the header only
    # from IOIR_TRUSTED_PROXIES (ioir_kg.api.clients)
    app_ = create_app(settings)
    uvicorn.run(app_, host=host, port=port, log_level="info", http=protocol, proxy_headers=False)


@app.command()
def query(
    text: Annotated[str | None, typer.Argument(help="The SPARQL query.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the query from a .rq file.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(OUTPUT_FORMATS)}.")] = "table",
) -> None:
    """Run a SPARQL query against the store and print the result."""
    if (text is None) == (file is None):
        raise BadInput("give the query either as an argument or with --file, not both")
    if fmt not in OUTPUT_FORMATS:
        raise BadInput(f"unknown --format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{file}: cannot read: {exc}") from None
    assert text is not None
    _refuse_outbound(text, get_settings())
    with opened_store(get_settings()) as store:
        result = store.query(text)
        write_result(result, fmt, sys.stdout.buffer)


@app.command()
def cq(
    name: Annotated[str | None, typer.Argument(help="The competency query (see --list).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="A parameter as NAME=VALUE.")] = None,
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(OUTPUT_FORMATS)}.")] = "table",
    list_: Annotated[bool, typer.Option("--list", help="List the competency queries.")] = False,
) -> None:
    """Run a canned competency query with typed parameters, or list them."""
    settings = get_settings()
    catalogue = load_catalogue(settings.queries_dir)
    if list_ or name is None:
        for query_ in catalogue.values():
            params = " ".join(f"{p.name}:{p.type}" for p in query_.params)
            typer.echo(f"{query_.name:32} {query_.title}" + (f"  [{params}]" if params else ""))
        return
    if fmt not in OUTPUT_FORMATS:
        raise BadInput(f"unknown --format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    args = dict(_key_value(item) for item in param or [])
    _refuse_outbound(get_query(catalogue, name).sparql, settings)
    with opened_store(settings) as store:
        result = run_competency(get_query(catalogue, name), args, store, settings.id_base)
        write_result(result, fmt, sys.stdout.buffer)


def _refuse_outbound(text: str, settings: Settings) -> None:
    """Apply the endpoint's policy (``SERVICE`` only to ``IOIR_SERVICE_ALLOWLIST``) to a query run here."""
    from ioir_kg.sparql.protocol import check_policy

    check_policy(text, allowlist=settings.service_allowlist, base_iri=None, update=False)


def _key_value(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise BadInput(f"--param {item!r}: write it as NAME=VALUE")
    return key.strip(), value


@app.command()
def stats() -> None:
    """Print triples per graph, instances per class, relations per property, dependencies per level and source."""
    from ioir_kg.config import dataset_version
    from ioir_kg.stats import collect_stats, render_stats

    settings = get_settings()
    with opened_store(settings) as store:
        typer.echo(f"dataset {dataset_version(settings)}")
        typer.echo(render_stats(collect_stats(store)), nl=False)


_COVERAGE_FORMATS = ("table", "json")


@app.command()
def coverage(
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    uncited: Annotated[
        str | None, typer.Option("--uncited", help="Print the uncited sentences of this document (s000 or file name).")
    ] = None,
) -> None:
    """Per source document: sentences cited by evidence, reviewed as holding no fact, and uncited."""
    from ioir_kg.validation.coverage import (
        find_document,
        measure_coverage,
        read_exclusions,
        render_table,
    )

    if fmt not in _COVERAGE_FORMATS:
        raise BadInput(f"unknown --format {fmt!r}; choose one of {', '.join(_COVERAGE_FORMATS)}")
    settings = get_settings()
    exclusions = read_exclusions(settings.coverage_exclusions_path)
    with opened_store(settings) as store:
        documents = measure_coverage(store, settings.id_base, settings.seeds_path, exclusions)
    if uncited is not None:
        for sentence in find_document(documents, uncited).sentences:
            if sentence.status == "uncited":
                typer.echo(f"{sentence.start:>7}  {sentence.text}")
    elif fmt == "json":
        typer.echo(json.dumps([doc.to_json() for doc in documents], indent=2, ensure_ascii=False))
    else:
        typer.echo(render_table(documents), nl=False)


@app.command("check-ontology")
def check_ontology_command(
    reasoner: Annotated[bool, typer.Option("--reasoner/--no-reasoner", help="Also run HermiT.")] = True,
) -> None:
    """Run the ontology QA: violation queries over ontology + data, and HermiT (exit 1 on problems)."""
    from ioir_kg.validation.ontology_qa import check_ontology

    settings = get_settings()
    ontology_dir, data_dir = settings.bundled_dirs
    if not (ontology_dir / "ioir.ttl").is_file():
        raise BadInput(f"{ontology_dir / 'ioir.ttl'}: no such file (set IOIR_DATA_ROOT to the project folder)")
    problems = check_ontology(ontology_dir, data_dir, reasoner=reasoner)
    for problem in problems:
        typer.echo(f"{problem.check}: {problem.message}")
    if problems:
        typer.echo(f"{len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo("ontology and data: no problems" + (" (HermiT: consistent)" if reasoner else ""))


@app.command()
def explain(
    subject: Annotated[str, typer.Argument(help="An IRI, kind/slug (org/nato) or a prefixed name.")],
    predicate: Annotated[str, typer.Argument(help="An IRI, a prefixed name (ioir:authorizes) or 'a'.")],
    obj: Annotated[str, typer.Argument(metavar="OBJECT", help="As the subject, or a literal in N-Triples syntax.")],
) -> None:
    """Say whether a triple is asserted (where), inferred (by which rules, from which triples), or neither (exit 1)."""
    from pyoxigraph import NamedNode, Triple

    from ioir_kg.store.explanation import Explainer, parse_term

    settings = get_settings()
    s, p = parse_term(subject, settings, "subject"), parse_term(predicate, settings, "predicate")
    o = parse_term(obj, settings, "object")
    if not isinstance(s, NamedNode) or not isinstance(p, NamedNode):  # pragma: no cover - parse_term refuses
        raise BadInput("the subject and the predicate must be IRIs")
    with opened_store(settings, sync_bundled=False) as store:
        explanation = Explainer(store, settings).explain(Triple(s, p, o))
    for line in explanation.lines():
        typer.echo(line)
    if not explanation.holds:
        raise typer.Exit(1)


@app.command()
def dump(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Write every quad of the store as N-Quads."""
    with opened_store(get_settings(), sync_bundled=False) as store:
        if output is None:
            store.dump(sys.stdout.buffer)
        else:
            with output.open("wb") as handle:
                store.dump(handle)


@app.command()
def restore(source: Annotated[Path, typer.Argument(help="An N-Quads dump made by 'ioir-kg dump'.")]) -> None:
    """Replace the whole store with an N-Quads dump."""
    if not source.is_file():
        raise BadInput(f"{source}: no such file")
    with opened_store(get_settings(), sync_bundled=False) as store, source.open("rb") as handle:
        store.restore(handle)


@app.command()
def redirects(
    target: Annotated[
        str | None, typer.Option("--target", help="The deployment's URL (default: IOIR_PUBLIC_URL).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="apache (w3id.org .htaccess) or nginx.")] = "apache",
) -> None:
    """Print the rules that redirect the canonical IRIs (IOIR_BASE_URI) to this deployment."""
    from ioir_kg.linked_data.redirects import RULE_FORMATS, redirect_rules

    settings = get_settings()
    if fmt not in RULE_FORMATS:
        raise BadInput(f"unknown --format {fmt!r}; choose one of {', '.join(RULE_FORMATS)}")
    deployment = target or settings.public_url
    if not deployment:
        raise BadInput("name the deployment: set IOIR_PUBLIC_URL or give --target https://host/")
    typer.echo(redirect_rules(settings.base_uri, deployment, fmt), nl=False)


links_app = typer.Typer(help="The linkset to Wikidata (data/links/wikidata.ttl).", no_args_is_help=True)
app.add_typer(links_app, name="links")


@links_app.command("check")
def links_check(
    endpoint: Annotated[
        str, typer.Option("--endpoint", help="A Wikidata-shaped SPARQL endpoint.")
    ] = "https://query.wikidata.org/sparql",
    linkset: Annotated[
        Path | None, typer.Option("--linkset", help="The linkset file (default: data/links/wikidata.ttl).")
    ] = None,
) -> None:
    """Re-check every link against the endpoint: the item exists, is no redirect, and has a matching label.

    Exit 0 when every link holds, 1 with one line per broken link, 2 for a bad URL or file, 3 when the endpoint
    cannot be reached. The entities' labels are read from the Turtle files under data/.
    """
    from ioir_kg.linked_data.links import WikidataEndpoint, check_links, default_linkset, read_links

    settings = get_settings()
    client = WikidataEndpoint(endpoint)  # refuses a bad URL before reading anything
    path = linkset or default_linkset(settings)
    if not path.is_file():
        raise BadInput(f"{path}: no such linkset file")
    try:
        links = read_links(path, [settings.bundled_dirs[1]])
        findings = check_links(links, client)
    finally:
        client.close()
    for finding in findings:
        typer.echo(finding.line())
    typer.echo(f"{len(links) - len(findings)} of {len(links)} links hold ({client.url})", err=True)
    raise typer.Exit(1 if findings else 0)


_REPORT_FORMATS = ("text", "json", "turtle")


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="The triples to check: a .ttl, .nt or .jsonld file.")],
    reasoner: Annotated[
        str, typer.Option(help="axioms: targeted OWL checks (fast); hermit: also HermiT over the whole graph.")
    ] = "axioms",
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(_REPORT_FORMATS)}.")] = "text",
    source: Annotated[str | None, typer.Option(help="Source document of the quote (s000 … s004).")] = None,
    quote: Annotated[str | None, typer.Option(help="Verbatim quote supporting the triples.")] = None,
) -> None:
    """Check new triples against the shapes and the ontology in the context of the store; write nothing.

    Exit 0 when they conform, 1 when they do not, 2 when the file cannot be read or parsed.
    """
    from ioir_kg.validation.assertions import AssertionService
    from ioir_kg.validation.pipeline import Metadata, read_submission_file

    if reasoner not in ("axioms", "hermit") or fmt not in _REPORT_FORMATS:
        raise BadInput(f"--reasoner is axioms or hermit, --format one of {', '.join(_REPORT_FORMATS)}")
    settings = get_settings()
    submission = read_submission_file(file, settings)
    with opened_store(settings) as store:
        report = AssertionService(store, settings).validate(submission, Metadata(source, quote), reasoner=reasoner)
    if fmt == "json":
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(report.to_turtle() if fmt == "turtle" else report.to_text(), nl=False)
    raise typer.Exit(0 if report.conforms else 1)


@app.command("assert")
def assert_(
    file: Annotated[Path, typer.Argument(help="The triples to add: a .ttl, .nt or .jsonld file.")],
    source: Annotated[str | None, typer.Option(help="Source document of the quote (s000 … s004).")] = None,
    quote: Annotated[str | None, typer.Option(help="Verbatim quote supporting the triples.")] = None,
    locator: Annotated[str | None, typer.Option(help="Where the quote is in the source.")] = None,
    comment: Annotated[str | None, typer.Option(help="A comment recorded with the assertion.")] = None,
    contributor: Annotated[str, typer.Option(help="Who to credit (prov:wasAttributedTo).")] = "admin",
) -> None:
    """Validate new triples and store them in a new assertion graph with provenance (exit 1 if rejected)."""
    from ioir_kg.validation.assertions import AssertionService, SubmissionRejected
    from ioir_kg.validation.pipeline import Metadata, read_submission_file

    settings = get_settings()
    submission = read_submission_file(file, settings)
    metadata = Metadata(source, quote, locator, comment, contributor)
    with opened_store(settings) as store:
        try:
            accepted = AssertionService(store, settings).submit(submission, metadata, submitter="admin", admin=True)
        except SubmissionRejected as exc:
            typer.echo(exc.report.to_text(), nl=False)
            raise
    record = accepted.record
    typer.echo(f"accepted: {record.triples} triples in {record.graph} ({record.location})")


from ioir_kg.cli_sources import source_app  # noqa: E402  (the `source` commands)

app.add_typer(source_app, name="source")


def main() -> None:
    """Console entry point: map usage errors and :class:`IoirError` to exit codes and one line."""
    try:
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("ioir-kg: aborted\n")
        sys.exit(2)
    except typer.TyperException as exc:  # usage errors: unknown option, bad value, missing argument
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if message:  # no_args_is_help has printed the help already
            sys.stderr.write(f"ioir-kg: {message}\n")
        sys.exit(2)
    except IoirError as exc:
        sys.stderr.write(f"ioir-kg: {exc.message}\n")
        for error in exc.errors:
            if error.get("choices"):
                shown = ", ".join(error["choices"][:10]) + (" ..." if len(error["choices"]) > 10 else "")
                sys.stderr.write(f"ioir-kg:   valid {error['param']}: {shown}\n")
        sys.exit(exc.exit_code)
    except OSError as exc:
        sys.stderr.write(f"ioir-kg: {StoreUnavailable(str(exc)).message}\n")
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]

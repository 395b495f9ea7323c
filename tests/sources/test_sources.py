"""The source registry over real HTTP (the app in a TestClient over a copy of the bundled store) and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import pytest
from citeproc.source.json import CiteProcJSON
from fastapi.testclient import TestClient

from ioir_kg.api.app import create_app
from ioir_kg.store import open_store
from ioir_kg.validation.quotes import matches
from ioir_kg.validation.selectors import OA
from ioir_kg.validation.sources import SourceRegistry, SourceTextUnavailable
from tests.assertions.conftest import ALICE, TURTLE, copy_store, dependency, settings_for
from tests.conftest import SEEDS_DIR

DOC = (
    "A Council note on hybrid threats\n\nThe European Union and NATO agreed to exchange\nstaff between their hy-\n"
    "brid fusion cells in Brussels, the note says.\n"
)
QUOTE = "agreed to exchange staff between their hybrid fusion cells in Brussels"
PARAMS = {"title": "A Council note on hybrid threats", "author": "Jane Q. Doe", "year": "2021"}
PLAIN = {**ALICE, "Content-Type": "text/plain"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, bundled_store_path: Path) -> Iterator[TestClient]:
    """The app over a private copy of the bundled store, with the seeds."""
    store = copy_store(bundled_store_path, tmp_path_factory.mktemp("sources"))
    with TestClient(create_app(settings_for(store, seeds_dir=SEEDS_DIR))) as api:
        yield api


def test_register_then_cite_a_new_document(client: TestClient) -> None:
    created = client.post("/sources", content=DOC.encode(), headers=PLAIN, params=PARAMS)
    assert created.status_code == 201, created.text
    source = created.json()["id"]
    assert created.headers["location"] == f"/sources/{source}"
    assert created.json()["iri"].endswith(f"/id/source/{source}")
    again = client.post("/sources", content=DOC.encode(), headers=PLAIN, params={**PARAMS, "title": "Other"})
    assert (again.status_code, again.json()["id"]) == (200, source)
    body = dependency("hybrid-staff", level="meso")
    ok = client.post(
        "/assertions", content=body, headers={**TURTLE, **ALICE}, params={"source": source, "quote": QUOTE}
    )
    assert ok.status_code == 201, ok.text
    graph = client.get(ok.headers["location"], params={"format": "turtle"}).text
    assert "TextPositionSelector" in graph
    bad = client.post(
        "/assertions",
        content=dependency("hybrid-made-up", level="meso"),
        headers={**TURTLE, **ALICE},
        params={"source": source, "quote": "NATO agreed to merge the fusion cells"},
    )
    assert bad.status_code == 422
    assert f"source {source}" in bad.text
    assert "verbatim" in bad.text
    text = client.get(f"/sources/{source}", headers={"Accept": "text/plain"})
    assert text.text == DOC
    listed = client.get("/sources").json()["items"]
    assert any(item["id"] == source and item["creators"] == ["Jane Q. Doe"] for item in listed)
    assert "Jane Q. Doe" in client.get("/sources", headers={"Accept": "text/html"}).text


def test_bibtex_and_csl_parse(client: TestClient) -> None:
    for source in ("s001", "s003"):
        bib = client.get(f"/sources/{source}", params={"format": "bibtex"})
        library = bibtexparser.parse_string(bib.text)
        assert len(library.entries) == 1
        assert not library.failed_blocks
        assert library.entries[0].key == source
        csl = CiteProcJSON(json.loads(client.get(f"/sources/{source}", params={"format": "csl"}).text))
        assert source in csl
    assert "Haugevik" in client.get("/sources/s001", params={"format": "bibtex"}).text


@pytest.mark.parametrize(
    ("body", "media_type", "status"),
    [
        (b"", "text/plain", 422),
        (b"   \n\n ", "text/plain", 422),
        (bytes(range(256)) * 4, "text/plain", 422),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/plain", 422),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF", "application/pdf", 422),
        (b"plain text", "image/png", 415),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_written(
    client: TestClient, body: bytes, media_type: str, status: int
) -> None:
    before = client.get("/sources").json()["items"]
    answer = client.post("/sources", content=body, headers={**ALICE, "Content-Type": media_type}, params=PARAMS)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]
    assert client.get("/sources").json()["items"] == before


def test_pdf_with_text_is_registered(client: TestClient) -> None:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(300, 200)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 20 100 Td (The OSCE and the UN share an office in Vienna.) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    import io

    out = io.BytesIO()
    writer.write(out)
    answer = client.post(
        "/sources",
        content=out.getvalue(),
        headers={**ALICE, "Content-Type": "application/pdf"},
        params={"title": "A PDF note"},
    )
    assert answer.status_code == 201, answer.text
    assert "share an office" in client.get(answer.headers["location"], params={"format": "text"}).text


def test_a_50_mb_upload_is_refused_with_413(client: TestClient) -> None:
    answer = client.post("/sources", content=b"a" * (50 * 1024 * 1024), headers=PLAIN, params=PARAMS)
    assert answer.status_code == 413


def test_registration_needs_a_token_and_a_title(client: TestClient) -> None:
    assert (
        client.post("/sources", content=b"text", headers={"Content-Type": "text/plain"}, params=PARAMS).status_code
        == 401
    )
    assert client.post("/sources", content=b"text", headers=PLAIN, params={"year": "2020"}).status_code == 422
    assert client.post("/sources", content=b"text", headers=PLAIN, params={**PARAMS, "year": "20x"}).status_code == 422


def test_without_seeds_a_bundled_quote_is_refused(tmp_path: Path, bundled_store_path: Path) -> None:
    store = copy_store(bundled_store_path, tmp_path / "copy")
    empty = tmp_path / "no-seeds"
    empty.mkdir()
    with TestClient(create_app(settings_for(store, seeds_dir=empty))) as api:
        answer = api.post(
            "/assertions",
            content=dependency("no-seeds", level="meso"),
            headers={**TURTLE, **ALICE},
            params={"source": "s002", "quote": "any words at all, made up"},
        )
        assert answer.status_code == 422, answer.text
        assert "text of source s002" in answer.text
        assert "not available" in answer.text
        assert api.get("/sources/s002", params={"format": "text"}).status_code == 422


def test_every_evidence_offset_slices_its_quote(client: TestClient) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    store = client.app.state.store  # type: ignore[attr-defined]
    registry = SourceRegistry(store, settings)
    rows = store.query(
        f"""SELECT ?e ?s ?q ?start ?end WHERE {{ ?e a <https://w3id.org/ioir/ontology#Evidence> ;
        <http://purl.org/dc/terms/source> ?s ; <http://www.w3.org/ns/prov#value> ?q .
        OPTIONAL {{ ?e <{OA}hasSelector> ?p . ?p <{OA}start> ?start ; <{OA}end> ?end }} }}"""
    )
    texts: dict[str, str] = {}
    problems, checked = [], 0
    for row in rows:
        source = row["s"].value.rsplit("/", 1)[-1]
        if source not in texts:
            texts[source] = registry.text(source)
        if row["start"] is None:
            problems.append(f"{row['e'].value}: no selector")
            continue
        start, end = int(row["start"].value), int(row["end"].value)
        if not matches(texts[source][start:end], row["q"].value):
            problems.append(f"{row['e'].value}: {texts[source][start:end]!r}")
        checked += 1
    assert checked > 1000
    assert problems == []


def test_cli_registers_and_assert_uses_it(tmp_path: Path, bundled_store_path: Path) -> None:
    store = copy_store(bundled_store_path, tmp_path / "copy")
    doc = tmp_path / "note.md"
    doc.write_text(DOC, encoding="utf-8")
    env = {**os.environ, "IOIR_STORE_PATH": str(store), "IOIR_SEEDS_DIR": str(SEEDS_DIR)}
    cli = [sys.executable, "-m", "ioir_kg"]
    added = subprocess.run(
        [*cli, "source", "add", str(doc), "--title", "A note", "--author", "Jane Q. Doe", "--year", "2021"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    source = json.loads(added.stdout)["id"]
    ttl = tmp_path / "dep.ttl"
    ttl.write_text(dependency("cli-hybrid", level="meso"), encoding="utf-8")
    ok = subprocess.run(
        [*cli, "assert", str(ttl), "--source", source, "--quote", QUOTE],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    ttl.write_text(dependency("cli-made-up", level="meso"), encoding="utf-8")
    bad = subprocess.run(
        [*cli, "assert", str(ttl), "--source", source, "--quote", "a quote nobody wrote"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert f"source {source}" in bad.stdout
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    refused = subprocess.run(
        [*cli, "source", "add", str(empty), "--title", "x"], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert "empty" in refused.stderr


def test_a_bundled_text_missing_from_the_text_folder_is_read_from_the_seeds(
    tmp_path: Path, bundled_store_path: Path
) -> None:
    """A store copied or restored without its text folder still checks bundled quotes against IOIR_SEEDS_DIR (the
    recorded hash must match), while a seeds file that changed since it was registered is not trusted."""
    store = copy_store(bundled_store_path, tmp_path / "copy")
    settings = settings_for(store, seeds_dir=SEEDS_DIR)
    with TestClient(create_app(settings)):
        pass  # the start registers the bundled texts (and their hashes) beside the store
    texts = store.with_name(store.name + ".texts")
    assert any(texts.iterdir())
    for blob in texts.iterdir():
        blob.unlink()
    opened = open_store(settings)
    try:
        registry = SourceRegistry(opened, settings)
        assert len(registry.text("s002")) > 10_000  # read from the seeds again
        changed = tmp_path / "seeds"
        changed.mkdir()
        for seed in SEEDS_DIR.iterdir():
            (changed / seed.name).write_text(seed.read_text(encoding="utf-8") + "\nAn added line.\n", encoding="utf-8")
        tampered = SourceRegistry(opened, settings_for(store, seeds_dir=changed))
        with pytest.raises(SourceTextUnavailable, match="not available on this server"):
            tampered.text("s002")
    finally:
        opened.close()

"""Publishing: ``ioir-kg redirects`` prints rules that take canonical IRIs to a deployment.

The Apache rules run in a real Apache (``apache2``, mod_rewrite, a per-directory ``.htaccess`` as on
w3id.org) in front of a real server; they are also applied here the way mod_rewrite applies them
(pattern over the path below the folder, first match wins, ``$n`` groups, query string kept), and the
resulting URLs dereferenced with the client's ``Accept``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from ioir_kg.errors import BadInput
from ioir_kg.linked_data.redirects import redirect_rules
from tests.conftest import require_system
from tests.linked_data.conftest import Server

CANONICAL = "https://w3id.org/ioir/"
_RULE = re.compile(r"^RewriteRule (\S+) (\S+) \[R=(\d+),L\]$")


def apply_htaccess(rules: str, iri: str, base: str = CANONICAL) -> tuple[int, str]:
    """The redirect status and target mod_rewrite would answer for ``iri`` under ``base``."""
    parts = urlsplit(iri)
    relative = parts.path[len(urlsplit(base).path) :]
    for line in rules.splitlines():
        match = _RULE.match(line)
        if match is None:
            continue
        pattern, target, status = match.groups()
        found = re.match(pattern, relative)
        if found:
            url = found.expand(re.sub(r"\$(\d)", r"\\\1", target))  # $1 -> \1
            return int(status), url + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no rule matches {iri}")


def run_cli(*args: str, public_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """``ioir-kg redirects …`` in a subprocess, with ``IOIR_PUBLIC_URL`` if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    if public_url:
        env["IOIR_PUBLIC_URL"] = public_url
    return subprocess.run(
        [sys.executable, "-m", "ioir_kg", "redirects", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_prints_rules_for_the_configured_host() -> None:
    done = run_cli(public_url="https://kg.example.org")
    assert done.returncode == 0, done.stderr
    assert "RewriteEngine on" in done.stdout
    assert "RewriteRule ^id/(.*)$ https://kg.example.org/id/$1 [R=303,L]" in done.stdout
    assert "ioir/.htaccess" in done.stdout
    nginx = run_cli("--format", "nginx", "--target", "https://other.example.org/")
    assert nginx.returncode == 0, nginx.stderr
    assert "location ~ ^/ioir/id/(.*)$ { return 303 https://other.example.org/id/$1$is_args$args; }" in nginx.stdout


def test_cli_needs_a_deployment() -> None:
    done = run_cli()
    assert done.returncode == 2
    assert "IOIR_PUBLIC_URL" in done.stderr
    assert run_cli("--format", "caddy", public_url="https://kg.example.org").returncode == 2


def test_rules_refuse_a_bad_target() -> None:
    with pytest.raises(BadInput):
        redirect_rules(CANONICAL, "ftp://example.org/")


@pytest.mark.parametrize(
    ("iri", "status", "path"),
    [
        (f"{CANONICAL}id/org/nato", 303, "id/org/nato"),
        (
            f"{CANONICAL}id/org/nato?_mediatype=application/ld%2Bjson",
            303,
            "id/org/nato?_mediatype=application/ld%2Bjson",
        ),
        (f"{CANONICAL}ontology", 303, "ontology"),
        (f"{CANONICAL}ontology/0.1.0", 303, "ontology/0.1.0"),
        (f"{CANONICAL}void", 302, "void"),
        (f"{CANONICAL}.well-known/void", 302, ".well-known/void"),
        (f"{CANONICAL}dump.nq", 302, "dump.nq"),
        (f"{CANONICAL}sparql?query=ASK%7B%7D", 307, "sparql?query=ASK%7B%7D"),
        (CANONICAL, 302, ""),
    ],
)
def test_rules_map_canonical_iris_to_the_deployment(iri: str, status: int, path: str) -> None:
    rules = redirect_rules(CANONICAL, "https://kg.example.org/")
    assert apply_htaccess(rules, iri) == (status, f"https://kg.example.org/{path}")


@pytest.mark.parametrize(
    ("iri", "accept", "media_type"),
    [
        (f"{CANONICAL}id/org/nato", "text/turtle", "text/turtle"),
        (f"{CANONICAL}id/mission/eupm", "text/html", "text/html"),
        (f"{CANONICAL}id/org/nato?_mediatype=application/ld%2Bjson", "text/html", "application/ld+json"),
        (f"{CANONICAL}ontology#Mission", "text/html", "text/html"),
        (f"{CANONICAL}ontology", "application/rdf+xml", "application/rdf+xml"),
        (f"{CANONICAL}void", "text/turtle", "text/turtle"),
    ],
)
def test_redirected_iris_dereference_on_the_deployment(live: Server, iri: str, accept: str, media_type: str) -> None:
    """Follow the rules for a canonical IRI to a running server (the live one serves canonical paths)."""
    rules = redirect_rules(CANONICAL, live.url)
    without_fragment = iri.split("#", 1)[0]  # a browser never sends the fragment
    _, url = apply_htaccess(rules, without_fragment)
    with httpx.Client(timeout=60.0) as http:
        response = http.get(url, headers={"Accept": accept})
    assert response.status_code == 200, url
    assert response.headers["content-type"].split(";")[0] == media_type
    if "#" in iri:
        assert f'id="{iri.split("#", 1)[1]}"' in response.text


# -- the printed rules in a real Apache (mod_rewrite), as w3id.org runs them -------------------------------

APACHE_CONF = """ServerRoot "/etc/apache2"
PidFile {folder}/httpd.pid
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
ErrorLog {folder}/error.log
DocumentRoot "{folder}/www"
<Directory "{folder}/www">
  AllowOverride All
  Require all granted
</Directory>
"""


@pytest.fixture
def w3id(live: Server, tmp_path: Path) -> Iterator[str]:
    """A private Apache serving ``ioir/.htaccess`` as printed by ``ioir-kg redirects`` for the live server."""
    apache = require_system("apache2", "checking the redirect rules in Apache")
    done = run_cli(public_url=live.url)
    assert done.returncode == 0, done.stderr
    (tmp_path / "www" / "ioir").mkdir(parents=True)
    (tmp_path / "www" / "ioir" / ".htaccess").write_text(done.stdout, encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = tmp_path / "httpd.conf"
    conf.write_text(APACHE_CONF.format(folder=tmp_path, port=port), encoding="utf-8")
    process = subprocess.Popen(
        [apache, "-f", str(conf), "-DFOREGROUND"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}/ioir/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "void", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((tmp_path / "error.log").read_text(errors="replace")) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("path", "accept", "status", "media_type"),
    [
        ("id/org/nato", "text/turtle", 303, "text/turtle"),
        ("id/mission/eupm", "text/html", 303, "text/html"),
        ("id/org/nato?_mediatype=application/ld%2Bjson", "text/html", 303, "application/ld+json"),
        ("ontology", "application/rdf+xml", 303, "application/rdf+xml"),
        ("ontology/0.1.0", "text/turtle", 303, "text/turtle"),
        ("void", "text/turtle", 302, "text/turtle"),
        ("sparql?query=ASK%7B%7D", "application/sparql-results+json", 307, "application/sparql-results+json"),
    ],
)
def test_apache_redirects_to_the_deployment(
    w3id: str, live: Server, path: str, accept: str, status: int, media_type: str
) -> None:
    with httpx.Client(timeout=60.0) as http:
        first = http.get(w3id + path, headers={"Accept": accept})
        assert first.status_code == status
        assert first.headers["location"] == live.url + path
        final = http.get(first.headers["location"], headers={"Accept": accept})
    assert final.status_code == 200
    assert final.headers["content-type"].split(";")[0] == media_type

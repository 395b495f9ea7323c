"""Settings: defaults, parsing and refusal of bad values with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioir_kg.config import Backend, get_settings
from ioir_kg.errors import BadSetting


def test_defaults() -> None:
    s = get_settings()
    assert (s.backend, s.store_path, s.base_uri) == (Backend.OXIGRAPH, Path("var/store"), "https://w3id.org/ioir/")
    assert (s.load_bundled, s.union_default_graph, s.query_timeout, s.admin_token) == (True, True, 30.0, None)


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOIR_QUERY_TIMEOUT", "2.5")
    monkeypatch.setenv("IOIR_LOAD_BUNDLED", "false")
    monkeypatch.setenv("IOIR_SERVICE_ALLOWLIST", "http://a.example/sparql, http://b.example/sparql")
    monkeypatch.setenv("IOIR_ADMIN_TOKEN", "x" * 20)
    s = get_settings()
    assert (s.query_timeout, s.load_bundled) == (2.5, False)
    assert s.service_allowlist == ["http://a.example/sparql", "http://b.example/sparql"]
    assert s.admin_token is not None
    assert s.admin_token.get_secret_value() == "x" * 20
    assert "x" * 20 not in repr(s)


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOIR_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/24,::1")
    assert get_settings().trusted_proxies == ["10.0.0.1", "192.168.0.0/24", "::1"]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("IOIR_QUERY_TIMEOUT", "soon", "IOIR_QUERY_TIMEOUT: Input should be a valid number"),
        ("IOIR_QUERY_TIMEOUT", "0", "IOIR_QUERY_TIMEOUT: Input should be greater than 0"),
        ("IOIR_BACKEND", "mysql", "IOIR_BACKEND: Input should be 'oxigraph' or 'remote'"),
        ("IOIR_BASE_URI", "ftp://x/", "IOIR_BASE_URI: Value error, must be an http(s) IRI ending with '/'"),
        ("IOIR_BASE_URI", "https://x.org/kg", "IOIR_BASE_URI: Value error, must be an http(s) IRI ending with '/'"),
        ("IOIR_ADMIN_TOKEN", "short", "IOIR_ADMIN_TOKEN: Value error, must be at least 16 characters"),
        ("IOIR_LOAD_BUNDLED", "perhaps", "IOIR_LOAD_BUNDLED: Input should be a valid boolean"),
        ("IOIR_CLIENT_TIMEOUT", "0", "IOIR_CLIENT_TIMEOUT: Input should be greater than 0"),
        ("IOIR_MAX_QUERIES_PER_CLIENT", "-1", "IOIR_MAX_QUERIES_PER_CLIENT: Input should be greater than or equal"),
        ("IOIR_TRUSTED_PROXIES", "10.0.0.1,proxy", "IOIR_TRUSTED_PROXIES: Value error, 'proxy' is not an IP address"),
    ],
)
def test_bad_value_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(BadSetting) as info:
        get_settings()
    assert info.value.message.startswith(expected)
    assert "\n" not in info.value.message

"""The session's Virtuoso runs Debian's own ``virtuoso.ini``: only paths, ports, ``DirsAllowed`` and
``ResultSetMaxRows`` differ, so the remote tests meet the limits of a stock installation."""

from __future__ import annotations

from tests.support.virtuoso import CHANGED_KEYS, VirtuosoServer, ini_values, stock_ini


def test_the_ini_is_debians_with_only_paths_ports_dirs_and_the_row_cap_changed(virtuoso: VirtuosoServer) -> None:
    stock = ini_values(stock_ini().read_text(encoding="utf-8"))
    used = ini_values((virtuoso.directory / "virtuoso.ini").read_text(encoding="utf-8"))
    allowed = {(section, key) for section, keys in CHANGED_KEYS.items() for key in keys}
    assert set(used) == set(stock)
    changed = {key for key in stock if stock[key] != used[key]}
    assert changed == allowed
    assert stock[("SPARQL", "MaxQueryCostEstimationTime")] == used[("SPARQL", "MaxQueryCostEstimationTime")] == "400"
    assert used[("Parameters", "ServerPort")] == f"127.0.0.1:{virtuoso.sql_port}"
    assert used[("HTTPServer", "ServerPort")] == f"127.0.0.1:{virtuoso.http_port}"
    assert all(used[key].startswith(str(virtuoso.directory)) for key in allowed if key[1].endswith("File"))

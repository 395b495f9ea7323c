"""The wheel is the whole product: installed into a fresh virtualenv, ``ioir-kg serve`` from an empty folder
serves the bundled graph and the competency queries, and refuses to start when the dataset is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from ioir_kg.config import PROJECT_ROOT, Settings, dataset_version
from ioir_kg.sparql.competency import load_catalogue
from tests.conftest import SEEDS_DIR


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the freshly built wheel installed (its dependencies from the test environment)."""
    root = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(root / "dist"), str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (root / "dist").glob("ioir_kg-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    # The dependencies come from this environment: a path line, so that its own .pth files (among them the
    # editable install of the checkout) are not processed and `ioir_kg` can only come from the wheel.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv


def _serve(command: list[str], folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOIR_")}
    env["IOIR_SEEDS_DIR"] = str(SEEDS_DIR)  # the source documents are not in the wheel: a deployment names them
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen([*command, "serve", "--port", str(port)], cwd=folder, env=env, stdout=log, stderr=log)
    return process, f"http://127.0.0.1:{port}"


def test_the_wheel_serves_the_bundled_graph_from_an_empty_folder(
    wheel_venv: Path, tmp_path: Path, embedded_client: TestClient
) -> None:
    where = subprocess.run(
        [str(wheel_venv / "bin" / "python"), "-c", "import ioir_kg; print(ioir_kg.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert str(wheel_venv) in where, f"ioir_kg imported from {where}, not from the wheel"
    process, url = _serve([str(wheel_venv / "bin" / "ioir-kg")], tmp_path)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text(errors="replace")
            try:
                health = httpx.get(f"{url}/health", timeout=5)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text(errors="replace")
            time.sleep(0.2)
        checkout = embedded_client.get("/health").json()
        assert health.json()["triples"] == checkout["triples"] > 10_000
        assert health.json()["dataset"] == checkout["dataset"] == dataset_version(Settings())
        queries = httpx.get(f"{url}/queries", headers={"Accept": "application/json"}, timeout=30).json()["queries"]
        assert len(queries) == len(load_catalogue(PROJECT_ROOT / "queries")) >= 30
        assert (tmp_path / "var" / "store").is_dir()  # the store was made in the empty folder
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_server_refuses_to_start_without_its_dataset(wheel_venv: Path, tmp_path: Path) -> None:
    site = next((wheel_venv / "lib").glob("python3*/site-packages"))
    broken = tmp_path / "venv"
    shutil.copytree(wheel_venv, broken, symlinks=True)
    shutil.rmtree(broken / site.relative_to(wheel_venv) / "ioir_kg" / "_bundled" / "queries")
    process, _ = _serve([str(broken / "bin" / "python"), "-m", "ioir_kg"], tmp_path)  # the copy's own packages
    try:
        code = process.wait(timeout=120)
    finally:
        process.kill()
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert code != 0
    assert "the bundled dataset is missing: no competency queries under" in log


def test_an_explicitly_empty_data_root_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from ioir_kg.api.app import create_app

    settings = Settings(store_path=tmp_path / "store", data_root=tmp_path)
    with caplog.at_level("WARNING", logger="ioir_kg"), TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["triples"] == 0
    assert f"IOIR_DATA_ROOT={tmp_path}: no RDF data under {tmp_path / 'data'}" in caplog.text

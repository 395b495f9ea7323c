"""pyLODE in a process of its own: ``python -m ioir_kg.linked_data.pylode_child ONTOLOGY.ttl`` writes the page.

Importing pyLODE changes the process it runs in: one of its modules calls ``logging.basicConfig(level=DEBUG)``
(so in the server every library logged at DEBUG from then on: a 7-triple validation wrote ~1,200 pySHACL lines),
and it keeps its background ontologies in memory for the life of the process. So the server never imports it:
:func:`run` starts this module as a child, which renders the page, prints it, and takes all of that with it when
it exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ioir_kg.namespaces import IOIR

#: How long pyLODE may take (about 3 s for the bundled ontology on a small machine).
TIMEOUT_SECONDS = 300


def run(path: Path, timeout: float = TIMEOUT_SECONDS) -> str:
    """pyLODE's page for the ontology at ``path``, rendered by a child process; ``RuntimeError`` if it fails."""
    source_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__, str(path)],
            capture_output=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"pyLODE did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"pyLODE exited with status {done.returncode}")
    return done.stdout.decode("utf-8")


def render(path: Path) -> str:
    """pyLODE's page, with term anchors named after local names (run in the child)."""
    import rdflib
    from pylode import OntPub  # type: ignore[import-untyped]

    graph = rdflib.Graph()
    graph.parse(path, format="turtle")
    publisher = OntPub(graph)
    for subject in set(graph.subjects()):
        iri = str(subject)
        if isinstance(subject, rdflib.URIRef) and iri.startswith(IOIR) and len(iri) > len(IOIR):
            publisher.fids[iri] = iri[len(IOIR) :]
    page: str = publisher.make_html()
    return page


def main(argv: list[str]) -> int:
    """Print the page for the ontology file named in ``argv``; a failure is one line on stderr, status 1."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m ioir_kg.linked_data.pylode_child ONTOLOGY.ttl\n")
        return 2
    try:
        page = render(Path(argv[0]))
    except Exception as exc:  # pyLODE raises bare Exceptions for ontologies it cannot document
        sys.stderr.write(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n")
        return 1
    sys.stdout.buffer.write(page.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

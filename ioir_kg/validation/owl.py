"""OWL 2 DL consistency checking with HermiT, the reasoner that ships inside owlready2.

HermiT runs as a Java subprocess (as ``owlready2.reasoning.sync_reasoner_hermit`` runs it), but under our control:
bounded heap (``-Xmx``), a timeout after which the process is killed, and ``--ignoreUnsupportedDatatypes`` because
the data uses ``xsd:date``, ``xsd:gYearMonth`` and ``xsd:gYear``, which lie outside the OWL 2 datatype map.
The graph is written as RDF/XML to a temporary directory; owlready2 itself is never imported.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from ioir_kg.errors import IoirError

__all__ = [
    "ConsistencyResult",
    "ReasonerFailed",
    "ReasonerUnavailable",
    "hermit_classpath",
    "hermit_consistency",
    "parse_hermit_output",
]

_OWL_NOTHING = "http://www.w3.org/2002/07/owl#Nothing"
_INCONSISTENT = re.compile(r"InconsistentOntologyException|Inconsistent ontology|owl#Thing is not satisfiable")


class ReasonerUnavailable(IoirError):
    """Java or the HermiT jar cannot be found, so no OWL reasoning is possible here."""

    status = 503
    exit_code = 3
    title = "Reasoner unavailable"


class ReasonerFailed(IoirError):
    """HermiT did not give an answer: it timed out, ran out of memory or could not read the ontology."""

    status = 503
    exit_code = 3
    title = "Reasoner failed"


@dataclass(frozen=True)
class ConsistencyResult:
    """HermiT's verdict: ``consistent`` (the ontology and data have a model), the IRIs of the ``unsatisfiable``
    named classes (equivalent to ``owl:Nothing``), and a one-line ``message`` for people."""

    consistent: bool
    unsatisfiable: tuple[str, ...]
    message: str

    @property
    def ok(self) -> bool:
        """Consistent and without unsatisfiable classes."""
        return self.consistent and not self.unsatisfiable


def hermit_classpath() -> str:
    """The Java class path of the HermiT bundled with owlready2 (its ``hermit`` directory and ``HermiT.jar``).

    Raises :class:`ReasonerUnavailable` when owlready2 or the jar is missing.
    """
    spec = importlib.util.find_spec("owlready2")
    if spec is None or spec.origin is None:
        raise ReasonerUnavailable("owlready2 is not installed, so its HermiT reasoner is not available")
    hermit_dir = Path(spec.origin).parent / "hermit"
    jar = hermit_dir / "HermiT.jar"
    if not jar.is_file():
        raise ReasonerUnavailable(f"HermiT.jar not found in {hermit_dir}")
    return os.pathsep.join([str(hermit_dir), str(jar)])


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ReasonerUnavailable("java is not installed (it runs the HermiT reasoner): install a Java runtime")
    return java


def hermit_consistency(graph: Graph, timeout_s: float = 300, *, max_heap: str = "2g") -> ConsistencyResult:
    """Check ``graph`` (ontology and data together) for consistency and unsatisfiable classes with HermiT.

    Raises :class:`ReasonerUnavailable` without Java or HermiT, and :class:`ReasonerFailed` when HermiT times
    out after ``timeout_s`` seconds (the process is killed) or fails for another reason.
    """
    java = _java()
    classpath = hermit_classpath()
    with tempfile.TemporaryDirectory(prefix="ioir-hermit-") as tmp:
        path = _write(graph, Path(tmp))
        command = [
            java,
            f"-Xmx{max_heap}",
            "-cp",
            classpath,
            "org.semanticweb.HermiT.cli.CommandLine",
            "-k",  # is owl:Thing satisfiable, i.e. is the ontology consistent?
            "-U",  # the named classes equivalent to owl:Nothing
            "-N",  # full IRIs, no prefixes
            "--ignoreUnsupportedDatatypes",
            path.as_uri(),
        ]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ReasonerFailed(f"HermiT did not finish within {timeout_s:g} s") from exc
    return parse_hermit_output(completed.returncode, completed.stdout, completed.stderr)


def _write(graph: Graph, directory: Path) -> Path:
    """Write ``graph`` as RDF/XML, or as N-Triples (which HermiT's Turtle parser reads) when RDF/XML cannot
    express it (a predicate IRI with no valid XML local name)."""
    path = directory / "ontology.owl"
    try:
        graph.serialize(destination=str(path), format="xml")
    except Exception:  # rdflib raises a plain Exception for predicates it cannot split into a QName
        path = directory / "ontology.nt"
        graph.serialize(destination=str(path), format="nt", encoding="utf-8")
    return path


def parse_hermit_output(returncode: int, stdout: str, stderr: str) -> ConsistencyResult:
    """Read the verdict from the output of HermiT's command line (``-k -U -N``).

    >>> out = "http://www.w3.org/2002/07/owl#Thing is satisfiable.\\n"
    >>> out += "Classes equivalent to 'http://www.w3.org/2002/07/owl#Nothing':\\n"
    >>> out += "\\thttp://example.org/B\\n\\thttp://www.w3.org/2002/07/owl#Nothing\\n\\thttp://example.org/A\\n"
    >>> parse_hermit_output(0, out, "").unsatisfiable
    ('http://example.org/A', 'http://example.org/B')
    >>> parse_hermit_output(1, "", "InconsistentOntologyException: Inconsistent ontology").consistent
    False
    """
    output = f"{stdout}\n{stderr}"
    if _INCONSISTENT.search(output):
        return ConsistencyResult(False, (), "inconsistent: the ontology and data together have no model")
    if returncode != 0:
        tail = " ".join(line.strip() for line in output.strip().splitlines()[-5:])
        raise ReasonerFailed(f"HermiT failed with exit code {returncode}: {tail}")
    unsatisfiable: set[str] = set()
    in_list = False
    for line in stdout.splitlines():
        if line.startswith("Classes equivalent to"):
            in_list = True
        elif in_list and line.startswith("\t"):
            iri = line.strip().strip("<>")
            if iri and iri != _OWL_NOTHING:
                unsatisfiable.add(iri)
        else:
            in_list = False
    names = tuple(sorted(unsatisfiable))
    if names:
        message = f"consistent, but {len(names)} unsatisfiable class(es): {', '.join(names)}"
        return ConsistencyResult(True, names, message)
    return ConsistencyResult(True, (), "consistent, with no unsatisfiable class")

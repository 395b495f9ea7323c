"""ioir-kg: a knowledge graph of inter-organizational relations in international security.

The package serves a curated RDF graph (ontology + data traced to source documents) as
Linked Data and through a SPARQL 1.1 endpoint; see the README for the two set-up commands.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ioir-kg")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]

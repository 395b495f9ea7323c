"""Benchmarks of ioir-kg against ``oxigraph serve`` and rdflib-endpoint (``make bench``; see bench/README.md)."""

"""The remote backend: any SPARQL 1.1 server over HTTP, tested against Virtuoso 7.2, one module per concern.

* :mod:`~ioir_kg.store.virtuoso.store` — :class:`RemoteSparqlStore`, the :class:`~ioir_kg.store.base.KnowledgeStore`;
* :mod:`~ioir_kg.store.virtuoso.client` — HTTP: the request, retries, the server's errors mapped to ours, writes;
* :mod:`~ioir_kg.store.virtuoso.dialect` — the query's shape, terms and answers normalised, skolem IRIs;
* :mod:`~ioir_kg.store.virtuoso.paths` — property paths evaluated here (``IOIR_REMOTE_EMULATE_PATHS``), with
  :mod:`~ioir_kg.store.virtuoso.path_values` (the replacement) and :mod:`~ioir_kg.store.virtuoso.path_model`;
* :mod:`~ioir_kg.store.virtuoso.tokens` — the tokens they read.
"""

from __future__ import annotations

from ioir_kg.store.virtuoso.store import RemoteSparqlStore

__all__ = ["RemoteSparqlStore"]

"""Linked Data: dereferenceable entity and ontology IRIs, VoID/DCAT, dumps and redirect rules.

``resource`` describes one entity (one CONSTRUCT), ``views`` turns a description into an HTML page,
``rdf`` serialises and negotiates, ``ontology`` serves the ontology and its pyLODE documentation,
``void`` describes the dataset, ``dump`` streams it, ``redirects`` writes the w3id.org rules.
"""

"""Validation of ioir-kg graphs: SHACL shapes, OWL consistency (HermiT) and ontology quality checks."""

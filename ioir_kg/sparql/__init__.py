"""SPARQL: protocol, content negotiation, result serialisation, competency queries."""

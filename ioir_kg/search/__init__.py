"""Search by name or acronym: a label index beside the store (:mod:`ioir_kg.search.labels`)."""

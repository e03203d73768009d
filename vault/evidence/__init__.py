"""Evidence items: the ingest pipeline, sources, retrieval, search and the item lifecycle."""

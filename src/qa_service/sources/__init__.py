"""Primary sources: the manifest built from the references, fetching, extraction, and claim checks."""

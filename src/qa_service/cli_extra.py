"""Commands registered on the main CLI: eval, sources, bench."""

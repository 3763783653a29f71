"""qa-service: document-grounded question answering with sentence- and footnote-level citations."""

__version__ = "0.1.0"

"""Adapters that let other frameworks use the engine (llama_index.py: a BaseRetriever)."""

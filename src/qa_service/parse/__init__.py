"""Parsing papers into the paper model."""

from qa_service.parse.structure import TextBuilder, parse_file, parse_paper, split_sentences

__all__ = ["TextBuilder", "parse_file", "parse_paper", "split_sentences"]

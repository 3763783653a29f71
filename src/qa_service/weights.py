"""The trained answer stage: the reader, the decider and the composition chosen with them, read from
`data/reader.json` (written by `eval/train_reader.py` on the training writers, never the pure-test one)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_service.answer import Composition
from qa_service.config import AnswerSettings
from qa_service.decide import Decider
from qa_service.errors import QAServiceError
from qa_service.read import Reader

WEIGHTS_FILE = Path(__file__).parent / "data" / "reader.json"


@dataclass(frozen=True)
class Weights:
    reader: Reader
    decider: Decider
    composition: Composition
    # the reader of follow-ups: fitted on single questions only (see `learn.train`); None: `reader` reads them
    follow_reader: Reader | None = None

    @property
    def features(self) -> frozenset[str]:
        """The features its readers read: what a request computes of each candidate."""
        readers = [self.reader] if self.follow_reader is None else [self.reader, self.follow_reader]
        return frozenset(f for r in readers for f in r.features)

    def reader_for(self, follow_up: bool) -> Reader:
        """The reader of a question: a follow-up's own, where the weights have one."""
        return self.follow_reader if follow_up and self.follow_reader is not None else self.reader

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Weights:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise QAServiceError(
                f"{path}: cannot read the answer stage's weights ({exc}); regenerate them with "
                "`.venv/bin/python eval/train_reader.py`"
            ) from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Weights:
        return cls(
            reader=Reader.from_dict(data["reader"]),
            decider=Decider.from_dict(data["decider"]),
            composition=Composition(**data["composition"]),
            follow_reader=Reader.from_dict(data["follow_reader"]) if data.get("follow_reader") else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "reader": self.reader.to_dict(),
            "decider": self.decider.to_dict(),
            "composition": self.composition.__dict__,
            **({"follow_reader": self.follow_reader.to_dict()} if self.follow_reader is not None else {}),
        }

    def with_settings(self, cfg: AnswerSettings) -> Weights:
        """These weights, with what the settings override (the threshold, any composition field)."""
        c = self.composition
        composition = Composition(
            max_words=cfg.max_words if cfg.max_words is not None else c.max_words,
            max_sentences=cfg.max_sentences if cfg.max_sentences is not None else c.max_sentences,
            relative_keep=cfg.relative_keep if cfg.relative_keep is not None else c.relative_keep,
            adjacent_keep=cfg.adjacent_keep if cfg.adjacent_keep is not None else c.adjacent_keep,
            context=cfg.context if cfg.context is not None else c.context,
            reasons=cfg.reasons if cfg.reasons is not None else c.reasons,
            elaborate=cfg.elaborate if cfg.elaborate is not None else c.elaborate,
        )
        d = self.decider
        threshold = cfg.abstain_threshold if cfg.abstain_threshold is not None else d.threshold
        decider = Decider(d.mean, d.scale, d.coef, d.bias, threshold)
        return Weights(self.reader, decider, composition, self.follow_reader)

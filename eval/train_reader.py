"""Train the answer stage on every writer but the pure-test ones; write its weights.

    .venv/bin/python eval/train_reader.py            # writes src/qa_service/data/reader.json
    .venv/bin/python eval/train_reader.py --check    # trains and prints what it chose, writes nothing

On the items of eval/sets/ whose writer is not listed as pure test in eval/writers.toml (single questions, and
conversations, which the reader of single questions and the decider learn from too):
the reader over every feature of qa_service.read.FEATURES, the reader of follow-ups (fitted on the single
questions alone), the composition, the decider and its threshold
(qa_service.learn.train). Deterministic: no randomness; the output depends only on the items and the index.
How well this procedure does on writers it never saw is what `qa-service eval` reports, leave-one-writer-out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from qa_service.config import Settings
from qa_service.engine import Engine, run_ingest
from qa_service.evaluate import load_eval_sets, load_pure_test
from qa_service.learn import conversations_for, examples_for, train
from qa_service.weights import WEIGHTS_FILE


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="train and report; write nothing")
    args = ap.parse_args()
    settings = Settings()
    run_ingest(settings)
    engine = Engine(settings)
    engine.load(check_weights=False)
    pure = load_pure_test(settings.eval_dir)
    items = [i for i in load_eval_sets(settings.eval_dir) if i.writer not in pure]
    examples = examples_for(engine, items)
    weights, info = train(examples, engine.stats, conversations=conversations_for(engine, items, {}))
    print(json.dumps(info, indent=2))
    print("reader:", json.dumps(weights.reader.to_dict()))
    if weights.follow_reader is not None:
        print("reader of follow-ups:", json.dumps(weights.follow_reader.to_dict()))
    print("decider threshold:", round(weights.decider.threshold, 4))
    if not args.check:
        data = weights.to_dict() | {"trained_on": info}
        WEIGHTS_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

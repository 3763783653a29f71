"""Leave-one-writer-out with every paper of eval/other-papers/ in the index too: the measure of a change that only
a corpus of several papers can move (which paper an answer quotes, how its search and statistics treat the others).

    .venv/bin/python eval/three_papers.py                      # ~10 min on 2 cores
    .venv/bin/python eval/three_papers.py --out rows.json      # and keep the scored rows

A temporary copy of the corpus gets each folder's paper (`paper.*`, its id the folder's name) and is ingested; then,
in that index, the training procedure (`learn.held_out_rows`) answers the first paper's training writers
leave-one-writer-out (every fold trained in that index), and each other paper's development writers (its writers
but the pure test its `writers.toml` names) with weights trained on all of them: held out by writer and by paper.
Printed: the macro over the first paper's training writers, then each development writer's figures. The pure-test
writers of every folder are left out. Questions are not scoped to a document, as `qa-service eval` asks them.
The figures of eval/TRIED.md's session of 2026-12-06 (06:29 UTC on) were taken this way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from qa_service.config import Settings
from qa_service.engine import Engine
from qa_service.evaluate import EvalItem, load_development, load_eval_sets, load_pure_test, report_of
from qa_service.learn import TrainingSettings, held_out_rows
from qa_service.report import macros

SHOWN = (
    "fact_coverage",
    "footnote_recall",
    "footnote_precision",
    "abstention_rate",
    "false_abstention_rate",
    "follow_ups_right",
    "mean_answer_words",
)


def development_items(folder: Path) -> list[EvalItem]:
    pure = load_pure_test(folder) - load_development(folder)  # a development writer of that paper is one too
    return [i for i in load_eval_sets(folder) if i.writer not in pure]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="write the scored rows (JSON) here")
    args = ap.parse_args()
    settings = Settings()
    folders = sorted(p for p in (settings.eval_dir / "other-papers").iterdir() if (p / "sets").is_dir())
    pure = load_pure_test(settings.eval_dir)
    items = [i for i in load_eval_sets(settings.eval_dir) if i.writer not in pure]
    development = {i.writer for f in folders for i in development_items(f)}
    items += [i for f in folders for i in development_items(f)]
    with tempfile.TemporaryDirectory(prefix="qa-three-papers-") as tmp:
        corpus, data = Path(tmp) / "corpus", Path(tmp) / "data"
        shutil.copytree(settings.corpus_dir, corpus)
        env = {**os.environ, "QA_CORPUS_DIR": str(corpus), "QA_DATA_DIR": str(data), "QA_PROGRESS": "false"}
        cli = [sys.executable, "-m", "qa_service.cli"]
        for f in folders:
            (paper,) = sorted(f.glob("paper.*"))
            add = [*cli, "corpus", "add", str(paper), "--id", f.name]
            subprocess.run(add, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*cli, "ingest"], env=env, check=True, stdout=subprocess.DEVNULL)
        engine = Engine.open(settings.model_copy(update={"corpus_dir": corpus, "data_dir": data}))
        rows, _ = held_out_rows(engine, items, development, TrainingSettings(), cache={})
    writers = report_of(rows)["writers"]
    first = macros({w: v for w, v in writers.items() if w not in development})
    print("first paper's training writers, leave-one-writer-out:", {k: round(first[k], 4) for k in SHOWN})
    for w in sorted(development):
        print(f"{w} (held out by paper):", {k: round(writers[w][k], 4) for k in SHOWN})
    if args.out:
        args.out.write_text(json.dumps(rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

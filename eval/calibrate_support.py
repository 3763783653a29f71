"""Calibrate the support threshold of generated sentences (QA_LLM__MIN_SUPPORT).

A generated sentence is kept when its citations name given evidence, its numbers, dates, names and quoted
words are in the cited evidence, and at least `min_support` of its content words are. This measures, for
each threshold, how many supported and unsupported (claim, cited sentence) pairs the whole check keeps:

- hand-written pairs (eval/support_pairs.jsonl): a paraphrase of a sentence of the paper (supported), and a
  claim the same sentence does not make (unsupported: the right sentence cited for the wrong claim);
- constructed hard negatives: each body sentence of the paper cited for the claim of its most similar other
  sentence (same words, different claim).

It prints the table and the threshold with the best (kept supported - kept unsupported), the lowest such on
a tie. Run: PYTHONPATH=src:. .venv/bin/python eval/calibrate_support.py [--json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qa_service.config import PROJECT_ROOT, LLMSettings, Settings
from qa_service.corpus import load_corpus
from qa_service.generate import EvidenceSentence, GeneratedSentence, check_sentence, support
from qa_service.lexical import tokenize

PAIRS = PROJECT_ROOT / "eval" / "support_pairs.jsonl"


def kept(claim: str, evidence: str, threshold: float) -> bool:
    ev = [
        EvidenceSentence(
            n=1,
            text=evidence,
            marker=1,
            passage_id="p",
            sentence_id="s",
            document="d",
            footnote_document="d",
            footnotes=[],
        )
    ]
    cfg = LLMSettings(min_support=threshold)
    return isinstance(check_sentence(claim, [1], ev, cfg), GeneratedSentence)


def main() -> None:
    paper = load_corpus(Settings().corpus_dir)[0]
    body = [
        (b.id, s)
        for sec, b, s in paper.sentences()
        if sec.kind == "body" and b.kind == "paragraph" and len(s.text.split()) >= 8
    ]
    text = {s.id: s.text for _, s in body}
    hand = [json.loads(line) for line in Path(PAIRS).read_text(encoding="utf-8").splitlines() if line.strip()]
    positives = [(p["claim"], text[p["evidence"]]) for p in hand if p["supported"]]
    hand_negatives = [(p["claim"], text[p["evidence"]]) for p in hand if not p["supported"]]
    stems = {s.id: set(tokenize(s.text)) for _, s in body}
    hard: list[tuple[str, str]] = []
    for block, s in body:
        others = [(o, ob) for ob, o in body if ob != block]
        best = max(
            others, key=lambda x: len(stems[s.id] & stems[x[0].id]) / (len(stems[s.id] | stems[x[0].id]) or 1)
        )
        hard.append((best[0].text, s.text))  # the neighbour's claim, citing this sentence
    negatives = hand_negatives + hard

    rows = []
    for i in range(0, 21):
        t = round(i * 0.05, 2)
        pos = sum(kept(c, e, t) for c, e in positives) / len(positives)
        neg_hand = sum(kept(c, e, t) for c, e in hand_negatives) / len(hand_negatives)
        neg_hard = sum(kept(c, e, t) for c, e in hard) / len(hard)
        neg = sum(kept(c, e, t) for c, e in negatives) / len(negatives)
        rows.append(
            {
                "threshold": t,
                "supported_kept": round(pos, 3),
                "wrong_claim_kept": round(neg_hand, 3),
                "neighbour_claim_kept": round(neg_hard, 3),
                "unsupported_kept": round(neg, 3),
                "j": round(pos - neg, 3),
            }
        )
    best = max(rows, key=lambda r: (r["j"], -r["threshold"]))
    result = {
        "pairs": {
            "supported": len(positives),
            "wrong_claim": len(hand_negatives),
            "neighbour_claim": len(hard),
        },
        "support_scores": {
            "supported": sorted(round(support(c, e), 2) for c, e in positives),
            "wrong_claim": sorted(round(support(c, e), 2) for c, e in hand_negatives),
        },
        "table": rows,
        "chosen": best,
    }
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
        return
    print(f"pairs: {result['pairs']}")
    print(f"support of supported pairs:   {result['support_scores']['supported']}")
    print(f"support of wrong-claim pairs: {result['support_scores']['wrong_claim']}")
    print("threshold  supported_kept  wrong_claim_kept  neighbour_claim_kept  J")
    for r in rows:
        print(
            f"{r['threshold']:9.2f}  {r['supported_kept']:14.3f}  {r['wrong_claim_kept']:16.3f}  "
            f"{r['neighbour_claim_kept']:20.3f}  {r['j']:.3f}"
        )
    print(f"chosen: {best}")


if __name__ == "__main__":
    main()

"""Precision and recall of `messaging.consent.consent_intent` on the labelled inbound texts.

    .venv/bin/python bench/consent_corpus.py

Two sets: tests/data/inbound_texts.tsv, the corpus the rules were written against (the suite
holds them to it), and tests/data/inbound_texts_holdout.tsv, written afterwards and never used to
tune them: the honest estimate for texts nobody has seen. The goals: no clear opt-out missed, and
at most 2% of the texts that are not opt-outs sent to a person for review.
"""

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import record

from messaging.consent import Consent, consent_intent

PROJECT = Path(__file__).resolve().parents[1]


def read(path: Path) -> list[tuple[Consent, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((Consent(label), text))
    return rows


def report(name: str, rows: list[tuple[Consent, str]]) -> None:
    pairs = [(label, consent_intent(text)) for label, text in rows]
    print(f"\n{name}: {len(rows)} texts")
    print(f"  {'meaning':<18}{'texts':>6}{'precision':>11}{'recall':>8}")
    for meaning in Consent:
        truly = sum(1 for label, _ in pairs if label == meaning)
        said = sum(1 for _, got in pairs if got == meaning)
        right = sum(1 for label, got in pairs if label == got == meaning)
        precision = f"{right / said:.1%}" if said else "—"
        recall = f"{right / truly:.1%}" if truly else "—"
        print(f"  {meaning.value:<18}{truly:>6}{precision:>11}{recall:>8}")
    others = [got for label, got in pairs if label in (Consent.NONE, Consent.OPT_IN, Consent.HELP)]
    flagged = sum(1 for got in others if got == Consent.POSSIBLE_OPT_OUT) / len(others)
    missed = sum(1 for label, got in pairs if label == Consent.OPT_OUT and got != Consent.OPT_OUT)
    wrongly_acted = sum(1 for label, got in pairs if label != Consent.OPT_OUT and got == Consent.OPT_OUT)
    print(f"  clear opt-outs missed: {missed}; acted on wrongly: {wrongly_acted}; others flagged: {flagged:.1%}")
    mistakes = Counter((label.value, got.value) for label, got in pairs if label != got)
    for (label, got), count in sorted(mistakes.items()):
        print(f"  {count} × {label} read as {got}")
    record("consent", f"{name}: clear opt-outs missed", missed, "texts", target="0", met=missed == 0)
    record("consent", f"{name}: others flagged for review", 100 * flagged, "%", target="≤ 2 %", met=flagged <= 0.02)


def main() -> None:
    report("corpus", read(PROJECT / "tests" / "data" / "inbound_texts.tsv"))
    report("held out", read(PROJECT / "tests" / "data" / "inbound_texts_holdout.tsv"))


if __name__ == "__main__":
    main()

"""What an inbound text means for consent, measured on a labelled corpus of texts written for
this project (tests/data/inbound_texts.tsv): no clear opt-out may be missed, and at most 2% of the
texts that are not opt-outs may be sent to a person for review."""

import multiprocessing
from collections import Counter
from pathlib import Path

import pytest

from messaging.consent import Consent, consent_intent

CORPUS = Path(__file__).resolve().parents[1] / "data" / "inbound_texts.tsv"


def corpus() -> list[tuple[Consent, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((Consent(label), text))
    return rows


def test_the_corpus_is_large_and_covers_every_meaning():
    counts = Counter(label for label, _ in corpus())
    assert sum(counts.values()) >= 400
    assert set(counts) == set(Consent)


def test_no_clear_opt_out_of_the_corpus_is_missed():
    missed = [text for label, text in corpus() if label == Consent.OPT_OUT and consent_intent(text) != Consent.OPT_OUT]
    assert not missed


def test_no_text_that_is_not_an_opt_out_is_acted_on_as_one():
    acted = [text for label, text in corpus() if label != Consent.OPT_OUT and consent_intent(text) == Consent.OPT_OUT]
    assert not acted


def test_at_most_two_percent_of_the_other_texts_go_to_a_person():
    others = [text for label, text in corpus() if label in (Consent.NONE, Consent.OPT_IN, Consent.HELP)]
    flagged = [text for text in others if consent_intent(text) == Consent.POSSIBLE_OPT_OUT]
    assert len(flagged) <= 0.02 * len(others), flagged


def test_the_texts_that_might_be_revocations_are_flagged_for_a_person():
    possible = [text for label, text in corpus() if label == Consent.POSSIBLE_OPT_OUT]
    found = [text for text in possible if consent_intent(text) == Consent.POSSIBLE_OPT_OUT]
    assert len(found) >= 0.9 * len(possible), sorted(set(possible) - set(found))


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("Please stop", Consent.OPT_OUT),
        ("stop please", Consent.OPT_OUT),
        ("No more texts", Consent.OPT_OUT),
        ("Take me off your list", Consent.OPT_OUT),
        ("Don't text me again", Consent.OPT_OUT),
        ("S T O P", Consent.OPT_OUT),
        ("can you stop by Tuesday?", Consent.POSSIBLE_OPT_OUT),
        ("don't stop, I'm interested", Consent.POSSIBLE_OPT_OUT),
        ("please stop calling my husband, text me instead", Consent.POSSIBLE_OPT_OUT),
        ("can't stop thinking about the basement", Consent.NONE),
        ("Yes", Consent.NONE),
        ("UNSTOP", Consent.OPT_IN),
        ("info", Consent.HELP),
        ("", Consent.NONE),
    ],
)
def test_the_phrases_of_the_issue(text, meaning):
    assert consent_intent(text) == meaning


@pytest.mark.parametrize(
    "text",
    ["stop " * 30 + "x", "please stop " * 19 + "x", "stop texting me " * 13 + "x", "s t o p " * 200, "stop" * 400],
)
def test_a_long_repetitive_text_is_read_without_hanging_the_worker(text):
    # A whole-text regex over repeated overlapping alternatives took 19 s for 14 "stop"s and grew
    # exponentially: a text like this would have stopped webhook processing. It must end at all
    # (in a child process: a regex holds the GIL, so a thread could not be timed out).
    reader = multiprocessing.get_context("fork").Process(target=consent_intent, args=(text,))
    reader.start()
    reader.join(timeout=10)
    hung = reader.is_alive()
    reader.kill()
    assert not hung and reader.exitcode == 0

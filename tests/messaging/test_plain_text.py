"""Texts made plain: every look-alike a phone or word processor types has its GSM-7 equivalent,
a GSM-7 text is never touched, nothing is made plain twice, and no text ever costs more."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messaging.plain_text import LOOK_ALIKES, PLAIN, name_of, names_of, normalise
from messaging.segments import GSM7, is_gsm7, outside_gsm7, sms_cost

EMOJI, C_CEDILLA, L_STROKE = "😀", "ç", "ł"


@pytest.mark.parametrize(
    ("typed", "plain", "said"),
    [
        ("It’s free", "It's free", "Replaced 1 curly apostrophe with a plain one"),
        (
            "‘Free’ “inspection”",
            "'Free' \"inspection\"",
            "Replaced 1 curly single quote, 1 curly apostrophe and 2 curly double quotes with plain ones",
        ),
        ("«Oui» „ja“", '"Oui" "ja"', "Replaced 4 curly double quotes with plain ones"),
        ("Pat`s and Pat´s", "Pat's and Pat's", "Replaced 2 accents typed as apostrophes with plain ones"),
        ("a 6″ crack, 3′ long", "a 6\" crack, 3' long", "Replaced 2 foot or inch marks with plain ones"),
        ("9–5 — call", "9-5 - call", "Replaced 2 long dashes with plain ones"),
        ("−5°", "-5°", "Replaced 1 minus sign with a plain one"),
        ("re‐pair, non‑stop", "re-pair, non-stop", "Replaced 2 special hyphens with plain ones"),
        ("• Free\n• Fast", "- Free\n- Fast", "Replaced 2 bullets with plain ones"),
        ("Wait…", "Wait...", "Replaced 1 ellipsis with a plain one"),
        ("Mr.\u00a0Lee at\u202f9", "Mr. Lee at 9", "Replaced 2 non-breaking spaces with plain ones"),
        ("a\u2009b\u3000c\u2003d", "a b c d", "Replaced 3 unusual spaces with plain ones"),
        ("Name:\tPat", "Name: Pat", "Replaced 1 tab with a plain one"),
        ("one\u2028two", "one\ntwo", "Replaced 1 unusual line break with a plain one"),
        ("zero\u200bwidth\ufeff soft\u00adhyphen", "zerowidth softhyphen", "Removed 3 invisible characters"),
        ("½ off", "1/2 off", "Replaced 1 fraction with a plain one"),
        ("Attack-a-Crack™ ©2024", "Attack-a-CrackTM (c)2024", "Replaced 2 symbols with plain ones"),
        ("ﬁx ﬂoors", "fix floors", "Replaced 2 ligatures with plain ones"),
        ("ＦＲＥＥ！", "FREE!", "Replaced 5 full-width characters with plain ones"),
        ("It’s\u200b done", "It's done", "Replaced 1 curly apostrophe with a plain one; removed 1 invisible character"),
    ],
)
def test_each_look_alike_is_replaced_by_its_plain_equivalent_and_said(typed, plain, said):
    normalised = normalise(typed)

    assert normalised.text == plain
    assert normalised.summary() == said
    assert normalised.typed == typed


def test_what_has_no_plain_equivalent_stays_and_is_named():
    typed = f"Zoë, {C_CEDILLA}a va? {EMOJI} Łukasz at 70°"

    normalised = normalise(typed)

    assert normalised.text == typed and not normalised.changed
    assert names_of(outside_gsm7(normalised.text)) == (
        f"the letter ë, the letter {C_CEDILLA}, the emoji {EMOJI}, the letter Ł and the character °"
    )
    assert name_of("\u2713") == "the emoji \u2713"


def test_the_ellipsis_stays_one_character_while_an_emoji_keeps_the_text_ucs2():
    # Three dots in a UCS-2 text are two units more than one ellipsis: they would only cost.
    normalised = normalise(f"Hi {EMOJI} it’s… here")

    assert normalised.text == f"Hi {EMOJI} it's… here"
    assert sms_cost(normalised.text).segments <= sms_cost(normalised.typed).segments


def test_a_joiner_inside_an_emoji_stays_and_one_elsewhere_goes():
    family = "👨\u200d👩\u200d👧"

    assert normalise(f"{family} ok").text == f"{family} ok"
    assert normalise("a\u200db").text == "ab"


def test_the_cost_of_a_text_before_and_after_is_said():
    normalised = normalise("It’s a free inspection — no obligation, no pressure, just answers. " * 2)

    # 134 characters: two UCS-2 segments, one GSM-7 segment.
    assert (normalised.segments_before, normalised.segments_after) == (2, 1)
    assert normalised.message == (
        "Replaced 2 curly apostrophes and 2 long dashes with plain ones: 1 segment instead of 2."
    )
    assert normalise("It’s here").message == "Replaced 1 curly apostrophe with a plain one: 1 segment, as before."


def test_every_look_alike_is_outside_gsm7_and_every_replacement_inside_it():
    assert not set(PLAIN) & GSM7
    assert all(is_gsm7(plain) for plain in PLAIN.values())
    assert sum(len(chars) for chars in LOOK_ALIKES.values()) == len(PLAIN)  # no character in two kinds


# Texts as people write them: plain letters, look-alikes, and what has no plain equivalent.
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(sorted(GSM7)),
        st.sampled_from(sorted(PLAIN)),
        st.sampled_from([EMOJI, C_CEDILLA, L_STROKE, "°", "\ufe0f", "é"]),
        st.characters(codec="utf-8"),
    ),
    max_size=400,
)


@given(st.text(alphabet=sorted(GSM7), max_size=400))
def test_a_gsm7_text_is_never_changed(text):
    assert normalise(text).text == text
    assert not normalise(text).changed


@given(texts)
def test_making_a_text_plain_twice_changes_nothing_more(text):
    once = normalise(text).text

    assert normalise(once).text == once


@given(texts)
def test_no_text_costs_more_segments_once_plain(text):
    assert sms_cost(normalise(text).text).segments <= sms_cost(text).segments


@given(texts)
def test_a_text_becomes_gsm7_exactly_when_each_character_has_a_plain_equivalent(text):
    plain = normalise(text).text
    every_one_has = all(char in GSM7 or char in PLAIN for char in text)

    if not every_one_has:
        assert not is_gsm7(plain)
    elif not is_gsm7(plain):
        # Only when dozens of "…" (or ½, ™) would cost more spelled out than kept as one character.
        expanding = {char for char, replacement in PLAIN.items() if len(replacement) > 1}
        assert set(outside_gsm7(plain)) <= expanding
        spelled_out = "".join(PLAIN.get(char, char) for char in plain)
        assert sms_cost(spelled_out).segments > sms_cost(plain).segments


def test_dozens_of_ellipses_stay_when_spelling_them_out_costs_more():
    text = "…" * 60  # one UCS-2 segment; 180 septets would be two

    assert normalise(text).text == text

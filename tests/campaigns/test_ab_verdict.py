"""The A/B verdict under daily looks, proven by simulation at the real rhythm (issue 22): 125 texts
a day split between the variants, the verdict looked at after every day's sends, through the
same `results.decide` the campaign page uses.

With A and B truly equal at 5% interested replies, a false winner is declared in at most 5% of
simulated campaigns; with B truly at 10% against A's 5%, B is found the winner in at least 80% of
them by 600 sends per variant. Judged on booked inspections, which come in days after the texts
(recorded 0 to 15 business days later, half within two), the looks go on for the settling days:
with A and B equal at 3% a false winner is declared in at most 5%, and with B at 6% against A's 2%
B is found in at least 80%. CI runs AB_SIMULATIONS (default 4,000) campaigns of each kind; by
hand, many more: ``AB_SIMULATIONS=40000 .venv/bin/pytest tests/campaigns/test_ab_verdict.py -s``.
"""

import os
import statistics

import numpy as np

from campaigns import results
from campaigns.models import Campaign

SIMULATIONS = int(os.getenv("AB_SIMULATIONS", "4000"))
PER_DAY, MAX_SENDS, OPT_OUT_RATE = 125, 600, 0.01


def simulated_campaign(p_a: float, p_b: float, rng: np.random.Generator) -> tuple[results.Verdict, int]:
    """One campaign, day by day until a verdict: (the verdict, B's sends when it came)."""
    planned = results.planned_looks(per_day=PER_DAY, split_percent_a=50, max_sends_per_variant=MAX_SENDS)
    counts = {"A": [0, 0, 0], "B": [0, 0, 0]}  # sent, interested, opted out
    looks = []
    day = 0
    while True:
        sends = {"A": PER_DAY // 2 + day % 2, "B": PER_DAY - PER_DAY // 2 - day % 2}
        for variant, rate in (("A", p_a), ("B", p_b)):
            tally = counts[variant]
            new = min(sends[variant], MAX_SENDS - tally[0])  # the test's fixed size
            tally[0] += new
            tally[1] += rng.binomial(new, rate)  # each text drawn alone would be ten times slower
            tally[2] += rng.binomial(new, OPT_OUT_RATE)
        looks.append(tuple(results.Arm(v, sent=c[0], interested=c[1], opted_out=c[2]) for v, c in counts.items()))
        verdict = results.decide(looks, planned=planned, max_sends=MAX_SENDS)
        if verdict.state != "collecting":
            return verdict, counts["B"][0]
        day += 1


def test_equal_variants_give_a_false_winner_in_at_most_5_percent_of_campaigns():
    rng = np.random.default_rng(20261201)
    verdicts = [simulated_campaign(0.05, 0.05, rng)[0] for _ in range(SIMULATIONS)]

    false_winners = sum(verdict.state == "winner" for verdict in verdicts) / SIMULATIONS
    print(f"\nequal at 5%: false winner in {false_winners:.2%} of {SIMULATIONS} campaigns")
    assert false_winners <= 0.05


def test_a_variant_twice_as_good_is_found_in_80_percent_of_campaigns_by_600_sends_each():
    rng = np.random.default_rng(20261202)
    outcomes = [simulated_campaign(0.05, 0.10, rng) for _ in range(SIMULATIONS)]

    found = [sends for verdict, sends in outcomes if verdict.state == "winner" and verdict.winner == "B"]
    wrong = sum(verdict.winner == "A" for verdict, _ in outcomes)
    print(
        f"\nB 10% vs A 5%: B found in {len(found) / SIMULATIONS:.2%} of {SIMULATIONS} campaigns, "
        f"median {statistics.median(found)} sends per variant; A declared in {wrong}"
    )
    assert max(found) <= MAX_SENDS
    assert len(found) / SIMULATIONS >= 0.80


# --- Judged on booked inspections ------------------------------------------------------------


def booking_delay(rng: np.random.Generator) -> int:
    """Business days from a text to its booking being recorded: about a third the same day, half
    within two days, a tail to three weeks."""
    return min(int(rng.geometric(0.35)) - 1, 15)


def simulated_campaign_on_bookings(p_a: float, p_b: float, rng: np.random.Generator) -> tuple[results.Verdict, int]:
    """One campaign judged on booked inspections, day by day until a verdict: each text books an
    inspection at its variant's rate, recorded ``booking_delay`` days later; the looks go on after
    the last text while bookings come in. Returns the verdict and B's sends when it came."""
    judged_on = Campaign.JudgedOn.BOOKED_INSPECTIONS
    planned = results.planned_looks(
        per_day=PER_DAY, split_percent_a=50, max_sends_per_variant=MAX_SENDS,
        settle_looks=results.MEASURES[judged_on].settle_looks,
    )  # fmt: skip
    sent, booked, opted_out = {"A": 0, "B": 0}, {"A": 0, "B": 0}, {"A": 0, "B": 0}
    recorded_on: dict[str, dict[int, int]] = {"A": {}, "B": {}}  # day → bookings recorded that day
    looks = []
    day = 0
    while True:
        sends = {"A": PER_DAY // 2 + day % 2, "B": PER_DAY - PER_DAY // 2 - day % 2}
        for variant, rate in (("A", p_a), ("B", p_b)):
            new = min(sends[variant], MAX_SENDS - sent[variant])  # the test's fixed size
            sent[variant] += new
            for _ in range(rng.binomial(new, rate)):
                when = day + booking_delay(rng)
                recorded_on[variant][when] = recorded_on[variant].get(when, 0) + 1
            opted_out[variant] += rng.binomial(new, OPT_OUT_RATE)
            booked[variant] += recorded_on[variant].pop(day, 0)
        looks.append(tuple(results.Arm(v, sent=sent[v], booked=booked[v], opted_out=opted_out[v]) for v in ("A", "B")))
        verdict = results.decide(looks, planned=planned, max_sends=MAX_SENDS, judged_on=judged_on)
        if verdict.state != "collecting":
            return verdict, sent["B"]
        day += 1


def test_on_bookings_equal_variants_give_a_false_winner_in_at_most_5_percent_of_campaigns():
    rng = np.random.default_rng(20261203)
    verdicts = [simulated_campaign_on_bookings(0.03, 0.03, rng)[0] for _ in range(SIMULATIONS)]

    false_winners = sum(verdict.state == "winner" for verdict in verdicts) / SIMULATIONS
    print(f"\nbookings equal at 3%: false winner in {false_winners:.2%} of {SIMULATIONS} campaigns")
    assert false_winners <= 0.05
    assert {verdict.look for verdict in verdicts if verdict.state == "no_difference"} == {20}  # after settling


def test_on_bookings_a_variant_three_times_as_good_is_found_in_80_percent_of_campaigns():
    rng = np.random.default_rng(20261204)
    outcomes = [simulated_campaign_on_bookings(0.02, 0.06, rng) for _ in range(SIMULATIONS)]

    found = [sends for verdict, sends in outcomes if verdict.state == "winner" and verdict.winner == "B"]
    wrong = sum(verdict.winner == "A" for verdict, _ in outcomes)
    print(
        f"\nbookings B 6% vs A 2%: B found in {len(found) / SIMULATIONS:.2%} of {SIMULATIONS} campaigns, "
        f"median {statistics.median(found)} sends per variant; A declared in {wrong}"
    )
    assert len(found) / SIMULATIONS >= 0.80

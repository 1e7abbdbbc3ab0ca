"""The A/B verdict under daily looks, proven by simulation at the real rhythm (issue 22): 125 texts
a day split between the variants, the verdict looked at after every day's sends, through the
same `results.decide` the campaign page uses.

With A and B truly equal at 5% interested replies, a false winner is declared in at most 5% of
simulated campaigns; with B truly at 10% against A's 5%, B is found the winner in at least 80% of
them by 600 sends per variant. CI runs AB_SIMULATIONS (default 4,000) campaigns of each kind; by
hand, many more: ``AB_SIMULATIONS=40000 .venv/bin/pytest tests/campaigns/test_ab_verdict.py -s``.
"""

import os
import random
import statistics

from campaigns import results

SIMULATIONS = int(os.getenv("AB_SIMULATIONS", "4000"))
PER_DAY, MAX_SENDS, OPT_OUT_RATE = 125, 600, 0.01


def simulated_campaign(p_a: float, p_b: float, rng: random.Random) -> tuple[results.Verdict, int]:
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
            tally[1] += sum(rng.random() < rate for _ in range(new))
            tally[2] += sum(rng.random() < OPT_OUT_RATE for _ in range(new))
        looks.append(tuple(results.Arm(v, sent=c[0], interested=c[1], opted_out=c[2]) for v, c in counts.items()))
        verdict = results.decide(looks, planned=planned, max_sends=MAX_SENDS)
        if verdict.state != "collecting":
            return verdict, counts["B"][0]
        day += 1


def test_equal_variants_give_a_false_winner_in_at_most_5_percent_of_campaigns():
    rng = random.Random(20261201)
    verdicts = [simulated_campaign(0.05, 0.05, rng)[0] for _ in range(SIMULATIONS)]

    false_winners = sum(verdict.state == "winner" for verdict in verdicts) / SIMULATIONS
    print(f"\nequal at 5%: false winner in {false_winners:.2%} of {SIMULATIONS} campaigns")
    assert false_winners <= 0.05


def test_a_variant_twice_as_good_is_found_in_80_percent_of_campaigns_by_600_sends_each():
    rng = random.Random(20261202)
    outcomes = [simulated_campaign(0.05, 0.10, rng) for _ in range(SIMULATIONS)]

    found = [sends for verdict, sends in outcomes if verdict.state == "winner" and verdict.winner == "B"]
    wrong = sum(verdict.winner == "A" for verdict, _ in outcomes)
    print(
        f"\nB 10% vs A 5%: B found in {len(found) / SIMULATIONS:.2%} of {SIMULATIONS} campaigns, "
        f"median {statistics.median(found)} sends per variant; A declared in {wrong}"
    )
    assert max(found) <= MAX_SENDS
    assert len(found) / SIMULATIONS >= 0.80

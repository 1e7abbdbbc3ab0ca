"""A campaign's results through the API: per variant the A/B counts with their intervals and its
results in money, the whole campaign's in money, and the verdict (``campaigns.results``,
``campaigns.money``)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attackacrack.web.api import COMMON_ERRORS, ErrorSerializer
from campaigns import money, results
from campaigns.models import Campaign, Variant


class RateSerializer(serializers.Serializer):
    rate = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval")
    high = serializers.FloatField(allow_null=True)


class RatesSerializer(serializers.Serializer):
    delivered = RateSerializer()
    replied = RateSerializer()
    interested = RateSerializer()
    opted_out = RateSerializer()
    booked_inspections = RateSerializer()


def money_field(help_text: str, **kwargs) -> serializers.DecimalField:
    """Dollars as a string with two decimals ("12.34"): never a float."""
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, coerce_to_string=True, help_text=help_text, **kwargs
    )


class MoneySerializer(serializers.Serializer):
    sent = serializers.IntegerField(help_text="Texts that went (sent or delivered)")
    segments = serializers.IntegerField(help_text="The SMS segments those texts were billed as")
    cost = money_field("Dollars: segments × SMS_COST_PER_SEGMENT")
    replied = serializers.IntegerField(help_text="Texts a person replied to (as in the variants)")
    booked_inspections = serializers.IntegerField(
        source="booked",
        help_text="People texted whose inspection was booked (or done, estimated, won: a later step implies it), "
        "once each",
    )
    jobs_won = serializers.IntegerField(help_text="Jobs won, each one")
    revenue = money_field("The jobs won's amounts, in dollars")
    cost_per_booked_inspection = money_field(
        "cost / booked_inspections; null when none was booked", source="cost_per_booked", allow_null=True
    )


class VariantResultSerializer(MoneySerializer):
    """A variant's A/B counts and rates, and its results in money (MoneySerializer's fields)."""

    variant = serializers.ChoiceField(choices=Variant.choices)
    delivered = serializers.IntegerField()
    replied = serializers.IntegerField(
        help_text="Sends a person replied to: not STOP, START, HELP, another opt-out or a phone's automatic reply"
    )
    interested = serializers.IntegerField(help_text="Sends with a reply labelled interested")
    opted_out = serializers.IntegerField()
    rates = RatesSerializer(help_text="Each count over sent, with its 95% Wilson interval")


RATE_COUNTS = {"delivered": "delivered", "replied": "replied", "interested": "interested",
               "opted_out": "opted_out", "booked_inspections": "booked"}  # fmt: skip


def variant_result(arm: results.Arm, in_money: money.Money) -> dict:
    def rate(count: int) -> dict:
        low, high = arm.interval(count) or (None, None)
        return {"rate": arm.rate(count), "low": low, "high": high}

    counts = {key: getattr(arm, key) for key in ("sent", "delivered", "replied", "interested", "opted_out")}
    rates = {name: rate(getattr(arm, count)) for name, count in RATE_COUNTS.items()}
    in_dollars = {key: getattr(in_money, key) for key in ("segments", "cost", "booked", "jobs_won", "revenue",
                                                          "cost_per_booked")}  # fmt: skip
    return {"variant": arm.variant, **counts, "rates": rates, **in_dollars}


class VerdictSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["collecting", "winner", "no_difference", "harmful"])
    winner = serializers.CharField(allow_blank=True)
    judged_on = serializers.ChoiceField(
        choices=Campaign.JudgedOn.choices, help_text="What it compares per text sent (the campaign's judged_on)"
    )
    look = serializers.IntegerField(help_text="Completed business days looked at: with sends, then settling")
    planned_looks = serializers.IntegerField()
    boundary = serializers.FloatField(help_text="|z| a variant must reach at any look (Pocock)")
    z = serializers.FloatField(allow_null=True, help_text="The latest look's z, positive when B does better")
    text = serializers.CharField()


class CampaignResultsSerializer(serializers.Serializer):
    variants = VariantResultSerializer(many=True)
    total = MoneySerializer(help_text="The whole campaign: both variants together")
    verdict = VerdictSerializer()
    winner = serializers.CharField(allow_blank=True, help_text="The variant declared for the rest, if any")


class CampaignResultsApi(APIView):
    @extend_schema(
        operation_id="campaigns_results",
        responses={200: CampaignResultsSerializer, 404: ErrorSerializer, **COMMON_ERRORS},
        description="Per variant: sent, delivered, replies from people (not STOP, HELP or automatic replies), "
        "interested replies, opt-outs and booked inspections with 95% intervals; segments, cost, jobs won, "
        'revenue and cost per booked inspection (dollars as strings, "12.34"); the same in money for the whole '
        "campaign; and the verdict of the planned daily looks on what the campaign is judged on.",
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        variants, verdict = results.ab_results(campaign)
        *per_variant, total = money.results_in_money(campaign, variants)
        return Response(
            CampaignResultsSerializer(
                {
                    "variants": [variant_result(arm, row) for arm, row in zip(variants, per_variant, strict=True)],
                    "total": total,
                    "verdict": verdict,
                    "winner": campaign.winner,
                }
            ).data
        )

"""A contact's lawful basis for marketing texts and its audit trail, and the Do-Not-Call lists
loaded here (``contacts.lawful_basis`` and ``contacts.dnc`` hold the rules)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ConsentBasis(models.TextChoices):
    """What a marketing text to a person may rely on (FCC 23-107, the Telemarketing Sales Rule)."""

    EXPRESS_WRITTEN = "express_written", "Written consent"
    CUSTOMER = "customer", "Customer (job, payment or delivery)"
    INQUIRY = "inquiry", "Inquiry"
    NONE = "none", "None on record"


def consent_constraints(prefix: str) -> list[models.CheckConstraint]:
    """A basis has its date, and written consent its source and wording; "none" has neither."""
    return [
        models.CheckConstraint(
            condition=Q(consent_basis=ConsentBasis.NONE, consent_at__isnull=True)
            | (~Q(consent_basis=ConsentBasis.NONE) & Q(consent_at__isnull=False)),
            name=f"{prefix}_consent_dated_when_given",
        ),
        models.CheckConstraint(
            condition=~Q(consent_basis=ConsentBasis.EXPRESS_WRITTEN) | (~Q(consent_source="") & ~Q(consent_wording="")),
            name=f"{prefix}_written_consent_has_source_and_wording",
        ),
        models.CheckConstraint(
            condition=Q(consent_basis__in=ConsentBasis.values), name=f"{prefix}_consent_basis_valid"
        ),
    ]


class ConsentChange(models.Model):
    """The audit trail of a contact's lawful basis: each change, as it was made, who made it and
    how. Kept for good (a person's consent and its changes are what the owner answers with)."""

    class Via(models.TextChoices):
        PAGE = "page", "Contact page"
        API = "api", "API"
        IMPORT = "import", "Import"
        ADMIN = "admin", "Admin"

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="consent_changes")
    consent_basis = models.CharField(max_length=16, choices=ConsentBasis.choices)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=255, blank=True)
    consent_wording = models.TextField(blank=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["contact", "changed_at"])]
        constraints = consent_constraints("consent_change")

    def __str__(self) -> str:
        return f"{self.contact_id} {self.consent_basis} at {self.changed_at:%Y-%m-%d %H:%M}"


class DoNotCallList(models.TextChoices):
    NATIONAL = "national", "National Do-Not-Call Registry"
    STATE = "state", "Massachusetts Do-Not-Call list"


class DoNotCallNumber(models.Model):
    """A number on a Do-Not-Call list, as its latest load of the list says."""

    # The E.164 digits as one integer (16175551234): a million of them load and index several
    # times faster than text compared by the database's collation.
    number = models.BigIntegerField()
    list = models.CharField(max_length=8, choices=DoNotCallList.choices)

    class Meta:
        # Number first: the one index answers "which lists hold this number?" too.
        constraints = [models.UniqueConstraint(fields=["number", "list"], name="dnc_number_unique")]

    def __str__(self) -> str:
        return f"+{self.number} on the {self.list} list"


class DoNotCallCoverage(models.Model):
    """An area code of a Do-Not-Call list loaded here, and the date of the copy its numbers are
    from. A copy older than DNC_LIST_MAX_AGE_DAYS stops marketing texts to the area code."""

    list = models.CharField(max_length=8, choices=DoNotCallList.choices)
    area_code = models.CharField(max_length=3)
    as_of = models.DateField()
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["list", "area_code"]
        constraints = [models.UniqueConstraint(fields=["area_code", "list"], name="dnc_coverage_unique")]

    def __str__(self) -> str:
        return f"{self.list} {self.area_code} as of {self.as_of}"


class DoNotCallLoad(models.Model):
    """One file of a Do-Not-Call list loaded: what it held and what it matched."""

    class Kind(models.TextChoices):
        FULL = "full", "Full list"
        CHANGES = "changes", "Change list"

    list = models.CharField(max_length=8, choices=DoNotCallList.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    as_of = models.DateField()
    file_name = models.CharField(max_length=255)
    area_codes = models.TextField(help_text="The area codes the file covers, comma-separated")
    numbers_read = models.PositiveIntegerField()
    numbers_added = models.PositiveIntegerField()
    numbers_removed = models.PositiveIntegerField()
    contacts_matched = models.PositiveIntegerField(help_text="Contacts whose number the list now holds")
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-loaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_list_display()} of {self.as_of} ({self.file_name})"

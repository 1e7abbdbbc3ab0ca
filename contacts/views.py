from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from attackacrack import roles
from attackacrack.web.pages import staff_page
from campaigns.compliance.lawful import why_not_texted
from campaigns.outcome_views import outcomes_context
from contacts import dnc, lawful_basis, not_texted, services
from contacts.csv_export import contacts_download
from contacts.forms import ContactForm, ContactSearchForm, DncLoadForm, ImportUploadForm, LawfulBasisForm
from contacts.models import ConsentChange, Contact, ContactImport, DoNotCallLoad, PropertyContact
from contacts.selectors import contact_page, contact_search
from messaging.forms import StaffTextForm
from messaging.views import consent_context

PER_PAGE = 50


@staff_page
def contact_list(request: HttpRequest) -> HttpResponse:
    """The contacts the search finds, how many, a page at a time; a bad search or page link is
    refused naming it (400), with what the rest of the request asked for."""
    form = ContactSearchForm(request.GET)
    valid = form.is_valid()
    wanted = form.cleaned_data  # the fields that are valid, when another is not
    query = wanted.get("q", "")
    page = contact_page(
        contact_search(query=query),
        size=PER_PAGE,
        after=wanted.get("after"),
        before=wanted.get("before"),
        every_contact=not query.strip(),
    )
    said = why_not_texted(page.contacts, now=timezone.now())
    return render(
        request,
        "contacts/list.html",
        {
            "query": query,
            "page": page,
            "rows": [(contact, said[contact.pk]) for contact in page.contacts],
            "problems": form.problems(),
            "may_export": request.user.has_perm("contacts.export_contact"),
            "may_load_dnc_lists": request.user.has_perm("contacts.add_donotcallload"),
        },
        status=200 if valid else 400,
    )


@staff_page
def contact_export(request: HttpRequest) -> HttpResponse:
    """The contacts the search box finds, as a CSV (the owner's right: every name and number)."""
    roles.require(request.user, "contacts.export_contact")
    form = ContactSearchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("\n".join(form.problems()), content_type="text/plain")
    return contacts_download(contact_search(query=form.cleaned_data["q"]).order_by("id"))


@staff_page
def contact_form(request: HttpRequest, contact_id: int | None = None) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id) if contact_id else None
    form = ContactForm(request.POST or None, contact=contact)
    duplicate_of = None
    if request.method == "POST" and form.is_valid():
        try:
            if contact is None:
                contact = services.create_contact(**form.cleaned_data)
            else:
                contact = services.update_contact(contact=contact, **form.changes())
        except services.DuplicatePhone as error:
            form.add_error("phone", str(error))
            duplicate_of = error.existing_id
        except ValidationError as error:  # the model's own rules, stricter than the form's reading
            form.add_error(None, error)
        else:
            messages.success(request, f"{contact} saved.")
            return redirect("contacts:detail", contact.pk)
    return render(request, "contacts/form.html", {"form": form, "contact": contact, "duplicate_of": duplicate_of})


@staff_page
def contact_detail(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _detail_page(request, get_object_or_404(Contact, pk=contact_id))


@require_POST
@staff_page
def change_lawful_basis(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Staff set the contact's lawful basis (audited with who, via the page); refused input is
    shown on the page, naming the field."""
    contact = get_object_or_404(Contact, pk=contact_id)
    form = LawfulBasisForm(request.POST, contact=contact)
    if form.is_valid():
        try:
            change = lawful_basis.record_consent(contact, form.values(), via=ConsentChange.Via.PAGE, by=request.user)
        except ValidationError as error:  # the fields together: a date, written consent's source and words
            form.add_error(None, error)
        else:
            done = f"Consent on record: {lawful_basis.describe(contact)}." if change else "The consent was unchanged."
            messages.success(request, done)
            return redirect("contacts:detail", contact.pk)
    return _detail_page(request, contact, lawful_basis_form=form, status=422)


def _detail_page(
    request: HttpRequest, contact: Contact, *, lawful_basis_form: LawfulBasisForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "contacts/detail.html",
        {
            "contact": contact,
            "not_texted": why_not_texted([contact], now=timezone.now())[contact.pk],
            "houses": contact.property_contacts.select_related("property").order_by(*PropertyContact.HOME_FIRST),
            "thread": contact.messages.written().order_by("-created_at", "-id")[:30],
            "consent": contact.opt_out_events.order_by("-created_at")[:20],
            "memberships": contact.campaign_memberships.select_related("campaign").order_by("-id")[:20],
            "form": StaffTextForm(),
            "lawful_basis": lawful_basis.describe(contact),
            "listings": dnc.listings([contact.phone])[contact.phone],
            "consent_changes": contact.consent_changes.select_related("changed_by")[:10],
            "lawful_basis_form": lawful_basis_form or LawfulBasisForm(contact=contact),
            **consent_context(contact),
            **outcomes_context(contact),
        },
        status=status,
    )


@staff_page
def contact_import(request: HttpRequest) -> HttpResponse:
    initial = {"campaign": request.GET.get("campaign")} if request.GET.get("campaign") else None
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid() and (contact_import := form.import_file(request)):
        return redirect("contacts:import-report", contact_import.pk)
    recent = ContactImport.objects.order_by("-id")[:10]
    return render(request, "contacts/import.html", {"form": form, "recent": recent})


@staff_page
def import_report(request: HttpRequest, import_id: int) -> HttpResponse:
    contact_import = get_object_or_404(ContactImport, pk=import_id)
    template = "contacts/_import_report.html" if request.headers.get("X-Requested-With") else "contacts/report.html"
    return render(request, template, {"report": contact_import, "not_a_mobile_number": not_texted.NOT_A_MOBILE_NUMBER})


@staff_page
def dnc_lists(request: HttpRequest) -> HttpResponse:
    """The Do-Not-Call lists: what each covers and of when, the last loads, and a form to load one."""
    roles.require(request.user, "contacts.add_donotcallload")
    form = DncLoadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid() and (load := form.load(request)):
        messages.success(request, f"Loaded: {dnc.summary(load)}")
        return redirect("contacts:dnc-lists")
    return render(
        request,
        "contacts/dnc_lists.html",
        {
            "form": form,
            "lists": dnc.coverage(timezone.localdate()),
            "max_age_days": dnc.MAX_AGE_DAYS,
            "loads": DoNotCallLoad.objects.select_related("loaded_by")[:20],
        },
    )

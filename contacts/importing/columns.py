"""Which column holds what: PropertyRadar exports by their exact header, other CSVs by alias."""

import re
from dataclasses import dataclass

from contacts.importing.readers import BadFile

PROPERTYRADAR_COLUMNS = {
    "property_type": "Type",
    "address": "Address",
    "city": "City",
    "zip_code": "ZIP",
    "subdivision": "Subdivision",
    "longitude": "Longitude",
    "latitude": "Latitude",
    "apn": "APN",
    "year_built": "Yr Built",
    "purchase_date": "Purchase Date",
    "square_feet": "Sq Ft",
    "beds": "Beds",
    "baths": "Baths",
    "estimated_value": "Est Value",
    "estimated_equity": "Est Equity $",
    "owner": "Owner",
    "mail_address": "Mail Address",
    "mail_city": "Mail City",
    "mail_state": "Mail State",
    "mail_zip_code": "Mail ZIP",
    "owner_occupied": "Owner Occ?",
    "listed_for_sale": "Listed for Sale?",
    "listing_status": "Listing Status",
    "foreclosure": "Foreclosure?",
    "estimated_equity_percent": "Est Equity %",
    "high_equity": "High Equity?",
    "primary_name": "Primary Name",
    "primary_phone": "Primary Mobile Phone1",
    "primary_email": "Primary Email1",
    "secondary_name": "Secondary Name",
    "secondary_phone": "Secondary Mobile Phone1",
    "secondary_email": "Secondary Email1",
}
# The columns whose presence says "this is a PropertyRadar export".
PROPERTYRADAR_SIGNATURE = ("APN", "Primary Mobile Phone1", "Secondary Mobile Phone1", "Address", "ZIP")

# Generic contact CSVs: header spellings seen in the wild, compared without case or punctuation.
GENERIC_ALIASES = {
    "phone": [
        "phone", "phonenumber", "phoneno", "mobile", "mobilephone", "mobilenumber", "cell", "cellphone",
        "cellnumber", "telephone", "tel", "primaryphone", "phone1", "primarymobilephone1", "contactphone",
    ],
    "first_name": ["firstname", "first", "fname", "givenname", "forename"],
    "last_name": ["lastname", "last", "lname", "surname", "familyname"],
    "name": ["name", "fullname", "contactname", "contact", "primaryname", "owner", "ownername"],
    "email": ["email", "emailaddress", "email1", "mail", "primaryemail1", "primaryemail"],
    "address": ["address", "streetaddress", "street", "address1", "addressline1", "propertyaddress"],
    "city": ["city", "town", "propertycity"],
    "state": ["state", "st", "province", "region", "propertystate"],
    "zip_code": ["zip", "zipcode", "postalcode", "postcode", "zip5", "propertyzip"],
    # A contact's lawful basis (contacts/lawful_basis.py); PropertyRadar exports carry none.
    "consent_basis": ["consentbasis", "consent", "lawfulbasis"],
    "consent_at": ["consentat", "consentdate", "consentgiven", "consentgivenon"],
    "consent_source": ["consentsource", "consentmethod"],
    "consent_wording": ["consentwording", "consenttext", "consentlanguage"],
}  # fmt: skip
GENERIC_FIELD_BY_ALIAS = {alias: field for field, aliases in GENERIC_ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ColumnMapping:
    format: str
    columns: dict[str, int]
    header: list[str]

    def for_report(self) -> dict[str, str]:
        return {field: self.header[index] for field, index in self.columns.items()}


def map_columns(header: list[str], *, format: str | None = None) -> ColumnMapping:
    """Decide the format (unless given) and where each field is; BadFile if there is no phone."""
    positions = {name: index for index, name in reversed(list(enumerate(header)))}
    is_propertyradar = all(name in positions for name in PROPERTYRADAR_SIGNATURE)
    if format == "propertyradar" and not is_propertyradar:
        missing = [name for name in PROPERTYRADAR_SIGNATURE if name not in positions]
        raise BadFile(f"Not a PropertyRadar export: missing the column(s) {', '.join(missing)}.")
    if is_propertyradar and format != "generic":
        columns = {field: positions[name] for field, name in PROPERTYRADAR_COLUMNS.items() if name in positions}
        return ColumnMapping(format="propertyradar", columns=columns, header=header)

    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        if field := GENERIC_FIELD_BY_ALIAS.get(re.sub(r"[^a-z0-9]", "", cell.lower())):
            columns.setdefault(field, index)
    if "phone" not in columns:
        found = ", ".join(repr(cell) for cell in header) or "none"
        raise BadFile(
            f"No phone column. Headers found: {found}. Name the column with the numbers "
            "'phone', 'Phone Number' or 'mobile'."
        )
    return ColumnMapping(format="generic", columns=columns, header=header)

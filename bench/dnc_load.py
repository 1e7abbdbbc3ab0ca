"""Loading a Do-Not-Call registry file: time and memory for a million numbers.

    .venv/bin/python bench/dnc_load.py [--numbers 1000000]

Writes a full-list flat file (``area code,number`` per line, over ten area codes) of the given
size, zipped as the registry serves it, into a fresh database `attackacrack_bench` on
DATABASE_URL's server holding 100,000 contacts, a tenth of them on the list. Then loads it, loads
it again (a month's new copy: nothing changes), and loads a change list of 10,000 additions and
10,000 deletions. Prints seconds and the most Python memory the load held for each; the target is a full
list of a million numbers in under 30 s.
"""

import argparse
import io
import os
import random
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))
import import_contacts  # noqa: E402
from figures import record  # noqa: E402

AREA_CODES = ["617", "508", "781", "978", "413", "339", "351", "774", "857", "603"]


def registry_file(numbers: int) -> bytes:
    rng = random.Random(7)
    per_code = numbers // len(AREA_CODES)
    lines = io.StringIO()
    for area_code in AREA_CODES:
        for subscriber in sorted(rng.sample(range(2_000_000, 9_999_999), per_code)):
            lines.write(f"{area_code},{subscriber}\n")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("national-full.txt", lines.getvalue())
    return packed.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=1_000_000)
    args = parser.parse_args()
    data = registry_file(args.numbers)
    import_contacts.fresh_database()
    os.environ["DATABASE_URL"] = f"{import_contacts.server_url()}/{import_contacts.DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attackacrack.settings")
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()
    import datetime as dt

    from contacts import dnc
    from contacts.models import Contact

    listed = [line.split(",") for line in zipfile.ZipFile(io.BytesIO(data)).read("national-full.txt").decode().split()]
    rng = random.Random(11)
    on_list = {f"+1{a}{n}" for a, n in rng.sample(listed, 10_000)}
    others = {f"+1{rng.choice(AREA_CODES)}{rng.randrange(1_000_000, 1_999_999)}" for _ in range(90_000)}
    Contact.objects.bulk_create([Contact(phone=phone) for phone in on_list | others], batch_size=5000)
    del listed[10_000:]

    def load(label: str, payload: bytes, as_of: dt.date) -> None:
        tracemalloc.start()
        started = time.perf_counter()
        result = dnc.load_list(io.BytesIO(payload), list_name="national", as_of=as_of, file_name=label)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(
            f"{label}: {seconds:.1f} s, {peak:.0f} MB of Python memory at the most while loading; "
            f"{result.numbers_read:,} read, {result.numbers_added:,} added, {result.numbers_removed:,} removed, "
            f"{result.contacts_matched:,} contacts matched"
        )
        target = "< 30 s" if label == "full list" else ""
        record("dnc_load", f"{label} s", seconds, "s", target=target, met=seconds < 30 if target else None)
        record("dnc_load", f"{label} peak memory", peak, "MB")

    load("full list", data, dt.date(2026, 11, 1))
    load("the next month's full list", data, dt.date(2026, 12, 1))
    changes = [f"{a},{n},D" for a, n in listed[:10_000]] + [
        f"{rng.choice(AREA_CODES)},{rng.randrange(1_000_000, 1_999_999)},A" for _ in range(10_000)
    ]
    load("change list", "\n".join(changes).encode(), dt.date(2026, 12, 2))


if __name__ == "__main__":
    main()

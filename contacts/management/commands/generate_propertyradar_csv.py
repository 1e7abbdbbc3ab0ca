from django.core.management.base import BaseCommand

from contacts.importing.samples import write_propertyradar_csv


class Command(BaseCommand):
    help = "Write a PropertyRadar-shaped CSV of made-up homeowners (for tests, benchmarks and demos)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--rows", type=int, default=2500)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, path: str, rows: int, seed: int, **options) -> None:
        with open(path, "w", encoding="utf-8", newline="") as out:
            stats = write_propertyradar_csv(out, rows=rows, seed=seed)
        self.stdout.write(
            f"Wrote {path}: {stats.rows:,} rows, {stats.phone_cells:,} phone cells, "
            f"{len(stats.distinct_phones):,} distinct valid phones, {stats.invalid_phone_cells:,} invalid, "
            f"{stats.rows_without_phone:,} rows without a phone."
        )

"""A long list of ids goes to PostgreSQL as one array.

``pk__in=ids`` writes a placeholder per id. For the 500 members the rules judge ahead of a
campaign's first run, or the 2,000 of a cost sample, psycopg splits and quotes such a statement
anew each time (it is too long for its cache) and PostgreSQL parses every literal: about 28 ms for
2,000 ids. ``id = ANY(%s)`` with the ids as one array parameter reads the same rows by the same
index: 12 ms, most of it the rows themselves. Registered for primary keys
(``AttackACrackConfig.ready``), so every ``pk__in`` and ``id__in`` of a list takes it; short lists
keep Django's ``IN (...)``, as does a list holding an expression (Django makes it an expression
list, not values), and other databases too.
"""

from django.db import models
from django.db.models.lookups import In

ONE_ARRAY_FROM = 100  # ids: below this, the statement is short and psycopg caches it


class IdsIn(In):
    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value() or len(self.rhs) < ONE_ARRAY_FROM:
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, [value for value in self.rhs if value is not None])


def register() -> None:
    for field in (models.AutoField, models.BigAutoField):
        field.register_lookup(IdsIn)

"""Counts that stop: a list is counted one by one up to a bound, and past it the planner's
estimate stands for it, which the pages and the API call "about". Counting a million rows reads a
million index entries on every view; a page needs the exact figure only while it is small."""

from collections.abc import Hashable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet


@dataclass(frozen=True)
class Counted:
    value: int
    estimated: bool = False  # past the bound: the planner's estimate ("about")


def count_up_to(queryset: QuerySet, bound: int) -> Counted:
    """How many rows ``queryset`` holds: exactly while no more than ``bound`` (reading at most
    ``bound`` + 1), else the planner's estimate, never less than ``bound`` + 1. SQLite (`make run`,
    small) counts."""
    return count_each_up_to({None: queryset}, bound)[None]


def count_each_up_to(querysets: dict[Hashable, QuerySet], bound: int) -> dict[Hashable, Counted]:
    """``count_up_to`` of each of ``querysets``, the bounded counts in one statement (and an EXPLAIN
    for each past the bound)."""
    if not querysets:
        return {}
    parts, params = [], []
    for queryset in querysets.values():
        try:
            sql, its_params = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # nothing can match (``none()``, an empty ``pk__in``)
            parts.append("0")
            continue
        parts.append(f"(SELECT count(*) FROM ({sql} LIMIT {bound + 1:d}) AS counted)")
        params += its_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        counts = cursor.fetchone()
    found = {}
    for (key, queryset), counted in zip(querysets.items(), counts, strict=True):
        if counted <= bound:
            found[key] = Counted(counted)
        else:
            found[key] = Counted(max(bound + 1, planner_rows(queryset) or queryset.count()), estimated=True)
    return found


def planner_rows(queryset: QuerySet) -> int | None:
    """The planner's estimate of the rows ``queryset`` returns (EXPLAIN: the statistics ANALYZE and
    autovacuum keep); None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return int(cursor.fetchone()[0][0]["Plan"]["Plan Rows"])

"""Where personal data lives, read from the model metadata rather than a hand-kept list.

A column holds personal data when it is declared `info={"personal": True}`. A table holds data *about a
resident* when it has a foreign key to `residents`, or to a table that does (requests, ...), followed
transitively. Tables added by any later domain are covered the moment their models are imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import JSON, Column, String, Table, Text, select

from can_crm.extensions import db

SUBJECT_TABLES = ("residents", "volunteers")
# A column whose name looks like it holds something about a person must be declared either way.
PERSONAL_LOOKING = re.compile(
    r"name|phone|email|address|postcode|note|detail|reason|body|text|message|comment|description|dob|birth|nhs"
)


def tables() -> list[Table]:
    return list(db.metadata.sorted_tables)


def table(name: str) -> Table:
    return db.metadata.tables[name]


def is_personal(column: Column[object]) -> bool:
    return bool(column.info.get("personal"))


def personal_columns(tbl: Table) -> list[Column[object]]:
    return [c for c in tbl.columns if is_personal(c)]


def needs_declaration(column: Column[object]) -> bool:
    """Free text, structured blobs, longer strings, and anything named like personal data."""
    kind = column.type
    if isinstance(kind, Text | JSON):
        return True
    if isinstance(kind, String) and (kind.length is None or kind.length > 20):
        return True
    return bool(PERSONAL_LOOKING.search(column.name))


def undeclared_columns(tbl: Table) -> list[str]:
    return [c.name for c in tbl.columns if needs_declaration(c) and "personal" not in c.info]


def referring_tables(subject: str) -> dict[str, list[tuple[str, str]]]:
    """Every table that refers to `subject`, directly or through other referring tables:
    {table: [(fk column, referred table), ...]} (the subject table itself maps to [])."""
    found: dict[str, list[tuple[str, str]]] = {subject: []}
    changed = True
    while changed:
        changed = False
        for tbl in tables():
            for fk in tbl.foreign_keys:
                target = fk.column.table.name
                link = (fk.parent.name, target)
                if target in found and target != tbl.name and link not in found.setdefault(tbl.name, []):
                    found[tbl.name].append(link)
                    changed = True
        found = {k: v for k, v in found.items() if v or k == subject}
    return found


def tables_about_people() -> set[str]:
    names: set[str] = set()
    for subject in SUBJECT_TABLES:
        names |= set(referring_tables(subject))
    return names | {"users"}


@dataclass
class Holdings:
    """The rows that concern one subject: {table: {primary key: row as a dict}}."""

    subject: str
    subject_id: int
    rows: dict[str, dict[int, dict[str, object]]] = field(default_factory=dict)

    def ids(self, name: str) -> set[int]:
        return set(self.rows.get(name, {}))

    def count(self) -> int:
        return sum(len(r) for r in self.rows.values())


def _pk(tbl: Table) -> Column[object] | None:
    keys = list(tbl.primary_key.columns)
    return keys[0] if len(keys) == 1 else None


def collect(subject: str, subject_id: int) -> Holdings:
    """Walk the foreign keys outward from one subject row until no new rows turn up."""
    graph = referring_tables(subject)
    holdings = Holdings(subject, subject_id)
    subject_table = table(subject)
    row = db.session.execute(select(subject_table).where(_pk(subject_table) == subject_id)).mappings().first()  # type: ignore[arg-type]  # a Column == int is a clause
    if row is None:
        return holdings
    holdings.rows[subject] = {subject_id: dict(row)}
    changed = True
    while changed:
        changed = False
        for name, links in graph.items():
            tbl = table(name)
            pk = _pk(tbl)
            if pk is None or not links:
                continue
            for column_name, target in links:
                wanted = holdings.ids(target)
                if not wanted:
                    continue
                query = select(tbl).where(tbl.c[column_name].in_(sorted(wanted)))
                for found in db.session.execute(query).mappings():
                    key = int(found[pk.name])
                    bucket = holdings.rows.setdefault(name, {})
                    if key not in bucket:
                        bucket[key] = dict(found)
                        changed = True
    return holdings


def primary_key(tbl: Table) -> Column[object] | None:
    return _pk(tbl)


def text_columns(tbl: Table) -> Iterable[Column[object]]:
    return (c for c in tbl.columns if isinstance(c.type, String | Text | JSON))

"""Clusters (cases connected through their contacts over a period), the chain view of one cluster, and the
map layer of cases by area with small numbers suppressed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.resident import Resident
from can_crm.models.tracing import Case
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import areas, audit
from can_crm.services.common.errors import NotFound
from can_crm.services.tracing.cases import person_of, window
from can_crm.services.tracing.trace import Link, trace

MAX_CASES = 500  # a cluster scan traces each case once (one query each)
MAP_LAYER = "tracing-cases"


@dataclass(frozen=True)
class ChainLink:
    """Case `later` met case `earlier` (or was met by it) in `earlier`'s infectious window."""

    earlier: Case
    later: Case
    interactions: list[Link]


@dataclass
class Cluster:
    cases: list[Case] = field(default_factory=list)
    links: list[ChainLink] = field(default_factory=list)

    @property
    def first_onset(self) -> date:
        return self.cases[0].onset


def _cases_between(start: date, end: date) -> list[Case]:
    return list(
        db.session.scalars(
            select(Case).where(Case.onset >= start, Case.onset <= end).order_by(Case.onset, Case.id).limit(MAX_CASES)
        )
    )


def clusters(start: date, end: date, user_id: int | None) -> list[Cluster]:
    """Cases with onset in [start, end] joined when one was a first-degree contact of another in its window
    (or is the same person); clusters of two or more, largest first. Audited per case shown."""
    cases = _cases_between(start, end)
    by_person: dict[int, list[Case]] = {}
    for case in cases:
        by_person.setdefault(case.person_key, []).append(case)
    parent = {case.id: case.id for case in cases}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links: list[ChainLink] = []
    for case in cases:
        for same in by_person[case.person_key]:
            parent[find(same.id)] = find(case.id)
        for contact in trace(person_of(case), case.onset, 1, window()):
            for other in by_person.get(contact.person.key, []):
                if other.id == case.id:
                    continue
                earlier, later = (case, other) if (case.onset, case.id) <= (other.onset, other.id) else (other, case)
                links.append(ChainLink(earlier, later, contact.links))
                parent[find(other.id)] = find(case.id)
    groups: dict[int, Cluster] = {}
    for case in cases:
        groups.setdefault(find(case.id), Cluster()).cases.append(case)
    seen: set[tuple[int, int]] = set()
    for link in links:
        pair = (link.earlier.id, link.later.id)
        if pair not in seen:
            seen.add(pair)
            groups[find(link.earlier.id)].links.append(link)
    found = [c for c in groups.values() if len(c.cases) > 1]
    found.sort(key=lambda c: (-len(c.cases), c.first_onset, c.cases[0].id))
    for cluster in found:
        cluster.links.sort(key=lambda link: (link.later.onset, link.later.id, link.earlier.id))
        for case in cluster.cases:
            audit.record(user_id, "view_cluster_case", "tracing_case", case.id)
    return found


def chain_of(case_id: int, start: date, end: date, user_id: int | None) -> Cluster:
    """The cluster containing the case (just the case when it is linked to none)."""
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("No case with that id")
    for cluster in clusters(start, end, user_id):
        if any(c.id == case_id for c in cluster.cases):
            return cluster
    audit.record(user_id, "view_case", "tracing_case", case.id)
    return Cluster([case])


@dataclass(frozen=True)
class AreaCount:
    area: str
    cases: int | None  # None: fewer than k, hidden


def cases_by_area(start: date, end: date, user_id: int | None) -> tuple[list[AreaCount], int, int]:
    """Cases by area (wards when the council loaded them, else map hexagons), areas with fewer than HEATMAP_K
    people hidden, through the registered `tracing-cases` layer. Returns (areas, k, cases without a location)."""
    # why: geo loads numpy, H3 and shapely; only the map needs them
    from geo import MAP_RESOLUTION, Audience, HexZoning, LayerInput, Period, PointSet, PolygonZoning, build_heatmap

    rows = db.session.execute(
        select(Case.id, Case.person_key, Case.onset, Resident.lat, Resident.lon, Volunteer.lat, Volunteer.lon)
        .outerjoin(Resident, Resident.id == Case.resident_id)
        .outerjoin(Volunteer, Volunteer.id == Case.volunteer_id)
        .where(Case.onset >= start, Case.onset <= end)
        .order_by(Case.id)
    ).all()
    located = [(r[1], r[2], r[3] if r[3] is not None else r[5], r[4] if r[4] is not None else r[6]) for r in rows]
    placed = [p for p in located if p[2] is not None and p[3] is not None]
    audit.record(user_id, "view_case_map", "tracing_case", 0)
    k = int(current_app.config["HEATMAP_K"])
    if not placed:
        return [], k, len(rows)
    points = PointSet.from_arrays(
        [p[2] for p in placed], [p[3] for p in placed], [p[0] for p in placed], when=[p[1] for p in placed]
    )
    ward_areas = areas.wards()
    zoning: Any = PolygonZoning(ward_areas) if ward_areas is not None else HexZoning(int(MAP_RESOLUTION))
    heatmap = build_heatmap(
        MAP_LAYER, LayerInput(points=points), k=k, zoning=zoning, audience=Audience.SHAREABLE, period=Period(start, end)
    )
    out = []
    for zone, people, hidden in zip(
        heatmap.zones.tolist(), heatmap.people.tolist(), heatmap.suppressed.tolist(), strict=True
    ):
        name = zoning.zone_name(int(zone)) or zoning.zone_code(int(zone))
        out.append(AreaCount(str(name), None if hidden else int(people)))
    out.sort(key=lambda a: (a.cases is None, -(a.cases or 0), a.area))
    return out, k, len(rows) - len(placed)

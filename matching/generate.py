"""Realistic clustered instances in a borough-sized area, for the benchmark and the tests."""

from __future__ import annotations

import numpy as np

from matching.geometry import FloatArray
from matching.model import DBS_LEVELS, Request, Volunteer

CENTRE_LAT, CENTRE_LON = 51.49, -0.22
KM_PER_DEG_LAT = 111.2
SKILLS = ("shopping", "prescriptions", "befriending", "car", "dog_walking", "gardening", "first_aid")
# How often a volunteer offers each skill, and how often a request needs it (when it needs one).
VOL_SKILL_P = (0.7, 0.6, 0.5, 0.25, 0.2, 0.15, 0.1)
REQ_SKILL_W = (0.35, 0.25, 0.15, 0.12, 0.06, 0.05, 0.02)


def _points(
    rng: np.random.Generator,
    count: int,
    centres: FloatArray,
    weights: FloatArray,
    sigma_km: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Gaussian clusters around neighbourhood centres, clipped to a ~10 km box."""
    c = rng.choice(len(centres), size=count, p=weights)
    dy = rng.normal(0, 1, count) * sigma_km[c]
    dx = rng.normal(0, 1, count) * sigma_km[c]
    y = np.clip(centres[c, 0] + dy, -5, 5)
    x = np.clip(centres[c, 1] + dx, -5, 5)
    lat = CENTRE_LAT + y / KM_PER_DEG_LAT
    lon = CENTRE_LON + x / (KM_PER_DEG_LAT * np.cos(np.radians(CENTRE_LAT)))
    return lat, lon


def clustered_instance(n_requests: int, n_volunteers: int, seed: int = 0) -> tuple[list[Request], list[Volunteer]]:
    """A reproducible instance: 12 neighbourhoods, skills and DBS levels in plausible proportions."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-4, 4, size=(12, 2))
    sigma = rng.uniform(0.4, 1.4, size=12)
    w_req = rng.dirichlet(np.full(12, 2.0))
    w_vol = rng.dirichlet(np.full(12, 2.0))
    rlat, rlon = _points(rng, n_requests, centres, w_req, sigma)
    vlat, vlon = _points(rng, n_volunteers, centres, w_vol, sigma)
    urg = rng.choice([1, 2, 3], size=n_requests, p=[0.6, 0.25, 0.15])
    n_skills = rng.choice([0, 1, 2], size=n_requests, p=[0.45, 0.4, 0.15])
    rdbs = rng.choice(4, size=n_requests, p=[0.5, 0.25, 0.1, 0.15])
    vdbs = rng.choice(4, size=n_volunteers, p=[0.2, 0.35, 0.2, 0.25])
    vskill = rng.random((n_volunteers, len(SKILLS))) < np.array(VOL_SKILL_P)
    max_km = rng.choice([1.0, 2.0, 3.0, 5.0, 8.0, 10.0], size=n_volunteers, p=[0.15, 0.25, 0.2, 0.2, 0.1, 0.1])
    cap = rng.integers(1, 4, size=n_volunteers)
    vids = [f"V{i:06d}" for i in range(n_volunteers)]
    pref = rng.random(n_requests) < 0.1
    excl = rng.random(n_requests) < 0.02
    pick = rng.integers(0, max(1, n_volunteers), size=(n_requests, 2))
    requests = []
    for i in range(n_requests):
        skills = frozenset(rng.choice(SKILLS, size=int(n_skills[i]), replace=False, p=REQ_SKILL_W).tolist())
        requests.append(
            Request(
                id=f"R{i:06d}",
                lat=float(rlat[i]),
                lon=float(rlon[i]),
                urgency=int(urg[i]),
                skills=skills,
                min_dbs=DBS_LEVELS[int(rdbs[i])],
                excluded=frozenset([vids[pick[i, 0]]]) if excl[i] and n_volunteers else frozenset(),
                preferred=vids[pick[i, 1]] if pref[i] and n_volunteers else None,
            )
        )
    volunteers = [
        Volunteer(
            id=vids[j],
            lat=float(vlat[j]),
            lon=float(vlon[j]),
            skills=frozenset(s for s, has in zip(SKILLS, vskill[j], strict=True) if has),
            dbs=DBS_LEVELS[int(vdbs[j])],
            max_km=float(max_km[j]),
            capacity=int(cap[j]),
        )
        for j in range(n_volunteers)
    ]
    return requests, volunteers


def instance_to_json(requests: list[Request], volunteers: list[Volunteer]) -> dict[str, object]:
    """The CLI's instance document for these requests and volunteers."""
    return {
        "requests": [
            {
                "id": r.id,
                "lat": r.lat,
                "lon": r.lon,
                "urgency": r.urgency,
                "skills": sorted(r.skills),
                "min_dbs": r.min_dbs,
                "excluded": sorted(r.excluded),
                "preferred": r.preferred,
            }
            for r in requests
        ],
        "volunteers": [
            {
                "id": v.id,
                "lat": v.lat,
                "lon": v.lon,
                "skills": sorted(v.skills),
                "dbs": v.dbs,
                "max_km": v.max_km,
                "capacity": v.capacity,
            }
            for v in volunteers
        ],
    }

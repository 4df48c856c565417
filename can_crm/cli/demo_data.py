"""Synthetic demo data: residents inside the real Hammersmith and Fulham boundary, volunteers, and
requests in every state, made through the same services as real work so every history is genuine."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import SKILLS, Channel, RequestType, Status, VolunteerStatus
from can_crm.models.user import User
from can_crm.services.accounts import users
from can_crm.services.common import geocoding
from can_crm.services.requests import intake, lifecycle
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import RESIDENT, Actor
from can_crm.services.volunteers import profiles as volunteers

DEMO_PASSWORD = "demo-password-2020"  # noqa: S105 - printed for the demo; never used outside seed-demo
DEMO_USERS = (
    ("admin@demo.can.local", "Ada Admin", "admin", None),
    ("coordinator@demo.can.local", "Chris Coordinator", "coordinator", None),
    ("partner@demo.can.local", "Priya Partner", "partner", "Age UK Hammersmith and Fulham"),
    ("councillor@demo.can.local", "Colin Councillor", "councillor", None),
    ("volunteer@demo.can.local", "Val Volunteer", "volunteer", "Fulham Mutual Aid"),
)
FIRST = (
    "Margaret",
    "John",
    "Patricia",
    "Ahmed",
    "Grace",
    "Wojciech",
    "Fatima",
    "David",
    "Mary",
    "Kofi",
    "Irene",
    "Samuel",
    "Joan",
    "Hassan",
    "Dorothy",
    "Peter",
    "Amina",
    "George",
    "Eileen",
    "Tomasz",
)
LAST = (
    "Smith",
    "Okafor",
    "Kowalski",
    "Begum",
    "O'Brien",
    "Jones",
    "Ali",
    "Brown",
    "Mensah",
    "Walsh",
    "Taylor",
    "Nowak",
    "Hussain",
    "Clarke",
    "Evans",
    "Ahmed",
    "Murphy",
    "Patel",
    "Wilson",
    "Green",
)
STREETS = (
    "Fulham Palace Road",
    "Uxbridge Road",
    "King Street",
    "Lillie Road",
    "Munster Road",
    "Askew Road",
    "Goldhawk Road",
    "Dawes Road",
    "Wandsworth Bridge Road",
    "Shepherd's Bush Road",
    "Bloemfontein Road",
)
DETAILS = {
    "food_parcel": "Food parcel for one person, no pork",
    "shopping": "Weekly shop: bread, milk, fruit, tinned soup",
    "prescription": "Collect repeat prescription from the pharmacy on the high street",
    "befriending": "Would like a chat on the phone, lives alone",
    "transport": "Lift to a hospital appointment at Charing Cross",
    "dog_walking": "Walk a small, friendly dog once a day",
    "other": "Help changing a light bulb",
}
# How many requests to leave in each state (the rest stay new), so every state shows up in the demo.
STATE_PATH = {
    Status.TRIAGED: [],
    Status.MATCHED: ["matched"],
    Status.ACCEPTED: ["matched", "accepted"],
    Status.IN_PROGRESS: ["matched", "accepted", "in_progress"],
    Status.DELIVERED: ["matched", "accepted", "in_progress", "delivered"],
    Status.CONFIRMED: ["matched", "accepted", "in_progress", "delivered", "confirmed"],
    Status.CLOSED: ["matched", "accepted", "in_progress", "delivered", "confirmed", "closed"],
    Status.CANCELLED: ["cancelled"],
    Status.UNABLE_TO_FULFIL: ["unable_to_fulfil"],
    Status.HANDED_OFF: ["handed_off"],
    Status.ESCALATED: ["escalated"],
}


def _logins() -> Iterator[str]:
    yield "Demo logins (password for all: " + DEMO_PASSWORD + "):"
    for email, _, role, _ in DEMO_USERS:
        yield f"  {role:<12} {email}"


def seed(residents: int = 300, seed: int = 2020) -> Iterator[str]:
    """Create the demo data once; later runs only print the logins."""
    if db.session.scalar(select(User.id).where(User.email == DEMO_USERS[0][0])):
        yield "Demo data already loaded."
        yield from _logins()
        return
    rng = random.Random(seed)
    directory = geocoding.directory()
    home = current_app.config["AUTHORITY_GSS_CODE"]
    if directory is None:
        raise RuntimeError("No postcode directory: run `make install` (it builds instance/postcodes.npz)")
    local = sorted(pc for pc in directory if directory.geocode(pc).authority_gss == home)
    neighbours = sorted(pc for pc in directory if directory.geocode(pc).authority_gss != home)
    if not local:
        raise RuntimeError(f"The postcode directory has no postcodes in {home}")
    ward = directory.geocode(local[0]).ward_gss or None

    made: dict[str, User] = {}
    for email, name, role, org in DEMO_USERS:
        made[role] = users.create_user(email, name, role, DEMO_PASSWORD, org, ward if role == "councillor" else None)

    skills = list(SKILLS)
    pool = []
    for i in range(40):
        pool.append(
            volunteers.create_volunteer(
                {
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "phone": f"07911 {100000 + i:06d}",
                    "home_postcode": rng.choice(local),
                    "skills": rng.sample(skills, rng.randint(1, 4)),
                    "max_km": rng.choice(["1.5", "3", "5", "8"]),
                    "capacity": rng.randint(1, 3),
                    "dbs_level": rng.choice(["none", "basic", "standard", "enhanced"]),
                    "availability": {"mon": ["morning"], "wed": ["afternoon"], "sat": ["morning", "afternoon"]},
                    "active": True,
                    "organisation": rng.choice([None, "Fulham Mutual Aid", "Shepherd's Bush Helpers"]),
                },
                user_id=made["volunteer"].id if i == 0 else None,
                # Demo volunteers have been vetted already, so the demo can offer them work.
                status=VolunteerStatus.ACTIVE,
            )
        )
    coordinator = Actor(role="coordinator", user_id=made["coordinator"].id)
    states = list(STATE_PATH)
    now = utcnow()
    for i in range(residents):
        postcode = rng.choice(neighbours) if neighbours and i % 25 == 0 else rng.choice(local)
        rtype = rng.choice(list(RequestType)).value
        raised_by = made["partner"] if i % 10 == 0 else None
        actor = Actor(role="partner", user_id=raised_by.id) if raised_by else coordinator
        created = intake.submit(
            {
                "type": rtype,
                "urgency": rng.choice([1, 1, 2, 2, 3]),
                "details": DETAILS[rtype],
                "recurrence": "weekly" if rtype == "shopping" and i % 3 == 0 else "none",
            },
            actor,
            Channel.PARTNER if raised_by else rng.choice([Channel.PHONE, Channel.WEB, Channel.CAMPAIGN]),
            resident_data={
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "address_line1": f"{rng.randint(1, 240)} {rng.choice(STREETS)}",
                "town": "London",
                "postcode": postcode,
                "phone": f"020 7946 {i % 10000:04d}" if i % 4 else "",
                "email": f"resident{i}@example.com" if i % 4 == 0 else "",
                "preferred_channel": "email" if i % 4 == 0 else rng.choice(["phone", "sms"]),
                "shielding": rng.random() < 0.4,
                "consent_given": True,
                "lawful_basis": "public_task",
            },
        )
        # Spread intake over the last fortnight so some requests are overdue.
        created.created_at = now - timedelta(hours=rng.randint(0, 24 * 14))
        created.sla_due_at = created.created_at + (created.sla_due_at - now)
        target = states[i % len(states)] if i % 5 else None
        if target is None:
            continue
        requests.triage(created, {}, coordinator)
        for step in STATE_PATH[target]:
            if step == "matched":
                requests.assign_volunteer(created, rng.choice(pool).id, coordinator, within_limits=False)
                continue
            who = Actor(role=RESIDENT) if step == "confirmed" else coordinator
            reason = "Demo data" if step in ("cancelled", "unable_to_fulfil", "handed_off", "escalated") else None
            # Demo data only: real handoffs go through the federation service with a partner and a bundle.
            lifecycle.transition(created, step, who, reason, via=lifecycle.HANDOFF if step == "handed_off" else None)
        if i % 50 == 0:
            db.session.flush()
    unit_of_work.commit()
    yield f"Loaded {residents} residents and requests, {len(pool)} volunteers, {len(DEMO_USERS)} users."
    yield from _logins()

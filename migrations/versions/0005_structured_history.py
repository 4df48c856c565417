"""Structured history and unknown locations.

- request_events.volunteer_id: the volunteer an event concerns (offered to, declined by, delivering), in a
  column, so nothing reads it out of the event's prose. Existing rows are filled once, here: an offer's
  "volunteer #N" text names it; a volunteer's decline concerns whoever the request was last offered to.
- residents.location_source: how the location was found ('postcode' from the directory, or set by a
  coordinator from a 'nearby_postcode' or 'coordinates'); NULL means the location is unknown (a real
  postcode the installed directory does not list yet): the request is accepted and flagged, never refused.

Revision ID: 0005
Revises: 0004
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OFFERED = re.compile(r"volunteer #(\d+)")


def upgrade():
    with op.batch_alter_table("request_events") as batch:
        batch.add_column(sa.Column("volunteer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_request_events_volunteer_id_volunteers", "volunteers", ["volunteer_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_request_events_volunteer_id", ["volunteer_id", "created_at"])
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("location_source", sa.String(length=16), nullable=True))
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE request_events DISABLE TRIGGER request_events_append_only")
    op.execute("UPDATE residents SET location_source = 'postcode' WHERE lat IS NOT NULL AND lon IS NOT NULL")
    # The one place prose is read: turning the old free-text history into columns, once.
    rows = bind.execute(
        sa.text(
            "SELECT id, request_id, from_status, to_status, reason FROM request_events "
            "WHERE kind = 'transition' ORDER BY request_id, id"
        )
    ).all()
    offered: dict[int, int] = {}
    updates: list[dict[str, int]] = []
    volunteer_ids = {row[0] for row in bind.execute(sa.text("SELECT id FROM volunteers")).all()}
    for event_id, request_id, from_status, to_status, reason in rows:
        volunteer_id = None
        if to_status == "matched":
            found = _OFFERED.search(reason or "")
            if found:
                volunteer_id = offered[request_id] = int(found.group(1))
        elif from_status in ("matched", "accepted", "in_progress", "delivered") and request_id in offered:
            volunteer_id = offered[request_id]
        if volunteer_id is not None and volunteer_id in volunteer_ids:
            updates.append({"v": volunteer_id, "i": event_id})
    if updates:
        bind.execute(sa.text("UPDATE request_events SET volunteer_id = :v WHERE id = :i"), updates)
    if postgres:
        op.execute("ALTER TABLE request_events ENABLE TRIGGER request_events_append_only")


def downgrade():
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("location_source")
    with op.batch_alter_table("request_events") as batch:
        batch.drop_index("ix_request_events_volunteer_id")
        batch.drop_constraint("fk_request_events_volunteer_id_volunteers", type_="foreignkey")
        batch.drop_column("volunteer_id")

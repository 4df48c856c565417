"""What each volunteer holds now (their limits: tasks at once, most a day) is read on every offer, on Nearby and on
the request page's drop-down: a partial index on requests (volunteer_id, status) for the requests that hold their
volunteer (matched, accepted, in progress), so each read is a few index rows, not a bitmap of every busy request.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BUSY = "status IN ('matched', 'accepted', 'in_progress')"


def upgrade():
    op.create_index(
        "ix_requests_busy_volunteer",
        "requests",
        ["volunteer_id", "status"],
        postgresql_where=sa.text(BUSY),
        sqlite_where=sa.text(BUSY),
    )


def downgrade():
    op.drop_index("ix_requests_busy_volunteer", table_name="requests")

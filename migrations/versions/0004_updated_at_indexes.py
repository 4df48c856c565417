"""Indexes on requests, residents and volunteers updated_at: the data-version queries behind the heat-map
cache and the queue page cache read max(updated_at) on every view, which must stay an index lookup at
100,000 rows.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_requests_updated_at", "requests", ["updated_at"])
    op.create_index("ix_residents_updated_at", "residents", ["updated_at"])
    op.create_index("ix_volunteers_updated_at", "volunteers", ["updated_at"])


def downgrade():
    op.drop_index("ix_volunteers_updated_at", table_name="volunteers")
    op.drop_index("ix_residents_updated_at", table_name="residents")
    op.drop_index("ix_requests_updated_at", table_name="requests")

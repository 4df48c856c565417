"""ix_requests_pool_cell is for SQLite only: on PostgreSQL Nearby walks ix_requests_pool_place (0023), and the cell
index was still kept up to date on every write of a triaged, unassigned request, for no reader. Dropped there;
SQLite keeps it (Nearby reaches the pool by the volunteer's H3 cells on SQLite).

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

POOL = "status = 'triaged' AND volunteer_id IS NULL"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_requests_pool_cell", table_name="requests")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_requests_pool_cell",
            "requests",
            ["h3_map", "type"],
            postgresql_where=sa.text(POOL),
            postgresql_include=["lat", "lon", "id"],
        )

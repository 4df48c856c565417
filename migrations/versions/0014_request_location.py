"""Nearby by cell: requests carry a copy of their resident's location, and the pool is indexed by H3 cell.

Nearby read the whole self-service pool (ix_requests_unassigned_pool, by type) and joined every pool row to its
resident before filtering by the resident's cell and ordering by distance: the cost grew with the pool, not
with what is near the volunteer.

- requests.h3_map, lat, lon: the resident's residents.h3_map (resolution 8, not personal), lat and lon
  (personal, so erasure blanks them and subject access exports them, like the residents' own), backfilled
  here in SQL and kept in step by services/residents/request_location.follow wherever a resident's location
  or a new request is written;
- ix_requests_pool_cell (h3_map, type) over the pool (triaged, unassigned): Nearby reads the index range of
  each cell around the volunteer, orders those rows by distance from requests alone, and joins only the rows
  it shows to residents (for the postcode).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

POOL = "status = 'triaged' AND volunteer_id IS NULL"


def upgrade():
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("h3_map", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lon", sa.Float(), nullable=True))
    # One set-based statement (PostgreSQL and SQLite 3.33+ both take UPDATE ... FROM).
    op.execute(
        "UPDATE requests SET h3_map = residents.h3_map, lat = residents.lat, lon = residents.lon FROM residents"
        " WHERE residents.id = requests.resident_id"
        " AND (residents.h3_map IS NOT NULL OR residents.lat IS NOT NULL OR residents.lon IS NOT NULL)"
    )
    op.create_index(
        "ix_requests_pool_cell",
        "requests",
        ["h3_map", "type"],
        postgresql_where=sa.text(POOL),
        sqlite_where=sa.text(POOL),
    )


def downgrade():
    op.drop_index("ix_requests_pool_cell", table_name="requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("lon")
        batch.drop_column("lat")
        batch.drop_column("h3_map")

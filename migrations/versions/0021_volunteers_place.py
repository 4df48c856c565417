"""The request page's drop-down of volunteers nearest the resident reads them nearest first from an index: a GiST
index on each available volunteer's place (PostgreSQL's point, longitude scaled by 0.6, the cosine of Great
Britain's middle latitude, so a degree east weighs about what it does on the ground), which PostgreSQL walks in
order of distance (K nearest neighbours) and stops after the few it needs. It sorted every available volunteer
by distance before: 12.5 ms a page at 20,000 volunteers. SQLite keeps the sort.

Revision ID: 0021
Revises: 0020
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# services.volunteers.profiles.candidates_for writes the same expression and the same conditions.
PLACE = "point(lon * 0.6, lat)"
AVAILABLE = "active IS true AND status = 'active' AND lat IS NOT NULL AND lon IS NOT NULL"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_volunteers_place ON volunteers USING gist (({PLACE})) WHERE {AVAILABLE}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_volunteers_place")

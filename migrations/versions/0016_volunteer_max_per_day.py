"""Volunteers say the most tasks they take in a day (volunteers.max_per_day, 1..20, NULL for no daily limit),
beside the most they hold at once (capacity).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("max_per_day", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_volunteers_max_per_day_range"), "max_per_day IS NULL OR (max_per_day >= 1 AND max_per_day <= 20)"
        )


def downgrade():
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_constraint(op.f("ck_volunteers_max_per_day_range"), type_="check")
        batch.drop_column("max_per_day")

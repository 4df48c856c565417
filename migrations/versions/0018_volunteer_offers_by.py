"""Volunteers choose how offers reach them (volunteers.offers_by): the app ('web', the default) or a text
message answered YES or NO ('sms'), for volunteers without a smartphone.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("offers_by", sa.String(length=10), nullable=False, server_default="web"))
        batch.create_check_constraint(op.f("ck_volunteers_offers_by_valid"), "offers_by IN ('web', 'sms')")


def downgrade():
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_constraint(op.f("ck_volunteers_offers_by_valid"), type_="check")
        batch.drop_column("offers_by")

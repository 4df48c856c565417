"""A TOTP code works once: users.totp_last_step keeps the time step of the last code accepted (RFC 6238 section
5.2; OWASP ASVS 2.8.4), so a code seen over someone's shoulder or replayed within its 30 seconds is refused.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")

"""Partner organisations add their own people as volunteers, who are invited to set a password.

- volunteers.added_by_id / added_by_organisation: which partner account added the person and that account's
  organisation at the time. The organisation column decides which partner accounts see the person; the
  volunteer cannot change it (their own free-text `organisation` field is separate).
- account_invitations: a one-use link to set a password (only the token's SHA-256 is stored).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("added_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("added_by_organisation", sa.String(length=120), nullable=True))
        batch.create_foreign_key(
            op.f("fk_volunteers_added_by_id_users"), "users", ["added_by_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_volunteers_added_by_organisation", ["added_by_organisation", "name"])
    op.create_table(
        "account_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_invitations_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_account_invitations_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_invitations")),
        sa.UniqueConstraint("token_hash", name="uq_account_invitations_token_hash"),
    )
    op.create_index("ix_account_invitations_user_id", "account_invitations", ["user_id"])


def downgrade():
    op.drop_index("ix_account_invitations_user_id", table_name="account_invitations")
    op.drop_table("account_invitations")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_index("ix_volunteers_added_by_organisation")
        batch.drop_constraint(op.f("fk_volunteers_added_by_id_users"), type_="foreignkey")
        batch.drop_column("added_by_organisation")
        batch.drop_column("added_by_id")

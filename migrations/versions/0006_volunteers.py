"""Volunteers on phones: vetting, self-service types, progress with idempotency keys, logged hours.

- volunteers.status (pending / active / rejected / left): only `active` volunteers are offered work. Volunteers
  that exist already were added by coordinators and have been offered work: they stay `active`; any row added
  later without a status waits for vetting (server default `pending`).
- vetting columns (identity, references, training, DBS certificate number, who vetted and when), transport.
- home_postcode may be empty: `create-user --role volunteer` makes an empty profile the volunteer fills in.
- self_service_types: request types a coordinator opened for volunteers to claim from "Nearby".
- volunteer_progress: each progress update by its idempotency key (offline phones resend), and visit timing for
  lone working.
- ix_requests_unassigned_pool: the unassigned triaged requests, the pool "Nearby" reads, without a scan.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0010"
branch_labels = None
depends_on = None

_STATUSES = "'pending', 'active', 'rejected', 'left'"
_TYPES = "'food_parcel', 'shopping', 'prescription', 'befriending', 'transport', 'dog_walking', 'other'"


def upgrade():
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("status", sa.String(length=12), nullable=False, server_default="active"))
        batch.add_column(sa.Column("transport", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("dbs_certificate_number", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("identity_checked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("references_checked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("training_done", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("vetted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("vetted_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("vetting_reason", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_volunteers_vetted_by_id_users", "users", ["vetted_by_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_check_constraint(op.f("ck_volunteers_status_valid"), f"status IN ({_STATUSES})")
        batch.create_index("ix_volunteers_status", ["status"])
        batch.alter_column("home_postcode", server_default="")
    with op.batch_alter_table("volunteers") as batch:
        # Old rows were filled as active; a row inserted from now on without a status waits for vetting.
        batch.alter_column("status", server_default="pending")
    op.create_table(
        "self_service_types",
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"type IN ({_TYPES})", name=op.f("ck_self_service_types_type_valid")),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_self_service_types_opened_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("type", name=op.f("pk_self_service_types")),
    )
    op.create_table(
        "volunteer_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_ok_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_progress_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_volunteer_progress_request_id_requests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_progress")),
        sa.UniqueConstraint("volunteer_id", "idempotency_key", name="uq_volunteer_progress_key"),
    )
    op.create_index("ix_volunteer_progress_visits", "volunteer_progress", ["step", "alerted_at", "created_at"])
    op.create_index("ix_volunteer_progress_request", "volunteer_progress", ["request_id", "id"])
    op.create_table(
        "volunteer_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("worked_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("minutes > 0 AND minutes <= 1440", name=op.f("ck_volunteer_hours_minutes_range")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_hours_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_hours")),
    )
    op.create_index("ix_volunteer_hours_volunteer", "volunteer_hours", ["volunteer_id", "worked_on"])
    pool = "status = 'triaged' AND volunteer_id IS NULL"
    op.create_index(
        "ix_requests_unassigned_pool",
        "requests",
        ["type", "resident_id"],
        postgresql_where=sa.text(pool),
        sqlite_where=sa.text(pool),
    )


def downgrade():
    op.drop_index("ix_requests_unassigned_pool", table_name="requests")
    op.drop_index("ix_volunteer_hours_volunteer", table_name="volunteer_hours")
    op.drop_table("volunteer_hours")
    op.drop_index("ix_volunteer_progress_request", table_name="volunteer_progress")
    op.drop_index("ix_volunteer_progress_visits", table_name="volunteer_progress")
    op.drop_table("volunteer_progress")
    op.drop_table("self_service_types")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_index("ix_volunteers_status")
        batch.drop_constraint("ck_volunteers_status_valid", type_="check")
        batch.drop_constraint("fk_volunteers_vetted_by_id_users", type_="foreignkey")
        for column in (
            "vetting_reason",
            "vetted_by_id",
            "vetted_at",
            "training_done",
            "references_checked",
            "identity_checked",
            "dbs_certificate_number",
            "transport",
            "status",
        ):
            batch.drop_column(column)

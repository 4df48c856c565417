"""Food-parcel delivery rounds (round_plans, delivery_rounds, round_stops), and the proven bound a matching run
keeps when its time limit (MATCHING_TIME_LIMIT_SECONDS) ran out before the proof (matching_runs.bound).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "round_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("hub_name", sa.String(length=80), nullable=False),
        sa.Column("hub_lat", sa.Float(), nullable=False),
        sa.Column("hub_lon", sa.Float(), nullable=False),
        sa.Column("window_start_min", sa.Integer(), nullable=False),
        sa.Column("window_end_min", sa.Integer(), nullable=False),
        sa.Column("service_min", sa.Integer(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=False),
        sa.Column("road_factor", sa.Float(), nullable=False),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.Column("total_km", sa.Float(), nullable=False),
        sa.Column("served_by_urgency", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('planning', 'draft', 'approved', 'discarded', 'failed')", name=op.f("ck_round_plans_state_valid")
        ),
        sa.CheckConstraint(
            "window_start_min >= 0 AND window_start_min <= window_end_min", name=op.f("ck_round_plans_window_order")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_round_plans_approved_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_round_plans_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_round_plans_job_id_jobs"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_plans")),
    )
    with op.batch_alter_table("round_plans", schema=None) as batch_op:
        batch_op.create_index("ix_round_plans_created_at", ["created_at"], unique=False)

    op.create_table(
        "delivery_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("shift_start_min", sa.Integer(), nullable=False),
        sa.Column("shift_end_min", sa.Integer(), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("end_min", sa.Float(), nullable=True),
        sa.CheckConstraint("capacity >= 1 AND capacity <= 500", name=op.f("ck_delivery_rounds_capacity_range")),
        sa.CheckConstraint(
            "shift_start_min >= 0 AND shift_start_min < shift_end_min", name=op.f("ck_delivery_rounds_shift_order")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["round_plans.id"], name=op.f("fk_delivery_rounds_plan_id_round_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_delivery_rounds_volunteer_id_volunteers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_rounds")),
        sa.UniqueConstraint("plan_id", "volunteer_id", name="uq_delivery_rounds_plan_volunteer"),
    )
    with op.batch_alter_table("delivery_rounds", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_rounds_volunteer", ["volunteer_id", "plan_id"], unique=False)

    op.create_table(
        "round_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("parcels", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("window_start_min", sa.Integer(), nullable=False),
        sa.Column("window_end_min", sa.Integer(), nullable=False),
        sa.Column("arrival_min", sa.Float(), nullable=True),
        sa.Column("unserved_reason", sa.String(length=40), nullable=True),
        sa.CheckConstraint("parcels >= 0", name=op.f("ck_round_stops_parcels_positive")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["round_plans.id"], name=op.f("fk_round_stops_plan_id_round_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_round_stops_request_id_requests"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["delivery_rounds.id"],
            name=op.f("fk_round_stops_round_id_delivery_rounds"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_stops")),
        sa.UniqueConstraint("plan_id", "request_id", name="uq_round_stops_plan_request"),
    )
    with op.batch_alter_table("round_stops", schema=None) as batch_op:
        batch_op.create_index("ix_round_stops_request", ["request_id"], unique=False)
        batch_op.create_index("ix_round_stops_round", ["round_id", "position"], unique=False)

    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bound", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.drop_column("bound")

    with op.batch_alter_table("round_stops", schema=None) as batch_op:
        batch_op.drop_index("ix_round_stops_round")
        batch_op.drop_index("ix_round_stops_request")

    op.drop_table("round_stops")
    with op.batch_alter_table("delivery_rounds", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_rounds_volunteer")

    op.drop_table("delivery_rounds")
    with op.batch_alter_table("round_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_round_plans_created_at")

    op.drop_table("round_plans")

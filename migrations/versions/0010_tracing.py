"""Local Track and Trace: interactions, cases, contacts, messages to contacts, Test and Trace ids; users.can_trace.

People are a resident or a volunteer, in two foreign keys (ON DELETE CASCADE: erasing a person erases their
tracing data); `*_key` is a generated column (resident r -> 2r, volunteer v -> 2v + 1) that the trace walks
through one (key, time) index per side of an interaction.

Revision ID: 0010
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tracing_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column(
            "person_key",
            sa.BigInteger(),
            sa.Computed(
                "CASE WHEN resident_id IS NOT NULL THEN resident_id * 2 ELSE volunteer_id * 2 + 1 END", persisted=True
            ),
            nullable=False,
        ),
        sa.Column("onset", sa.Date(), nullable=False),
        sa.Column("onset_kind", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("onset_kind IN ('symptoms', 'test')", name=op.f("ck_tracing_cases_onset_kind_valid")),
        sa.CheckConstraint("(resident_id IS NULL) <> (volunteer_id IS NULL)", name=op.f("ck_tracing_cases_one_person")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_tracing_cases_recorded_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_tracing_cases_resident_id_residents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_tracing_cases_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_cases")),
    )
    with op.batch_alter_table("tracing_cases", schema=None) as batch_op:
        batch_op.create_index("ix_tracing_cases_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_tracing_cases_onset", ["onset"], unique=False)
        batch_op.create_index("ix_tracing_cases_person_key", ["person_key"], unique=False)

    op.create_table(
        "tracing_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("test_and_trace_id", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(resident_id IS NULL) <> (volunteer_id IS NULL)", name=op.f("ck_tracing_identities_one_person")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_tracing_identities_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_tracing_identities_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_tracing_identities_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_identities")),
        sa.UniqueConstraint("resident_id", name="uq_tracing_identities_resident_id"),
        sa.UniqueConstraint("volunteer_id", name="uq_tracing_identities_volunteer_id"),
    )
    op.create_table(
        "tracing_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('to_call', 'called')", name=op.f("ck_tracing_messages_state_valid")),
        sa.CheckConstraint(
            "(resident_id IS NULL) <> (volunteer_id IS NULL)", name=op.f("ck_tracing_messages_one_person")
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["users.id"], name=op.f("fk_tracing_messages_done_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_tracing_messages_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_tracing_messages_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_messages")),
    )
    with op.batch_alter_table("tracing_messages", schema=None) as batch_op:
        batch_op.create_index("ix_tracing_messages_state", ["state", "id"], unique=False)

    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_a_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_a_id", sa.Integer(), nullable=True),
        sa.Column(
            "a_key",
            sa.BigInteger(),
            sa.Computed(
                "CASE WHEN resident_a_id IS NOT NULL THEN resident_a_id * 2 ELSE volunteer_a_id * 2 + 1 END",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("resident_b_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_b_id", sa.Integer(), nullable=True),
        sa.Column(
            "b_key",
            sa.BigInteger(),
            sa.Computed(
                "CASE WHEN resident_b_id IS NOT NULL THEN resident_b_id * 2 ELSE volunteer_b_id * 2 + 1 END",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("setting", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('visit', 'household', 'hub_shift', 'befriending', 'other')",
            name=op.f("ck_interactions_kind_valid"),
        ),
        sa.CheckConstraint("setting IN ('inside', 'doorstep', 'outside')", name=op.f("ck_interactions_setting_valid")),
        sa.CheckConstraint(
            "(resident_a_id IS NULL) <> (volunteer_a_id IS NULL)", name=op.f("ck_interactions_one_person_a")
        ),
        sa.CheckConstraint(
            "(resident_b_id IS NULL) <> (volunteer_b_id IS NULL)", name=op.f("ck_interactions_one_person_b")
        ),
        sa.CheckConstraint(
            "COALESCE(resident_a_id, -1) <> COALESCE(resident_b_id, -1) "
            "OR COALESCE(volunteer_a_id, -1) <> COALESCE(volunteer_b_id, -1)",
            name=op.f("ck_interactions_two_people"),
        ),
        sa.CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name=op.f("ck_interactions_duration_range")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_interactions_recorded_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_interactions_request_id_requests"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["resident_a_id"],
            ["residents.id"],
            name=op.f("fk_interactions_resident_a_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_b_id"],
            ["residents.id"],
            name=op.f("fk_interactions_resident_b_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_a_id"],
            ["volunteers.id"],
            name=op.f("fk_interactions_volunteer_a_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_b_id"],
            ["volunteers.id"],
            name=op.f("fk_interactions_volunteer_b_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index("ix_interactions_a_key_time", ["a_key", "occurred_at"], unique=False)
        batch_op.create_index("ix_interactions_b_key_time", ["b_key", "occurred_at"], unique=False)
        batch_op.create_index("ix_interactions_occurred_at", ["occurred_at"], unique=False)
        batch_op.create_index(
            "ix_interactions_resident_a_id",
            ["resident_a_id"],
            unique=False,
            postgresql_where=sa.text("resident_a_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_interactions_resident_b_id",
            ["resident_b_id"],
            unique=False,
            postgresql_where=sa.text("resident_b_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_interactions_volunteer_a_id",
            ["volunteer_a_id"],
            unique=False,
            postgresql_where=sa.text("volunteer_a_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_interactions_volunteer_b_id",
            ["volunteer_b_id"],
            unique=False,
            postgresql_where=sa.text("volunteer_b_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_interactions_visit",
            ["request_id", "volunteer_a_id"],
            unique=True,
            postgresql_where=sa.text("request_id IS NOT NULL"),
            sqlite_where=sa.text("request_id IS NOT NULL"),
        )

    op.create_table(
        "tracing_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column(
            "person_key",
            sa.BigInteger(),
            sa.Computed(
                "CASE WHEN resident_id IS NOT NULL THEN resident_id * 2 ELSE volunteer_id * 2 + 1 END", persisted=True
            ),
            nullable=False,
        ),
        sa.Column("degree", sa.Integer(), nullable=False),
        sa.Column("exposure", sa.String(length=10), nullable=False),
        sa.Column("exposure_minutes", sa.Integer(), nullable=False),
        sa.Column("first_exposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("isolating_until", sa.Date(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "exposure IN ('inside', 'doorstep', 'outside')", name=op.f("ck_tracing_contacts_exposure_valid")
        ),
        sa.CheckConstraint(
            "status <> 'isolating' OR isolating_until IS NOT NULL", name=op.f("ck_tracing_contacts_isolating_has_end")
        ),
        sa.CheckConstraint(
            "status IN ('to_notify', 'notified', 'isolating', 'released')",
            name=op.f("ck_tracing_contacts_status_valid"),
        ),
        sa.CheckConstraint(
            "(resident_id IS NULL) <> (volunteer_id IS NULL)", name=op.f("ck_tracing_contacts_one_person")
        ),
        sa.CheckConstraint("degree IN (1, 2)", name=op.f("ck_tracing_contacts_degree_valid")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tracing_cases.id"],
            name=op.f("fk_tracing_contacts_case_id_tracing_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_tracing_contacts_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_tracing_contacts_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_contacts")),
        sa.UniqueConstraint("case_id", "person_key", name="uq_tracing_contacts_case_person"),
    )
    with op.batch_alter_table("tracing_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_tracing_contacts_person_key", ["person_key"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("can_trace", sa.Boolean(), server_default=sa.text("false"), nullable=False))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("can_trace")
    for table in ("tracing_contacts", "interactions", "tracing_messages", "tracing_identities", "tracing_cases"):
        op.drop_table(table)

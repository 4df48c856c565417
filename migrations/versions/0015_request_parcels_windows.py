"""Food-parcel requests say how many parcels and when the resident can take delivery.

- requests.parcels: 1..20 on food-parcel requests (existing ones get 1), NULL on other types.
- requests.delivery_window: any | morning | afternoon | evening | between (existing food parcels get "any");
  the hours of the named windows are configured (DELIVERY_WINDOWS), `between` keeps its own
  delivery_from_min / delivery_to_min (minutes from midnight).

Revision ID: 0015
Revises: 0014 (another branch adds 0014; the chain is fixed on merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_WINDOWS = "'any', 'morning', 'afternoon', 'evening', 'between'"


def upgrade():
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("parcels", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delivery_window", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("delivery_from_min", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delivery_to_min", sa.Integer(), nullable=True))
    op.execute("UPDATE requests SET parcels = 1, delivery_window = 'any' WHERE type = 'food_parcel'")
    with op.batch_alter_table("requests") as batch:
        batch.create_check_constraint(op.f("ck_requests_parcels_range"), "parcels IS NULL OR parcels BETWEEN 1 AND 20")
        batch.create_check_constraint(op.f("ck_requests_delivery_window_valid"), f"delivery_window IN ({_WINDOWS})")
        batch.create_check_constraint(
            "delivery_between",
            "(delivery_window = 'between') = (delivery_from_min IS NOT NULL AND delivery_to_min IS NOT NULL)"
            " AND (delivery_from_min IS NULL OR delivery_to_min IS NULL"
            " OR (delivery_from_min >= 0 AND delivery_from_min < delivery_to_min AND delivery_to_min <= 1440))",
        )


def downgrade():
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint(op.f("ck_requests_delivery_between"), type_="check")
        batch.drop_constraint(op.f("ck_requests_delivery_window_valid"), type_="check")
        batch.drop_constraint(op.f("ck_requests_parcels_range"), type_="check")
        batch.drop_column("delivery_to_min")
        batch.drop_column("delivery_from_min")
        batch.drop_column("delivery_window")
        batch.drop_column("parcels")

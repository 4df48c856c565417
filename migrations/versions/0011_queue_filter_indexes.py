"""Queue indexes for every filter, not only the open default: a coordinator filtering by status, type or urgency,
or paging through closed requests, read 100,000 rows twice per page (a sequential scan to count, another to sort).

- ix_requests_queue_order: the queue's own order over all requests, so a page is an index walk that stops at
  the page's last row, whatever the status filter;
- ix_requests_status_type_urgency: the filter columns, so counting a filtered queue is an index-only scan.

(Declared here and not in models/request.py while that module is being changed for structured history: the
lead adds the two `Index(...)` lines to the model at merge.)

Revision ID: 0011
Revises: 0009
"""

from alembic import op
from sqlalchemy import text

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_requests_queue_order", "requests", [text("urgency DESC"), "sla_due_at", "id"])
    op.create_index("ix_requests_status_type_urgency", "requests", ["status", "type", "urgency"])


def downgrade():
    op.drop_index("ix_requests_status_type_urgency", table_name="requests")
    op.drop_index("ix_requests_queue_order", table_name="requests")

"""The personal-data catalogue is read from the models: every table about a person declares its text columns,
so a table added by the next domain cannot leak past subject access and erasure by being forgotten."""

from __future__ import annotations

from typing import Any

from can_crm.services.privacy import catalogue


def test_every_table_about_a_person_declares_whether_its_text_columns_are_personal(app: Any) -> None:
    with app.app_context():
        about_people = catalogue.tables_about_people()
        undeclared = {
            name: catalogue.undeclared_columns(catalogue.table(name))
            for name in sorted(about_people)
            if catalogue.undeclared_columns(catalogue.table(name))
        }
    assert not undeclared, (
        f"mark these columns info={{'personal': True}} (or False when they hold nothing about a person): {undeclared}"
    )


def test_tables_about_residents_are_found_through_requests(app: Any) -> None:
    with app.app_context():
        found = set(catalogue.referring_tables("residents"))
    assert {"residents", "requests", "request_events", "match_proposals", "safeguarding_concerns"} <= found
    assert {"audit_log", "consents", "review_tasks"} <= found
    assert "users" not in found and "jobs" not in found


def test_the_people_tables_mark_contact_details_and_free_text_personal(app: Any) -> None:
    with app.app_context():
        personal = {
            name: {c.name for c in catalogue.personal_columns(catalogue.table(name))}
            for name in ("residents", "volunteers", "users", "requests", "request_events", "safeguarding_concerns")
        }
    assert {"name", "address_line1", "postcode", "phone", "email", "vulnerabilities", "nhs_number"} <= personal[
        "residents"
    ]
    assert {"name", "phone", "email", "home_postcode"} <= personal["volunteers"]
    assert {"name", "email"} <= personal["users"]
    assert {"details", "coordinator_notes", "volunteer_notes"} <= personal["requests"]
    assert personal["request_events"] == {"reason"}
    assert {"details", "outcome"} <= personal["safeguarding_concerns"]


def test_an_undeclared_text_column_on_a_new_table_is_caught(app: Any) -> None:
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text

    scratch = MetaData()
    Table("residents", scratch, Column("id", Integer, primary_key=True))
    messages = Table(
        "messages",
        scratch,
        Column("id", Integer, primary_key=True),
        Column("resident_id", ForeignKey("residents.id")),
        Column("body", Text),
        Column("to_phone", String(20)),
        Column("status", String(12), info={"personal": False}),
    )
    assert catalogue.undeclared_columns(messages) == ["body", "to_phone"]


def test_sqlite_connections_overwrite_deleted_content(app: Any) -> None:
    from sqlalchemy import create_engine, text

    with create_engine("sqlite://").connect() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1

"""Our signing key (made on first use, owner-only, shown and rotated by command) and partners' key rotation: a
partner's previous key verifies bundles signed before the rotation, for the grace period only."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import test_handoff_inbox
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_handoff_inbox import KC, post, signed, unsigned

from can_crm import unit_of_work
from can_crm.models.federation import Partner
from can_crm.services.federation import bundle as bundles
from can_crm.services.federation import keys

partner_key = test_handoff_inbox.partner_key  # the fixture: K&C registered with a key this test holds


def test_keys_show_and_rotate(app: Any, db: Any, tmp_path: Path) -> None:
    saved = app.config["FEDERATION_KEYS_DIR"]
    app.config["FEDERATION_KEYS_DIR"] = str(tmp_path / "keys")
    try:
        runner = app.test_cli_runner()
        shown = runner.invoke(args=["keys", "show"])
        assert shown.exit_code == 0
        assert "gss_code: E09000013" in shown.output
        first = next(line.split(": ", 1)[1] for line in shown.output.splitlines() if line.startswith("public_key:"))
        key_file = tmp_path / "keys" / keys.KEY_FILE
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
        rotated = runner.invoke(args=["keys", "rotate"])
        assert rotated.exit_code == 0 and f"old_public_key: {first}" in rotated.output
        again = runner.invoke(args=["keys", "show"]).output
        assert f"public_key: {first}" not in again.splitlines()
        assert f"retired_key: {first}" in again
        assert keys.current_public_key() != first
    finally:
        app.config["FEDERATION_KEYS_DIR"] = saved


def _rotate_partner(app: Any, new_key: Ed25519PrivateKey) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "partners",
            "add",
            "--gss",
            KC,
            "--name",
            "Kensington and Chelsea",
            "--url",
            "https://can.rbkc.example",
            "--key",
            keys.public_key_text(new_key),
            "--agreement",
            "ISA-2026-014",
            "--lawful-basis",
            "public_task",
        ]
    )
    assert result.exit_code == 0 and "partner E09000020" in result.output, result.output


def test_partner_key_rotation_keeps_old_bundles_valid_for_the_grace_period(
    app: Any, client: Any, db: Any, partner_key: Ed25519PrivateKey, hf_postcode: str
) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    stamp = {"created_at": bundles.timestamp(before), "expires_at": bundles.timestamp(before + timedelta(days=7))}
    old_signed = signed(partner_key, unsigned(hf_postcode, **stamp))
    late_with_old_key = signed(
        partner_key, unsigned(hf_postcode, created_at=bundles.timestamp(datetime.now(UTC) + timedelta(minutes=1)))
    )
    new_key = Ed25519PrivateKey.generate()
    _rotate_partner(app, new_key)
    assert db.session.query(Partner).one().previous_public_key == keys.public_key_text(partner_key)

    assert post(client, old_signed).status_code == 201  # signed before the rotation: still good
    assert post(client, late_with_old_key).get_json()["error"]["code"] == "bad_signature"
    assert post(client, signed(new_key, unsigned(hf_postcode))).status_code == 201

    partner = db.session.query(Partner).one()
    partner.previous_key_expires_at = datetime.now(UTC) - timedelta(seconds=1)
    unit_of_work.commit()
    expired_grace = signed(partner_key, unsigned(hf_postcode, **stamp))
    assert post(client, expired_grace).get_json()["error"]["code"] == "bad_signature"


def test_partners_add_refuses_bad_input_and_lists_partners(app: Any, db: Any) -> None:
    runner = app.test_cli_runner()
    bad = runner.invoke(
        args=[
            "partners",
            "add",
            "--gss",
            "E09000013",
            "--name",
            "Us",
            "--key",
            "nope",
            "--agreement",
            "A",
            "--lawful-basis",
            "public_task",
        ]
    )
    assert bad.exit_code == 2 and "public_key" in bad.output
    ours = runner.invoke(
        args=[
            "partners",
            "add",
            "--gss",
            "E09000013",
            "--name",
            "Us",
            "--key",
            keys.public_key_text(Ed25519PrivateKey.generate()),
            "--agreement",
            "A",
            "--lawful-basis",
            "public_task",
        ]
    )
    assert ours.exit_code == 2 and "our own GSS code" in ours.output
    _rotate_partner(app, Ed25519PrivateKey.generate())
    listed = runner.invoke(args=["partners", "list"])
    assert listed.exit_code == 0 and listed.output.startswith(
        "E09000020\tKensington and Chelsea\thttps://can.rbkc.example"
    )

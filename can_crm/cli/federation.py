"""Handoff between authorities: `keys show|rotate`, `partners add|list`, `handoff export|import`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from can_crm import unit_of_work
from can_crm.cli.common import fail
from can_crm.models.enums import LawfulBasis, values
from can_crm.services.common.errors import DomainError
from can_crm.services.federation import keys as key_service
from can_crm.services.federation import partners as partner_service
from can_crm.services.federation import receiving, sending
from can_crm.services.requests.references import normalise_reference


def register(cli: AppGroup) -> None:
    keys = AppGroup("keys", help="Our Ed25519 signing key for handoff bundles.")
    partners = AppGroup("partners", help="Partner authorities we hand requests to and take them from.")
    handoff = AppGroup("handoff", help="Handoff bundles through files.")
    cli.add_command(keys)
    cli.add_command(partners)
    cli.add_command(handoff)

    @keys.command("show")
    def show() -> None:
        """Print our GSS code and public key (give both to partner authorities)."""
        public = key_service.current_public_key()
        click.echo(f"gss_code: {current_app.config['AUTHORITY_GSS_CODE']}")
        click.echo(f"name: {current_app.config['AUTHORITY_NAME']}")
        click.echo(f"public_key: {public}")
        click.echo(f"key_id: {key_service.key_id(public)}")
        for retired in key_service.retired_keys():
            click.echo(
                f"retired_key: {retired.public_key} (key_id {retired.key_id}, retired {retired.retired_at:%Y-%m-%d})"
            )

    @keys.command("rotate")
    def rotate() -> None:
        """Make a new signing key; the old one is listed by `keys show` for the grace period."""
        old, new = key_service.rotate()
        days = current_app.config["HANDOFF_KEY_GRACE_DAYS"]
        click.echo(f"old_public_key: {old}")
        click.echo(f"public_key: {new}")
        click.echo(f"Give partners the new key; bundles signed with the old one stay valid for {days} days.")

    @partners.command("add")
    @click.option("--gss", "gss_code", required=True, help="The partner's GSS code, e.g. E09000020")
    @click.option("--name", required=True, help="The authority's name")
    @click.option("--url", "base_url", default=None, help="Their CAN CRM address (omit if you exchange files only)")
    @click.option("--key", "public_key", required=True, help="Their public key, as their `keys show` prints it")
    @click.option("--agreement", "agreement_ref", required=True, help="The data-sharing agreement reference")
    @click.option("--lawful-basis", "lawful_basis", required=True, type=click.Choice(values(LawfulBasis)))
    def add(
        gss_code: str, name: str, base_url: str | None, public_key: str, agreement_ref: str, lawful_basis: str
    ) -> None:
        """Register a partner authority (or update one: a new key keeps the old one valid for the grace period)."""
        data = {
            "gss_code": gss_code,
            "name": name,
            "base_url": base_url,
            "public_key": public_key,
            "agreement_ref": agreement_ref,
            "lawful_basis": lawful_basis,
        }
        try:
            partner, created = partner_service.save_partner(data)
        except DomainError as exc:
            fail(exc)
            return
        unit_of_work.commit()
        click.echo(f"{'Added' if created else 'Updated'} partner {partner.gss_code} {partner.name}")

    @partners.command("list")
    def list_() -> None:
        """One line per partner: GSS code, name, address, agreement, lawful basis, key id."""
        for p in partner_service.list_partners():
            click.echo(
                "\t".join(
                    [
                        p.gss_code,
                        p.name,
                        p.base_url or "(files only)",
                        p.agreement_ref,
                        p.lawful_basis,
                        key_service.key_id(p.public_key),
                        "active" if p.active else "inactive",
                    ]
                )
            )

    @handoff.command("export")
    @click.argument("reference")
    @click.option("--to", "to", required=True, help="The receiving partner's GSS code")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The bundle file to write")
    @click.option("--reason", default="The resident is better served by the receiving authority", show_default=True)
    @click.option("--notes", default=None, help="Notes for the receiving authority")
    def export(reference: str, to: str, out: str, reason: str, notes: str | None) -> None:
        """Hand a request off through a signed bundle file (for partners whose instance we cannot reach)."""
        canonical = normalise_reference(reference) or reference[:20]
        try:
            document = sending.export_file(None, canonical, to, reason, notes)
        except DomainError as exc:
            unit_of_work.rollback()
            fail(exc)
            return
        path = Path(out)
        try:
            # Owner-only: the file holds the resident's personal data.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, ensure_ascii=False, indent=2)
        except OSError as exc:
            unit_of_work.rollback()
            click.echo(f"Error: cannot write {out}: {exc.strerror}", err=True)
            raise SystemExit(2) from None
        try:
            unit_of_work.commit()
        except Exception:
            path.unlink(missing_ok=True)  # not recorded as disclosed, so it must not exist either
            raise
        click.echo(json.dumps({"reference": canonical, "bundle_id": document["bundle_id"], "out": str(path)}))

    @handoff.command("import")
    @click.argument("file", type=click.Path(dir_okay=False))
    def import_(file: str) -> None:
        """Import a signed bundle file; prints one JSON line with the reference created (or found, for a replay)."""
        try:
            raw = Path(file).read_bytes()
        except OSError as exc:
            click.echo(f"Error: cannot read {file}: {exc.strerror}", err=True)
            raise SystemExit(2) from None
        try:
            received = receiving.receive(raw, channel="file")
        except DomainError as exc:
            unit_of_work.rollback()
            fail(exc)
            return
        unit_of_work.commit()
        click.echo(json.dumps({**received.answer(), "created": received.created}))

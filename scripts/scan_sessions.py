"""Helper for scripts/security_scan.sh: prepare the scan database and sign in as each role.

    scan_sessions.py setup            users of every role (known password, TOTP enrolled), demo data
    scan_sessions.py cookie ROLE URL  sign in through the pages (password + TOTP); print a wapiti cookie file
    scan_sessions.py token ROLE       print a bearer token for ROLE's scan user

Runs with the environment security_scan.sh exports (DATABASE_URL, SECRET_KEY, CAN_ENV).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "scan-password-not-secret-2026"  # noqa: S105 - a throwaway scan database only
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"  # noqa: S105 - the scan users only
ROLES = ("admin", "coordinator", "partner", "councillor", "volunteer")


def _app():  # type: ignore[no-untyped-def]
    from can_crm import create_app

    return create_app()


def setup() -> None:
    from can_crm import unit_of_work
    from can_crm.cli.demo_data import seed
    from can_crm.services.accounts import two_factor, users

    app = _app()
    with app.app_context():
        for _line in seed(residents=40, seed=7):
            pass  # the generator does the work; its lines are the demo logins
        for role in ROLES:
            user = users.create_user(f"scan-{role}@example.gov.uk", f"Scan {role.title()}", role, PASSWORD)
            if role != "volunteer":
                two_factor.enrol_known_secret(user, TOTP_SECRET)
            user.privacy_officer = role == "coordinator"
        unit_of_work.commit()
    print("scan users ready")


def cookie(role: str, base: str) -> None:
    """Sign in like a browser and print the session as a wapiti cookie file (JSON)."""
    session = requests.Session()
    # The scanners' User-Agent: Flask-Login's strong session protection binds the session to it.
    session.headers["User-Agent"] = os.environ.get("SCAN_AGENT", "can-crm-security-scan")
    page = session.get(f"{base}/auth/sign-in", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"email": f"scan-{role}@example.gov.uk", "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
    response = session.post(f"{base}/auth/sign-in", data=data, timeout=30, allow_redirects=False)
    if "/auth/two-factor" in response.headers.get("Location", ""):
        page = session.get(f"{base}/auth/two-factor", timeout=30).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        for _ in range(2):  # a code works once: a role signed in twice within 30 s takes the next code
            response = session.post(
                f"{base}/auth/two-factor",
                data={"code": pyotp.TOTP(TOTP_SECRET).now(), "csrf_token": token.group(1) if token else ""},
                timeout=30,
                allow_redirects=False,
            )
            if "used already" not in response.text:
                break
            time.sleep(30 - time.time() % 30 + 0.5)
    if response.status_code != 302 or "/auth/" in response.headers.get("Location", ""):
        sys.exit(f"sign-in as {role} failed: {response.status_code} {response.headers.get('Location')}")
    host = urlsplit(base).hostname or "127.0.0.1"
    jar = {
        host: {
            "/": {
                c.name: {"value": c.value, "version": 0, "expires": None, "secure": False, "port": None}
                for c in session.cookies
            }
        }
    }
    # Also print the raw Cookie header value on stderr, for sqlmap.
    print("; ".join(f"{c.name}={c.value}" for c in session.cookies), file=sys.stderr)
    print(json.dumps(jar))


def token(role: str) -> None:
    from sqlalchemy import select

    from can_crm import unit_of_work
    from can_crm.extensions import db
    from can_crm.models.user import User
    from can_crm.services.accounts import users

    app = _app()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == f"scan-{role}@example.gov.uk"))
        _, plain = users.issue_token(user, "security scan", None, 1)
        unit_of_work.commit()
    print(plain)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "setup":
        setup()
    elif command == "cookie":
        cookie(sys.argv[2], sys.argv[3])
    elif command == "token":
        token(sys.argv[2])
    else:
        sys.exit(__doc__)

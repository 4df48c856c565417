"""Every command the README shows works exactly as written, run as a newcomer runs it: in a fresh copy
of this checkout, after `make install`, from a shell that has only what the README itself sets up.

The commands come from the README's ```sh blocks, so a command added there is tested here without
anyone keeping a list in step; only the exemptions and the reader's own placeholders are listed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(900)  # a full `make install` plus every command: far above the default

SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
OPTIONAL = re.compile(r"\[([^\[\]]*)\]")

# Shown in the README but not run here, each with the reason.
EXEMPT = {
    "make test": "this suite itself: running it here would recurse",
    ".venv/bin/python scripts/bench_web.py": "benchmark: minutes on a 100,000-request PostgreSQL database",
    ".venv/bin/python -m matching bench --requests 10000 --volunteers 5000": "benchmark: minutes of solving",
    ".venv/bin/python -m geo bench --points 100000": "benchmark: prints figures, checks nothing",
    ".venv/bin/python scripts/bench_maps.py": "benchmark: builds a 100,000-request database",
    ".venv/bin/python scripts/bench_tracing.py --compare": "benchmark: 1,000,000 interactions in PostgreSQL",
    ".venv/bin/python scripts/bench_handoff.py": "benchmark: 10,000 handoffs between two local instances",
    ".venv/bin/python scripts/bench_shielded_import.py": "benchmark: imports 100,000 rows twice",
    ".venv/bin/python scripts/bench_volunteer.py": "benchmark: 100,000 requests and 20,000 volunteers in PostgreSQL",
    # Handoff needs a second authority's instance and key: tests/integration/test_handoff_e2e.py and
    # test_handoff_keys.py run these commands between two instances of the app (two databases, two keys).
    'flask --app wsgi partners add --gss E09000020 --name "Kensington and Chelsea" [--url https://...] '
    "--key PUBLIC_KEY --agreement ISA-2026-014 --lawful-basis public_task": "needs a partner's public key",
    'flask --app wsgi handoff export CAN-XXXX-XXXX --to E09000020 --out bundle.json --reason "Moved borough"': (
        "needs a registered partner and a request"
    ),
    "flask --app wsgi handoff import bundle.json": "needs a bundle signed by a partner for this authority",
}
# Serve until stopped: started, checked on /healthz, then stopped.
LONG_RUNNING = {"make run"}
# What the README leaves to the reader, as a reader would fill it in.
PASSWORD = "newcomer password, long enough"
EMAIL = "newcomer@example.gov.uk"
PLACEHOLDERS = {
    "CAN_PASSWORD=...": f"CAN_PASSWORD='{PASSWORD}'",
    "EMAIL": EMAIL,
    "INSTANCE.json": "instance.json",
    "ONSPD.csv": "instance/onspd_demo.csv",  # the ONSPD-format file `make install` generates
    "FILE.csv": "shielded.csv",
    "FILE.json": "mapping.json",
}
# A council's shielded list as it arrives (one good row, one with a wrong NHS number), and its header mapping.
SHIELDED_CSV = (
    "NHS No,First name,Surname,DOB,Address 1,Postcode,Phone\n"
    "9434765919,Joan,Smith,1941-03-02,3 Lillie Road,W6 9AA,020 7946 0000\n"
    "1234567890,Amir,Khan,1950-11-30,1 Fulham Road,W6 9AB,\n"
)
SHIELDED_MAPPING = {"nhs_number": "NHS No", "last_name": "Surname"}
INSTANCE = {
    "requests": [
        {
            "id": "R1",
            "lat": 51.49,
            "lon": -0.22,
            "urgency": 3,
            "skills": ["shopping"],
            "min_dbs": "none",
            "excluded": [],
            "preferred": None,
        }
    ],
    "volunteers": [
        {"id": "V1", "lat": 51.495, "lon": -0.22, "skills": ["shopping"], "dbs": "basic", "max_km": 3, "capacity": 1}
    ],
}
# The variables a newcomer's shell has; nothing of this test process's own configuration leaks in.
NEWCOMER_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "TMPDIR")


def readme_commands(text: str) -> list[str]:
    commands = []
    for block in SH_BLOCK.findall(text):
        # A line ending in a backslash continues on the next, as in a shell.
        for line in re.sub(r"\\\n\s*", "", block).splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()  # a comment after the command explains it
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def variants(command: str) -> list[str]:
    """`cmd [--a] [--b x]`: once with no optional part and once with all of them."""
    if not OPTIONAL.search(command):
        return [command]
    bare = re.sub(r"\s+", " ", OPTIONAL.sub("", command)).strip()
    return [bare, OPTIONAL.sub(r"\1", command)]


def fill(command: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        command = re.sub(rf"(?<![\w.]){re.escape(placeholder)}(?![\w])", value, command)
    return command


def is_activation(command: str) -> bool:
    return bool(re.fullmatch(r"(source|\.) \S*activate", command))


def fresh_checkout(target: Path) -> None:
    """The working tree's files (committed or not, never ignored ones), with the shared venv and npm
    packages linked in as `make install` would have built them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if name in (".venv", "node_modules") or not source.is_file():
            continue  # links made below; a file deleted in the working tree is not in the checkout
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    for shared in (".venv", "node_modules"):
        (target / shared).symlink_to((ROOT / shared).resolve())
    # The copies are newer than the shared installs' markers; date them back so `make install` reuses the
    # installs instead of reinstalling into the shared venv (the markers are what a first install leaves).
    for marker_input in ("requirements.txt", "package.json", "package-lock.json"):
        os.utime(target / marker_input, (0, 0))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def serve_and_stop(command: str, cwd: Path, env: dict[str, str]) -> None:
    port = free_port()
    server = subprocess.Popen(
        ["bash", "-c", command],
        cwd=cwd,
        env={**env, "RUN_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so stopping it stops flask under make too
    )
    try:
        deadline = time.monotonic() + 300
        while not healthy(port):
            if server.poll() is not None:
                pytest.fail(f"{command!r} exited with {server.returncode}:\n{server.stdout.read()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{command!r} never answered /healthz on port {port}")
            time.sleep(1)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def test_every_exemption_is_still_in_the_readme() -> None:
    shown = readme_commands((ROOT / "README.md").read_text())
    assert set(EXEMPT) | LONG_RUNNING <= set(shown)


def test_placeholders_and_options_are_filled_as_a_reader_would() -> None:
    line = "CAN_PASSWORD=... flask --app wsgi create-user EMAIL --role coordinator"
    assert fill(line) == f"CAN_PASSWORD='{PASSWORD}' flask --app wsgi create-user {EMAIL} --role coordinator"
    assert variants("flask --app wsgi run-matching [--scheduled] [--type shopping]") == [
        "flask --app wsgi run-matching",
        "flask --app wsgi run-matching --scheduled --type shopping",
    ]
    assert readme_commands("```sh\nmake run    # serves\n# a note\n\n```\n```python\nx\n```") == ["make run"]


def test_every_readme_command_works_as_written_after_make_install(tmp_path: Path) -> None:
    checkout = tmp_path / "can-crm"
    checkout.mkdir()
    fresh_checkout(checkout)
    (checkout / "instance.json").write_text(json.dumps(INSTANCE))
    (checkout / "shielded.csv").write_text(SHIELDED_CSV)
    (checkout / "mapping.json").write_text(json.dumps(SHIELDED_MAPPING))
    env = {name: os.environ[name] for name in NEWCOMER_ENV if name in os.environ}

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True, timeout=600, check=False
        )

    install = run("make install")
    assert install.returncode == 0, install.stderr[-3000:]

    commands = readme_commands((ROOT / "README.md").read_text())
    assert any(is_activation(c) for c in commands), "the README never says how to put flask on PATH"
    prelude = ""
    ran = []
    for shown in commands:
        if shown in EXEMPT:
            continue
        if is_activation(shown):
            prelude += shown + " && "
            continue
        for command in variants(fill(shown)):
            if shown in LONG_RUNNING:
                serve_and_stop(prelude + command, checkout, env)
            else:
                done = run(prelude + command)
                assert done.returncode == 0 and "Traceback" not in done.stderr, (
                    f"{command!r} exited {done.returncode}:\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
                )
            ran.append(command)
    assert "flask --app wsgi create-user" in " ".join(ran) and "make run" in ran

#!/usr/bin/env bash
# Security scan: bandit over the code, then wapiti and sqlmap against a local instance signed in as each
# role (password + TOTP, as a browser would). Prints a summary and exits 1 if any HIGH finding.
#
#   scripts/security_scan.sh            # bandit + wapiti (every role) + sqlmap
#   SCAN_SECONDS=60 scripts/security_scan.sh   # shorter wapiti crawl+attack per role
#
# Needs: PostgreSQL on 127.0.0.1:5432 (trust), wapiti and sqlmap (Debian: apt-get install wapiti sqlmap),
# bandit in .venv. Uses its own database (can_scan, dropped afterwards) and port; reports in artifacts/security.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
OUT="${OUT:-$ROOT/artifacts/security}"
PORT="${PORT:-5077}"
DB="${SCAN_DB:-can_scan}"
SCAN_SECONDS="${SCAN_SECONDS:-90}"
ATTACK_SECONDS="${ATTACK_SECONDS:-20}"
# wapiti modules: injection (sql, xss, permanentxss, exec, file, ssrf, crlf, redirect), csrf, and the header checks.
# Time-based blind SQL (blindsql) is left out by default: minutes per parameter; WAPITI_MODULES adds it back.
WAPITI_MODULES="${WAPITI_MODULES:-sql,xss,permanentxss,exec,file,ssrf,crlf,redirect,csrf,csp,cookieflags,http_headers,methods}"
BASE="http://127.0.0.1:$PORT"
read -r -a ROLES <<<"${SCAN_ROLES:-admin coordinator partner councillor volunteer}"
# Flask-Login's "strong" session protection ends a session whose User-Agent changes: the sign-in, wapiti and
# sqlmap all send this one.
export SCAN_AGENT="Mozilla/5.0 (X11; Linux x86_64) can-crm-security-scan"
mkdir -p "$OUT"
rm -rf "$OUT"/wapiti-* "$OUT"/sqlmap "$OUT"/cookie-* "$OUT"/sqlmap.log

echo "== bandit"
"$ROOT/.venv/bin/bandit" -q -r can_crm matching geo -f json -o "$OUT/bandit.json" || true
BANDIT=$("$PY" - "$OUT/bandit.json" <<'PYEOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
count = {s: sum(1 for r in results if r["issue_severity"] == s) for s in ("HIGH", "MEDIUM", "LOW")}
print(f"{count['HIGH']} {count['MEDIUM']} {count['LOW']}")
PYEOF
)
read -r BANDIT_HIGH BANDIT_MEDIUM BANDIT_LOW <<<"$BANDIT"

echo "== scan instance on $BASE (database $DB)"
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$DB"
export SECRET_KEY
SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')"
export CAN_ENV=development
# The scanners send thousands of requests from one address: without this they only measure the limiter.
export RATELIMIT_ENABLED=false
export POSTCODE_INDEX="${POSTCODE_INDEX:-$ROOT/instance/postcodes.npz}"
unset REDIS_URL
"$ROOT/.venv/bin/flask" --app wsgi db upgrade >/dev/null 2>&1
"$PY" scripts/scan_sessions.py setup
"$ROOT/.venv/bin/gunicorn" --bind "127.0.0.1:$PORT" --workers 2 --threads 4 --log-level warning wsgi:app \
  >"$OUT/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
for _ in $(seq 1 60); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.5; done

# Debian's wapiti 3.0.4 builds its exclusion regexes with a trailing "(?ms)", which Python 3.11 refuses:
# run it through a wrapper that puts the flags first (the only change).
WAPITI="$OUT/wapiti-compat.py"
cat >"$WAPITI" <<'PYEOF'
import re, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
import wapitiCore.net.crawler as crawler
def wildcard_translate(pattern):
    body = "".join(".*" if char == "*" else re.escape(char) for char in pattern)
    return re.compile("(?ms)" + body + "\\Z")
crawler.wildcard_translate = wildcard_translate
from wapitiCore.main.wapiti import wapiti_main
sys.argv[0] = "wapiti"
wapiti_main()
PYEOF

# Never follow links that would end the scan's own session or lock its account.
EXCLUDES=(-x "$BASE/auth/sign-out" -x "$BASE/auth/password" -x "$BASE/admin/users/*/active"
          -x "$BASE/admin/users/*/role" -x "$BASE/admin/users/*/two-factor/reset")

scan_role() {
  local role="$1"
  mkdir -p "$OUT/wapiti-session-$role"
  "$PY" scripts/scan_sessions.py cookie "$role" "$BASE" >"$OUT/cookie-$role.json" 2>"$OUT/cookie-$role.txt"
  /usr/bin/python3 "$WAPITI" -A "$SCAN_AGENT" -u "$BASE/" -c "$OUT/cookie-$role.json" "${EXCLUDES[@]}" --scope folder -d 3 \
    --max-links-per-page 30 --max-scan-time "$SCAN_SECONDS" --max-attack-time "$ATTACK_SECONDS" -m "$WAPITI_MODULES" \
    --store-session "$OUT/wapiti-session-$role" --flush-session -f json -o "$OUT/wapiti-$role.json" >"$OUT/wapiti-$role.log" 2>&1 || true
}
sqlmap_all() {
  # Its own signed-in coordinator session (so wapiti's crawl cannot end it) and a bearer token.
  local cookie token admin_token
  "$PY" scripts/scan_sessions.py cookie coordinator "$BASE" >/dev/null 2>"$OUT/cookie-sqlmap.txt"
  cookie="$(cat "$OUT/cookie-sqlmap.txt")"
  token="$("$PY" scripts/scan_sessions.py token coordinator)"
  admin_token="$("$PY" scripts/scan_sessions.py token admin)"
  # Level 1, boolean/error/union/stacked techniques: time-based blind tests take minutes per parameter on this
  # kind of machine (WAPITI_MODULES=...,blindsql adds wapiti's time-based check).
  local SQLMAP=(sqlmap --user-agent "$SCAN_AGENT" --batch --level 1 --risk 1 --technique BEUS --threads 4 --output-dir "$OUT/sqlmap" --disable-coloring)
{
  "${SQLMAP[@]}" -u "$BASE/api/v1/requests?status=open&type=shopping&urgency=2&ward=E05013754&page=1" \
    -H "Authorization: Bearer $token" || true
  "${SQLMAP[@]}" -u "$BASE/api/v1/residents?page=1&per_page=5" -H "Authorization: Bearer $token" || true
  "${SQLMAP[@]}" -u "$BASE/api/v1/audit?resident_id=1" -H "Authorization: Bearer $admin_token" || true
  "${SQLMAP[@]}" -u "$BASE/coordinator/?status=open&type=shopping&urgency=2&ward=E05013754" \
    --cookie "$cookie" || true
  "${SQLMAP[@]}" -u "$BASE/track" --forms || true
  "${SQLMAP[@]}" -u "$BASE/auth/sign-in" --forms || true
} >"$OUT/sqlmap.log" 2>&1
}

echo "== sqlmap (alongside wapiti)"
sqlmap_all &
SCANS=($!)
# The roles are scanned side by side (each with its own session): the server, not wapiti, is the bottleneck.
for role in "${ROLES[@]}"; do
  echo "== wapiti as $role"
  scan_role "$role" &
  SCANS+=($!)
done
wait "${SCANS[@]}"  # not a bare `wait`: that would wait for the server too


"$PY" - "$OUT" "$BANDIT_HIGH" "$BANDIT_MEDIUM" "$BANDIT_LOW" "${ROLES[@]}" <<'PYEOF'
import json, re, sys
from pathlib import Path

out, b_high, b_medium, b_low, *roles = sys.argv[1:]
out = Path(out)
high = int(b_high)
print("== summary")
print(f"bandit: high={b_high} medium={b_medium} low={b_low}")
for role in roles:
    path = out / f"wapiti-{role}.json"
    if not path.exists():
        print(f"wapiti {role}: NO REPORT (see {out}/wapiti-{role}.log)")
        high += 1
        continue
    report = json.loads(path.read_text())
    levels = {"high": 0, "medium": 0, "low": 0}
    names = set()
    for section in ("vulnerabilities", "anomalies"):
        for name, items in report.get(section, {}).items():
            for item in items:
                level = int(item.get("level", 0))
                key = "high" if level >= 3 else "medium" if level == 2 else "low"
                levels[key] += 1
                if level >= 2:
                    names.add(name)
    high += levels["high"]
    print(f"wapiti {role}: high={levels['high']} medium={levels['medium']} low={levels['low']}"
          + (f" ({', '.join(sorted(names))})" if names else ""))
log = (out / "sqlmap.log").read_text(errors="replace")
injectable = len(re.findall(r"is vulnerable|appears to be .* injectable", log))
tested = len(re.findall(r"testing URL|testing '", log))
print(f"sqlmap: targets=6 tests={tested} injectable={injectable}")
high += injectable
print(f"HIGH FINDINGS: {high}")
sys.exit(1 if high else 0)
PYEOF

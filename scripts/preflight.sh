#!/usr/bin/env bash
# What `make test` needs from the machine: PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379 and
# /usr/bin/chromium. As root it installs and starts what is missing; otherwise it prints the one command to
# run and exits non-zero. Quick and silent-ish when everything is up, so `make test` runs it every time.
set -euo pipefail

root=false
[ "$(id -u)" -eq 0 ] && root=true
missing=()
apt_updated=false

need_root() {  # $1: what is missing, $2: the one command that fixes it
  echo "preflight: $1. Run:" >&2
  echo "  $2" >&2
  exit 1
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ! $apt_updated; then
    apt-get update -qq
    apt_updated=true
  fi
  apt-get install -y -qq "$@" >/dev/null
}

wait_for() {  # $1: a command that succeeds once the service answers
  for _ in $(seq 1 30); do
    eval "$1" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

postgres_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

# PostgreSQL
if ! postgres_up; then
  if ! command -v pg_ctlcluster >/dev/null; then
    $root || need_root "PostgreSQL is not installed" "sudo apt-get install -y postgresql && sudo $0"
    apt_install postgresql
  fi
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
  [ -n "$version" ] || { echo "preflight: no PostgreSQL cluster in /etc/postgresql" >&2; exit 1; }
  $root || need_root "PostgreSQL is not answering on 127.0.0.1:5432" \
    "sudo pg_ctlcluster --skip-systemctl-redirect $version main start"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for postgres_up || { echo "preflight: PostgreSQL $version did not start" >&2; exit 1; }
fi

# Redis
if ! redis_up; then
  if ! command -v redis-server >/dev/null; then
    $root || need_root "Redis is not installed" "sudo apt-get install -y redis-server && sudo $0"
    apt_install redis-server
  fi
  $root || need_root "Redis is not answering on 127.0.0.1:6379" \
    'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_for redis_up || { echo "preflight: Redis did not start" >&2; exit 1; }
fi

# Chromium, for the browser tests
if [ ! -x /usr/bin/chromium ]; then
  $root || need_root "Chromium is not installed at /usr/bin/chromium" "sudo apt-get install -y chromium"
  apt_install chromium
fi

echo "preflight: PostgreSQL, Redis and Chromium are ready"

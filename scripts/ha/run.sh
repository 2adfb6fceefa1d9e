#!/usr/bin/env bash
# PostgreSQL high-availability harness for peacewatch: a primary and a synchronous streaming
# replica as two local clusters on their own ports, for tests and for rehearsing a fail-over.
#
#   scripts/ha/run.sh up            create both clusters (initdb + pg_basebackup), start them, create the database
#   scripts/ha/run.sh url           print the multi-host SQLAlchemy URL the server should use
#   scripts/ha/run.sh stop-primary  stop the primary at once (pg_ctl -m immediate: a crash, no clean shutdown)
#   scripts/ha/run.sh promote       promote the replica to primary (pg_ctl promote) and wait until it accepts writes
#   scripts/ha/run.sh status        which node answers, and the replication state
#   scripts/ha/run.sh down          stop both and delete them
#   scripts/ha/run.sh test          up, run tests/reliability/test_ha.py, down
#
# Settings (environment): PW_HA_DIR (default /tmp/peacewatch-ha), PW_HA_PORT1 (55432), PW_HA_PORT2
# (55433), PW_HA_DB (peacewatch). PostgreSQL's server binaries are found with pg_config or under
# /usr/lib/postgresql/*/bin. Run as root (the clusters are owned by the postgres user) or as postgres.
# Everything listens on 127.0.0.1 only and trusts local connections: a test rig, not a production set-up
# (docs/high-availability.md says what to change for a mission).
set -euo pipefail

DIR=${PW_HA_DIR:-/tmp/peacewatch-ha}
P1=${PW_HA_PORT1:-55432}
P2=${PW_HA_PORT2:-55433}
DB=${PW_HA_DB:-peacewatch}
BIN=${PW_HA_PGBIN:-$( (pg_config --bindir 2>/dev/null) || ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ ! -x "$BIN/initdb" ]; then
  BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -x "$BIN/initdb" ] || { echo "error: PostgreSQL server binaries (initdb) not found; set PW_HA_PGBIN" >&2; exit 2; }

as_pg() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

wait_for() {  # wait_for PORT WHAT: until the node on PORT satisfies the SQL in WHAT (bounded: 30 s)
  for _ in $(seq 1 300); do
    if [ "$(as_pg "$BIN/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atc "$2" 2>/dev/null || true)" = t ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "error: node on port $1 never satisfied: $2" >&2
  return 1
}

up() {
  if [ -e "$DIR" ]; then echo "error: $DIR exists; run '$0 down' first" >&2; exit 2; fi
  mkdir -p "$DIR"
  chown postgres: "$DIR" 2>/dev/null || true
  as_pg "$BIN/initdb" -D "$DIR/primary" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log"
  cat >>"$DIR/primary/postgresql.conf" <<CONF
port = $P1
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
wal_level = replica
max_wal_senders = 4
wal_keep_size = 256MB
hot_standby = on
# Synchronous: a commit is acknowledged only once the replica has it, so fail-over loses nothing.
synchronous_standby_names = 'FIRST 1 (replica1)'
synchronous_commit = on
fsync = on
CONF
  echo "host replication postgres 127.0.0.1/32 trust" >>"$DIR/primary/pg_hba.conf"
  as_pg "$BIN/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -w start >/dev/null
  as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$DIR/replica" -X stream -R \
    -d "host=127.0.0.1 port=$P1 user=postgres application_name=replica1"
  # The base backup copied the primary's settings. Once promoted, this node is alone: waiting for
  # a synchronous standby that does not exist would hang every commit, so it starts without one
  # (set synchronous_standby_names again when a new replica is attached to it).
  cat >>"$DIR/replica/postgresql.conf" <<CONF
port = $P2
synchronous_standby_names = ''
CONF
  as_pg "$BIN/pg_ctl" -D "$DIR/replica" -l "$DIR/replica.log" -w start >/dev/null
  wait_for "$P1" "SELECT EXISTS (SELECT 1 FROM pg_stat_replication WHERE application_name = 'replica1' AND sync_state = 'sync')"
  as_pg "$BIN/psql" -h 127.0.0.1 -p "$P1" -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
  echo "primary on 127.0.0.1:$P1, synchronous replica on 127.0.0.1:$P2, database $DB"
  url
}

url() {
  echo "postgresql+psycopg://postgres@/$DB?host=127.0.0.1:$P1&host=127.0.0.1:$P2&target_session_attrs=read-write"
}

stop_primary() {
  as_pg "$BIN/pg_ctl" -D "$DIR/primary" -m immediate -w stop >/dev/null
  echo "primary on $P1 stopped (immediate)"
}

promote() {
  as_pg "$BIN/pg_ctl" -D "$DIR/replica" -w promote >/dev/null
  wait_for "$P2" "SELECT NOT pg_is_in_recovery()"
  echo "replica on $P2 promoted: it is the primary now"
}

status() {
  for p in "$P1" "$P2"; do
    role=$(as_pg "$BIN/psql" -h 127.0.0.1 -p "$p" -U postgres -d postgres -Atc \
      "SELECT CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE 'primary' END" 2>/dev/null || echo down)
    echo "127.0.0.1:$p $role"
  done
  as_pg "$BIN/psql" -h 127.0.0.1 -p "$P1" -U postgres -d postgres -Atc \
    "SELECT application_name, state, sync_state FROM pg_stat_replication" 2>/dev/null || true
}

down() {
  for node in primary replica; do
    if [ -f "$DIR/$node/postmaster.pid" ]; then
      as_pg "$BIN/pg_ctl" -D "$DIR/$node" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$DIR"
}

case "${1:-}" in
  up) up ;;
  url) url ;;
  stop-primary) stop_primary ;;
  promote) promote ;;
  status) status ;;
  down) down ;;
  test)
    trap down EXIT
    down
    cd "$(dirname "$0")/../.."
    PEACEWATCH_HA=1 PW_HA_DIR="$DIR" PW_HA_PORT1="$P1" PW_HA_PORT2="$P2" \
      .venv/bin/python -m pytest tests/reliability/test_ha.py -p no:cacheprovider -q "${@:2}"
    ;;
  *) sed -n '2,16p' "$0"; exit 2 ;;
esac

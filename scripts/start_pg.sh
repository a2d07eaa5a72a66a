#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests.
#
# Sourced by scripts/test.sh (defines pg_start / pg_stop), or run by hand:
#     bash scripts/start_pg.sh        # starts one, prints TEST_PG_URL and how to stop it
#
# The server lives in a private directory under /tmp, trusts local connections
# (-A trust), listens on 127.0.0.1 and on a unix socket in that directory, on
# the first free port in 55400-55450. Debian's PostgreSQL refuses to run as
# root, so as root initdb/pg_ctl run as the `postgres` user.

PG_PORT_MIN=${PG_PORT_MIN:-55400}
PG_PORT_MAX=${PG_PORT_MAX:-55450}

pg_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null)
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    return 1
}

_pg_as_owner() {
    # Run a command as the owner of the data dir (postgres when we are root).
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_port_free() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

# pg_start: on success sets PG_DIR, PG_PORT, PG_BIN and exports TEST_PG_URL.
pg_start() {
    PG_BIN=$(pg_bindir) || { echo "start_pg: PostgreSQL binaries (initdb) not found" >&2; return 1; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "start_pg: running as root but there is no 'postgres' user" >&2
        return 1
    fi
    PG_DIR=$(mktemp -d /tmp/registry-pg.XXXXXX) || return 1
    mkdir -p "$PG_DIR/sock"
    chmod 755 "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$PG_DIR"
    if ! _pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C \
            --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        echo "start_pg: initdb failed:" >&2
        tail -n 20 "$PG_DIR/initdb.log" >&2
        return 1
    fi
    local span=$((PG_PORT_MAX - PG_PORT_MIN + 1)) offset=$((RANDOM % (PG_PORT_MAX - PG_PORT_MIN + 1))) i port
    for ((i = 0; i < span; i++)); do
        port=$((PG_PORT_MIN + (offset + i) % span))
        _port_free "$port" || continue
        if _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
                -o "-p $port -k $PG_DIR/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
                start >/dev/null 2>&1; then
            PG_PORT=$port
            export TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
            return 0
        fi
        # Lost a race for the port (or another failure): say why and try the next port.
        grep -q "could not bind\|Address already in use\|could not create lock file" "$PG_DIR/server.log" 2>/dev/null \
            || { echo "start_pg: pg_ctl start failed:" >&2; tail -n 20 "$PG_DIR/server.log" >&2; return 1; }
    done
    echo "start_pg: no free port in $PG_PORT_MIN-$PG_PORT_MAX" >&2
    return 1
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] || return 0
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
    PG_DIR=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    pg_start
    echo "export TEST_PG_URL=$TEST_PG_URL"
    echo "# stop with: $( [ "$(id -u)" = 0 ] && echo 'runuser -u postgres -- ')$PG_BIN/pg_ctl -D $PG_DIR/data -m fast stop && rm -rf $PG_DIR"
fi

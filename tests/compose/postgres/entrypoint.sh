#!/bin/sh
# First start on an empty volume: a cluster whose superuser is POSTGRES_USER with
# POSTGRES_PASSWORD, and the database POSTGRES_DB; then PostgreSQL in the foreground.
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
    # The password goes to initdb in a private file, never in an argument (ps shows those).
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    # Other containers of the network come from their own addresses, not loopback.
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -s start
        # :"db" quotes the name as an identifier; psql expands variables only on stdin.
        echo 'CREATE DATABASE :"db"' | psql -X -q -v ON_ERROR_STOP=1 -v db="$POSTGRES_DB" \
            -U "$POSTGRES_USER" -d postgres
        pg_ctl -D "$PGDATA" -m fast -w -s stop
    fi
    echo "postgres-entrypoint: database $POSTGRES_DB made for user $POSTGRES_USER"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'

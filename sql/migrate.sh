#!/usr/bin/env bash
# Applies sql/NNNN_*.sql in order, each once, each in its own transaction, recording it in
# schema_migrations. Safe to run concurrently: an advisory lock serialises migrators.
# Connection: $1 as a URL, else DATABASE_URL, else the libpq environment (PGHOST, PGPORT,
# PGDATABASE, PGUSER, PGPASSWORD). A password in the URL reaches psql through PGPASSWORD,
# never its command line (sql/pgconn.sh); give it in DATABASE_URL or PGPASSWORD rather than
# in $1, which is on this script's own command line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=sql/pgconn.sh
. "$here/pgconn.sh"
pg_conn_split "${1:-${DATABASE_URL:-}}"
conn=$PG_CONN
psql_() { psql ${conn:+"$conn"} -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_ -c "CREATE TABLE IF NOT EXISTS schema_migrations (
            version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())" 2>&1 \
    | grep -v 'already exists' || true
for f in "$here"/[0-9][0-9][0-9][0-9]_*.sql; do
    v=$(basename "$f" .sql)
    psql_ --single-transaction -v version="$v" <<SQL
SELECT pg_advisory_xact_lock(727274) \gset
SELECT NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = :'version') AS pending \gset
\if :pending
\echo applying $v
\i $f
INSERT INTO schema_migrations (version) VALUES (:'version');
\endif
SQL
done

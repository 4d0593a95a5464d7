# pgconn.sh: sourced by sql/migrate.sh and ./manage.sh (bash). Keeps a connection string's
# password off command lines, where every local user can read it (ps, /proc/PID/cmdline).
#
# pg_conn_split CONN: sets PG_CONN to CONN without its password and exports the password,
# percent-decoded, as PGPASSWORD, which libpq reads from the environment. Understands URLs
# (postgresql://user:password@host/db, ?password=... or &password=...) and key=value strings
# (password=secret, password='secret'). Without a password, PGPASSWORD is left as it was.
# Only builtins run here: nothing is exec'd with the secret in its argv.
pg_conn_split() {
    local conn=$1 pw= found=0
    if [[ $conn =~ ^(postgres(ql)?://)([^@/?#]*):([^@/?#]*)@(.*)$ ]]; then
        pw=${BASH_REMATCH[4]}
        conn=${BASH_REMATCH[1]}${BASH_REMATCH[3]}@${BASH_REMATCH[5]}
        found=1
    fi
    if [[ $conn =~ ^(postgres(ql)?://[^?]*\?(.*&)?)password=([^&]*)(&(.*))?$ ]]; then
        pw=${BASH_REMATCH[4]}
        conn=${BASH_REMATCH[1]}${BASH_REMATCH[6]}
        conn=${conn%[?&]}
        found=1
    fi
    if [ $found = 1 ]; then
        pw=${pw//\\/\\\\}
        printf -v pw '%b' "${pw//%/\\x}"
    elif [[ $conn =~ ^(.*[[:space:]]|)password[[:space:]]*=[[:space:]]*(\'([^\']*)\'|([^[:space:]\']*))(.*)$ ]]; then
        pw=${BASH_REMATCH[3]}${BASH_REMATCH[4]}
        conn=${BASH_REMATCH[1]}${BASH_REMATCH[5]}
        found=1
    fi
    PG_CONN=$conn
    if [ $found = 1 ]; then export PGPASSWORD=$pw; fi
    return 0
}

"""./manage.sh as an operator's tool: the verbs that destroy data ask first (or refuse
without a terminal unless --yes), and no secret ever appears on a command line, where every
local user can read it (ps, /proc/PID/cmdline).

reset is tried on a PostgreSQL of its own (no processes), never on the session's system,
whose tickets and users other tests rely on; clean on a copy of manage.sh in a temp folder,
since it removes the build folders next to the script."""
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, System, worker_name

SEED_PASSWORDS = ("admin123", "agent123")      # the suite's SEED_* (.env.example's defaults)


def argv_lines(path):
    """The execve lines strace wrote: the program and its argv. Without -v strace prints the
    environment as a count ("/* 37 vars */"), so a secret found here is on a command line."""
    with open(path, errors="replace") as f:
        lines = [line for line in f if "execve(" in line]
    assert lines, f"strace recorded no execve in {path}"
    for line in lines:
        assert re.search(r"/\* \d+ vars \*/", line), f"environment printed in full: {line[:200]}"
    return lines


def assert_no_secret(lines, secrets):
    leaks = [(s, line.strip()[:300]) for line in lines for s in secrets if s and s in line]
    assert not leaks, f"expected no secret in any argv, got {len(leaks)}:\n" + \
        "\n".join(f"  {s!r} in {line}" for s, line in leaks[:10])


def strace(out):
    if not shutil.which("strace"):
        pytest.fail("strace is missing: ./manage.sh deps --test installs it")
    return ("strace", "-f", "-qq", "-e", "trace=execve", "-s", "4096", "-o", out)


# -- reset


@pytest.fixture(scope="module")
def db_only():
    """A PostgreSQL cluster of its own, migrated and seeded (./manage.sh migrate + seed),
    with no processes: reset may drop its database."""
    workdir = tempfile.mkdtemp(prefix="ticketd-manage-")
    os.chmod(workdir, 0o755)
    sysm = System(workdir)
    sysm.env["SEED_TICKETS"] = "5"
    try:
        sysm.manage("migrate")
        sysm.manage("seed")
        yield sysm
    finally:
        sysm.manage("down", check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def marked_ticket(sysm, tag):
    sysm.psql(f"INSERT INTO tickets (subject, requester_email) VALUES ('{tag}', 'k@example.com')")
    return lambda: sysm.psql(f"SELECT count(*) FROM tickets WHERE subject = '{tag}'")


def test_reset_without_yes_and_without_a_terminal_refuses_and_keeps_the_data(db_only):
    count = marked_ticket(db_only, "keep-me-1")
    r = db_only.manage("reset", check=False)
    assert r.returncode != 0, f"expected reset to refuse, it exited 0:\n{r.stdout}\n{r.stderr}"
    assert "--yes" in r.stderr and "ticketd" in r.stderr, f"no clear refusal: {r.stderr!r}"
    assert "dropping" not in r.stdout, r.stdout
    assert count() == "1", "the ticket created before the refused reset is gone"


def test_reset_on_a_terminal_asks_and_the_default_is_no(db_only):
    count = marked_ticket(db_only, "keep-me-2")
    master, slave = os.openpty()
    try:
        os.write(master, b"\n")             # Enter: the default answer
        r = db_only.manage("reset", check=False, stdin=slave)
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode != 0, f"expected reset to stop at the question:\n{r.stdout}\n{r.stderr}"
    assert "[y/N]" in r.stderr and "'ticketd'" in r.stderr, f"no clear question: {r.stderr!r}"
    assert count() == "1", "the ticket is gone although the answer was no"


def test_reset_with_yes_drops_the_database_and_seeds_it_again(db_only):
    count = marked_ticket(db_only, "drop-me")
    r = db_only.manage("reset", "--yes")
    assert "dropping database ticketd" in r.stdout, r.stdout
    assert count() == "0", "the ticket survived reset --yes"
    assert db_only.psql("SELECT count(*) FROM tickets") == "5", "reset seeds SEED_TICKETS again"
    assert db_only.psql("SELECT string_agg(role, ',' ORDER BY role) FROM users") == "admin,agent"


def test_reset_takes_no_argument_but_yes(db_only):
    r = db_only.manage("reset", "--force", check=False)
    assert r.returncode != 0 and "unknown argument '--force'" in r.stderr, r.stderr


# -- clean


@pytest.fixture
def tree():
    """A copy of manage.sh (and what it sources) in a temp folder, with a var/ and builds of
    its own: clean removes the folders next to the script."""
    root = tempfile.mkdtemp(prefix="ticketd-clean-")
    try:
        shutil.copy(os.path.join(ROOT, "manage.sh"), root)
        shutil.copy(os.path.join(ROOT, ".env.example"), root)
        os.mkdir(os.path.join(root, "sql"))
        shutil.copy(os.path.join(ROOT, "sql", "pgconn.sh"), os.path.join(root, "sql"))
        for d in ("var", "build", "build-san"):
            os.makedirs(os.path.join(root, d))
            open(os.path.join(root, d, "marker"), "w").close()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DB_", "PG", "SEED_", "JWT_", "VAR_", "ENV_", "BUILD_"))
               and k not in ("DATABASE_URL", "PORT")}
        env["PORT"] = "1"                   # status asks /api/health: nobody answers there
        yield root, env
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_tree(tree, *args, stdin=subprocess.DEVNULL, prefix=()):
    root, env = tree
    return subprocess.run([*prefix, os.path.join(root, "manage.sh"), *args], env=env, cwd=root,
                          stdin=stdin, capture_output=True, text=True, timeout=60)


def test_clean_without_yes_refuses_and_with_yes_removes_var_and_the_builds(tree):
    root = tree[0]
    markers = [os.path.join(root, d, "marker") for d in ("var", "build", "build-san")]
    r = run_tree(tree, "clean")
    assert r.returncode != 0, f"expected clean to refuse, it exited 0:\n{r.stdout}\n{r.stderr}"
    assert "--yes" in r.stderr and os.path.join(root, "var") in r.stderr, r.stderr
    assert all(os.path.exists(m) for m in markers), "clean removed files although it refused"
    r = run_tree(tree, "clean", "--yes")
    assert r.returncode == 0, f"clean --yes failed:\n{r.stdout}\n{r.stderr}"
    assert not any(os.path.exists(os.path.dirname(m)) for m in markers), os.listdir(root)


# -- secrets on command lines


def test_seed_puts_no_password_on_any_command_line(system, tmp_path):
    out = str(tmp_path / "execve.txt")
    system.manage("seed", "--tickets", "0", prefix=strace(out))
    lines = argv_lines(out)
    assert any("psql" in line and "seed.sql" in line for line in lines), "seed.sql never ran"
    assert_no_secret(lines, SEED_PASSWORDS + (system.db_password(),))
    # The upsert still set the passwords it read from the environment.
    system.login("admin")
    system.login("agent")


def test_a_database_url_password_goes_to_libpq_by_the_environment_only(system, tmp_path):
    """With DATABASE_URL (a server of one's own), migrate and seed connect with its password
    without passing it on: run here against the session's database, where nothing is pending
    and a seed of 0 tickets only upserts the users."""
    out = str(tmp_path / "execve.txt")
    password = system.db_password()
    saved = dict(system.env)
    system.env["DATABASE_URL"] = (f"postgresql://ticketd:{password}@127.0.0.1:{system.db_port}"
                                  f"/ticketd?application_name=manage-test")
    try:
        system.manage("seed", "--tickets", "0", prefix=strace(out))
    finally:
        system.env.clear()
        system.env.update(saved)
    lines = argv_lines(out)
    assert any("migrate.sh" in line for line in lines) and \
        any("seed.sql" in line for line in lines), "migrate or seed never ran"
    assert_no_secret(lines, SEED_PASSWORDS + (password,))


def test_a_new_env_file_gets_its_secrets_without_any_command_line_seeing_them(tree, tmp_path):
    out = str(tmp_path / "execve.txt")
    r = run_tree(tree, "status", prefix=strace(out))
    assert r.returncode == 0, f"status failed:\n{r.stdout}\n{r.stderr}"
    env_file = os.path.join(tree[0], ".env")
    assert oct(os.stat(env_file).st_mode & 0o777) == "0o600"
    with open(env_file) as f:
        values = dict(line.rstrip("\n").split("=", 1) for line in f if re.match(r"^[A-Z_]+=", line))
    assert re.fullmatch(r"[0-9a-f]{64}", values["JWT_SECRET"]), values["JWT_SECRET"]
    assert re.fullmatch(r"[0-9a-f]{32}", values["DB_PASSWORD"]), values["DB_PASSWORD"]
    with open(os.path.join(ROOT, ".env.example")) as f:
        example = [line for line in f if not line.startswith(("JWT_SECRET=", "DB_PASSWORD="))]
    with open(env_file) as f:
        written = [line for line in f if not line.startswith(("JWT_SECRET=", "DB_PASSWORD="))]
    assert written == example, "the rest of .env.example is copied as it is"
    assert_no_secret(argv_lines(out), (values["JWT_SECRET"], values["DB_PASSWORD"]))


@pytest.mark.parametrize("conn, stripped, password", [
    ("postgresql://u:p%40ss%5Cw@h:5/db", "postgresql://u@h:5/db", "p@ss\\w"),
    ("postgres://u@h/db?sslmode=require&password=x%20y&a=b", "postgres://u@h/db?sslmode=require&a=b",
     "x y"),
    ("postgresql://u@h/db?password=zz", "postgresql://u@h/db", "zz"),
    ("host=h password='a b' port=5", "host=h  port=5", "a b"),
    ("postgresql://h/db", "postgresql://h/db", None),
])
def test_pg_conn_split_takes_the_password_out_of_a_connection_string(conn, stripped, password):
    r = subprocess.run(["bash", "-c", '. "$1"; unset PGPASSWORD; pg_conn_split "$2"; '
                        'printf "%s\\n%s" "$PG_CONN" "${PGPASSWORD-<unset>}"', "_",
                        os.path.join(ROOT, "sql", "pgconn.sh"), conn],
                       capture_output=True, text=True, timeout=10)
    got = r.stdout.split("\n")
    assert got == [stripped, password or "<unset>"], f"expected {[stripped, password]}, got {got}"


# -- a checkout postgres cannot reach


def test_a_tree_in_a_private_folder_keeps_its_cluster_where_postgres_can_reach_it():
    """As root, a clone under /root (0700) is out of user postgres's reach: the first
    ./manage.sh puts the cluster under /var/lib/ticketd, says where, and records PG_DIR in
    .env, so that every later verb (status, down, up again) finds it."""
    if os.geteuid() != 0:
        pytest.fail("the suite runs as root (PostgreSQL is run as user postgres)")
    private = tempfile.mkdtemp(prefix="ticketd-private-")      # 0700, as /root is
    os.chmod(private, 0o700)
    sysm = System(private)
    sysm.env["SEED_TICKETS"] = "5"
    pg_dir = None
    try:
        up = sysm.manage("up")
        with open(sysm.env["ENV_FILE"]) as f:
            recorded = [l.split("=", 1)[1].strip() for l in f if l.startswith("PG_DIR=")]
        assert len(recorded) == 1 and recorded[0].startswith("/var/lib/ticketd/"), recorded
        pg_dir = recorded[0]
        assert f"Database   {pg_dir}/data" in up.stdout, up.stdout
        assert os.path.isfile(os.path.join(pg_dir, "data", "PG_VERSION"))
        sysm.wait_healthy()
        assert re.search(r"^postgres +running", sysm.manage("status").stdout, re.M)
        # A later verb reads PG_DIR from .env: down stops that cluster, up starts it again.
        sysm.manage("down")
        assert re.search(r"^postgres +stopped", sysm.manage("status", check=False).stdout, re.M)
        sysm.manage("up")
        sysm.wait_healthy()
        logs = sysm.manage("logs", "postgres").stdout
        assert "database system is ready" in logs, logs[-500:]
    finally:
        sysm.manage("down", check=False)
        if pg_dir and pg_dir.startswith("/var/lib/ticketd/"):
            shutil.rmtree(pg_dir, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


def test_logs_merges_every_timed_line_in_order_and_names_each_worker(system):
    """./manage.sh logs: one stream by time, PostgreSQL's lines among ours, no blank or
    untimed line first (initdb's chatter stays in its own file), and a worker's lines say
    which worker of which host wrote them (<short host>-worker-N)."""
    for _ in range(3):
        assert system.request("GET", "/api/health")[0] == 200
    lines = system.manage("logs").stdout.splitlines()
    # Health checks that went well are routine (compose polls every 5 s): not at info.
    polls = [l for l in lines if 'path="/api/health" status=200' in l or "service=sys.health status=200" in l]
    assert not polls, polls[:3]
    assert lines and all(l.startswith("ts=") for l in lines), [l for l in lines if not l.startswith("ts=")][:5]
    stamps = [l.split()[0] for l in lines]
    assert stamps == sorted(stamps)
    assert any(" comp=postgres " in l for l in lines)
    names = {m.group(1) for l in lines if (m := re.search(r" comp=worker inst=(\S+) ", l))}
    want = {worker_name("worker-1"), worker_name("worker-2")}
    assert want <= names, f"expected inst= names {want}, got {names}"


def test_settings_given_to_up_stay_for_every_later_verb(system):
    """Ports and endpoints given in the environment to `up` are written to .env: a later
    verb run without them (status here) finds this system, not the defaults."""
    with open(system.env["ENV_FILE"]) as f:
        kept = dict(l.strip().split("=", 1) for l in f if re.match(r"^[A-Z_]+=", l))
    for key in ("PORT", "WS_PORT", "BROKER_ENDPOINT", "HUB_SUB_ENDPOINT", "DB_PORT"):
        assert kept.get(key) == system.env[key], (key, kept.get(key), system.env[key])
    bare = {k: v for k, v in system.env.items()
            if k not in ("PORT", "WEB_PORT", "WS_PORT", "BROKER_ENDPOINT", "HUB_PUB_ENDPOINT",
                         "HUB_SUB_ENDPOINT", "DB_PORT", "WORKERS")}
    r = subprocess.run([os.path.join(ROOT, "manage.sh"), "status"], env=bare, cwd=ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and re.search(r"^health: .*\"status\":\"ok\"", r.stdout, re.M), r.stdout


def test_up_fails_naming_a_process_that_exits_at_start_on_a_bad_setting(system):
    """`up` starting a process that refuses its settings says so, with the process's own
    line, and fails: it never reports the system up with part of it gone."""
    system.kill("worker-1")
    deadline = time.monotonic() + 10
    while system.pid("worker-1") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert system.pid("worker-1") is None
    try:
        env = dict(system.env, SCHED_POLICY="garbage")
        r = subprocess.run([os.path.join(ROOT, "manage.sh")], env=env, cwd=ROOT,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        assert r.returncode != 0, r.stdout
        assert "ticketd is up" not in r.stdout, r.stdout
        assert re.search(r"^worker-1 exited at start: .*event=bad_config var=SCHED_POLICY",
                         r.stdout, re.M), r.stdout
    finally:
        system.manage("up")
        system.wait_healthy()
    assert system.pid("worker-1")


def test_up_waits_for_the_started_line_which_every_log_level_writes(system):
    """`up` waits for each process it starts to log event=started (so it never calls a
    process up that is about to exit): that line is written at every LOG_LEVEL, or a quiet
    system could never be started."""
    system.kill("worker-1")
    log = os.path.join(system.env["VAR_DIR"], "log", "worker-1.log")
    with open(log, errors="replace") as f:
        before = len(f.readlines())
    try:
        with system.overridden(LOG_LEVEL="error"):
            r = system.manage(timeout=120)
        assert "ticketd is up" in r.stdout, r.stdout
        with open(log, errors="replace") as f:
            new = f.readlines()[before:]
        started = [line for line in new if " event=started " in line]
        assert len(started) == 1, "".join(new)
        assert "credit=" in started[0] and "broker=" in started[0], started[0]
        # The level held: nothing else at info made it into the log.
        others = [line for line in new if " level=info " in line and line not in started]
        assert not others, "".join(others)
    finally:
        system.kill("worker-1")
        system.manage("up")
        system.wait_healthy()
    assert system.pid("worker-1")

"""A worker's batches and its PostgreSQL pipeline (workers/worker.c, workers/db.c), against the
suite's database, with the test playing the broker: a ROUTER that takes the worker's READY
(which names its credit) and hands it several requests at once, as the broker does for a
worker whose READY gave it credit.

Which requests form a batch is made certain with table locks held by psql sessions: a
first request whose user check waits on a lock of `users` keeps the SQL side busy while the
others reach it, so they are all waiting when it looks again and are taken as one batch;
a lock of `tickets` then holds that batch's pipeline in PostgreSQL for as long as a test
needs (to terminate its backend mid-pipeline)."""
import contextlib
import json
import subprocess
import time
import uuid

import pytest
import zmq

from conftest import free_ports
from harness import Process

MDPW = b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT = b"\x01", b"\x02", b"\x03", b"\x04"
APP = "ticketd-pipeline-test"       # the test worker's application_name in pg_stat_activity
CREDIT = 16


class FakeBroker:
    """A ROUTER the worker connects to; heartbeats it while the test waits."""

    def __init__(self, ctx):
        self.port = free_ports(1)[0]
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.bind(f"tcp://127.0.0.1:{self.port}")
        self.worker = None
        self.ready = None
        self.beat_at = 0

    def _beat(self):
        if self.worker and time.monotonic() >= self.beat_at:
            self.sock.send_multipart([self.worker, b"", MDPW, HEARTBEAT])
            self.beat_at = time.monotonic() + 0.5

    def recv(self, deadline):
        """The worker's next message other than a HEARTBEAT, as its frames after the
        command byte's place (command first), or None at the deadline."""
        while time.monotonic() < deadline:
            self._beat()
            if not self.sock.poll(100):
                continue
            frames = self.sock.recv_multipart()
            assert frames[1:3] == [b"", MDPW], frames
            if frames[3] == HEARTBEAT:
                continue
            if frames[3] == READY:
                self.worker, self.ready = frames[0], frames[4:]
            return frames[3:]
        return None

    def wait_ready(self, timeout=10):
        got = self.recv(time.monotonic() + timeout)
        assert got and got[0] == READY, f"expected the worker's READY, got {got!r}"
        return self.ready

    def send(self, rid, service, auth, payload):
        """A REQUEST as the broker sends it to a worker that offers several services:
        client address, "", service, then the envelope rid, auth, payload."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.sock.send_multipart([self.worker, b"", MDPW, REQUEST, b"client-" + rid.encode(),
                                  b"", service.encode(), rid.encode(), auth, body])

    def replies(self, n, timeout=20):
        """n REPLYs as {rid: (status, payload bytes)}; fails naming what is missing."""
        got = {}
        deadline = time.monotonic() + timeout
        while len(got) < n:
            frames = self.recv(deadline)
            assert frames is not None, f"only {len(got)} of {n} replies within {timeout} s: {got}"
            assert frames[0] == REPLY, frames
            # REPLY client "" rid status payload
            assert frames[1] == b"client-" + frames[3], frames
            got[frames[3].decode()] = (frames[4], frames[5] if len(frames) > 5 else b"")
        return got

    def close(self):
        self.sock.close(linger=0)


class Locker:
    """A psql session holding ACCESS EXCLUSIVE on a table until release()."""

    def __init__(self, system, table):
        self.system, self.table = system, table
        env = dict(system.env, PGHOST="127.0.0.1", PGPORT=str(system.db_port),
                   PGUSER="ticketd", PGDATABASE="ticketd", PGPASSWORD=system.db_password())
        self.proc = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.proc.stdin.write(f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;\n")
        self.proc.stdin.flush()
        wait_until(lambda: system.psql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            f"WHERE c.relname = '{table}' AND l.mode = 'AccessExclusiveLock' AND l.granted")
            == "1", f"the lock on {table}")

    def release(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("COMMIT;\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def wait_until(cond, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)


def db_url(system):
    return (f"postgresql://ticketd:{system.db_password()}@127.0.0.1:{system.db_port}/ticketd"
            f"?application_name={APP}")


def waiting_on_lock(system):
    """How many of the test worker's backends wait for a lock."""
    return int(system.psql("SELECT count(*) FROM pg_stat_activity "
                           f"WHERE application_name = '{APP}' AND wait_event_type = 'Lock'"))


@pytest.fixture
def pipe_worker(system, ctx):
    """(fake broker, worker process): a worker with credit CREDIT at debug level, plain TCP
    to the test's ROUTER, on the suite's database."""
    broker = FakeBroker(ctx)
    env = {k: v for k, v in system.env.items() if not k.startswith(("CURVE", "DB_"))}
    env.update(BROKER_ENDPOINT=f"tcp://127.0.0.1:{broker.port}", HEARTBEAT_MS="2500",
               WORKER_CREDIT=str(CREDIT), LOG_LEVEL="debug", DATABASE_URL=db_url(system))
    proc = Process("worker-pipeline", "worker", env)
    try:
        ready = broker.wait_ready()
        assert ready[-1] == f"credit {CREDIT}".encode(), ready
        yield broker, proc
    finally:
        rc = proc.stop()
        broker.close()
        assert rc == 0, f"the worker exited {rc} on SIGTERM:\n{proc.read_log()[-3000:]}"


def terminate(system):
    """Ends the test worker's backend that waits on a lock, as an administrator's
    pg_terminate_backend does, and waits until it is gone."""
    pid = system.psql("SELECT pid FROM pg_stat_activity "
                      f"WHERE application_name = '{APP}' AND wait_event_type = 'Lock'")
    assert pid, "no backend of the test worker waits on a lock"
    system.psql(f"SELECT pg_terminate_backend({int(pid)})")
    wait_until(lambda: system.psql(
        f"SELECT count(*) FROM pg_stat_activity WHERE pid = {int(pid)}") == "0",
        "the backend's end")


def users(system):
    ids = dict(line.split("|") for line in system.psql(
        "SELECT email, id FROM users WHERE email IN "
        "('agent@example.com', 'admin@example.com')").splitlines())
    return {"agent": f"{ids['agent@example.com']} agent".encode(),
            "admin": f"{ids['admin@example.com']} admin".encode()}


def mixed_reads(system):
    """(rid, service, who, payload): reads found, not found, with a bad id, forbidden,
    past the last page, filtered, from a user that does not exist, and one without a
    split form (sys.health)."""
    tid = system.psql("SELECT id FROM tickets WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
    return [
        ("m01", "tickets.get", "agent", {"id": tid}),
        ("m02", "tickets.get", "agent", {"id": str(uuid.uuid4())}),
        ("m03", "tickets.get", "agent", {"id": "not-a-uuid"}),
        ("m04", "tickets.list", "agent", {"deleted": "include"}),
        ("m05", "tickets.list", "agent", {}),
        ("m06", "tickets.list", "admin", {"status": "open", "limit": 5, "page": 2,
                                          "sort": "-priority"}),
        ("m07", "tickets.list", "agent", {"page": 1000, "limit": 100}),
        ("m08", "tickets.list", "agent", {"q": "ticket", "limit": 3}),
        ("m09", "tickets.get", "nobody", {"id": tid}),
        ("m10", "sys.health", "none", {}),
        ("m11", "tickets.get", "admin", {"id": tid}),
        ("m12", "tickets.list", "agent", {"limit": 0}),
    ]


def auth_of(who, ids):
    if who == "none":
        return b""
    if who == "nobody":
        return f"{uuid.uuid4()} agent".encode()
    return ids[who]


@contextlib.contextmanager
def held_batch(system, broker, ids, requests, locks=()):
    """Sends a request ("first", auth.me of a user made for it, so that no worker's cache
    holds it) whose user check waits on a lock of users, then requests while it waits, so
    that they are served as one batch once the lock goes. The tables in locks are locked
    first and stay locked until the block ends."""
    email = f"pipeline-{uuid.uuid4()}@example.com"
    user = system.psql("INSERT INTO users (email, name, role, password_hash) "
                       f"VALUES ('{email}', 'pipeline', 'agent', 'x') RETURNING id")
    held = []
    try:
        held = [Locker(system, t) for t in locks]
        users_lock = Locker(system, "users")
        try:
            broker.send("first", "auth.me", f"{user} agent".encode(), {})
            wait_until(lambda: waiting_on_lock(system) == 1, "the user check waiting on users")
            for rid, service, who, payload in requests:
                broker.send(rid, service, auth_of(who, ids), payload)
            time.sleep(0.3)             # they reach the SQL side's pipe
        finally:
            users_lock.release()
        yield
    finally:
        for lock in held:
            lock.release()
        system.psql(f"DELETE FROM users WHERE id = '{user}'")


def test_a_batch_of_mixed_reads_answers_byte_for_byte_as_one_by_one(system, pipe_worker):
    broker, proc = pipe_worker
    ids = users(system)
    requests = mixed_reads(system)
    # One by one: each alone in the worker.
    alone = {}
    for rid, service, who, payload in requests:
        broker.send(rid, service, auth_of(who, ids), payload)
        alone.update(broker.replies(1))
    statuses = {rid: alone[rid][0] for rid, *_ in requests}
    assert statuses == {"m01": b"200", "m02": b"404", "m03": b"422", "m04": b"403",
                        "m05": b"200", "m06": b"200", "m07": b"200", "m08": b"200",
                        "m09": b"401", "m10": b"200", "m11": b"200", "m12": b"422"}, statuses
    # The same requests as one batch, behind a request that holds the SQL side.
    with held_batch(system, broker, ids, requests):
        batched = broker.replies(len(requests) + 1)
    assert batched.pop("first")[0] == b"200"
    for rid, *_ in requests:
        assert batched[rid] == alone[rid], (f"{rid}: one by one {alone[rid]!r},\n"
                                            f"in a batch {batched[rid]!r}")
    log = proc.read_log()
    assert f"event=batch requests={len(requests)} reads=10" in log, log[-3000:]


def test_a_connection_killed_mid_pipeline_is_retried_once_on_a_fresh_one(system, pipe_worker):
    broker, proc = pipe_worker
    ids = users(system)
    tid = system.psql("SELECT id FROM tickets WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
    reads = [(f"k{i}", "tickets.get", "agent", {"id": tid}) for i in range(6)]
    with held_batch(system, broker, ids, reads, locks=("tickets",)):
        # The batch's pipeline waits on the tickets lock: kill its backend.
        wait_until(lambda: waiting_on_lock(system) == 1, "the pipeline waiting on tickets")
        terminate(system)
        # The retry, on a fresh connection, waits on the lock again: then it goes.
        wait_until(lambda: waiting_on_lock(system) == 1, "the retried pipeline")
    got = broker.replies(len(reads) + 1)
    assert {rid: s for rid, (s, _) in got.items()} == dict(
        [("first", b"200")] + [(rid, b"200") for rid, *_ in reads]), got
    assert all(json.loads(got[rid][1])["id"] == tid for rid, *_ in reads)
    log = proc.read_log()
    assert "event=db_pipeline_retry statements=6" in log, log[-3000:]


def test_a_pipeline_whose_retry_dies_too_is_answered_503(system, pipe_worker):
    broker, proc = pipe_worker
    ids = users(system)
    tid = system.psql("SELECT id FROM tickets WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
    reads = [(f"d{i}", "tickets.get", "agent", {"id": tid}) for i in range(3)]
    reads.append(("d3", "tickets.list", "agent", {}))
    with held_batch(system, broker, ids, reads, locks=("tickets",)):
        for attempt in ("first", "retried"):
            wait_until(lambda: waiting_on_lock(system) == 1, f"the {attempt} pipeline")
            terminate(system)
        got = broker.replies(len(reads) + 1)
    for rid, *_ in reads:
        status, payload = got[rid]
        assert status == b"503", (rid, got[rid])
        assert json.loads(payload)["error"]["code"] == "database_unavailable", got[rid]
    # Three gets and the list's three (its capped count, the planner's estimate, the page).
    assert "event=db_pipeline_lost statements=6" in proc.read_log(), proc.read_log()[-4000:]
    # And the worker goes on: the next request gets a fresh connection.
    broker.send("after", "tickets.get", ids["agent"], {"id": tid})
    assert broker.replies(1)["after"][0] == b"200"

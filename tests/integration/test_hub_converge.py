"""Live state converges although job events are lost: the hub is killed and started again
20 times while jobs run, some of them ending just before a kill or while the hub is down,
and every WebSocket client gets every job's final state within 3 s of its end (or of its
own (re)connection, when it was not connected at the end: a client that first connects
after a restart gets every job that ended within HUB_FINISHED_KEEP_MS before), never
goes backwards in a job's seq, and sees only what its user may see. Also: jobs.live, the service the hub reads the current
state from, and seq in the REST job."""
import json
import os
import random
import signal
import struct
import subprocess
import threading
import time
import uuid

import psycopg2
import websocket

from test_hub import close_code, connect, make_user, sign, sub_of
from test_jobs import TERMINAL, create_job, make_tickets

FINAL = {"jobs:completed", "jobs:failed", "jobs:canceled"}
DEADLINE_S = 3.0
ROUNDS = 20
KEEP_MARGIN_S = 10


class Client:
    """A WebSocket client that stays connected for the whole test: a reader thread takes
    every frame (control frames too, so no read outlives its 0.2 s timeout) and, when the
    hub goes away, reconnects at once. It records each connection's open and close times
    and each event with the time it came and the connection it came on."""

    def __init__(self, system, token, name, until):
        self.system, self.token, self.name, self.until = system, token, name, until
        self.events = []            # (time, connection number, event)
        self.conns = []             # [opened, closed or None]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set() and time.time() < self.until:
            try:
                ws = connect(self.system, self.token, timeout=2)
            except (OSError, websocket.WebSocketException):
                time.sleep(0.05)
                continue
            self.conns.append([time.time(), None])
            n = len(self.conns) - 1
            try:
                self.read(ws, n)
            except (OSError, websocket.WebSocketException):
                pass
            finally:
                self.conns[n][1] = time.time()
                ws.close()

    def read(self, ws, n):
        ws.settimeout(0.2)
        while not self.stop.is_set() and time.time() < self.until:
            try:
                op, frame = ws.recv_data_frame(True)
            except websocket.WebSocketTimeoutException:
                continue
            if op == websocket.ABNF.OPCODE_TEXT:
                self.events.append((time.time(), n, json.loads(frame.data)))
            elif op == websocket.ABNF.OPCODE_CLOSE:
                return

    def close(self):
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive(), f"{self.name}: the reader did not stop"

    def connected_at(self, t):
        return any(o <= t and (c is None or t <= c) for o, c in self.conns)

    def deadline(self, t_end):
        """When the final state of a job that ended at t_end must be here: 3 s after the
        end if this client was connected then, else 3 s after it next connected."""
        if self.connected_at(t_end):
            return t_end + DEADLINE_S
        later = [o for o, _ in self.conns if o >= t_end]
        return (min(later) if later else float("inf")) + DEADLINE_S

    def first_final(self, job_id):
        """(time, data) of the first final event of job_id, or None."""
        for t, _, ev in self.events:
            if ev["data"]["id"] == job_id and ev["event"] in FINAL:
                return t, ev["data"]
        return None


class Ends:
    """When each job's end became visible: a thread polls PostgreSQL every 20 ms for the
    jobs it is given. A job's finished_at is when its last transaction began, which may be
    seconds before it committed (a chunk waits for its job's row); the end a client can
    see is the commit, and this is within 20 ms after it."""

    def __init__(self, system, until):
        self.db = psycopg2.connect(host="127.0.0.1", port=system.db_port, user="ticketd",
                                   dbname="ticketd", password=system.db_password(),
                                   connect_timeout=5)
        self.db.autocommit = True
        self.until = until
        self.watched, self.seen = set(), {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="ends", daemon=True)
        self.thread.start()

    def watch(self, job_id):
        with self.lock:
            self.watched.add(job_id)

    def run(self):
        cur = self.db.cursor()
        while not self.stop.is_set() and time.time() < self.until:
            with self.lock:
                ids = list(self.watched - set(self.seen))
            if ids:
                cur.execute("SELECT id::text FROM jobs WHERE id = ANY (%s::uuid[]) "
                            "AND status IN ('completed', 'failed', 'canceled')", (ids,))
                now = time.time()
                for (job_id,) in cur.fetchall():
                    self.seen[job_id] = now
            time.sleep(0.02)

    def wait_all(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if self.watched <= set(self.seen):
                    return dict(self.seen)
            time.sleep(0.05)
        raise AssertionError(f"jobs not finished after {timeout} s: {self.watched - set(self.seen)}")

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.db.close()


class Hub:
    """Kills the progress-hub and starts it again exactly as ./manage.sh did (its binary,
    environment and log), without the rest of ./manage.sh up, so the hub is down for the
    time a test chooses. The pid file stays right, so ./manage.sh down stops it."""

    def __init__(self, system):
        self.system = system
        pid = system.pid("progress-hub")
        assert pid, "the hub is not running"
        self.exe = os.readlink(f"/proc/{pid}/exe")
        with open(f"/proc/{pid}/environ", "rb") as f:
            self.env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
        self.log = os.path.join(system.env["VAR_DIR"], "log", "progress-hub.log")
        self.pidfile = os.path.join(system.env["VAR_DIR"], "run", "progress-hub.pid")

    def kill(self, sig):
        self.system.kill("progress-hub", sig)

    def start(self):
        """Through a shell that exits at once, so the hub is not our child: a child of
        pytest that exits stays a zombie until pytest waits for it, and ./manage.sh down
        (which waits for the pid to go) would take the zombie for a hub that does not stop."""
        sh = subprocess.run(["/bin/sh", "-c", 'exec "$0" </dev/null >>"$1" 2>&1 & echo $!',
                             self.exe, self.log], env=self.env, capture_output=True, text=True,
                            timeout=10, start_new_session=True, check=True)
        with open(self.pidfile, "w") as f:
            f.write(f"{int(sh.stdout)}\n")


def db_job(system, job_id):
    """(status, processed, seq) from PostgreSQL; seq None before jobs had one."""
    status, processed, seq = system.psql(f"SELECT status, processed, to_jsonb(j) ->> 'version' "
                                         f"FROM jobs j WHERE id = '{job_id}'").split("|")
    return status, int(processed), int(seq) if seq else None


def wait_db_terminal(system, job_id, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if db_job(system, job_id)[0] in TERMINAL:
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not finished after {timeout} s\n{system.log_tail()}")


def active_jobs(system, user):
    return int(system.psql(f"SELECT count(*) FROM jobs WHERE created_by = '{user}' "
                           "AND status IN ('queued', 'running')"))


def insert_running_job(system, owner):
    """A running job that no worker processes (it has no chunks): it ends only when the
    test says so, in SQL, so no worker ever publishes its final event."""
    return system.psql(f"INSERT INTO jobs (id, type, status, total, chunks_total, created_by, "
                       f"started_at) VALUES ('{uuid.uuid4()}', 'bulk-delete', 'running', 10, 0, "
                       f"'{owner}', now()) RETURNING id")


def end_in_sql(system, job_id):
    system.psql(f"UPDATE jobs SET status = 'completed', processed = 10, succeeded = 10, "
                f"finished_at = now() WHERE id = '{job_id}'")


def test_every_client_gets_every_final_state_within_3_s_across_20_hub_restarts(
        system, admin_token, agent_token):
    admin_id, agent_id = sub_of(admin_token), sub_of(agent_token)
    keep_s = int(system.env.get("HUB_FINISHED_KEEP_MS", "60000")) / 1000
    stranger = make_user(system)
    until = time.time() + 240
    hub = Hub(system)
    ends = Ends(system, until)
    admin = Client(system, admin_token, "admin", until)
    agent = Client(system, agent_token, "agent", until)
    other = Client(system, sign(system, stranger, "agent"), "stranger", until)
    fresh = []                      # one admin client that first connects after each restart
    jobs = {}                       # id -> owner
    labels = {}                     # id -> what the job was for, in a failure's message
    rng = random.Random(int(os.environ.get("CONVERGE_SEED", time.time())))
    try:
        for r in range(ROUNDS):
            ids_long, ids_short = make_tickets(system, 3000, f"cvL{r}-{uuid.uuid4().hex[:6]}"), \
                make_tickets(system, 20, f"cvS{r}-{uuid.uuid4().hex[:6]}")
            deadline = time.time() + 30
            while active_jobs(system, admin_id) > 6:
                assert time.time() < deadline, "admin jobs do not finish"
                time.sleep(0.05)
            silent = insert_running_job(system, agent_id)
            ends.watch(silent)
            jobs[silent] = agent_id
            labels[silent] = f"round {r}: ended in SQL while the hub was down"
            # One job runs through the restart; one ends just before the kill, so that the
            # hub that dies is the only one that saw its end.
            long_job, _ = create_job(system, admin_token, ids_long)
            short_job, _ = create_job(system, admin_token, ids_short)
            jobs[long_job["id"]] = jobs[short_job["id"]] = admin_id
            ends.watch(long_job["id"])
            ends.watch(short_job["id"])
            labels[long_job["id"]] = f"round {r}: running at the kill"
            labels[short_job["id"]] = f"round {r}: ended just before the kill"
            wait_db_terminal(system, short_job["id"])
            hub.kill(signal.SIGKILL if r % 2 else signal.SIGTERM)
            end_in_sql(system, silent)          # ends while the hub is down: no event at all
            time.sleep(rng.uniform(0.05, 0.5))
            hub.start()
            fresh.append(Client(system, admin_token, f"fresh{r}", until))
        ended = ends.wait_all(timeout=60)
        while time.time() < max(ended.values()) + DEADLINE_S + 0.5:
            time.sleep(0.1)
    finally:
        for c in [admin, agent, other] + fresh:
            c.close()
        ends.close()

    late = []
    for job_id, owner in jobs.items():
        status, processed, seq = db_job(system, job_id)
        t_end = ended[job_id]
        watchers = [admin] + ([agent] if owner == agent_id else [])
        # A client that connected after a restart is held to every job that ended once it
        # was connected, and to every one that ended within HUB_FINISHED_KEEP_MS before:
        # on connect it is sent the current state of every job in the hub's cache, which
        # the restarted hub read from jobs.live (finished within HUB_FINISHED_KEEP_MS of
        # the database's finished_at, which may be seconds before the commit: KEEP_MARGIN_S).
        watchers += [c for c in fresh if c.conns and t_end >= c.conns[0][0] - keep_s + KEEP_MARGIN_S]
        for c in watchers:
            got = c.first_final(job_id)
            if got is None or got[0] > c.deadline(t_end):
                late.append((c.name, labels[job_id], "never" if got is None
                             else f"{got[0] - t_end:.2f} s after its end"))
                continue
            data = got[1]
            assert (data["status"], data["processed"], data.get("seq")) == (status, processed, seq), \
                f"{c.name}: job {job_id}: expected {(status, processed, seq)}, got {data}"
    kinds = {}
    for _, label, _ in late:
        kinds[label.split(": ", 1)[1]] = kinds.get(label.split(": ", 1)[1], 0) + 1
    assert not late, (f"{len(late)} final states late or missing, by job {kinds}; "
                      f"(client, job, when): {late[:12]}")

    for c in [admin, agent, other] + fresh:
        seqs = {}
        for _, n, ev in c.events:
            key = (n, ev["data"]["id"])
            assert ev["data"].get("seq", 0) > seqs.get(key, 0), \
                f"{c.name}: job {key[1]} went back from seq {seqs.get(key)} to {ev['data'].get('seq')}"
            seqs[key] = ev["data"]["seq"]
    assert all(ev["data"]["createdBy"] == agent_id for _, _, ev in agent.events), \
        "the agent saw someone else's job"
    assert not other.events, f"a user with no job saw {len(other.events)} events"
    assert len(admin.conns) >= ROUNDS + 1, f"the admin client connected {len(admin.conns)} times"


def test_jobs_live_answers_the_live_jobs_with_their_seq_and_is_bounded(system, admin_token):
    ids = make_tickets(system, 5, f"cvJ{uuid.uuid4().hex[:6]}")
    job, _ = create_job(system, admin_token, ids)
    wait_db_terminal(system, job["id"])
    running = insert_running_job(system, sub_of(admin_token))
    try:
        status, body = system.mdp_request("jobs.live", {"finishedWithinMs": 60000}, "live-1", None, None)
        assert status == 200 and body["more"] is False, body
        live = {j["id"]: j for j in body["data"]}
        assert live[running]["status"] == "running" and live[running]["seq"] == 1, live[running]
        _, processed, seq = db_job(system, job["id"])
        assert (live[job["id"]]["status"], live[job["id"]]["seq"]) == ("completed", seq), live[job["id"]]
        assert list(live).index(running) < list(live).index(job["id"]), "active jobs come first"
        status, body = system.mdp_request("jobs.live", {"finishedWithinMs": 0, "limit": 1}, "live-2",
                                          None, None)
        assert status == 200 and len(body["data"]) == 1 and body["data"][0]["status"] in ("queued", "running")
        for bad in ({"limit": 0}, {"limit": 1001}, {"finishedWithinMs": -1}, {"limit": "x"}):
            status, body = system.mdp_request("jobs.live", bad, f"live-bad-{len(str(bad))}", None, None)
            assert status == 422, (bad, status, body)
    finally:
        end_in_sql(system, running)
    # The REST job carries the same seq, which grows with every change of the job.
    _, _, got = system.request("GET", f"/api/jobs/{running}", token=admin_token)
    assert got["seq"] == 2 and got["status"] == "completed", got


def raw_close(ws, timeout=10):
    """(code, reason) of the close frame that is the first thing the hub sends, read off the
    socket: websocket-client refuses 1013 (IANA's "Try Again Later") as an invalid code."""
    ws.sock.settimeout(timeout)
    data = b""
    while len(data) < 2 or len(data) < 2 + (data[1] & 0x7F):
        chunk = ws.sock.recv(256)
        assert chunk, f"closed without a close frame: {data!r}"
        data += chunk
    assert data[0] == 0x88, f"not a close frame: {data!r}"
    body = data[2:2 + (data[1] & 0x7F)]
    return struct.unpack("!H", body[:2])[0], body[2:].decode()


def test_one_address_cannot_hold_more_than_its_share_of_sockets_waiting_to_authenticate(system):
    """A host that opens handshakes and never sends a token would otherwise take every
    HUB_MAX_CLIENTS slot for the auth timeout, again and again."""
    hub = Hub(system)
    normal = dict(hub.env)
    hub.env[b"HUB_PENDING_PER_ADDRESS"] = b"8"
    hub.env[b"HUB_AUTH_TIMEOUT_MS"] = b"60000"      # they wait, and keep their slots
    hub.kill(signal.SIGTERM)
    hub.start()
    waiting = []
    try:
        system.wait_healthy()
        deadline = time.time() + 20
        while True:
            try:
                waiting = [connect(system) for _ in range(8)]
                break
            except OSError:
                assert time.time() < deadline, "the restarted hub does not accept sockets"
                time.sleep(0.2)
        refused = connect(system)
        assert raw_close(refused) == (1013, "too many connections waiting to authenticate")
        # One that goes live no longer counts: its slot is free for the next.
        user = make_user(system, "agent")
        waiting[0].send(json.dumps({"token": sign(system, user, "agent")}))
        deadline = time.time() + 10
        while True:
            late = connect(system)
            late.settimeout(0.5)
            try:
                still_refused = raw_close(late, timeout=0.5)[0] == 1013
            except TimeoutError:
                still_refused = False       # nothing: it waits for its token, as it should
            if not still_refused:
                break
            late.close()
            assert time.time() < deadline, "the live socket still counts against its address"
            time.sleep(0.2)
        late.close()
    finally:
        for ws in waiting:
            ws.close()
        hub.env = normal
        hub.kill(signal.SIGTERM)
        hub.start()
        system.wait_healthy()

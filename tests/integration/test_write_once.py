"""A write whose worker dies right after COMMIT, before replying, happens once and is answered
as once (workers/replay.c, docs/ARCHITECTURE.md "Re-delivered requests").

Each kill test stops the system's two workers and starts bin/worker-failpoints armed with
WORKER_FAILPOINT=after_commit:<service> (workers/failpoint.h) as the only worker, so the
request goes to it; it commits, logs the answer it was about to send and SIGKILLs itself.
Then a normal worker starts, the broker hands it the request (same rid) once it has declared
the first one dead, and the client's answer must be what a single run gives. The workers of
the system are started again at the end of each test (./manage.sh up)."""
import collections
import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import time
import uuid

import zmq

from conftest import BUILD_DIR, ROOT, error_of
from harness import Process

FP_EXE = "worker-failpoints"
HIT = re.compile(r"event=failpoint_hit point=after_commit service=(\S+) rid=(\S+) status=(\d+)")

# The client's answer; the rid and the answer of the first run (the failpoint's line); the
# log of the worker that ran the request again.
Outcome = collections.namedtuple("Outcome", "status headers body rid first second_log")


def worker_env(system, failpoint=None):
    """A worker's environment as ./manage.sh gives it: the suite's settings, then the test
    .env's database settings (its password), and the worker certificate."""
    env = dict(system.env)
    with open(system.env["ENV_FILE"]) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key.startswith("DB_"):
                env.setdefault(key, value)
    env.update(CURVE_CLIENT_CERT=os.path.join(system.curve_dir, "worker_secret"),
               CURVE_SERVER_KEY=os.path.join(system.curve_dir, "server"))
    env.pop("WORKER_FAILPOINT", None)
    if failpoint:
        env["WORKER_FAILPOINT"] = failpoint
    return env


def broker_workers(system):
    """How many workers the broker knows (mmi.status)."""
    s = system.zmq_socket(zmq.DEALER, role="tool", connect=system.broker_endpoint)
    try:
        s.send_multipart([b"", b"MDPC01", b"mmi.status"])
        assert s.poll(5000), "mmi.status: no answer within 5 s"
        return json.loads(s.recv_multipart()[3])["workers"]
    finally:
        s.close()


def wait_only_worker(system, timeout=10):
    deadline = time.monotonic() + timeout
    n = None
    while time.monotonic() < deadline:
        n = broker_workers(system)
        if n == 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"expected the armed worker to be the broker's only one, it knows {n}")


@contextlib.contextmanager
def armed_worker(system, service):
    """The armed worker as the broker's only one; the system's workers back afterwards."""
    for name in ("worker-1", "worker-2"):
        if system.pid(name):
            system.kill(name, signal.SIGTERM)
    fp = Process(f"worker-failpoint-{service}", FP_EXE,
                 worker_env(system, f"after_commit:{service}"))
    try:
        wait_only_worker(system)
        yield fp
    finally:
        fp.stop()
        system.manage("up")


def killed_after_commit(system, service, method, path, body=None, token=None):
    """Sends method path while only a worker armed to die after committing service runs, then
    starts a normal worker for the broker's re-delivery. Returns an Outcome."""
    with armed_worker(system, service) as fp:
        conn = http.client.HTTPConnection("127.0.0.1", system.port, timeout=30)
        normal = None
        try:
            headers = {"Authorization": f"Bearer {token}"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            try:
                rc = fp.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"the armed worker did not die within 15 s:\n{fp.read_log()}")
            assert rc == -signal.SIGKILL, f"expected death by SIGKILL, got exit {rc}"
            hit = HIT.search(fp.read_log())
            assert hit and hit.group(1) == service, f"no failpoint line for {service}:\n{fp.read_log()}"
            normal = Process("worker-after-failpoint", "worker", worker_env(system))
            resp = conn.getresponse()
            text = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            parsed = json.loads(text) if text and "json" in hdrs.get("content-type", "") else text
            return Outcome(resp.status, hdrs, parsed, hit.group(2), int(hit.group(3)),
                           normal.read_log())
        finally:
            conn.close()
            if normal:
                normal.stop()


def new_ticket(system, token, subject):
    status, _, t = system.request("POST", "/api/tickets", {"subject": subject,
                                  "requesterEmail": "once@example.com"}, token=token)
    assert status == 201, (status, t)
    return t


def version_of(system, ticket_id):
    return int(system.psql(f"SELECT version FROM tickets WHERE id = '{ticket_id}'"))


def assert_answered_from_the_record(system, out, service):
    """The second run found the first's record and answered it; the record is the first's."""
    line = f"event=request_replayed rid={out.rid} service={service}"
    assert line in out.second_log, f"expected {line!r} in the second worker's log:\n{out.second_log}"
    row = system.psql(f"SELECT service || ' ' || status FROM request_results WHERE rid = '{out.rid}'")
    assert row == f"{service} {out.first}", row


# ---- the failpoint itself ---------------------------------------------------------------

def test_a_bad_failpoint_setting_stops_the_worker_at_start_with_one_clear_line(system):
    exe = os.path.join(ROOT, BUILD_DIR, "bin", FP_EXE)
    for bad in ("after_commit", "after_commit:", "after_commit:no.such", "before_commit:tickets.update",
                "after_commit:tickets.update "):
        env = dict(worker_env(system, bad), BROKER_ENDPOINT="tcp://127.0.0.1:1")
        r = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=10)
        assert r.returncode == 1, f"WORKER_FAILPOINT={bad!r}: exit {r.returncode}\n{r.stderr}"
        assert "var=WORKER_FAILPOINT" in r.stderr and "after_commit:<service>" in r.stderr, r.stderr


def test_the_production_worker_holds_no_failpoint_code():
    with open(os.path.join(ROOT, BUILD_DIR, "bin", "worker"), "rb") as f:
        production = f.read()
    with open(os.path.join(ROOT, BUILD_DIR, "bin", FP_EXE), "rb") as f:
        test_build = f.read()
    assert b"WORKER_FAILPOINT" in test_build and b"failpoint_hit" in test_build
    assert b"WORKER_FAILPOINT" not in production and b"failpoint_hit" not in production


# ---- a worker killed after COMMIT: the client's answer is a single run's ----------------

def test_a_put_killed_after_commit_raises_the_version_once(system, admin_token):
    t = new_ticket(system, admin_token, "once: put")
    out = killed_after_commit(system, "tickets.update", "PUT", f"/api/tickets/{t['id']}",
                              {"status": "pending"}, admin_token)
    assert out.first == 200
    assert out.status == 200, out
    assert version_of(system, t["id"]) == t["version"] + 1, "the update was applied twice"
    assert out.body["version"] == t["version"] + 1 and out.body["status"] == "pending", out.body
    assert out.headers.get("etag") == f'"{t["version"] + 1}"', out.headers
    assert_answered_from_the_record(system, out, "tickets.update")


def test_a_delete_killed_after_commit_answers_204_not_404(system, admin_token):
    t = new_ticket(system, admin_token, "once: delete")
    out = killed_after_commit(system, "tickets.delete", "DELETE", f"/api/tickets/{t['id']}",
                              token=admin_token)
    assert out.first == 204
    assert out.status == 204, f"expected the delete's own 204, got {out.status} {out.body}"
    assert version_of(system, t["id"]) == t["version"] + 1
    assert system.psql(f"SELECT deleted_at IS NOT NULL FROM tickets WHERE id = '{t['id']}'") == "t"
    assert_answered_from_the_record(system, out, "tickets.delete")


def test_a_post_killed_after_commit_creates_one_ticket_and_answers_its_id(system, admin_token):
    subject = f"once: post {uuid.uuid4()}"
    out = killed_after_commit(system, "tickets.create", "POST", "/api/tickets",
                              {"subject": subject, "requesterEmail": "once@example.com"},
                              admin_token)
    assert out.first == 201
    assert out.status == 201, out
    ids = system.psql(f"SELECT id FROM tickets WHERE subject = '{subject}'").split()
    assert ids == [out.body["id"]], f"expected one ticket {out.body['id']}, found {ids}"
    assert out.headers.get("location", "").endswith(f"/api/tickets/{ids[0]}"), out.headers
    assert out.body["version"] == 1 and version_of(system, ids[0]) == 1
    assert_answered_from_the_record(system, out, "tickets.create")


def test_a_restore_killed_after_commit_answers_as_once(system, admin_token):
    t = new_ticket(system, admin_token, "once: restore")
    status, _, _ = system.request("DELETE", f"/api/tickets/{t['id']}", token=admin_token)
    assert status == 204
    out = killed_after_commit(system, "tickets.restore", "POST",
                              f"/api/tickets/{t['id']}/restore", token=admin_token)
    assert out.first == 200
    assert out.status == 200, out
    assert out.body["deletedAt"] is None and out.body["version"] == t["version"] + 2, out.body
    assert version_of(system, t["id"]) == t["version"] + 2
    assert_answered_from_the_record(system, out, "tickets.restore")


def test_a_cancel_killed_after_commit_answers_200_with_the_canceled_job(system, admin_token):
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    job_id = str(uuid.uuid4())
    # A queued job of no items: nothing runs it, so the cancel always finds it active.
    system.psql(f"INSERT INTO jobs (id, type, total, chunks_total, created_by) "
                f"VALUES ('{job_id}', 'bulk-delete', 0, 0, '{admin}')")
    try:
        out = killed_after_commit(system, "jobs.cancel", "POST", f"/api/jobs/{job_id}/cancel",
                                  token=admin_token)
        assert out.first == 200
        assert out.status == 200, f"expected the cancel's own 200, got {out.status} {out.body}"
        assert out.body["id"] == job_id and out.body["status"] == "canceled", out.body
        assert_answered_from_the_record(system, out, "jobs.cancel")
        status, _, body = system.request("POST", f"/api/jobs/{job_id}/cancel", token=admin_token)
        assert status == 409 and error_of(body)["code"] == "job_finished", (status, body)
    finally:
        system.psql(f"UPDATE jobs SET status = 'canceled', finished_at = now() "
                    f"WHERE id = '{job_id}' AND finished_at IS NULL")


def test_a_job_create_killed_after_commit_answers_the_queued_job_once(system, admin_token):
    tag = f"once-job-{uuid.uuid4().hex[:8]}"
    system.psql(f"INSERT INTO tickets (subject, requester_email) SELECT '{tag} ' || g, "
                f"'once@example.com' FROM generate_series(1, 3000) g")
    ids = system.psql(f"SELECT id FROM tickets WHERE subject LIKE '{tag} %'").split()
    before = int(system.psql("SELECT count(*) FROM jobs"))
    out = killed_after_commit(system, "jobs.create", "POST", "/api/jobs",
                              {"type": "bulk-delete", "payload": {"ticketIds": ids}}, admin_token)
    body = out.body
    assert out.first == 202
    assert out.status == 202, (out.status, str(body)[:300])
    assert int(system.psql("SELECT count(*) FROM jobs")) == before + 1
    assert system.psql(f"SELECT count(*) FROM jobs WHERE id = '{body['id']}'") == "1"
    assert (body["status"], body["processed"], body["total"]) == ("queued", 0, 3000), body
    assert_answered_from_the_record(system, out, "jobs.create")
    # Its first chunks were leased in the dead worker's transaction: the sweeper sends them.
    deadline = time.time() + 60
    while time.time() < deadline:
        _, _, job = system.request("GET", f"/api/jobs/{body['id']}?itemsLimit=1", token=admin_token)
        if job["status"] == "completed":
            break
        time.sleep(0.2)
    assert (job["status"], job["succeeded"], job["failed"]) == ("completed", 3000, 0), job


# ---- the record itself, through the broker ---------------------------------------------

def test_an_update_delivered_twice_with_its_rid_applies_once_and_answers_alike(system, admin_token):
    """What the broker's re-delivery is, sent by hand: the same rid, user and payload."""
    t = new_ticket(system, admin_token, "once: twice")
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    rid = f"twice-{uuid.uuid4().hex[:12]}"
    payload = {"id": t["id"], "fields": {"priority": "high", "status": "pending"}}
    first = system.mdp_request("tickets.update", payload, rid, admin, "admin")
    assert first[0] == 200 and first[1]["version"] == t["version"] + 1, first
    again = system.mdp_request("tickets.update", payload, rid, admin, "admin")
    assert again == first, f"expected the first answer {first}, got {again}"
    # Key order and spacing do not make another request.
    text = json.dumps({"fields": {"status": "pending", "priority": "high"}, "id": t["id"]}, indent=1)
    assert system.mdp_request("tickets.update", text, rid, admin, "admin") == first
    assert version_of(system, t["id"]) == t["version"] + 1
    # Another payload under the same rid (only a broker client can choose a rid) is its own
    # request: it runs, and the first recording stays.
    other = system.mdp_request("tickets.update", {"id": t["id"], "fields": {"priority": "low"}},
                               rid, admin, "admin")
    assert other[0] == 200 and other[1]["version"] == t["version"] + 2, other
    row = system.psql(f"SELECT service || ' ' || status FROM request_results WHERE rid = '{rid}'")
    assert row == "tickets.update 200", row
    # A new request (a new rid) is a new update.
    status, _, body = system.request("PUT", f"/api/tickets/{t['id']}", {"priority": "urgent"},
                                     token=admin_token)
    assert status == 200 and body["version"] == t["version"] + 3, body


def test_a_delete_delivered_twice_answers_204_twice_and_a_new_delete_404(system, admin_token):
    t = new_ticket(system, admin_token, "once: delete twice")
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    rid = f"twice-{uuid.uuid4().hex[:12]}"
    first = system.mdp_request("tickets.delete", {"id": t["id"]}, rid, admin, "admin")
    assert first == (204, None), first
    assert system.mdp_request("tickets.delete", {"id": t["id"]}, rid, admin, "admin") == first
    status, _, body = system.request("DELETE", f"/api/tickets/{t['id']}", token=admin_token)
    assert status == 404 and error_of(body)["code"] == "not_found", (status, body)

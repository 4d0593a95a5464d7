"""The default system is safe with no configuration: ./manage.sh makes CurveZMQ keys in
var/curve and turns CURVE on for the broker and the hub, with one client certificate per
role (edge, worker, tool). Any local user can reach the ports on 127.0.0.1; without a key
they get nothing, and a tool's key cannot act for a user, serve requests or publish events.
Every wait has a wall-clock deadline."""
import json
import os
import stat
import time
import uuid

import zmq

from conftest import error_of
from test_hub import connect, drain
from test_jobs import create_job, make_tickets, wait_terminal

MDPC = b"MDPC01"
MDPW = b"MDPW01"
READY, REQUEST, DISCONNECT = b"\x01", b"\x02", b"\x05"


def frames_until(sock, deadline):
    """Every multipart message sock receives until the wall-clock deadline."""
    got = []
    while time.monotonic() < deadline:
        if sock.poll(max(1, int((deadline - time.monotonic()) * 1000))):
            got.append(sock.recv_multipart())
    return got


def admin_id(system):
    return system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")


def fake_event(job_id, owner):
    data = {"id": job_id, "type": "bulk-delete", "status": "queued", "progress": 0,
            "total": 1, "processed": 0, "succeeded": 0, "failed": 0, "createdBy": owner,
            "createdAt": "2026-01-01T00:00:00.000Z", "startedAt": None, "finishedAt": None,
            "error": None}
    return [f"jobs.created.{job_id}".encode(),
            json.dumps({"event": "jobs:created", "data": data}).encode()]


def broker_status(system):
    s = system.zmq_socket(zmq.DEALER, role="tool", connect=system.broker_endpoint)
    try:
        s.send_multipart([b"", MDPC, b"mmi.status"])
        assert s.poll(3000), "the broker did not answer mmi.status to the tool key"
        return json.loads(s.recv_multipart()[3])
    finally:
        s.close()


# -- what ./manage.sh made

def test_manage_made_private_keys_once_and_says_curve_is_on(system):
    d = system.curve_dir
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    for name in ("server", "edge", "worker", "tool"):
        assert stat.S_IMODE(os.stat(os.path.join(d, f"{name}_secret")).st_mode) == 0o600, name
    for role in ("edge", "worker", "tool"):
        with open(os.path.join(d, "allow", role)) as f:
            assert f'role = "{role}"' in f.read(), role
    before = {n: open(os.path.join(d, n)).read() for n in os.listdir(d) if n != "allow"}
    out = system.manage("up").stdout                # everything runs: starts nothing
    after = {n: open(os.path.join(d, n)).read() for n in os.listdir(d) if n != "allow"}
    assert before == after, "a second ./manage.sh up changed the keys"
    assert "CurveZMQ   on" in out and d in out, out
    status = system.manage("status").stdout
    assert "CurveZMQ   on" in status and "SERVICE" in status, status


# -- strangers: no key

def test_a_plain_dealer_gets_no_answer_from_the_broker(system):
    ctx = zmq.Context.instance()
    plain = ctx.socket(zmq.DEALER)
    plain.linger = 0
    plain.connect(system.broker_endpoint)
    keyed = system.zmq_socket(zmq.DEALER, role="tool", connect=system.broker_endpoint)
    try:
        plain.send_multipart([b"", MDPC, b"mmi.service", b"tickets.list"])
        keyed.send_multipart([b"", MDPC, b"mmi.service", b"tickets.list"])
        got = frames_until(plain, time.monotonic() + 2.0)
        assert got == [], f"a plain client got an answer: {got}"
        # The control: the same question with a key is answered.
        assert keyed.poll(2000), "the tool key got no answer either"
        assert keyed.recv_multipart()[3] == b"200"
    finally:
        plain.close()
        keyed.close()


def test_a_plain_sub_hears_nothing_while_a_job_runs(system, admin_token):
    ctx = zmq.Context.instance()
    plain = ctx.socket(zmq.SUB)
    plain.linger = 0
    plain.setsockopt(zmq.SUBSCRIBE, b"")
    plain.connect(system.env["HUB_SUB_ENDPOINT"])
    keyed = system.zmq_socket(zmq.SUB, role="tool", connect=system.env["HUB_SUB_ENDPOINT"])
    keyed.setsockopt(zmq.SUBSCRIBE, b"jobs.")
    try:
        time.sleep(0.3)     # handshakes and the slow joiner
        job, _ = create_job(system, admin_token, make_tickets(system, 20, "curveSub"))
        wait_terminal(system, admin_token, job["id"])
        heard = [f[0] for f in frames_until(keyed, time.monotonic() + 2.0)]
        assert f"jobs.completed.{job['id']}".encode() in heard, heard
        got = frames_until(plain, time.monotonic() + 0.5)
        assert got == [], f"a plain SUB read {len(got)} events: {got[:2]}"
    finally:
        plain.close()
        keyed.close()


def test_only_a_worker_key_can_publish_into_the_hub(system, admin_token):
    """A plain PUB and a tool's PUB inject events for the admin's jobs; neither a keyed SUB
    nor the admin's WebSocket sees them. The worker key's event arrives (the control)."""
    owner = admin_id(system)
    ctx = zmq.Context.instance()
    plain = ctx.socket(zmq.PUB)
    plain.linger = 0
    plain.connect(system.env["HUB_PUB_ENDPOINT"])
    tool = system.zmq_socket(zmq.PUB, role="tool", connect=system.env["HUB_PUB_ENDPOINT"])
    worker = system.zmq_socket(zmq.PUB, role="worker", connect=system.env["HUB_PUB_ENDPOINT"])
    sub = system.zmq_socket(zmq.SUB, role="tool", connect=system.env["HUB_SUB_ENDPOINT"])
    sub.setsockopt(zmq.SUBSCRIBE, b"jobs.created.")
    ws = connect(system, admin_token)
    try:
        time.sleep(0.5)
        drain(ws, 0.2)
        fakes = {str(uuid.uuid4()), str(uuid.uuid4())}
        plain_job, tool_job = sorted(fakes)
        for _ in range(10):
            plain.send_multipart(fake_event(plain_job, owner))
            tool.send_multipart(fake_event(tool_job, owner))
            time.sleep(0.05)
        real = str(uuid.uuid4())
        worker.send_multipart(fake_event(real, owner))
        deadline = time.monotonic() + 3.0
        topics = []
        while time.monotonic() < deadline and f"jobs.created.{real}".encode() not in topics:
            topics += [f[0] for f in frames_until(sub, min(deadline, time.monotonic() + 0.2))]
        assert f"jobs.created.{real}".encode() in topics, f"the worker's event is missing: {topics}"
        assert not [t for t in topics if t.decode().split(".")[-1] in fakes], topics
        seen = {e["data"]["id"] for e in drain(ws, 0.5)}
        assert real in seen, seen
        assert not seen & fakes, f"the WebSocket got injected events: {seen & fakes}"
    finally:
        ws.close()
        for s in (plain, tool, worker, sub):
            s.close()


# -- keys with the wrong role

def test_a_tool_key_cannot_act_for_a_user_and_an_edge_key_can(system):
    auth = f"{admin_id(system)} admin".encode()
    query = json.dumps({"page": 1, "limit": 5, "deleted": "include",
                        "sort": "-createdAt"}).encode()
    refused_before = broker_status(system)["refusedUnauthorized"]
    answers = {}
    for role in ("tool", "edge"):
        s = system.zmq_socket(zmq.DEALER, role=role, connect=system.broker_endpoint)
        try:
            s.send_multipart([b"", MDPC, b"tickets.list", f"curve-{role}".encode(), auth, query])
            assert s.poll(5000), f"no answer to the {role} key"
            frames = s.recv_multipart()
            assert frames[:4] == [b"", MDPC, b"tickets.list", f"curve-{role}".encode()], frames
            answers[role] = (int(frames[4]), json.loads(frames[5]))
        finally:
            s.close()
    status, body = answers["tool"]
    assert status == 403, answers["tool"]
    err = error_of(body)
    assert err["code"] == "forbidden" and "edge" in err["message"], err
    status, body = answers["edge"]
    assert status == 200 and "data" in body, answers["edge"]
    # Anonymous requests (an empty auth frame) stay open to a tool: it may check health.
    s = system.zmq_socket(zmq.DEALER, role="tool", connect=system.broker_endpoint)
    try:
        s.send_multipart([b"", MDPC, b"sys.health", b"curve-health", b"", b"{}"])
        assert s.poll(5000), "no answer to the tool's anonymous sys.health"
        assert s.recv_multipart()[4] == b"200"
    finally:
        s.close()
    assert broker_status(system)["refusedUnauthorized"] == refused_before + 1


def test_only_a_worker_key_may_dispatch_a_jobs_chunk(system):
    """jobs.chunk carries no user, but it starts work: the workers hand chunks to each
    other, and a tool or an edge has no reason to. (The chunk named here does not exist:
    only the broker's answer matters.)"""
    payload = json.dumps({"jobId": str(uuid.uuid4()), "seq": 0}).encode()
    for role in ("tool", "edge"):
        s = system.zmq_socket(zmq.DEALER, role=role, connect=system.broker_endpoint)
        try:
            s.send_multipart([b"", MDPC, b"jobs.chunk", f"chunk-{role}".encode(), b"", payload])
            assert s.poll(5000), f"no answer to the {role} key"
            frames = s.recv_multipart()
            assert frames[3] == f"chunk-{role}".encode() and frames[4] == b"403", frames
            assert "worker" in error_of(json.loads(frames[5]))["message"]
        finally:
            s.close()


def test_only_an_edge_key_may_check_a_password(system):
    """auth.login carries no user but answers whether a password is right: through the
    edge it is rate-limited per address and e-mail; from any other key it is refused."""
    payload = json.dumps({"email": system.admin[0], "password": system.admin[1]}).encode()
    for role, want in (("tool", b"403"), ("worker", b"403"), ("edge", b"200")):
        s = system.zmq_socket(zmq.DEALER, role=role, connect=system.broker_endpoint)
        try:
            s.send_multipart([b"", MDPC, b"auth.login", f"login-{role}".encode(), b"", payload])
            assert s.poll(5000), f"no answer to the {role} key"
            frames = s.recv_multipart()
            assert frames[3] == f"login-{role}".encode() and frames[4] == want, (role, frames[:5])
        finally:
            s.close()


def test_only_the_edge_key_the_hub_holds_may_read_every_users_live_jobs(system):
    """jobs.live answers every user's jobs at once: the hub (which holds the edge's key and
    scopes what it relays per user) asks it; a monitoring or a worker key may not."""
    for role, want in (("tool", b"403"), ("worker", b"403"), ("edge", b"200")):
        s = system.zmq_socket(zmq.DEALER, role=role, connect=system.broker_endpoint)
        try:
            s.send_multipart([b"", MDPC, b"jobs.live", f"live-{role}".encode(), b"", b"{}"])
            assert s.poll(5000), f"no answer to the {role} key"
            frames = s.recv_multipart()
            assert frames[3] == f"live-{role}".encode() and frames[4] == want, (role, frames[:5])
            if want == b"403":
                assert "hub" in error_of(json.loads(frames[5]))["message"]
        finally:
            s.close()


def test_a_tool_key_that_sends_ready_is_disconnected_and_never_gets_a_request(
        system, admin_token):
    rogue = system.zmq_socket(zmq.DEALER, role="tool", connect=system.broker_endpoint)
    refused_before = broker_status(system)["refusedUnauthorized"]
    try:
        rogue.send_multipart([b"", MDPW, READY, b"tickets.list", b"auth.login"])
        got = frames_until(rogue, time.monotonic() + 2.0)
        assert got == [[b"", MDPW, DISCONNECT]], f"expected one DISCONNECT, got {got}"
        # Requests for its services, through the edge and as the edge: real workers serve
        # every one; none reaches the rogue.
        for _ in range(6):
            status, _, body = system.request("GET", "/api/tickets?limit=1", token=admin_token)
            assert status == 200, body
            system.login("agent")
        got = frames_until(rogue, time.monotonic() + 0.5)
        assert not [f for f in got if f[2:3] == [REQUEST]], f"the rogue got requests: {got}"
    finally:
        rogue.close()
    assert broker_status(system)["refusedUnauthorized"] == refused_before + 1

"""A broker reply reaches the request it answers and no other: the edge correlates by an
id of its own from the CSPRNG and by the service called, never by anything a client sends.
Attacks from outside (a reused X-Request-Id during a timeout), and a peer that lies (a
broker that answers for another service)."""
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import threading
import time

import psycopg2
import zmq

from conftest import error_of, free_ports, read_raw_response, wait_metric
from harness import Process


def labelled(system, name, label):
    status, _, text = system.request("GET", "/metrics", timeout=5)
    assert status == 200
    for line in text.splitlines():
        if line.startswith(f"{name}{{{label}}} "):
            return float(line.split()[1])
    raise AssertionError(f"{name}{{{label}}} missing from /metrics")


def test_a_late_login_answer_never_reaches_a_request_that_reuses_its_id(system):
    """The attack that obtained an admin token: an admin's login waits on a locked users
    table and times out (504); an anonymous client then logs in with a wrong password and
    the same X-Request-Id; the admin's late answer must not complete the second request."""
    late_before = labelled(system, "edge_broker_replies_dropped_total", 'reason="late"')
    db = psycopg2.connect(host="127.0.0.1", port=system.db_port, user="ticketd",
                          dbname="ticketd", password=system.db_password(), connect_timeout=5)
    victim = {}
    try:
        cur = db.cursor()
        cur.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")     # held until rollback

        def admin_login():
            victim["answer"] = system.request(
                "POST", "/api/auth/login",
                {"email": system.admin[0], "password": system.admin[1]},
                headers={"X-Request-Id": "shared-rid-1"}, timeout=30)

        t = threading.Thread(target=admin_login)
        t.start()
        t.join(timeout=25)
        assert not t.is_alive(), "the admin's login got no answer in 25 s"
        assert victim["answer"][0] == 504, victim["answer"]

        # The admin's login is still queued behind the lock. Same id, wrong password.
        s = socket.create_connection(("127.0.0.1", system.port), timeout=30)
        body = json.dumps({"email": system.agent[0], "password": "not-the-password"}).encode()
        s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nX-Request-Id: shared-rid-1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                  + body)
        time.sleep(0.5)                 # the attacker's request is in flight too
    finally:
        db.rollback()                   # the worker now answers the admin's login, late
        db.close()
    head, raw = read_raw_response(s)
    s.close()
    status = int(head.split(b" ")[1])
    assert status == 401, (head[:200], raw[:300])
    assert b"token" not in raw, raw[:300]
    assert error_of(json.loads(raw))["code"] in ("invalid_credentials", "unauthorized"), raw
    deadline = time.time() + 10
    while (labelled(system, "edge_broker_replies_dropped_total", 'reason="late"') <= late_before
           and time.time() < deadline):
        time.sleep(0.1)
    assert labelled(system, "edge_broker_replies_dropped_total", 'reason="late"') > late_before


def test_request_ids_are_unpredictable_and_a_client_id_is_only_echoed(system, agent_token):
    ids = []
    for _ in range(40):
        status, headers, _ = system.request("GET", "/api/auth/me", token=agent_token)
        assert status == 200
        ids.append(headers["x-request-id"])
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids[:5]
    assert len(set(ids)) == len(ids)
    # A counter, a shared prefix or a clock would show as a common start between neighbours.
    for a, b in zip(ids, ids[1:]):
        assert a[:6] != b[:6], (a, b)
        assert abs(int(a, 16) - int(b, 16)) > 2 ** 64, (a, b)

    status, headers, _ = system.request("GET", "/api/auth/me", token=agent_token,
                                        headers={"X-Request-Id": "client-chosen-42"})
    assert status == 200 and headers["x-request-id"] == "client-chosen-42"
    log = os.path.join(system.env["VAR_DIR"], "log", "http-edge.log")
    deadline = time.time() + 5
    line = None
    while time.time() < deadline and not line:
        with open(log, encoding="utf-8", errors="replace") as f:
            line = next((ln for ln in f if 'client_rid="client-chosen-42"' in ln), None)
        time.sleep(0.05)
    assert line, "the client's X-Request-Id is not in the edge's access log"
    internal = re.search(r" rid=([0-9a-f]{32})\b", line)
    assert internal, line


class FakeBroker:
    """A broker that lies: a ROUTER speaking 7/MDP to the edge, written from the spec."""

    def __init__(self, endpoint):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.bind(endpoint)

    def recv(self, timeout):
        """The next request that is not an mmi.* ping (those are answered as a broker would)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.sock.poll(int(max(0.0, deadline - time.time()) * 1000)):
                break
            frames = self.sock.recv_multipart()
            peer, service = frames[0], frames[3].decode()
            if service == "mmi.status":
                self.sock.send_multipart([peer, b"", b"MDPC01", b"mmi.status",
                                          b'{"workers":1,"services":[]}'])
                continue
            return peer, service, frames[4:]
        raise AssertionError("the edge sent no request in time")

    def reply(self, peer, service, rid, status, payload):
        self.sock.send_multipart([peer, b"", b"MDPC01", service.encode(), rid,
                                  str(status).encode(), payload.encode()])

    def close(self):
        self.sock.close()
        self.ctx.term()


def edge_beside(system, fake_port, timeout_ms):
    """(port, Process) of an http-edge of its own whose broker is the FakeBroker's port."""
    port = free_ports(1)[0]
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "WEB_PORT": "0",
           "BROKER_ENDPOINT": f"tcp://127.0.0.1:{fake_port}", "JWT_SECRET": "x" * 40,
           "REQUEST_TIMEOUT_MS": str(timeout_ms), "LOG_LEVEL": "info"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if k in system.env:
            env[k] = system.env[k]
    edge = Process("test_correlation.edge", "http-edge", env)
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return port, edge
        except OSError:
            assert time.time() < deadline, "the edge did not listen"
            time.sleep(0.05)


def send_login(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    body = b'{"email":"someone@example.com","password":"wrong"}'
    s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return s


def test_a_reply_for_another_service_under_a_waiting_id_is_dropped(system):
    broker_port = free_ports(1)[0]
    fake = FakeBroker(f"tcp://127.0.0.1:{broker_port}")
    port, edge = edge_beside(system, broker_port, 3000)
    try:
        s = send_login(port)
        peer, service, frames = fake.recv(timeout=5)
        assert service == "auth.login"
        rid = frames[0]
        assert re.fullmatch(rb"[0-9a-f]{32}", rid), rid
        # Under the waiting id, a 200 "from" another service: it must not complete the login.
        fake.reply(peer, "tickets.get", rid, 200,
                   '{"user":{"id":"00000000-0000-4000-8000-000000000001","email":"a@b.c",'
                   '"name":"A","role":"admin"}}')
        time.sleep(0.3)
        fake.reply(peer, "auth.login", rid, 401,
                   '{"error":{"code":"invalid_credentials","message":"wrong e-mail or password"}}')
        head, raw = read_raw_response(s)
        s.close()
        assert head.split(b" ")[1] == b"401", (head[:200], raw[:200])
        assert b"token" not in raw
        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        conn.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        mhead, mbody = read_raw_response(conn)
        conn.close()
        assert b'edge_broker_replies_dropped_total{reason="service_mismatch"} 1' in mbody, mbody
    finally:
        assert edge.stop() == 0, "the edge did not exit 0 on SIGTERM"
        fake.close()


def test_a_malformed_reply_is_answered_502_at_once_not_504_at_the_deadline(system):
    """A worker that lies (a status that is not three digits) still names the request it
    answers: the client hears 502 now, not 504 after REQUEST_TIMEOUT_MS."""
    broker_port = free_ports(1)[0]
    fake = FakeBroker(f"tcp://127.0.0.1:{broker_port}")
    port, edge = edge_beside(system, broker_port, 10000)
    try:
        for status in ("2x0", "999", "20"):
            s = send_login(port)
            peer, service, frames = fake.recv(timeout=5)
            t0 = time.time()
            fake.sock.send_multipart([peer, b"", b"MDPC01", service.encode(), frames[0],
                                      status.encode(), b"{}"])
            head, raw = read_raw_response(s)
            s.close()
            assert head.split(b" ")[1] == b"502", (status, head[:200], raw[:200])
            assert error_of(json.loads(raw))["code"] == "bad_gateway", raw
            assert time.time() - t0 < 5, f"502 after {time.time() - t0:.1f} s"
    finally:
        assert edge.stop() == 0, "the edge did not exit 0 on SIGTERM"
        fake.close()


def test_logins_in_flight_are_bounded_edge_wide_and_other_routes_keep_their_workers(
        system, agent_token):
    """EDGE_MAX_SLOW_INFLIGHT (4): logins cost a worker a password hash each; a flood of
    them from many addresses gets 503 beyond four in flight, and other routes are served.
    The four are held on a locked users table."""
    db = psycopg2.connect(host="127.0.0.1", port=system.db_port, user="ticketd",
                          dbname="ticketd", password=system.db_password(), connect_timeout=5)
    answers = {}
    threads = []
    try:
        cur = db.cursor()
        cur.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")

        def login(i):
            answers[i] = system.request("POST", "/api/auth/login",
                                        {"email": system.admin[0], "password": system.admin[1]},
                                        timeout=30)[0]
        for i in range(4):
            t = threading.Thread(target=login, args=(i,))
            t.start()
            threads.append(t)
        assert wait_metric(system, "edge_slow_inflight", lambda v: v >= 4) == 4
        status, headers, body = system.request("POST", "/api/auth/login",
                                               {"email": system.agent[0], "password": "x"})
        assert status == 503 and error_of(body)["code"] == "overloaded", (status, body)
        assert headers.get("retry-after") == "1"
        # What the edge answers alone never waits for a slot: a burst of malformed logins
        # cannot crowd out the real ones, nor be told 503 while the slots are held.
        for raw, want in ((b"{", 400), (b'{"email": ""}', 422),
                          (json.dumps({"email": system.agent[0], "password": 7}).encode(), 422)):
            status, _, body = system.request("POST", "/api/auth/login", raw=raw,
                                             headers={"Content-Type": "application/json"})
            assert status == want, (raw, status, body)
        assert wait_metric(system, "edge_slow_inflight", lambda v: v == 4) == 4
    finally:
        db.rollback()
        db.close()
    for t in threads:
        t.join(timeout=30)
    assert all(answers.get(i) in (200, 504) for i in range(4)), answers
    assert wait_metric(system, "edge_slow_inflight", lambda v: v == 0) == 0
    assert system.request("GET", "/api/tickets?limit=1", token=agent_token)[0] == 200


def edge_token():
    """An agent's token signed with edge_beside's secret."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    c = b64(json.dumps({"sub": "5d0c2b1e-8f55-4c1f-9d2e-222222222222", "role": "agent",
                        "iat": now, "exp": now + 600}).encode())
    sig = hmac.new(b"x" * 40, f"{h}.{c}".encode(), hashlib.sha256).digest()
    return f"{h}.{c}.{b64(sig)}"


def test_a_ticket_goes_out_as_the_bytes_the_worker_sent_and_a_lie_as_502(system):
    """The edge passes a worker's answer on without rebuilding it (its ETag read on the
    way), but only well-formed JSON: bytes that are not, or that hide a NUL, are a 502."""
    broker_port = free_ports(1)[0]
    fake = FakeBroker(f"tcp://127.0.0.1:{broker_port}")
    port, edge = edge_beside(system, broker_port, 10000)
    tid = "0b9c2b1e-3f4a-4c5d-8e6f-7a8b9c0d1e2f"
    token = edge_token()

    def get(payload):
        s = socket.create_connection(("127.0.0.1", port), timeout=15)
        s.sendall(f"GET /api/tickets/{tid} HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n".encode())
        peer, service, frames = fake.recv(timeout=5)
        assert service == "tickets.get"
        fake.sock.send_multipart([peer, b"", b"MDPC01", b"tickets.get", frames[0], b"200",
                                  payload])
        head, raw = read_raw_response(s)
        s.close()
        return int(head.split(b" ")[1]), head, raw

    try:
        ticket = ('{"id":"%s", "subject":"caf\\u00e9 \xe2\x82\xac","version":41,'
                  '"a":{"version":1},"version":42}' % tid).encode("latin-1")
        status, head, raw = get(ticket)
        assert status == 200, (head, raw)
        assert raw == ticket, raw
        assert b'\r\netag: "42"' in head.lower(), head
        for lie in (b'{"id":"x"', b'{"id":"x"}\x00', b'{"s":"\xff"}', b'{"s":"\\ud800"}',
                    b'[' * 2049 + b']' * 2049, b'{"version":1} {}'):
            status, head, raw = get(lie)
            assert status == 502, (lie[:40], head, raw)
            assert error_of(json.loads(raw))["code"] == "bad_gateway", raw
    finally:
        assert edge.stop() == 0, "the edge did not exit 0 on SIGTERM"
        fake.close()

"""Broker interop: a plain 7/MDP client and worker written with pyzmq alone (none of our C
code) talk to build/bin/broker. Covers routing, MMI, LRU, heartbeats and hand-back, bounded
queues, TTL, garbage input and SIGTERM, and the credit extension (proto/README.md): workers
that hold several requests at once beside plain ones."""
import json
import os
import signal
import time

import pytest
import zmq

from harness import Broker

HEARTBEAT_MS = 200

MDPC = b"MDPC01"
MDPW = b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT, DISCONNECT = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"


def mdp_broker(name, **env):
    return Broker("test_broker_mdp.%s" % name, HEARTBEAT_MS, settle=0.2, **env)


@pytest.fixture(scope="module")
def broker():
    b = mdp_broker("main")
    yield b
    assert b.stop() == 0, "broker did not exit 0 on SIGTERM at teardown"


@pytest.fixture(scope="module")
def small_broker():
    b = mdp_broker("small", BROKER_QUEUE_MAX=2, BROKER_REQUEST_TTL_MS=600)
    yield b
    assert b.stop() == 0, "broker did not exit 0 on SIGTERM at teardown"


# ---- a plain 7/MDP worker and client, straight from the spec ---------------------------

class Worker:
    def __init__(self, ctx, endpoint, *services):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)
        self.heartbeats = True
        self.sock.send_multipart([b"", MDPW, READY] + [s.encode() for s in services])

    def recv(self, timeout=2.0, skip_heartbeats=True):
        """Next command from the broker as (command, frames after it), or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            if not self.sock.poll(int(left * 1000)):
                return None
            frames = self.sock.recv_multipart()
            assert frames[0] == b"" and frames[1] == MDPW, frames
            if frames[2] == HEARTBEAT and skip_heartbeats:
                if self.heartbeats:
                    self.heartbeat()    # a live worker answers in kind, as spec 7 asks
                continue
            return frames[2], frames[3:]

    def recv_request(self, timeout=2.0):
        got = self.recv(timeout)
        assert got is not None, "worker expected a REQUEST, got nothing"
        cmd, rest = got
        assert cmd == REQUEST, "worker expected a REQUEST, got %r" % (got,)
        assert rest[1] == b""
        return rest[0], rest[2:]          # client address, body

    def reply(self, client, body):
        self.sock.send_multipart([b"", MDPW, REPLY, client, b""] + body)

    def heartbeat(self):
        self.sock.send_multipart([b"", MDPW, HEARTBEAT])

    def close(self):
        self.sock.close(linger=0)


class CreditWorker(Worker):
    """A worker whose READY ends with the credit frame (proto/README.md, "Credit")."""

    def __init__(self, ctx, endpoint, credit, *services):
        self.services = services
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)
        self.heartbeats = True
        self.sock.send_multipart([b"", MDPW, READY] + [s.encode() for s in services]
                                 + [b"credit %d" % credit])

    def recv_request(self, timeout=2.0):
        """(client address, service, rid) of the next REQUEST."""
        client, body = super().recv_request(timeout)
        service = body.pop(0).decode() if len(self.services) > 1 else self.services[0]
        return client, service, body[0].decode()

    def requests(self, n, timeout=2.0):
        return [self.recv_request(timeout) for _ in range(n)]

    def quiet(self, seconds):
        """True when no REQUEST comes for this long (heartbeats are answered meanwhile)."""
        got = self.recv(seconds)
        assert got is None or got[0] == REQUEST, got
        return got is None

    def answer(self, request, payload=b"{}"):
        client, _, rid = request
        self.reply(client, [rid.encode(), b"200", payload])


def credit_worker(ctx, endpoint, credit, *services, workers=1):
    """A CreditWorker, once the broker counts `workers` of services[0]."""
    w = CreditWorker(ctx, endpoint, credit, *services)
    wait_for_service(ctx, endpoint, services[0], workers)
    return w


def replies(d, n, timeout=3.0):
    """The next n replies a DEALER client gets, as (rid, payload)."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        left = int(max(0.0, deadline - time.monotonic()) * 1000)
        assert d.poll(left), "got %d replies of %d: %r" % (len(got), n, got)
        frames = d.recv_multipart()
        got.append((frames[3].decode(), frames[5]))
    return got


def client_socket(ctx, endpoint, kind):
    """A client socket of kind, connected, whose receives give up after 3 s."""
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = 3000
    s.connect(endpoint)
    return s


def req_client(ctx, endpoint):
    return client_socket(ctx, endpoint, zmq.REQ)


def dealer_client(ctx, endpoint):
    return client_socket(ctx, endpoint, zmq.DEALER)


def call(ctx, endpoint, service, *body):
    s = req_client(ctx, endpoint)
    try:
        s.send_multipart([MDPC, service.encode()] + list(body))
        frames = s.recv_multipart()
        assert frames[0] == MDPC and frames[1] == service.encode(), frames
        return frames[2:]
    finally:
        s.close()


def wait_for_service(ctx, endpoint, service, workers=1, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = json.loads(call(ctx, endpoint, "mmi.status")[0])
        for s in status["services"]:
            if s["name"] == service and s["workers"] >= workers:
                return status
        time.sleep(0.02)
    raise AssertionError("service %s never had %d workers" % (service, workers))


def envelope(rid):
    return [rid.encode(), b"", b"{}"]


def ready_worker(ctx, endpoint, *services, workers=1):
    """A Worker offering services, once the broker counts `workers` of services[0]."""
    w = Worker(ctx, endpoint, *services)
    wait_for_service(ctx, endpoint, services[0], workers)
    return w


def ask(sock, service, rid, *extra):
    """Sends a request for service (envelope rid, then extra frames) from a REQ or DEALER."""
    head = [MDPC] if sock.type == zmq.REQ else [b"", MDPC]
    sock.send_multipart(head + [service.encode()] + envelope(rid) + list(extra))


def requested(ctx, endpoint, service, rid):
    """A worker offering service and a REQ client that asked it rid: (worker, client)."""
    w = ready_worker(ctx, endpoint, service)
    s = req_client(ctx, endpoint)
    ask(s, service, rid)
    return w, s


def answer(w, client, s, service, rid, payload=b"{}"):
    """The worker answers rid with 200 and payload; the client gets exactly that."""
    w.reply(client, [rid.encode(), b"200", payload])
    head = [MDPC] if s.type == zmq.REQ else [b"", MDPC]
    got = s.recv_multipart()
    assert got == head + [service.encode(), rid.encode(), b"200", payload], got


# ---- error paths first ------------------------------------------------------------------

def test_garbage_frames_do_not_kill_the_broker(ctx, broker):
    d = ctx.socket(zmq.DEALER)
    d.linger = 0
    d.connect(broker.endpoint)
    garbage = [
        [os.urandom(40)],
        [b""],
        [b"", b"MDPX01", b"svc", b"x"],
        [b"", MDPW, b"\x09"],
        [b"", MDPW, b"\x01\x02"],
        [b"", MDPW, READY],                               # READY with no service
        [b"", MDPW, READY] + [b"s%d" % i for i in range(65)],
        [b"", MDPC, b"bad service"],
        [b"", MDPC, b"x" * 300],
        [b"", MDPC, b"svc"] + [b"f"] * 17,
        [b"", MDPW, HEARTBEAT, b"extra"],
    ]
    for _ in range(50):
        for g in garbage:
            d.send_multipart(g)
    for _ in range(200):
        d.send_multipart([os.urandom(8) for _ in range(3)])
    d.close()
    time.sleep(0.2)
    assert broker.proc.poll() is None, "broker died on garbage"
    w, s = requested(ctx, broker.endpoint, "after.garbage", "g1")
    client, _ = w.recv_request()
    answer(w, client, s, "after.garbage", "g1")
    s.close()
    w.close()


def test_unknown_worker_heartbeat_is_answered_with_disconnect(ctx, broker):
    d = ctx.socket(zmq.DEALER)
    d.linger = 0
    d.connect(broker.endpoint)
    d.send_multipart([b"", MDPW, HEARTBEAT])
    assert d.poll(2000), "no DISCONNECT for an unknown worker"
    assert d.recv_multipart() == [b"", MDPW, DISCONNECT]
    d.close()


def test_second_ready_disconnects_the_worker(ctx, broker):
    w = ready_worker(ctx, broker.endpoint, "twice")
    w.sock.send_multipart([b"", MDPW, READY, b"twice"])
    got = w.recv()
    assert got == (DISCONNECT, []), got
    assert call(ctx, broker.endpoint, "mmi.service", b"twice") == [b"404"]
    w.close()


def test_full_queue_is_answered_503_queue_full(ctx, small_broker):
    d = dealer_client(ctx, small_broker.endpoint)
    for rid in ("q1", "q2", "q3"):
        ask(d, "nobody.home", rid)
    frames = d.recv_multipart()
    assert frames[:5] == [b"", MDPC, b"nobody.home", b"q3", b"503"], frames
    assert json.loads(frames[5])["error"]["code"] == "queue_full"
    d.close()


def test_request_waiting_past_ttl_is_answered_503(ctx, small_broker):
    d = dealer_client(ctx, small_broker.endpoint)
    t0 = time.monotonic()
    ask(d, "nobody.ttl", "t1")
    frames = d.recv_multipart()
    waited = time.monotonic() - t0
    assert frames[:5] == [b"", MDPC, b"nobody.ttl", b"t1", b"503"], frames
    err = json.loads(frames[5])["error"]
    assert err["code"] == "service_unavailable"
    assert "nobody.ttl" in err["message"]
    assert 0.5 <= waited < 2.0, waited
    d.close()


@pytest.fixture(scope="module")
def byte_broker():
    # 1 MiB asked; the broker raises it to one largest frame (64 MiB) + 64 KiB.
    b = mdp_broker("bytes", BROKER_HELD_BYTES=1 << 20, BROKER_REQUEST_TTL_MS=800)
    yield b
    assert b.stop() == 0, "broker did not exit 0 on SIGTERM at teardown"


def test_a_frame_over_the_size_limit_drops_its_sender_not_the_broker(ctx, byte_broker):
    # MDP_MSG_MAX_BYTES (64 MiB, ZMQ_MAXMSGSIZE on every MDP socket): libzmq closes the
    # connection of a peer whose frame is larger, before the broker holds a byte of it;
    # everyone else is served as before.
    d = dealer_client(ctx, byte_broker.endpoint)
    mon = d.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    mon.rcvtimeo = 3000
    ask(d, "nobody.big", "big", b"x" * (65 << 20))
    assert mon.recv_multipart()[0][:2] == zmq.EVENT_DISCONNECTED.to_bytes(2, "little")
    d.disable_monitor()
    mon.close()
    d.close()
    assert call(ctx, byte_broker.endpoint, "mmi.service", b"nobody.big") == [b"404"]
    assert json.loads(call(ctx, byte_broker.endpoint, "mmi.status")[0])["heldBytes"] == 0


def test_request_bytes_held_are_bounded_and_answered_503_beyond(ctx, byte_broker):
    # BROKER_HELD_BYTES (64 MiB + 64 KiB here): eight requests of 8 MB wait for a worker that
    # never comes; the ninth would pass the bound and is answered 503 queue_full at once.
    d = dealer_client(ctx, byte_broker.endpoint)
    blob = b"x" * 8_000_000
    for i in range(9):
        ask(d, "nobody.bytes", "b%d" % i, blob)
    frames = d.recv_multipart()
    assert frames[3:5] == [b"b8", b"503"], frames[:5]
    err = json.loads(frames[5])["error"]
    assert err["code"] == "queue_full" and "bytes" in err["message"], err
    status = json.loads(call(ctx, byte_broker.endpoint, "mmi.status")[0])
    assert 8 * 8_000_000 < status["heldBytes"] <= status["heldBytesMax"] == (64 << 20) + 65536
    # The eight expire (TTL) and give their bytes back: the next one is held again.
    for _ in range(8):
        assert d.recv_multipart()[4] == b"503"
    assert json.loads(call(ctx, byte_broker.endpoint, "mmi.status")[0])["heldBytes"] == 0
    ask(d, "nobody.bytes", "again", blob)
    frames = d.recv_multipart()
    assert frames[3:5] == [b"again", b"503"], frames[:5]
    assert json.loads(frames[5])["error"]["code"] == "service_unavailable"  # its TTL, not the bound
    d.close()


def test_ttl_message_escapes_a_hostile_service_name(ctx, small_broker):
    d = dealer_client(ctx, small_broker.endpoint)
    ask(d, 'x"}\\', "t2")
    frames = d.recv_multipart()
    assert frames[4] == b"503"
    assert json.loads(frames[5])["error"]["message"].endswith('x"}\\')
    ask(d, '"' * 255, "t3")
    frames = d.recv_multipart()
    assert frames[3:5] == [b"t3", b"503"], frames
    assert json.loads(frames[5])["error"]["code"] == "service_unavailable"
    d.close()


# ---- 7/MDP routing ----------------------------------------------------------------------

def test_request_and_reply_travel_through_the_broker(ctx, broker):
    w, s = requested(ctx, broker.endpoint, "echo", "r1")
    client, body = w.recv_request()
    assert body == envelope("r1")      # a single-service worker gets the plain REQUEST
    answer(w, client, s, "echo", "r1", b'{"ok":true}')
    s.close()
    w.close()


def test_dealer_client_has_many_requests_in_flight(ctx, broker):
    w = ready_worker(ctx, broker.endpoint, "many")
    d = dealer_client(ctx, broker.endpoint)
    rids = ["m%d" % i for i in range(20)]
    for rid in rids:
        ask(d, "many", rid)
    for _ in rids:
        client, body = w.recv_request()
        w.reply(client, [body[0], b"200", b"{}"])
    got = set()
    for _ in rids:
        frames = d.recv_multipart()
        assert frames[:3] == [b"", MDPC, b"many"]
        got.add(frames[3].decode())
    assert got == set(rids)
    d.close()
    w.close()


def test_multi_service_worker_serves_each_service(ctx, broker):
    w = ready_worker(ctx, broker.endpoint, "multi.a", "multi.b")
    for svc in ("multi.a", "multi.b"):
        s = req_client(ctx, broker.endpoint)
        ask(s, svc, "x")
        client, body = w.recv_request()
        # extension: a worker that offers several services is told which one is asked for
        assert body == [svc.encode()] + envelope("x"), body
        w.reply(client, [b"x", b"200", svc.encode()])
        assert s.recv_multipart()[1:] == [svc.encode(), b"x", b"200", svc.encode()]
        s.close()
    w.close()


def test_least_recently_used_worker_gets_the_next_request(ctx, broker):
    w1 = ready_worker(ctx, broker.endpoint, "lru")
    w2 = ready_worker(ctx, broker.endpoint, "lru", workers=2)
    order = []
    poller = zmq.Poller()
    poller.register(w1.sock, zmq.POLLIN)
    poller.register(w2.sock, zmq.POLLIN)
    for i in range(4):
        s = req_client(ctx, broker.endpoint)
        ask(s, "lru", "l%d" % i)
        served = False
        deadline = time.monotonic() + 2.0
        while not served and time.monotonic() < deadline:
            for sock, _ in poller.poll(200):
                name, w = ("w1", w1) if sock is w1.sock else ("w2", w2)
                got = w.recv(0.0)
                if got and got[0] == REQUEST:
                    order.append(name)
                    w.reply(got[1][0], [b"l%d" % i, b"200", b"{}"])
                    served = True
        assert s.recv_multipart()[2] == b"l%d" % i
        s.close()
    assert order == ["w1", "w2", "w1", "w2"], order
    w1.close()
    w2.close()


# ---- 8/MMI ------------------------------------------------------------------------------

def test_mmi_service_answers_200_for_a_live_service_and_404_otherwise(ctx, broker):
    w = Worker(ctx, broker.endpoint, "mmi.probe.target")  # reserved name: refused
    assert w.recv() == (DISCONNECT, [])
    w.close()
    w = ready_worker(ctx, broker.endpoint, "probe")
    assert call(ctx, broker.endpoint, "mmi.service", b"probe") == [b"200"]
    assert call(ctx, broker.endpoint, "mmi.service", b"no.such.service") == [b"404"]
    w.close()


def test_other_mmi_names_answer_501(ctx, broker):
    assert call(ctx, broker.endpoint, "mmi.foo") == [b"501"]


def test_mmi_status_is_json_naming_services_and_counts(ctx, broker):
    w = Worker(ctx, broker.endpoint, "status.svc")
    status = wait_for_service(ctx, broker.endpoint, "status.svc")
    assert set(status) >= {"workers", "queued", "inFlight", "services"}
    svc = [s for s in status["services"] if s["name"] == "status.svc"][0]
    assert svc == {"name": "status.svc", "workers": 1, "idle": 1, "queued": 0, "inFlight": 0,
                   "credit": 1}
    w.close()


# ---- heartbeats and hand-back ---------------------------------------------------------

def test_request_held_by_a_vanished_worker_goes_to_another(ctx, broker):
    w1, s = requested(ctx, broker.endpoint, "vanish", "v1")
    w1.recv_request()
    w1.close()                     # no DISCONNECT, no more heartbeats
    w2 = Worker(ctx, broker.endpoint, "vanish")
    client, body = w2.recv_request(timeout=3.0)
    assert body == envelope("v1")
    answer(w2, client, s, "vanish", "v1")
    s.close()
    w2.close()


def test_a_large_body_reaches_each_worker_whole_and_again_after_a_hand_back(ctx, broker):
    # A last frame of 256 KiB or more (a job's id list) goes to a worker by reference, not
    # copied, while the broker keeps the body for a hand-back: every worker that gets it, a
    # multi-service one too, must see the same bytes, and the reply must still come back.
    blob = os.urandom(3 << 20)
    w1 = ready_worker(ctx, broker.endpoint, "bulky", "bulky.other")
    s = req_client(ctx, broker.endpoint)
    ask(s, "bulky", "L1", blob)
    _, body = w1.recv_request()
    assert body[0] == b"bulky" and body[1:] == envelope("L1") + [blob]
    w1.close()                     # gone while it held the request
    w2 = Worker(ctx, broker.endpoint, "bulky")
    client, body = w2.recv_request(timeout=3.0)
    assert body == envelope("L1") + [blob]
    answer(w2, client, s, "bulky", "L1")
    for i in range(3):             # and again, with the body released after each reply
        ask(s, "bulky", "L%d" % (i + 2), blob)
        client, body = w2.recv_request()
        assert body[-1] == blob
        w2.reply(client, [body[0], b"200", b"{}"])
        assert s.recv_multipart()[2:4] == [body[0], b"200"]
    assert json.loads(call(ctx, broker.endpoint, "mmi.status")[0])["heldBytes"] == 0
    s.close()
    w2.close()


def test_late_reply_from_a_dead_worker_is_not_forwarded_twice(ctx, broker):
    w1 = ready_worker(ctx, broker.endpoint, "frozen")
    w2 = ready_worker(ctx, broker.endpoint, "frozen", workers=2)
    d = dealer_client(ctx, broker.endpoint)
    ask(d, "frozen", "f1")
    # w1 joined first, so it is least recently used and gets the request
    client1, _ = w1.recv_request()
    w1.heartbeats = False
    # w1 now freezes (silent). w2 keeps heartbeating and gets the hand-back.
    client2, body = w2.recv_request(timeout=3.0)
    assert body == envelope("f1"), "the hand-back never reached the second worker"
    answer(w2, client2, d, "frozen", "f1", b"second")
    w1.reply(client1, [b"f1", b"200", b"first"])
    assert w1.recv(timeout=2.0) == (DISCONNECT, []), "late worker was not told to go"
    assert not d.poll(500), "the late reply was forwarded"
    d.close()
    w1.close()
    w2.close()


def test_slow_worker_that_heartbeats_keeps_its_request(ctx, broker):
    slow = ready_worker(ctx, broker.endpoint, "slow")
    d = dealer_client(ctx, broker.endpoint)
    ask(d, "slow", "s1")
    client, _ = slow.recv_request()
    other = Worker(ctx, broker.endpoint, "slow")
    t_end = time.monotonic() + 8 * HEARTBEAT_MS / 1000.0
    while time.monotonic() < t_end:
        slow.heartbeat()
        assert slow.recv(0.1) is None
        other.heartbeat()
        assert other.recv(0.0) is None, "the request was taken from a live worker"
    answer(slow, client, d, "slow", "s1", b"done")
    assert not d.poll(300)
    d.close()
    slow.close()
    other.close()


@pytest.mark.parametrize("credit", [1, 2])
def test_a_request_handed_back_three_times_is_answered_500(ctx, broker, credit):
    # Each request a worker held counts its own hand-back, however many it held.
    svc = "poison.%d" % credit
    rids = ["p%d" % i for i in range(credit)]
    d = dealer_client(ctx, broker.endpoint)
    for rid in rids:
        ask(d, svc, rid)
    for attempt in range(3):
        w = Worker(ctx, broker.endpoint, svc) if credit == 1 else CreditWorker(ctx, broker.endpoint, credit, svc)
        got = sorted(Worker.recv_request(w)[1][0].decode() for _ in rids)
        assert got == rids, "attempt %d got %r" % (attempt, got)
        w.sock.send_multipart([b"", MDPW, DISCONNECT])   # dies holding them
        w.close()
    got = {}
    for _ in rids:
        frames = d.recv_multipart()
        got[frames[3].decode()] = (frames[4], json.loads(frames[5])["error"]["code"])
    assert got == {rid: (b"500", "request_failed") for rid in rids}, got
    d.close()


def test_worker_that_disconnects_is_forgotten(ctx, broker):
    w = ready_worker(ctx, broker.endpoint, "leaver")
    w.sock.send_multipart([b"", MDPW, DISCONNECT])
    time.sleep(0.1)
    assert call(ctx, broker.endpoint, "mmi.service", b"leaver") == [b"404"]
    w.close()


# ---- credit: several requests per worker --------------------------------------------------

@pytest.mark.parametrize("bad", [b"credit 0", b"credit 65", b"credit x", b"credit 8 9"])
def test_a_ready_with_a_malformed_credit_frame_is_answered_disconnect(ctx, broker, bad):
    d = ctx.socket(zmq.DEALER)
    d.linger = 0
    d.connect(broker.endpoint)
    d.send_multipart([b"", MDPW, READY, b"credit.bad", bad])
    assert d.poll(2000), "no DISCONNECT for a READY ending %r" % bad
    assert d.recv_multipart() == [b"", MDPW, DISCONNECT]
    assert call(ctx, broker.endpoint, "mmi.service", b"credit.bad") == [b"404"]
    d.close()


def test_a_credit_worker_holds_up_to_its_credit_beside_a_plain_one(ctx, broker):
    plain = ready_worker(ctx, broker.endpoint, "credit.mix")
    w = credit_worker(ctx, broker.endpoint, 4, "credit.mix", workers=2)
    status = wait_for_service(ctx, broker.endpoint, "credit.mix", 2)
    svc = [s for s in status["services"] if s["name"] == "credit.mix"][0]
    assert svc["credit"] == 5, svc
    d = dealer_client(ctx, broker.endpoint)
    for i in range(6):
        ask(d, "credit.mix", "c%d" % i)
    # The plain 7/MDP worker gets one, and nothing more before it answers.
    plain_client, plain_body = plain.recv_request()
    got = w.requests(4)
    assert w.quiet(0.3), "the worker got more than its credit"
    assert plain.recv(0.3) is None, "the plain worker got a second request before answering"
    rids = sorted([plain_body[0].decode()] + [r[2] for r in got])
    assert rids == ["c%d" % i for i in range(5)], rids
    # Answers in any order; each frees one place, which the sixth request takes.
    w.answer(got[2])
    assert replies(d, 1) == [(got[2][2], b"{}")]
    sixth = w.recv_request()
    assert sixth[2] == "c5"
    # A plain worker's body is its own: matched on the client it answers, as 7/MDP has it.
    plain.reply(plain_client, [b"pong"])
    frames = d.recv_multipart()
    assert frames[2:] == [b"credit.mix", b"pong"], frames
    for r in (got[0], got[1], got[3], sixth):
        w.answer(r)
    assert sorted(r for r, _ in replies(d, 4)) == sorted([got[0][2], got[1][2], got[3][2], "c5"])
    assert not d.poll(300), "a request was answered twice"
    d.close()
    w.close()
    plain.close()


def test_requests_spread_over_credit_workers_least_recently_used_first(ctx, broker):
    a = credit_worker(ctx, broker.endpoint, 4, "credit.lru")
    b = credit_worker(ctx, broker.endpoint, 4, "credit.lru", workers=2)
    d = dealer_client(ctx, broker.endpoint)
    for i in range(4):
        ask(d, "credit.lru", "s%d" % i)
    # Two each, alternating, rather than the first worker's credit filled first.
    got_a, got_b = a.requests(2), b.requests(2)
    assert [r[2] for r in got_a] == ["s0", "s2"] and [r[2] for r in got_b] == ["s1", "s3"]
    assert a.quiet(0.2) and b.quiet(0.0)
    for r in got_a:
        a.answer(r)
    for r in got_b:
        b.answer(r)
    assert sorted(r for r, _ in replies(d, 4)) == ["s0", "s1", "s2", "s3"]
    d.close()
    a.close()
    b.close()


def test_a_reply_for_a_request_the_worker_does_not_hold_is_dropped(ctx, broker):
    w = credit_worker(ctx, broker.endpoint, 2, "credit.dup")
    d = dealer_client(ctx, broker.endpoint)
    ask(d, "credit.dup", "d1")
    r = w.recv_request()
    w.reply(r[0], [b"d-unknown", b"200", b"{}"])      # a rid it was never sent
    w.reply(b"\x00nobody", [b"d1", b"200", b"{}"])     # another client's
    w.answer(r, b"first")
    w.answer(r, b"again")                               # the same answer twice
    assert replies(d, 1) == [("d1", b"first")]
    assert not d.poll(300), "a reply the worker did not owe was forwarded"
    # The worker is still served: its place is free again.
    ask(d, "credit.dup", "d2")
    r = w.recv_request()
    w.answer(r)
    assert replies(d, 1) == [("d2", b"{}")]
    status = json.loads(call(ctx, broker.endpoint, "mmi.status")[0])
    assert [s["inFlight"] for s in status["services"] if s["name"] == "credit.dup"] == [0]
    d.close()
    w.close()


@pytest.mark.parametrize("how", ["silent", "disconnect"])
def test_every_request_of_a_lost_credit_worker_is_handed_back_and_answered_once(ctx, broker, how):
    svc = "credit.lost." + how
    w1 = credit_worker(ctx, broker.endpoint, 4, svc)
    d = dealer_client(ctx, broker.endpoint)
    for i in range(4):
        ask(d, svc, "h%d" % i)
    held = w1.requests(4)
    if how == "silent":
        w1.heartbeats = False          # frozen: declared dead after 4 silent heartbeats
    else:
        w1.sock.send_multipart([b"", MDPW, DISCONNECT])
    w2 = CreditWorker(ctx, broker.endpoint, 4, svc)
    again = w2.requests(4, timeout=3.0)
    # All four, in the order the first worker was sent them.
    assert [r[2] for r in again] == ["h0", "h1", "h2", "h3"], again
    for r in held:                     # the first worker's late answers must not count
        w1.answer(r, b"late")
    for r in again:
        w2.answer(r, b"second")
    assert sorted(replies(d, 4)) == [("h%d" % i, b"second") for i in range(4)]
    assert not d.poll(500), "a request was answered twice"
    d.close()
    w1.close()
    w2.close()


def test_a_chunk_goes_only_to_an_empty_worker_and_blocks_it_until_answered(ctx, broker):
    w = credit_worker(ctx, broker.endpoint, 4, "jobs.chunk", "tickets.get")
    d = dealer_client(ctx, broker.endpoint)
    ask(d, "tickets.get", "g1")
    g1 = w.recv_request()
    ask(d, "jobs.chunk", "k1")
    assert w.quiet(0.4), "a chunk went to a worker holding an interactive request"
    w.answer(g1)
    k1 = w.recv_request()
    assert k1[1:] == ("jobs.chunk", "k1"), k1
    ask(d, "tickets.get", "g2")
    assert w.quiet(0.4), "a request went to a worker holding a chunk"
    w.answer(k1)
    g2 = w.recv_request()
    assert g2[1:] == ("tickets.get", "g2"), g2
    w.answer(g2)
    assert [r for r, _ in replies(d, 3)] == ["g1", "k1", "g2"]
    d.close()
    w.close()


# ---- SIGTERM ------------------------------------------------------------------------------

def test_sigterm_drains_in_flight_requests_and_exits_0(ctx):
    b = mdp_broker("drain")
    try:
        w = ready_worker(ctx, b.endpoint, "drain")
        d = dealer_client(ctx, b.endpoint)
        ask(d, "drain", "held")
        client, _ = w.recv_request()
        ask(d, "nobody.drain", "queued")
        time.sleep(0.1)
        b.proc.send_signal(signal.SIGTERM)
        frames = d.recv_multipart()
        assert frames[2:5] == [b"nobody.drain", b"queued", b"503"], frames
        assert json.loads(frames[5])["error"]["code"] == "shutting_down"
        ask(d, "drain", "new")
        frames = d.recv_multipart()
        assert frames[3:5] == [b"new", b"503"], frames
        assert b.proc.poll() is None, "broker left before the in-flight reply"
        answer(w, client, d, "drain", "held")
        assert w.recv(timeout=2.0) == (DISCONNECT, [])
        assert b.proc.wait(5) == 0
        d.close()
        w.close()
    finally:
        b.stop()

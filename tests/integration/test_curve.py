"""CurveZMQ on the broker and the hub (CURVE_SERVER_CERT, CURVE_ALLOW_DIR): a broker and a
progress-hub of our own, on free ports, with CURVE on. Peers are pyzmq sockets (keys from
ticketd-keygen, or from zmq.curve_keypair() written in the zcert text format by hand) and
our own C clients (ticketd-status, ticketd-watch with CURVE_CLIENT_CERT/CURVE_SERVER_KEY).
Only keys in the allow directory get in; a valid key not listed, and a plain peer, do not."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest
import zmq

from conftest import read_cert
from harness import BIN, Broker, Process, free_port
from test_broker_mdp import MDPC, MDPW, READY, REQUEST, REPLY, HEARTBEAT
HEARTBEAT_MS = 200
# Our tools run here with settings of the test's own only: a .env in the folder they run
# in, or of the checkout (a developer's running system), must not fill in keys.
NO_ENV_FILE = ("--env", "none")


# ---- keys ----------------------------------------------------------------------------------

def keygen(name, directory, role=None):
    args = ["--role", role] if role else []
    out = subprocess.run([os.path.join(BIN, "ticketd-keygen"), *args, name, directory],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def write_public_cert(path, public, role=None):
    """A public certificate in czmq's zcert (ZPL) text format, as a non-czmq peer makes it;
    the role (common/curve.h) goes in its metadata."""
    meta = '    role = "%s"\n' % role if role else ""
    with open(path, "w", encoding="utf-8") as f:
        f.write('metadata\n    name = "pyzmq"\n%scurve\n    public-key = "%s"\n' % (meta, public))


class Keys:
    """A server certificate, an allow directory, and client identities in and out of it."""

    def __init__(self, root):
        self.root = root
        self.allow = os.path.join(root, "allow")
        os.makedirs(self.allow)
        self.server_public = keygen("server", root)
        self.server_secret_file = os.path.join(root, "server_secret")
        # An allowed worker whose key never went through czmq: pyzmq's keypair, hand-written
        # public certificate.
        pub, sec = zmq.curve_keypair()
        self.worker = (pub.decode(), sec.decode())
        write_public_cert(os.path.join(self.allow, "pyworker"), self.worker[0], role="worker")
        # An allowed client made with our tool, its public file copied in.
        keygen("client", root)
        shutil.copy(os.path.join(root, "client"), self.allow)
        self.client = read_cert(os.path.join(root, "client_secret"))
        self.client_secret_file = os.path.join(root, "client_secret")
        # Our worker binary's certificate, role worker.
        keygen("cworker", root, role="worker")
        shutil.copy(os.path.join(root, "cworker"), self.allow)
        self.worker_secret_file = os.path.join(root, "cworker_secret")
        # A valid key pair that nobody allowed.
        keygen("stranger", root)
        self.stranger = read_cert(os.path.join(root, "stranger_secret"))
        self.stranger_secret_file = os.path.join(root, "stranger_secret")

    def server_env(self):
        return {"CURVE_SERVER_CERT": self.server_secret_file, "CURVE_ALLOW_DIR": self.allow}

    def client_env(self, secret_file):
        # The server key as a path: Z85 keys hold characters a shell or compose would eat.
        return {"CURVE_CLIENT_CERT": secret_file,
                "CURVE_SERVER_KEY": os.path.join(self.root, "server")}


@pytest.fixture(scope="module")
def keys():
    root = tempfile.mkdtemp(prefix="ticketd-curve-")
    yield Keys(root)
    shutil.rmtree(root, ignore_errors=True)


def sock(ctx, kind, endpoint, keys=None, identity=None):
    """A socket connected to endpoint: plain, or a CURVE client with identity (pub, secret)."""
    s = ctx.socket(kind)
    s.linger = 0
    # A DEALER's send blocks while it has no pipe, and a peer the broker refused may have
    # none left: no send here may hang the test (zmq.Again instead).
    s.sndtimeo = 2000
    if identity:
        s.curve_serverkey = keys.server_public.encode()
        s.curve_publickey = identity[0].encode()
        s.curve_secretkey = identity[1].encode()
    s.connect(endpoint)
    return s


# ---- processes -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def broker(keys):
    b = Broker("test_curve.broker", HEARTBEAT_MS, BROKER_REQUEST_TTL_MS=1000, **keys.server_env())
    yield b
    assert b.stop() == 0, "broker did not exit 0 on SIGTERM"


@pytest.fixture(scope="module")
def hub(keys):
    pub_ep = "tcp://127.0.0.1:%d" % free_port()
    sub_ep = "tcp://127.0.0.1:%d" % free_port()
    env = dict(os.environ, HUB_PUB_ENDPOINT=pub_ep, HUB_SUB_ENDPOINT=sub_ep,
               WS_PORT=str(free_port()), WEB_PORT="0", JWT_SECRET="c" * 40, **keys.server_env())
    h = Process("test_curve.hub", "progress-hub", env)
    h.pub_endpoint, h.sub_endpoint = pub_ep, sub_ep
    yield h
    assert h.stop() == 0, "progress-hub did not exit 0 on SIGTERM"


# ---- MDP helpers ----------------------------------------------------------------------------

def call(ctx, keys, endpoint, service, *body, timeout_ms=3000):
    """One request as an allowed CURVE client; the reply's body frames, or None."""
    s = sock(ctx, zmq.DEALER, endpoint, keys, keys.client)
    try:
        s.send_multipart([b"", MDPC, service.encode()] + list(body))
        if not s.poll(timeout_ms):
            return None
        frames = s.recv_multipart()
        assert frames[:3] == [b"", MDPC, service.encode()], frames
        return frames[3:]
    finally:
        s.close()


def mmi_service(ctx, keys, endpoint, service):
    got = call(ctx, keys, endpoint, "mmi.service", service.encode())
    assert got is not None, "the allowed client got no answer from the broker"
    return got[0]


def wait_until_registered(ctx, keys, endpoint, service, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mmi_service(ctx, keys, endpoint, service) == b"200":
            return True
        time.sleep(0.05)
    return False


def send_maybe_refused(s, frames):
    """Sends as a peer the broker may refuse: once its handshake has failed there may be no
    pipe to queue into, and that send cannot be delivered anyway."""
    try:
        s.send_multipart(frames)
    except zmq.Again:
        pass


def ready(ctx, keys, endpoint, service, identity):
    w = sock(ctx, zmq.DEALER, endpoint, keys, identity)
    send_maybe_refused(w, [b"", MDPW, READY, service.encode()])
    return w


def next_request(w, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not w.poll(int(max(0, deadline - time.monotonic()) * 1000)):
            break
        frames = w.recv_multipart()
        if frames[2] == HEARTBEAT:
            w.send_multipart([b"", MDPW, HEARTBEAT])
            continue
        return frames
    return None


# ---- configuration errors first --------------------------------------------------------------

def run_broker_expecting_exit(env_extra):
    env = dict(os.environ, BROKER_ENDPOINT="tcp://127.0.0.1:%d" % free_port(), **env_extra)
    out = subprocess.run([os.path.join(BIN, "broker")], env=env, capture_output=True,
                         text=True, timeout=10)
    return out.returncode, out.stderr


def test_a_server_cert_without_an_allow_dir_stops_the_broker_with_one_line(keys):
    rc, err = run_broker_expecting_exit({"CURVE_SERVER_CERT": keys.server_secret_file})
    assert rc == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "var=CURVE_ALLOW_DIR" in lines[0], err


def test_a_public_only_or_missing_cert_stops_the_broker_and_no_secret_is_logged(keys):
    for path in (os.path.join(keys.allow, "client"), os.path.join(keys.root, "nope")):
        rc, err = run_broker_expecting_exit({"CURVE_SERVER_CERT": path,
                                             "CURVE_ALLOW_DIR": keys.allow})
        assert rc == 1, err
        assert "var=CURVE_SERVER_CERT" in err and len(err.strip().splitlines()) == 1, err
    rc, err = run_broker_expecting_exit({"CURVE_SERVER_CERT": keys.server_secret_file,
                                         "CURVE_ALLOW_DIR": os.path.join(keys.root, "absent")})
    assert rc == 1 and "var=CURVE_ALLOW_DIR" in err, err


def test_a_client_with_half_the_curve_settings_or_a_bad_key_exits_at_once(keys):
    exe = os.path.join(BIN, "ticketd-status")
    for extra in ({"CURVE_CLIENT_CERT": keys.client_secret_file},
                  {"CURVE_SERVER_KEY": keys.server_public},
                  {"CURVE_CLIENT_CERT": keys.client_secret_file, "CURVE_SERVER_KEY": "~" * 40},
                  {"CURVE_CLIENT_CERT": os.path.join(keys.allow, "client"),
                   "CURVE_SERVER_KEY": keys.server_public}):
        env = dict(os.environ, BROKER_ENDPOINT="tcp://127.0.0.1:%d" % free_port(), **extra)
        out = subprocess.run([exe, *NO_ENV_FILE], env=env, capture_output=True, text=True,
                             timeout=10)
        assert out.returncode == 2, (extra, out.stderr)
        assert "var=CURVE_" in out.stderr, (extra, out.stderr)
        _, client_secret = keys.client
        assert client_secret not in out.stderr


# ---- the broker -----------------------------------------------------------------------------

def test_an_allowed_worker_registers_and_serves_an_allowed_client(ctx, keys, broker):
    w = ready(ctx, keys, broker.endpoint, "curve.echo", keys.worker)
    try:
        assert wait_until_registered(ctx, keys, broker.endpoint, "curve.echo")
        c = sock(ctx, zmq.DEALER, broker.endpoint, keys, keys.client)
        c.send_multipart([b"", MDPC, b"curve.echo", b"r1", b"", b"{}"])
        frames = next_request(w)
        assert frames and frames[2] == REQUEST, frames
        client = frames[3]
        w.send_multipart([b"", MDPW, REPLY, client, b"", b"r1", b"200", b'{"ok":true}'])
        assert c.poll(3000), "the client got no reply"
        assert c.recv_multipart() == [b"", MDPC, b"curve.echo", b"r1", b"200", b'{"ok":true}']
        c.close()
    finally:
        w.close()


def test_a_worker_with_a_valid_key_not_in_the_allow_dir_cannot_register(ctx, keys, broker):
    w = ready(ctx, keys, broker.endpoint, "curve.stranger", keys.stranger)
    try:
        assert not wait_until_registered(ctx, keys, broker.endpoint, "curve.stranger",
                                         timeout=1.5)
        # A request for it is never handed to the stranger: the broker answers 503 itself.
        got = call(ctx, keys, broker.endpoint, "curve.stranger", b"r2", b"", b"{}")
        assert got is not None and got[:2] == [b"r2", b"503"], got
        assert next_request(w, timeout=0.3) is None, "the stranger heard from the broker"
    finally:
        w.close()


def test_a_plain_worker_cannot_register(ctx, keys, broker):
    w = sock(ctx, zmq.DEALER, broker.endpoint)
    send_maybe_refused(w, [b"", MDPW, READY, b"curve.plain"])
    try:
        assert not wait_until_registered(ctx, keys, broker.endpoint, "curve.plain", timeout=1.5)
        assert next_request(w, timeout=0.3) is None, "a plain worker heard from the broker"
    finally:
        w.close()


def test_a_plain_client_gets_no_answer(ctx, broker):
    c = sock(ctx, zmq.DEALER, broker.endpoint)
    send_maybe_refused(c, [b"", MDPC, b"mmi.service", b"mmi.service"])
    assert not c.poll(1000), "a plain client got an answer from a CURVE broker"
    c.close()


def test_a_key_copied_into_the_allow_dir_is_admitted_without_restarting_the_broker(
        ctx, keys, broker):
    pub, sec = zmq.curve_keypair()
    late = (pub.decode(), sec.decode())
    w = ready(ctx, keys, broker.endpoint, "curve.late", late)
    try:
        assert not wait_until_registered(ctx, keys, broker.endpoint, "curve.late", timeout=1.0)
        write_public_cert(os.path.join(keys.allow, "late"), late[0], role="worker")
        # libzmq gives up on a connection whose handshake was refused; the worker connects
        # again, as ours does when the broker stays silent.
        w.close()
        w = ready(ctx, keys, broker.endpoint, "curve.late", late)
        assert wait_until_registered(ctx, keys, broker.endpoint, "curve.late", timeout=3.0)
    finally:
        w.close()
        os.unlink(os.path.join(keys.allow, "late"))


def test_our_worker_binary_registers_with_an_allowed_cert_and_not_with_a_strangers(
        ctx, keys, broker):
    """build/bin/worker (no database needed to register: it answers 503 until one is up)."""
    for secret_file, want in ((keys.stranger_secret_file, False), (keys.worker_secret_file, True)):
        env = dict(os.environ, BROKER_ENDPOINT=broker.endpoint, HEARTBEAT_MS=str(HEARTBEAT_MS),
                   HUB_PUB_ENDPOINT="tcp://127.0.0.1:%d" % free_port(),
                   DATABASE_URL="postgresql://nobody@127.0.0.1:%d/none" % free_port(),
                   **keys.client_env(secret_file))
        worker = subprocess.Popen([os.path.join(BIN, "worker")], env=env,
                                  stderr=subprocess.DEVNULL)
        try:
            got = wait_until_registered(ctx, keys, broker.endpoint, "sys.health",
                                        timeout=3.0 if want else 1.5)
            assert got == want, f"worker with {os.path.basename(secret_file)}: registered={got}"
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(10) == 0


def test_ticketd_status_talks_curve_with_an_allowed_cert_and_not_with_a_stranger(keys, broker):
    exe = os.path.join(BIN, "ticketd-status")
    env = dict(os.environ, BROKER_ENDPOINT=broker.endpoint,
               **keys.client_env(keys.client_secret_file))
    out = subprocess.run([exe, "--json", *NO_ENV_FILE], env=env, capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert "workers" in json.loads(out.stdout)
    env.update(keys.client_env(keys.stranger_secret_file))
    out = subprocess.run([exe, "--json", *NO_ENV_FILE], env=env, capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 1 and "did not answer" in out.stderr, (out.stdout, out.stderr)


def test_the_broker_never_logs_a_secret_key(keys, broker):
    log = broker.read_log()
    assert "event=curve_on" in log and keys.server_public in log
    _, server_secret = read_cert(keys.server_secret_file)
    assert server_secret not in log


# ---- the hub --------------------------------------------------------------------------------

def event(name, job_id):
    data = {"id": job_id, "type": "bulk-delete", "status": "queued", "progress": 0,
            "total": 1, "processed": 0, "succeeded": 0, "failed": 0,
            "createdBy": str(uuid.uuid4()), "createdAt": "2026-01-01T00:00:00.000Z",
            "startedAt": None, "finishedAt": None, "error": None}
    return [f"jobs.{name}.{job_id}".encode(),
            json.dumps({"event": f"jobs:{name}", "data": data}).encode()]


def received(sub, until_topic, timeout=4.0):
    """Topics a SUB gets until until_topic arrives (included), or the timeout."""
    topics = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sub.poll(100):
            topic = sub.recv_multipart()[0].decode()
            topics.append(topic)
            if topic == until_topic:
                break
    return topics


def test_the_hub_relays_only_allowed_publishers_to_allowed_subscribers(ctx, keys, hub):
    sub = sock(ctx, zmq.SUB, hub.sub_endpoint, keys, keys.client)
    sub.setsockopt(zmq.SUBSCRIBE, b"jobs.")
    plain_sub = sock(ctx, zmq.SUB, hub.sub_endpoint)
    plain_sub.setsockopt(zmq.SUBSCRIBE, b"")
    good = sock(ctx, zmq.PUB, hub.pub_endpoint, keys, keys.worker)
    stranger = sock(ctx, zmq.PUB, hub.pub_endpoint, keys, keys.stranger)
    plain = sock(ctx, zmq.PUB, hub.pub_endpoint)
    try:
        time.sleep(0.5)     # handshakes and the slow joiner
        first, bad1, bad2, last = (str(uuid.uuid4()) for _ in range(4))
        good.send_multipart(event("created", first))
        assert received(sub, f"jobs.created.{first}") == [f"jobs.created.{first}"]
        for _ in range(10):
            stranger.send_multipart(event("created", bad1))
            plain.send_multipart(event("created", bad2))
            time.sleep(0.05)
        good.send_multipart(event("created", last))
        got = received(sub, f"jobs.created.{last}")
        assert got == [f"jobs.created.{last}"], f"expected only the allowed event, got {got}"
        assert not plain_sub.poll(300), "a plain SUB read events from a CURVE hub"
    finally:
        for s in (sub, plain_sub, good, stranger, plain):
            s.close()


def test_ticketd_watch_reads_the_hub_over_curve(ctx, keys, hub):
    env = dict(os.environ, HUB_SUB_ENDPOINT=hub.sub_endpoint,
               **keys.client_env(keys.client_secret_file))
    watch = subprocess.Popen([os.path.join(BIN, "ticketd-watch"), *NO_ENV_FILE, "jobs.created."],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    good = sock(ctx, zmq.PUB, hub.pub_endpoint, keys, keys.worker)
    try:
        time.sleep(0.7)
        job = str(uuid.uuid4())
        good.send_multipart(event("created", job))
        time.sleep(0.5)
    finally:
        good.close()
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=10)
    assert f"jobs.created.{job} " in out, (out, err)


# ---- roles ----------------------------------------------------------------------------------

def test_a_key_without_a_role_is_a_tool_cannot_register_and_its_file_is_named_once(
        ctx, keys, broker):
    """keys.client was made without --role: least privilege, and one warning naming it."""
    w = ready(ctx, keys, broker.endpoint, "curve.norole", keys.client)
    try:
        deadline = time.monotonic() + 2.0
        got = None
        while time.monotonic() < deadline and got is None:
            if w.poll(100):
                got = w.recv_multipart()
        assert got == [b"", MDPW, b"\x05"], f"expected DISCONNECT, got {got}"
        assert not wait_until_registered(ctx, keys, broker.endpoint, "curve.norole", timeout=0.5)
    finally:
        w.close()
    log = broker.read_log()
    assert "event=worker_refused_role role=tool" in log, log[-2000:]
    warned = [l for l in log.splitlines() if "event=curve_cert_without_role" in l]
    assert len(warned) == 1 and os.path.join(keys.allow, "client") in warned[0], warned


def test_without_curve_every_process_warns_that_zeromq_is_unauthenticated():
    env = dict(os.environ, BROKER_ENDPOINT="tcp://127.0.0.1:%d" % free_port(),
               HUB_PUB_ENDPOINT="tcp://127.0.0.1:%d" % free_port(),
               HUB_SUB_ENDPOINT="tcp://127.0.0.1:%d" % free_port(),
               WS_PORT=str(free_port()), WEB_PORT="0", JWT_SECRET="c" * 40)
    for k in ("CURVE_SERVER_CERT", "CURVE_ALLOW_DIR", "CURVE_CLIENT_CERT", "CURVE_SERVER_KEY"):
        env.pop(k, None)
    for exe in ("broker", "progress-hub"):
        p = subprocess.Popen([os.path.join(BIN, exe)], env=env, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=10)
        assert "level=warn" in err and "event=curve_off" in err, (exe, err)
    out = subprocess.run([os.path.join(BIN, "ticketd-status"), *NO_ENV_FILE], env=env,
                         capture_output=True, text=True, timeout=10)
    assert "event=curve_off" in out.stderr, out.stderr

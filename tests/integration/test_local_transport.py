"""This host's edge, hub and workers reach the broker over a Unix socket in a folder only
ticketd's user may enter (BROKER_LOCAL_ENDPOINT, set by ./manage.sh), without CurveZMQ:
the folder is the lock. The broker refuses a folder others may enter; a peer there acts as
any role, and no key can claim that. Every wait has a wall-clock deadline."""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import zmq

from conftest import ROOT, BUILD_DIR, error_of
from test_curve_default import MDPC, admin_id


def started_line(system, name):
    with open(os.path.join(system.env["VAR_DIR"], "log", f"{name}.log"), errors="replace") as f:
        lines = [line for line in f if " event=started " in line]
    assert lines, f"{name} never logged event=started"
    return lines[-1]


def local_endpoint(system):
    return "ipc://" + os.path.join(os.path.realpath(system.env["VAR_DIR"]), "run", "zmq", "broker")


def test_this_hosts_peers_reach_the_broker_over_its_private_unix_socket(system):
    endpoint = local_endpoint(system)
    assert f" local={endpoint} " in started_line(system, "broker")
    for name, key in (("http-edge", "broker"), ("worker-1", "broker"), ("worker-2", "broker"),
                      ("progress-hub", "brokers")):
        assert re.search(rf" {key}={re.escape(endpoint)}( |$)", started_line(system, name)), \
            (name, started_line(system, name))
    folder = os.path.dirname(endpoint[len("ipc://"):])
    st = os.stat(folder)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid(), oct(st.st_mode)
    assert stat.S_ISSOCK(os.stat(endpoint[len("ipc://"):]).st_mode)
    # The edge names no other broker: its answers came that way.
    status, _, body = system.request("GET", "/api/health")
    assert status == 200, body
    # Other hosts and the tools still reach it over TCP, with a key.
    out = subprocess.run([os.path.join(ROOT, BUILD_DIR, "bin", "ticketd-status"), "--json"],
                         env=system.client_env("tool"), capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["workers"] == 2, out.stdout


def test_another_local_user_cannot_reach_the_local_endpoint(system):
    path = local_endpoint(system)[len("ipc://"):]
    probe = ("import socket\n"
             "s = socket.socket(socket.AF_UNIX)\n"
             "try:\n"
             f"    s.connect({path!r}); print('connected')\n"
             "except PermissionError: print('refused')\n")
    assert os.geteuid() == 0, "the suite runs as root (./manage.sh deps --test, .ci/run)"
    r = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", probe],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout.strip() == "refused", (r.stdout, r.stderr)


def run_broker(system, local, timeout=15):
    env = dict(system.env, BROKER_ENDPOINT="tcp://127.0.0.1:*", BROKER_LOCAL_ENDPOINT=local,
               CURVE_SERVER_CERT="", CURVE_ALLOW_DIR="")
    proc = subprocess.Popen([os.path.join(ROOT, BUILD_DIR, "bin", "broker")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=10)
        raise AssertionError(f"the broker did not exit in {timeout} s:\n{out}")
    return proc.returncode, out


def test_the_broker_refuses_a_local_endpoint_that_others_may_enter(system):
    d = tempfile.mkdtemp(prefix="ticketd-ipc-")
    try:
        os.chmod(d, 0o755)
        for local, why in ((f"ipc://{d}/broker", "group and others cannot enter"),
                           ("ipc://relative/broker", "absolute path"),
                           (f"ipc://{d}/missing/broker", "existing folder"),
                           ("ipc:///" + "x" * 120, "too long"),
                           ("tcp://127.0.0.1:1", "must be ipc://")):
            rc, out = run_broker(system, local)
            assert rc == 1, (local, out)
            assert "event=bad_config var=BROKER_LOCAL_ENDPOINT" in out and why in out, (local, out)
    finally:
        shutil.rmtree(d)


def test_a_peer_on_the_local_endpoint_acts_as_any_role_and_no_key_can_claim_local(system):
    # Plain ZeroMQ on the local endpoint may do what only the edge may: act for a user.
    plain = zmq.Context.instance().socket(zmq.DEALER)
    plain.linger = 0
    plain.connect(local_endpoint(system))
    auth = f"{admin_id(system)} admin".encode()
    query = json.dumps({"page": 1, "limit": 1}).encode()
    try:
        plain.send_multipart([b"", MDPC, b"tickets.list", b"local-1", auth, query])
        assert plain.poll(5000), "no answer on the local endpoint"
        frames = plain.recv_multipart()
        assert frames[3:5] == [b"local-1", b"200"], frames[:5]
    finally:
        plain.close()
    # ticketd-keygen will not make a key that says local...
    keygen = os.path.join(ROOT, BUILD_DIR, "bin", "ticketd-keygen")
    d = tempfile.mkdtemp(prefix="ticketd-keys-")
    try:
        r = subprocess.run([keygen, "--role", "local", "sneaky", d], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 2 and "edge, worker or tool" in r.stderr, (r.returncode, r.stderr)
        # ...and one written by hand to say so is a tool's: it may not act for a user.
        public, secret = zmq.curve_keypair()
        allow = os.path.join(system.curve_dir, "allow", "sneaky-local")
        with open(allow, "w") as f:
            f.write("#   ZeroMQ CURVE **Public** Certificate\nmetadata\n    role = \"local\"\n"
                    f"curve\n    public-key = \"{public.decode()}\"\n")
        server = system.curve_keys("tool")[0]
        keyed = zmq.Context.instance().socket(zmq.DEALER)
        keyed.linger = 0
        keyed.curve_serverkey, keyed.curve_publickey, keyed.curve_secretkey = \
            server.encode(), public, secret
        keyed.connect(system.broker_endpoint)
        try:
            deadline = time.monotonic() + 15
            frames = None
            # The allow folder is read again when it changes: until then the key is unknown
            # and gets no answer at all.
            while frames is None and time.monotonic() < deadline:
                keyed.send_multipart([b"", MDPC, b"tickets.list", b"local-2", auth, query])
                if keyed.poll(1000):
                    frames = keyed.recv_multipart()
            assert frames, "the hand-made key was never admitted"
            assert frames[3:5] == [b"local-2", b"403"], frames[:5]
            assert "edge" in error_of(json.loads(frames[5]))["message"]
        finally:
            keyed.close()
            os.unlink(allow)
    finally:
        shutil.rmtree(d)


def test_manage_refuses_a_var_dir_another_user_owns_or_may_write(system):
    """Whoever owns VAR_DIR could plant an allowed key in curve/allow, swap the broker's
    socket for their own, or point a log root appends to at a file of root's."""
    assert os.geteuid() == 0, "the suite runs as root (./manage.sh deps --test, .ci/run)"
    d = tempfile.mkdtemp(prefix="ticketd-var-")
    try:
        os.chmod(d, 0o755)
        squat = os.path.join(d, "var")
        os.mkdir(squat)
        os.chown(squat, 65534, 65534)               # nobody's
        env = dict(system.env, VAR_DIR=squat, ENV_FILE=os.path.join(d, ".env"))
        r = subprocess.run([os.path.join(ROOT, "manage.sh"), "status"], env=env, cwd=ROOT,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "owned by another user" in r.stderr, (r.returncode, r.stderr)
        assert not os.path.exists(os.path.join(squat, "curve")), "it went on to make keys"
        os.chown(squat, 0, 0)
        os.chmod(squat, 0o777)                      # ours, but anyone may write in it
        r = subprocess.run([os.path.join(ROOT, "manage.sh"), "status"], env=env, cwd=ROOT,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "writable by group or others" in r.stderr, r.stderr
    finally:
        shutil.rmtree(d)


def test_a_local_endpoint_given_to_manage_is_the_brokers_and_a_bad_one_fails_up(system):
    d = tempfile.mkdtemp(prefix="ticketd-ipc-")
    system.kill("broker")
    try:
        os.chmod(d, 0o755)
        with system.overridden(BROKER_LOCAL_ENDPOINT=f"ipc://{d}/broker"):
            r = system.manage(check=False, timeout=120)
        assert r.returncode != 0 and "ticketd is up" not in r.stdout, r.stdout
        assert re.search(r"^broker exited at start: .*var=BROKER_LOCAL_ENDPOINT", r.stdout,
                         re.M), r.stdout
    finally:
        shutil.rmtree(d)
        system.manage("up")
        system.wait_healthy()
    assert f" local={local_endpoint(system)} " in started_line(system, "broker")

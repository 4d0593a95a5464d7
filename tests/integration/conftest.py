"""Integration fixtures: the real system, started by ./manage.sh itself.

One session-wide system (its own PostgreSQL cluster, broker, workers, edge) lives in a
throwaway folder on free ports, so the suite runs on a fresh machine and beside a running
./manage.sh. Tests that kill processes restart them with `./manage.sh up`, which starts
whatever is not running, exactly as an operator would.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import zmq

from harness import http_request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("BUILD_DIR", "build")


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def worker_name(name):
    """The WORKER_NAME ./manage.sh gives its worker `name` (worker-N): the short host name,
    its unsafe bytes made '-', cut to 40 bytes, then the name."""
    host = re.sub(r"[^A-Za-z0-9._:@/-]", "-", socket.gethostname().split(".")[0])[:40]
    return f"{host}-{name}" if host else name


class System:
    """A running ticketd: its environment, its processes, and clients for it."""

    def __init__(self, workdir):
        self.workdir = workdir
        (self.port, self.web_port, self.ws_port, broker, hub_pub, hub_sub,
         self.db_port) = free_ports(7)
        self.env = dict(os.environ)
        # The suite's own settings: nothing from the repo's .env may leak in.
        for k in list(self.env):
            if k.startswith(("DB_", "PG", "SEED_", "JWT_", "BROKER_", "HUB_", "CURVE")) or k in (
                    "DATABASE_URL", "PORT", "WEB_PORT", "WS_PORT", "WORKERS"):
                del self.env[k]
        self.env.update({
            "VAR_DIR": os.path.join(workdir, "var"),
            "ENV_FILE": os.path.join(workdir, ".env"),
            "BUILD_DIR": os.path.join(ROOT, BUILD_DIR),
            "SKIP_BUILD": "1",
            "PORT": str(self.port),
            "WEB_PORT": str(self.web_port),
            "WS_PORT": str(self.ws_port),
            "BROKER_ENDPOINT": f"tcp://127.0.0.1:{broker}",
            "HUB_PUB_ENDPOINT": f"tcp://127.0.0.1:{hub_pub}",
            "HUB_SUB_ENDPOINT": f"tcp://127.0.0.1:{hub_sub}",
            "DB_PORT": str(self.db_port),
            "WORKERS": "2",
            "SEED_TICKETS": "200",
            "HEARTBEAT_MS": "200",
            "LOG_LEVEL": "info",
            "REQUEST_TIMEOUT_MS": "10000",
            # Short enough that the body-deadline test runs in seconds, long enough for
            # the largest job body the suite sends under the sanitizers.
            "EDGE_BODY_TIMEOUT_S": "8",
            # Small enough for the slow-header and per-address tests to run in seconds.
            "EDGE_HEADER_TIMEOUT_S": "5",
            "EDGE_CONNECTIONS_PER_ADDRESS": "100",
            # The hub asks auth.me about every WebSocket user this often: short, so that a
            # user deleted while connected is seen closed within seconds.
            "HUB_RECHECK_MS": "2000",
        })
        # Sanitizer builds (BUILD_DIR=build-san): every error is reported with its stack in
        # the process's log, and leaks are checked when a process exits after SIGTERM.
        # sanitizer_errors() reads the logs at the end of the session. ASan keeps freed
        # memory resident in a quarantine (256 MB by default) to catch late uses: capped
        # here so that the tests bounding a process's RSS measure its own memory, not
        # ASan's, while frees of the last 32 MB are still checked.
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1"
                            ":quarantine_size_mb=32")
        self.env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:abort_on_error=0:halt_on_error=1")
        self.broker_endpoint = self.env["BROKER_ENDPOINT"]
        self.admin = ("admin@example.com", "admin123")
        self.agent = ("agent@example.com", "agent123")

    # -- processes

    @contextlib.contextmanager
    def overridden(self, **values):
        """The system's environment with values set (None: unset) for the block, put back
        after it; processes started meanwhile keep what they were started with."""
        def apply(settings):
            for k, v in settings.items():
                if v is None:
                    self.env.pop(k, None)
                else:
                    self.env[k] = v
        saved = {k: self.env.get(k) for k in values}
        try:
            apply(values)
            yield self
        finally:
            apply(saved)

    def manage(self, *args, check=True, timeout=180, stdin=subprocess.DEVNULL, prefix=()):
        """./manage.sh ARGS, stdin not a terminal unless given (reset and clean refuse then
        without --yes); prefix: a command to run it under (strace)."""
        r = subprocess.run([*prefix, os.path.join(ROOT, "manage.sh"), *args], env=self.env,
                           cwd=ROOT, stdin=stdin, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"./manage.sh {' '.join(args)} exited {r.returncode}\n"
                                 f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\n{self.log_tail()}")
        return r

    @staticmethod
    def alive(pid):
        """True while pid runs. A killed process whose parent never reaps it (our processes
        are orphans, and PID 1 in some sandboxes does not reap) stays a zombie: dead."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False

    def pid(self, name):
        try:
            with open(os.path.join(self.env["VAR_DIR"], "run", f"{name}.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if self.alive(pid) else None

    def kill(self, name, sig=signal.SIGKILL):
        pid = self.pid(name)
        assert pid, f"{name} is not running"
        os.kill(pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            for _ in range(200):
                if not self.alive(pid):
                    return pid
                time.sleep(0.05)
        return pid

    SERVICES = ("broker", "progress-hub", "worker-1", "worker-2", "http-edge")

    def ensure_up(self):
        """Starts whatever a test left stopped, so one failing test cannot fail the rest."""
        if all(self.pid(n) for n in self.SERVICES) and self.pg_running():
            return False
        self.manage("up")
        return True

    def pg_running(self):
        try:
            with open(os.path.join(self.env["VAR_DIR"], "pg", "data", "postmaster.pid")) as f:
                return self.alive(int(f.readline()))
        except (OSError, ValueError):
            return False

    def pg_ctl(self, *args):
        """pg_ctl ARGS on the suite's cluster, as its owner: e.g. ("-m", "immediate", "stop")
        for a crash, then self.manage("up") starts it again."""
        cmd = ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", f"{self.env['VAR_DIR']}/pg/data",
               "-w", "-l", f"{self.env['VAR_DIR']}/log/postgres.log", *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def log_tail(self, n=30):
        out = []
        logdir = os.path.join(self.env["VAR_DIR"], "log")
        if os.path.isdir(logdir):
            for name in sorted(os.listdir(logdir)):
                with open(os.path.join(logdir, name), errors="replace") as f:
                    lines = f.readlines()[-n:]
                out.append(f"--- {name}\n" + "".join(lines))
        return "\n".join(out)

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

    def sanitizer_errors(self, since):
        """Lines around every ASan/LSan/UBSan report in the processes' logs: the system's
        own (VAR_DIR/log) and those the suite's tests write under the build folder."""
        logs = []
        logdir = os.path.join(self.env["VAR_DIR"], "log")
        if os.path.isdir(logdir):
            logs += [os.path.join(logdir, n) for n in sorted(os.listdir(logdir))
                     if n.endswith(".log") and not n.startswith(("postgres", "initdb"))]
        builddir = os.path.join(ROOT, BUILD_DIR)
        if os.path.isdir(builddir):
            logs += [os.path.join(builddir, n) for n in sorted(os.listdir(builddir))
                     if n.endswith(".log")
                     and os.path.getmtime(os.path.join(builddir, n)) >= since]
        found = []
        for path in logs:
            with open(path, errors="replace") as f:
                lines = f.readlines()
            for i, line in enumerate(lines):
                if any(m in line for m in self.SANITIZER_MARKS):
                    found.append(f"--- {path}:{i + 1}\n" + "".join(lines[max(0, i - 2):i + 30]))
        return found

    def psql(self, sql):
        env = dict(self.env, PGHOST="127.0.0.1", PGPORT=str(self.db_port), PGUSER="ticketd",
                   PGDATABASE="ticketd", PGPASSWORD=self.db_password())
        r = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"psql failed: {r.stderr}"
        return r.stdout.strip()

    def db_password(self):
        with open(self.env["ENV_FILE"]) as f:
            for line in f:
                if line.startswith("DB_PASSWORD="):
                    return line.split("=", 1)[1].strip()
        raise AssertionError("no DB_PASSWORD in the test .env")

    # -- ZeroMQ: CurveZMQ is on by default, with the keys ./manage.sh made in var/curve

    @property
    def curve_dir(self):
        return os.path.join(self.env["VAR_DIR"], "curve")

    def curve_keys(self, role):
        """(server public, role's public, role's secret) Z85 keys from var/curve."""
        server, _ = read_cert(os.path.join(self.curve_dir, "server"))
        public, secret = read_cert(os.path.join(self.curve_dir, f"{role}_secret"))
        return server, public, secret

    def client_env(self, role="tool"):
        """The environment of one of our C clients (ticketd-status, ticketd-watch) run with
        role's certificate, as ./manage.sh status runs them."""
        return dict(self.env, CURVE_CLIENT_CERT=os.path.join(self.curve_dir, f"{role}_secret"),
                    CURVE_SERVER_KEY=os.path.join(self.curve_dir, "server"))

    def zmq_socket(self, kind, role="tool", ctx=None, connect=None):
        """A pyzmq socket that is a CURVE client of this system as role (edge, worker,
        tool), linger 0; connected to connect when given."""
        server, public, secret = self.curve_keys(role)
        s = (ctx or zmq.Context.instance()).socket(kind)
        s.linger = 0
        s.curve_serverkey = server.encode()
        s.curve_publickey = public.encode()
        s.curve_secretkey = secret.encode()
        if connect:
            s.connect(connect)
        return s

    # -- 7/MDP

    def mdp_request(self, service, payload, rid, user_id, role, timeout=5):
        """One request straight to the broker as a 7/MDP client (proto/README.md), exactly
        as the edge sends it, and as the broker re-delivers it after a worker death when
        rid is reused: a DEALER sends "", "MDPC01", service, then the envelope rid, auth
        "<user uuid> <role>" ("" when user_id is None) and payload (a JSON text, or a value
        to dump). Waits until a wall-clock deadline for the reply with this rid. Returns
        (status, parsed JSON or None). It holds the edge's CURVE key: the broker takes an
        auth frame from the edge only."""
        body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        body = body.encode() if isinstance(body, str) else body
        auth = f"{user_id} {role}".encode() if user_id else b""
        sock = self.zmq_socket(zmq.DEALER, role="edge")
        deadline = time.monotonic() + timeout
        try:
            sock.connect(self.broker_endpoint)
            sock.send_multipart([b"", b"MDPC01", service.encode(), rid.encode(), auth, body])
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{service} rid={rid}: no reply within {timeout} s\n"
                                         f"{self.log_tail()}")
                if not sock.poll(max(1, int(left * 1000))):
                    continue
                frames = sock.recv_multipart()
                # "", "MDPC01", service, rid, status, payload
                if len(frames) >= 5 and frames[3] == rid.encode():
                    break
        finally:
            sock.close()
        assert frames[1] == b"MDPC01" and frames[2] == service.encode(), frames[:3]
        text = frames[5] if len(frames) > 5 else b""
        return int(frames[4]), json.loads(text) if text else None

    # -- HTTP

    def request(self, method, path, body=None, token=None, headers=None, raw=None, port=None,
                timeout=30):
        """One HTTP request on a fresh connection. Returns (status, headers, parsed JSON or text)."""
        status, hdrs, text = http_request(port or self.port, method, path, body, token, headers,
                                          raw, timeout)
        ctype = hdrs.get("content-type", "")
        parsed = text.decode("utf-8", "replace")
        if "json" in ctype and text:
            parsed = json.loads(text)
        return status, hdrs, parsed

    def login(self, who="admin"):
        email, password = self.admin if who == "admin" else self.agent
        status, _, body = self.request("POST", "/api/auth/login",
                                       {"email": email, "password": password})
        assert status == 200, f"login as {who}: expected 200, got {status} {body}"
        return body["token"]

    def wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = self.request("GET", "/api/health", timeout=5)
                if last[0] == 200:
                    return last
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise AssertionError(f"not healthy after {timeout} s: {last}\n{self.log_tail()}")


@pytest.fixture(scope="session")
def system(request):
    workdir = tempfile.mkdtemp(prefix="ticketd-test-")
    # The cluster runs as 'postgres' when the suite runs as root: it must reach the folder.
    os.chmod(workdir, 0o755)
    sysm = System(workdir)
    started = time.time()
    errors = []
    try:
        sysm.manage("up")
        yield sysm
    finally:
        sysm.manage("down", check=False)
        # After "down" every process has exited, so leak reports are written too.
        errors = sysm.sanitizer_errors(started)
        if os.environ.get("KEEP_TEST_DIR") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
    if errors:
        text = "\n".join(errors)
        msg = f"{len(errors)} sanitizer report(s) in the processes' logs:\n{text[:30000]}"
        if request.session.shouldfail or request.session.shouldstop:
            # Stopping already (-x): pytest tears this down outside any test, where raising
            # would only print an internal traceback. Show the reports; the run has failed.
            tr = request.config.pluginmanager.get_plugin("terminalreporter")
            if tr:
                tr.write_line(f"ERROR: {msg}", red=True)
            else:
                print(f"\nERROR: {msg}", file=sys.stderr)
            request.session.testsfailed += 1
        else:
            pytest.fail(msg, pytrace=False)


@pytest.fixture(autouse=True)
def _system_left_running(request):
    """After each test that used the system, every process runs again (a test that kills
    one and then fails before restarting it must not take the next tests down with it)."""
    yield
    if "system" in request.fixturenames:
        sysm = request.getfixturevalue("system")
        if sysm.ensure_up():
            print(f"note: {request.node.name} left processes stopped; restarted them")


@pytest.fixture(scope="module")
def ctx():
    """A ZeroMQ context for a module's own sockets, closed without lingering."""
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


@pytest.fixture(scope="session")
def admin_token(system):
    return system.login("admin")


@pytest.fixture(scope="session")
def agent_token(system):
    return system.login("agent")


def read_cert(path):
    """(public, secret) Z85 keys of a zcert file; secret is None in a public file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    pub = re.search(r'public-key = "([^"]{40})"', text).group(1)
    sec = re.search(r'secret-key = "([^"]{40})"', text)
    return pub, sec.group(1) if sec else None


def read_raw_response(sock):
    """(head, body) of one HTTP response read from a raw socket: the head up to the blank
    line, lower-cased, then Content-Length bytes of body (what arrived, if it closes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    head = head.lower()
    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
              if line.startswith(b"content-length:")]
    while length and len(body) < length[0]:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def error_of(body):
    """The contract's error object, checked for shape."""
    assert isinstance(body, dict) and "error" in body, f"expected an error object, got {body!r}"
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], f"error without code: {body!r}"
    assert isinstance(err.get("message"), str) and err["message"], f"error without message: {body!r}"
    assert isinstance(err.get("details", []), list), f"details is not a list: {body!r}"
    return err


def metric(system, name):
    """One unlabelled sample of the edge's GET /metrics."""
    status, _, text = system.request("GET", "/metrics", timeout=5)
    assert status == 200, text[:200]
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} missing from /metrics")


def wait_metric(system, name, until, timeout=10):
    """The edge's metric once until(value) holds, polling for at most timeout seconds; the
    last value either way, for the caller to assert on."""
    deadline = time.time() + timeout
    value = metric(system, name)
    while not until(value) and time.time() < deadline:
        time.sleep(0.05)
        value = metric(system, name)
    return value

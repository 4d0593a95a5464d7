"""Integration fixtures: the real system, started by ./manage.sh itself.

One session-wide system (its own PostgreSQL cluster, broker, workers, edge) lives in a
throwaway folder on free ports, so the suite runs on a fresh machine and beside a running
./manage.sh. Tests that kill processes restart them with `./manage.sh up`, which starts
whatever is not running, exactly as an operator would.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

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


class System:
    """A running ticketd: its environment, its processes, and clients for it."""

    def __init__(self, workdir):
        self.workdir = workdir
        (self.port, self.web_port, self.ws_port, broker, hub_pub, hub_sub,
         self.db_port) = free_ports(7)
        self.env = dict(os.environ)
        # The suite's own settings: nothing from the repo's .env may leak in.
        for k in list(self.env):
            if k.startswith(("DB_", "PG", "SEED_", "JWT_", "BROKER_", "HUB_")) or k in (
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
        })
        self.broker_endpoint = self.env["BROKER_ENDPOINT"]
        self.admin = ("admin@example.com", "admin123")
        self.agent = ("agent@example.com", "agent123")

    # -- processes

    def manage(self, *args, check=True, timeout=180):
        r = subprocess.run([os.path.join(ROOT, "manage.sh"), *args], env=self.env, cwd=ROOT,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"./manage.sh {' '.join(args)} exited {r.returncode}\n"
                                 f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\n{self.log_tail()}")
        return r

    def pid(self, name):
        try:
            with open(os.path.join(self.env["VAR_DIR"], "run", f"{name}.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def kill(self, name, sig=signal.SIGKILL):
        pid = self.pid(name)
        assert pid, f"{name} is not running"
        os.kill(pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    return pid
                time.sleep(0.05)
        return pid

    def log_tail(self, n=30):
        out = []
        logdir = os.path.join(self.env["VAR_DIR"], "log")
        if os.path.isdir(logdir):
            for name in sorted(os.listdir(logdir)):
                with open(os.path.join(logdir, name), errors="replace") as f:
                    lines = f.readlines()[-n:]
                out.append(f"--- {name}\n" + "".join(lines))
        return "\n".join(out)

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

    # -- HTTP

    def request(self, method, path, body=None, token=None, headers=None, raw=None, port=None,
                timeout=30):
        """One HTTP request on a fresh connection. Returns (status, headers, parsed JSON or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            text = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        ctype = hdrs.get("content-type", "")
        parsed = text.decode("utf-8", "replace")
        if "json" in ctype and text:
            parsed = json.loads(text)
        return resp.status, hdrs, parsed

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
def system():
    workdir = tempfile.mkdtemp(prefix="ticketd-test-")
    # The cluster runs as 'postgres' when the suite runs as root: it must reach the folder.
    os.chmod(workdir, 0o755)
    sysm = System(workdir)
    try:
        sysm.manage("up")
        yield sysm
    finally:
        sysm.manage("down", check=False)
        if os.environ.get("KEEP_TEST_DIR") != "1":
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_token(system):
    return system.login("admin")


@pytest.fixture(scope="session")
def agent_token(system):
    return system.login("agent")


def error_of(body):
    """The contract's error object, checked for shape."""
    assert isinstance(body, dict) and "error" in body, f"expected an error object, got {body!r}"
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], f"error without code: {body!r}"
    assert isinstance(err.get("message"), str) and err["message"], f"error without message: {body!r}"
    assert isinstance(err.get("details", []), list), f"details is not a list: {body!r}"
    return err

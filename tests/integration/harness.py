"""Processes of our own for the tests that start one outside the session's system: a
broker, a hub or an edge on free ports, with its log kept under the build folder for
reading after a failure, stopped with SIGTERM (so a sanitizer build checks for leaks at
exit) and killed if it hangs. Also the one HTTP call every test and benchmark makes."""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD_DIR", "build")
BIN = os.path.join(ROOT, BUILD, "bin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(port, method, path, body=None, token=None, headers=None, raw=None,
                 timeout=30):
    """One HTTP request to 127.0.0.1:port on a fresh connection: body is sent as JSON (with
    its Content-Type unless headers name one), raw as given. Returns (status, headers with
    lower-case names, the body's bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
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
    return resp.status, hdrs, text


class Process:
    """One of our binaries (build/bin/<exe>) with env, logging to <build>/<log_name>.log."""

    def __init__(self, log_name, exe, env, settle=0.3):
        self.log_path = os.path.join(ROOT, BUILD, "%s.log" % log_name)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([os.path.join(BIN, exe)], env=env, stderr=self.log)
        time.sleep(settle)
        assert self.proc.poll() is None, "%s exited at start: %s" % (exe, self.read_log())

    def read_log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM, SIGKILL if it hangs. The exit code, or None when it had to be killed."""
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(7)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                rc = None
        self.log.close()
        return rc


class Broker(Process):
    """build/bin/broker on a free port (self.endpoint), heartbeating every heartbeat_ms;
    env adds or overrides settings."""

    def __init__(self, log_name, heartbeat_ms=200, settle=0.3, **env):
        self.endpoint = "tcp://127.0.0.1:%d" % free_port()
        e = dict(os.environ, BROKER_ENDPOINT=self.endpoint, HEARTBEAT_MS=str(heartbeat_ms))
        e.update({k: str(v) for k, v in env.items()})
        super().__init__(log_name, "broker", e, settle=settle)

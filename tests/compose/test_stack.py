"""The checks of `make compose-test` against a compose stack that tests/compose/run.sh started
on a real Docker engine: health with 4 workers, a bulk delete through the REST API whose
final event a WebSocket client receives, both metrics endpoints, the documented
`docker compose exec ... ticketd-status`, the image's user, and quiet logs.

Not part of `make test` (tests/run.sh collects tests/integration only): it needs the stack.
run.sh passes CT_COMPOSE (a script that runs compose for this project with its arguments),
CT_PORT, CT_WS_PORT and CT_ENV_FILE (the temporary .env)."""
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import http_request                               # noqa: E402
from test_hub import FINAL, connect, events_until               # noqa: E402
from test_jobs import create_job, wait_terminal                 # noqa: E402

WORKERS = 4
JOB_ITEMS = 5000          # 5 chunks of CHUNK_SIZE (1000): more than one worker's share


def env_file():
    out = {}
    with open(os.environ["CT_ENV_FILE"], encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line.strip())
            if m:
                out[m.group(1)] = m.group(2)
    return out


def compose(*args, timeout=60):
    r = subprocess.run([os.environ["CT_COMPOSE"], *args], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"compose {' '.join(args)}: exit {r.returncode}\n{r.stderr[-2000:]}"
    return r.stdout


class Stack:
    """What the helpers of tests/integration ask of a system, for the compose stack."""

    def __init__(self):
        self.env = env_file()
        self.port = int(os.environ["CT_PORT"])
        self.ws_port = int(os.environ["CT_WS_PORT"])

    def request(self, method, path, body=None, token=None, headers=None, port=None,
                timeout=30):
        status, hdrs, text = http_request(port or self.port, method, path, body, token,
                                          headers, timeout=timeout)
        parsed = text.decode("utf-8", "replace")
        if "json" in hdrs.get("content-type", "") and text:
            parsed = json.loads(text)
        return status, hdrs, parsed

    def login(self):
        status, _, body = self.request("POST", "/api/auth/login",
                                       {"email": self.env["SEED_ADMIN_EMAIL"],
                                        "password": self.env["SEED_ADMIN_PASSWORD"]})
        assert status == 200, f"login: {status} {body}"
        return body["token"]

    def psql(self, sql):
        """SQL in the postgres container, over its local socket as the database's owner."""
        return compose("exec", "-T", "postgres", "psql", "-X", "-q", "-tA", "-v",
                       "ON_ERROR_STOP=1", "-U", self.env["DB_USER"], "-d",
                       self.env["DB_NAME"], "-c", sql).strip()

    def log_tail(self):
        return compose("logs", "--no-color", "--tail", "40")


@pytest.fixture(scope="module")
def stack():
    return Stack()


def test_health_counts_every_worker(stack):
    status, _, body = stack.request("GET", "/api/health")
    assert status == 200 and body["status"] == "ok", body
    assert body["workers"] == WORKERS, body


def test_a_bulk_delete_through_the_api_completes_and_a_websocket_client_sees_it(stack):
    token = stack.login()
    tag = f"compose-test-{os.getpid()}"
    ids = stack.psql(f"""INSERT INTO tickets (subject, requester_email)
                         SELECT '{tag} ' || g, 'bulk@example.com'
                         FROM generate_series(1, {JOB_ITEMS}) g RETURNING id""").split()
    assert len(ids) == JOB_ITEMS
    ws = connect(stack, token)
    try:
        job, _ = create_job(stack, token, ids)
        got = events_until(ws, lambda e: e["data"]["id"] == job["id"] and e["event"] in FINAL,
                           timeout=120)
    finally:
        ws.close()
    assert got[-1]["event"] == "jobs:completed", got[-1]
    done = wait_terminal(stack, token, job["id"], timeout=60)
    assert (done["status"], done["succeeded"], done["failed"]) == ("completed", JOB_ITEMS, 0), done
    left = stack.psql(f"SELECT count(*) FROM tickets WHERE subject LIKE '{tag} %' "
                      "AND deleted_at IS NULL")
    assert left == "0", left
    # Which workers took its chunks: reported, not asserted (one worker may hold them all:
    # each takes up to WORKER_CREDIT requests at once).
    logs = compose("logs", "--no-color", "worker")
    takers = {m.group(1) for m in re.finditer(r"^\S*?(worker-\d+)\s*\|.*service=jobs\.chunk ",
                                               logs, re.M)}
    print(f"chunks of the job were taken by {sorted(takers)}")


def test_the_edge_and_hub_metrics_count_what_happened(stack):
    status, _, text = stack.request("GET", "/metrics")
    assert status == 200, text[:200]
    assert re.search(r'^http_requests_total\{route="/api/jobs",method="POST",status="202"\} [1-9]',
                     text, re.M), "no accepted POST /api/jobs in the edge's /metrics"
    status, _, text = stack.request("GET", "/metrics", port=stack.ws_port)
    assert status == 200, text[:200]
    m = re.search(r"^ws_connections_total (\d+)", text, re.M)
    assert m and int(m.group(1)) >= 1, "no WebSocket connection in the hub's /metrics"


def test_the_status_command_of_operations_md_works_in_the_broker_container(stack):
    ops = open(os.path.join(HERE, "..", "..", "docs", "OPERATIONS.md"), encoding="utf-8").read()
    m = re.search(r"`docker compose (exec [^`]*ticketd-status)`", ops)
    assert m, "OPERATIONS.md names no `docker compose exec ... ticketd-status`"
    out = compose(*m.group(1).split()[:1], "-T", *m.group(1).split()[1:])
    assert re.search(rf"workers {WORKERS}\b", out), out


def test_the_zeromq_and_database_ports_are_published_on_the_ports_of_env(stack):
    for service, inside, var in (("broker", 5555, "BROKER_PORT"),
                                 ("progress-hub", 5556, "HUB_PUB_PORT"),
                                 ("progress-hub", 5557, "HUB_SUB_PORT"),
                                 ("postgres", 5432, "DB_PORT")):
        where = compose("port", service, str(inside)).strip()
        assert where == f"127.0.0.1:{stack.env[var]}", (service, inside, where)
        with socket.create_connection(("127.0.0.1", int(stack.env[var])), timeout=5):
            pass


def test_every_ticketd_container_runs_as_uid_10001(stack):
    for service in ("broker", "worker", "progress-hub", "http-edge"):
        assert compose("exec", "-T", service, "id", "-u").strip() == "10001", service


def test_healthchecks_do_not_fill_the_logs(stack):
    """Compose polls every service every 5 s; the stack has been up for at least that
    long, and health and metrics polls that went well are logged at debug only."""
    status = compose("ps", "--format", "json")
    assert "healthy" in status
    time.sleep(6)
    logs = compose("logs", "--no-color", "http-edge", "worker")
    polls = [l for l in logs.splitlines()
             if 'path="/api/health" status=200' in l or "service=sys.health status=200" in l
             or 'path="/metrics"' in l or "service=sys.metrics status=200" in l]
    assert not polls, polls[:3]

"""Hostile input at the edges that the other files do not cover: path traversal on the UI's
static files, slow clients holding connections, deeply nested JSON, and a job id list with
SQL in it. (Tokens: test_api_auth.py; agents and others' jobs: test_jobs.py; sockets:
test_hub.py; broker frames: test_broker_mdp.py; fuzzing: tests/fuzz.)"""
import json
import socket
import time

import pytest

from conftest import error_of, metric, read_raw_response


@pytest.mark.parametrize("path", [
    "/../.env", "/%2e%2e/.env", "/..%2f.env", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/js/../../manage.sh", "/js/..%2f..%2fmanage.sh", "/..\\.env", "/%00", "/index.html%00.js",
    "//etc/passwd", "/.env", "/../../../../etc/passwd",
])
def test_static_files_never_leave_the_web_root(system, path):
    s = socket.create_connection(("127.0.0.1", system.web_port), timeout=5)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head = data.split(b"\r\n", 1)[0]
    assert head.split()[1] in (b"400", b"404"), f"{path}: {head!r}"
    assert b"JWT_SECRET" not in data and b"root:" not in data and b"manage.sh:" not in data


def test_the_ui_is_served_with_a_content_type(system):
    status, headers, body = system.request("GET", "/", port=system.web_port)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "<html" in body.lower()


def test_slow_clients_do_not_block_others(system):
    """Fifty connections that send half a request and stall: a normal request is still
    answered at once (the edge's one loop never waits on a socket)."""
    stalled = []
    try:
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
            s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
            stalled.append(s)
        t0 = time.time()
        status, _, body = system.request("GET", "/api/health", timeout=5)
        assert status == 200, body
        assert time.time() - t0 < 1.0
    finally:
        for s in stalled:
            s.close()


def test_deeply_nested_json_is_refused_not_crashing(system, agent_token):
    raw = b'{"subject":' + b"[" * 100000 + b"]" * 100000 + b"}"
    status, _, body = system.request("POST", "/api/tickets", raw=raw, token=agent_token,
                                     headers={"Content-Type": "application/json"})
    assert status in (400, 422), status
    error_of(body)
    assert system.request("GET", "/api/health")[0] == 200


def test_sql_in_a_job_id_list_is_a_validation_error(system, admin_token):
    ids = ["00000000-0000-4000-8000-000000000001", "x'); DELETE FROM tickets; --"]
    status, _, body = system.request("POST", "/api/jobs",
                                     {"type": "bulk-delete", "payload": {"ticketIds": ids}},
                                     token=admin_token)
    assert status == 422
    assert "payload.ticketIds[1]" in {d["field"] for d in error_of(body)["details"]}
    assert int(system.psql("SELECT count(*) FROM tickets")) > 0


def test_a_token_in_the_query_string_is_not_accepted_by_the_api(system, agent_token):
    """Tokens in URLs end up in logs and Referer headers: the API takes them only from the
    Authorization header (the WebSocket, which cannot set headers, is the exception)."""
    status, _, body = system.request("GET", f"/api/tickets?token={agent_token}")
    assert status in (401, 422), body


def test_errors_never_leak_internals(system, agent_token):
    status, _, body = system.request("PUT", "/api/tickets/00000000-0000-4000-8000-000000000001",
                                     raw=b'{"subject": 5}', token=agent_token,
                                     headers={"Content-Type": "application/json"})
    text = json.dumps(body)
    for leak in ("SQLSTATE", "postgres", "syntax error", ".c:", "Traceback", "PGRES"):
        assert leak not in text, text


def test_request_bodies_held_at_once_are_bounded_and_the_next_gets_503(system, admin_token):
    # EDGE_BODY_BUDGET_BYTES (64 MiB): six bodies of nearly MAX_BODY_BYTES (10 MiB) held open
    # fit; a seventh that would pass the budget is answered 503 overloaded with Retry-After
    # (once its upload, read and dropped, ends); when the six go, their bytes come back.
    size = 10_000_000
    head = (f"POST /api/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    budget = metric(system, "edge_body_budget_bytes")
    assert budget == 64 * 1024 * 1024, budget
    held = []
    try:
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", system.port), timeout=30)
            s.sendall(head + b" " * (size - 1))     # all but one byte: the edge holds it
            held.append(s)
        # Each buffer doubles from 64 KiB and stops at MAX_BODY_BYTES + 1: wait until the edge
        # has read all six. Waiting only for 6 * size is not enough: five full buffers and one
        # still at 8 MiB pass it, and the seventh would then race the sixth for what is left.
        full = 6 * (10 * 1024 * 1024 + 1)
        deadline = time.time() + 20
        while metric(system, "edge_body_bytes") < full and time.time() < deadline:
            time.sleep(0.1)
        assert metric(system, "edge_body_bytes") == full
        rejected = metric(system, "edge_overload_rejections_total")

        seventh = socket.create_connection(("127.0.0.1", system.port), timeout=30)
        seventh.sendall(head + b" " * size)
        answer, body = read_raw_response(seventh)
        seventh.close()
        assert b" 503 " in answer.split(b"\r\n")[0], answer[:300]
        assert b"retry-after: 1" in answer
        assert error_of(json.loads(body))["code"] == "overloaded", body[:300]
        assert metric(system, "edge_overload_rejections_total") == rejected + 1
        assert metric(system, "edge_body_bytes") == full
        for s in held:                          # the six were left alone, not answered
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
    finally:
        for s in held:
            s.close()
    deadline = time.time() + 10
    while metric(system, "edge_body_bytes") > 0 and time.time() < deadline:
        time.sleep(0.1)
    assert metric(system, "edge_body_bytes") == 0
    status, _, body = system.request("POST", "/api/tickets",
                                     {"subject": "After the budget", "description": "read again",
                                      "requesterEmail": "jo@example.com"},
                                     token=admin_token)
    assert status == 201, body

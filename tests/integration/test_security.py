"""Hostile input at the edges that the other files do not cover: path traversal on the UI's
static files, slow clients holding connections, deeply nested JSON, and a job id list with
SQL in it. (Tokens: test_api_auth.py; agents and others' jobs: test_jobs.py; sockets:
test_hub.py; broker frames: test_broker_mdp.py; fuzzing: tests/fuzz.)"""
import json
import socket
import threading
import time

import pytest

from conftest import error_of, metric, read_raw_response, wait_metric


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


def test_the_ui_page_may_not_be_framed_and_talks_only_to_its_own_api_and_hub(system):
    """Clickjacking and injected scripts: the page says no site may frame it, runs only its
    own scripts and may connect only to its API and hub, on the host the browser used."""
    for host in ("127.0.0.1", "localhost"):
        status, headers, _ = system.request("GET", "/", port=system.web_port,
                                            headers={"Host": f"{host}:{system.web_port}"})
        assert status == 200
        assert headers["x-frame-options"] == "DENY"
        policy = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
        assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self'", policy
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'", policy
        assert policy["connect-src"].split() == [
            "'self'", f"http://{host}:{system.port}", f"ws://{host}:{system.ws_port}"], policy
    status, headers, _ = system.request("GET", "/", port=system.web_port,
                                        headers={"Host": f"[::1]:{system.web_port}"})
    policy = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
    assert policy["connect-src"].split() == ["'self'", "http:", "ws:"], policy
    assert policy["frame-ancestors"] == "'none'", policy
    # A script or a style is not a page: no policy of its own to carry.
    status, headers, _ = system.request("GET", "/js/main.js", port=system.web_port)
    assert status == 200 and "content-security-policy" not in headers


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
    # 140,000 bytes: within the ticket routes' body limit, so the JSON parser sees it.
    raw = b'{"subject":' + b"[" * 70000 + b"]" * 70000 + b"}"
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
    # Only the job route takes bodies that large; its reader holds everything but the ids
    # as text, here one long "type" string.
    size = 10_000_000
    head = (f"POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    body = b'{"type":"' + b"a" * (size - 9)
    budget = metric(system, "edge_body_budget_bytes")
    assert budget == 64 * 1024 * 1024, budget
    held = []
    try:
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", system.port), timeout=30)
            s.sendall(head + body[:-1])     # all but one byte: the edge holds it
            held.append(s)
        # Each reader's text buffer doubles from 1 KiB and stops at MAX_BODY_BYTES + 1: wait
        # until the edge has read all six (six buffers past 8 MiB each).
        full = wait_metric(system, "edge_body_bytes", lambda v: v >= 6 * (10 * 1024 * 1024 + 1),
                           timeout=20)
        assert 6 * (10 * 1024 * 1024 + 1) <= full <= 6 * (10 * 1024 * 1024 + 4096), full
        rejected = metric(system, "edge_overload_rejections_total")

        seventh = socket.create_connection(("127.0.0.1", system.port), timeout=30)
        seventh.sendall(head + body)
        answer, raw = read_raw_response(seventh)
        seventh.close()
        assert b" 503 " in answer.split(b"\r\n")[0], answer[:300]
        assert b"retry-after: 1" in answer
        assert error_of(json.loads(raw))["code"] == "overloaded", raw[:300]
        assert metric(system, "edge_overload_rejections_total") == rejected + 1
        assert metric(system, "edge_body_bytes") == full
        for s in held:                          # the six were left alone, not answered
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
    finally:
        for s in held:
            s.close()
    assert wait_metric(system, "edge_body_bytes", lambda v: v == 0) == 0
    status, _, answer = system.request("POST", "/api/tickets",
                                       {"subject": "After the budget", "description": "read again",
                                        "requesterEmail": "jo@example.com"},
                                       token=admin_token)
    assert status == 201, answer

def _head(path, length, token=None, extra=b""):
    auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n").encode() + auth + extra + b"\r\n"


def _status(head):
    return int(head.split(b"\r\n")[0].split(b" ")[1])


def _timed_login(system, source="127.0.0.1"):
    """(status, seconds) of one good admin login from the given loopback source address."""
    body = json.dumps({"email": system.admin[0], "password": system.admin[1]}).encode()
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", system.port), timeout=10,
                                 source_address=(source, 0))
    try:
        s.sendall(_head("/api/auth/login", len(body)) + body)
        head, _ = read_raw_response(s)
    finally:
        s.close()
    return _status(head), time.time() - t0


def test_anonymous_trickled_login_bodies_cannot_lock_out_logins(system):
    """The attack that locked everyone out: nine anonymous logins announcing 10 MiB, each
    sending megabytes and then a byte now and then. A login body is a few KiB: they are
    answered 413 from their headers, before any body byte is held, and a normal login
    still gets 200 within a second while they go on trickling."""
    attackers, stop = [], threading.Event()
    try:
        for _ in range(9):
            s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
            s.sendall(_head("/api/auth/login", 10 * 1024 * 1024))
            attackers.append(s)
        for s in attackers:
            head, body = read_raw_response(s)
            assert _status(head) == 413, head[:200]
            assert error_of(json.loads(body))["code"] == "payload_too_large"

        def trickle(sock):
            try:
                sock.sendall(b" " * (5 * 1024 * 1024))
                while not stop.wait(0.5):
                    sock.sendall(b" ")
            except OSError:
                pass                    # the edge closed it: what we want
        threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in attackers]
        for t in threads:
            t.start()
        assert metric(system, "edge_body_bytes") == 0
        for _ in range(3):
            status, took = _timed_login(system)
            assert status == 200 and took < 1.0, (status, took)
            time.sleep(0.3)
    finally:
        stop.set()
        for s in attackers:
            s.close()


def test_an_unauthenticated_body_is_refused_from_its_headers_without_being_read(system):
    # No token, 10 MiB announced, nothing sent: the answer comes at once.
    s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
    try:
        s.sendall(_head("/api/tickets", 10 * 1024 * 1024))
        head, body = read_raw_response(s)
    finally:
        s.close()
    assert _status(head) == 401, head[:200]
    assert error_of(json.loads(body))["code"] == "unauthorized"
    # An agent on an admin route, likewise: 403 before the body.
    token = system.login("agent")
    s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
    try:
        s.sendall(_head("/api/tickets/00000000-0000-4000-8000-000000000001/restore",
                        30 * 1024 * 1024, token=token))
        head, body = read_raw_response(s)
    finally:
        s.close()
    assert _status(head) == 403, head[:200]


def test_an_expired_token_with_a_small_body_is_answered_cleanly(system):
    """A refused request whose body is small is read and dropped before the answer, so the
    client reads its 401 rather than a connection reset."""
    body = json.dumps({"subject": "x" * 2000, "requesterEmail": "a@example.com"}).encode()
    s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
    try:
        s.sendall(_head("/api/tickets", len(body), token="not.a.token") + body)
        head, raw = read_raw_response(s)
        assert _status(head) == 401, head[:200]
        assert error_of(json.loads(raw))["code"] == "invalid_token"
    finally:
        s.close()


def test_each_route_has_a_body_limit_of_its_own(system, agent_token):
    status, _, body = system.request("POST", "/api/auth/login",
                                     raw=b'{"email":"a@b.c","password":"' + b"p" * 20000 + b'"}',
                                     headers={"Content-Type": "application/json"})
    assert status == 413 and error_of(body)["code"] == "payload_too_large"
    status, _, body = system.request("POST", "/api/tickets", token=agent_token,
                                     raw=b'{"subject":"s","description":"' + b"d" * 200000 + b'"}',
                                     headers={"Content-Type": "application/json"})
    assert status == 413, body
    # The largest valid ticket fits: 10,000 characters, each sent as an escaped surrogate pair.
    raw = ('{"subject":"' + "\\ud83d\\ude00" * 200 + '","description":"'
           + "\\ud83d\\ude00" * 10000 + '","requesterEmail":"big@example.com"}').encode()
    assert len(raw) > 120000
    status, _, body = system.request("POST", "/api/tickets", token=agent_token, raw=raw,
                                     headers={"Content-Type": "application/json"})
    assert status == 201, body
    assert body["description"] == "\U0001F600" * 10000


def test_anonymous_requests_in_flight_are_bounded_per_address(system):
    """EDGE_ANON_PER_ADDRESS (16): one address holding sixteen unfinished logins gets 429 for
    the seventeenth; another address is not affected; the slots come back when they go."""
    held = []
    try:
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
            s.sendall(_head("/api/auth/login", 1000) + b'{"email":')
            held.append(s)
        assert wait_metric(system, "edge_anonymous_inflight_addresses", lambda v: v >= 1) == 1
        s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
        try:
            # Refused from its headers; its (small) body is read and dropped, then the answer.
            s.sendall(_head("/api/auth/login", 1000) + b" " * 1000)
            head, body = read_raw_response(s)
        finally:
            s.close()
        assert _status(head) == 429, head[:200]
        assert b"retry-after: 1" in head
        assert error_of(json.loads(body))["code"] == "too_many_connections"
        status, took = _timed_login(system, source="127.0.0.2")
        assert status == 200 and took < 1.0, (status, took)
    finally:
        for s in held:
            s.close()
    assert wait_metric(system, "edge_anonymous_inflight_addresses", lambda v: v == 0) == 0
    status, _ = _timed_login(system)
    assert status == 200


def test_a_body_trickled_past_its_deadline_is_cut_off(system, agent_token):
    """EDGE_BODY_TIMEOUT_S (8 s in the suite) counts from the headers, whatever the pace: a
    client sending a byte every half second is disconnected at the deadline."""
    before = metric(system, "edge_body_timeouts_total")
    s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
    t0 = time.time()
    closed_at = None
    try:
        s.sendall(_head("/api/tickets", 100000, token=agent_token) + b'{"subject":"')
        while time.time() - t0 < 20:
            try:
                s.sendall(b"a")
                s.settimeout(0.5)
                if s.recv(1) == b"":
                    closed_at = time.time() - t0
                    break
            except socket.timeout:
                continue
            except OSError:
                closed_at = time.time() - t0
                break
    finally:
        s.close()
    assert closed_at is not None, "still open after 20 s"
    assert 7.0 <= closed_at <= 12.0, closed_at
    assert metric(system, "edge_body_timeouts_total") == before + 1


def test_headers_trickled_past_their_deadline_are_cut_off(system):
    """Slowloris: connections that send a header line now and then, never finishing their
    headers, are closed at EDGE_HEADER_TIMEOUT_S (5 s in the suite), and a login meanwhile
    is answered at once."""
    before = metric(system, "edge_header_timeouts_total")
    socks = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", system.port), timeout=5,
                                     source_address=("127.0.0.5", 0))
        s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    t0 = time.time()
    closed = {}
    try:
        status, took = _timed_login(system)
        assert status == 200 and took < 1.0, (status, took)
        while len(closed) < len(socks) and time.time() - t0 < 15:
            for i, s in enumerate(socks):
                if i in closed:
                    continue
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                    s.settimeout(0.05)
                    if s.recv(1) == b"":
                        closed[i] = time.time() - t0
                except socket.timeout:
                    pass
                except OSError:
                    closed[i] = time.time() - t0
            time.sleep(0.5)
    finally:
        for s in socks:
            s.close()
    assert len(closed) == len(socks), f"{len(socks) - len(closed)} still open after 15 s"
    assert 4.0 <= min(closed.values()) and max(closed.values()) <= 10.0, sorted(closed.values())
    assert metric(system, "edge_header_timeouts_total") >= before + len(socks)


def test_connections_per_address_are_bounded(system):
    """EDGE_CONNECTIONS_PER_ADDRESS (100 in the suite): one address cannot hold every
    connection the edge has; another address is still served."""
    held = []
    try:
        for _ in range(100):
            held.append(socket.create_connection(("127.0.0.1", system.port), timeout=5,
                                                 source_address=("127.0.0.6", 0)))
        time.sleep(0.3)                 # the edge has accepted them all
        extra = socket.create_connection(("127.0.0.1", system.port), timeout=5,
                                         source_address=("127.0.0.6", 0))
        try:
            extra.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            extra.settimeout(5)
            try:
                got = extra.recv(100)
            except (ConnectionResetError, socket.timeout):
                got = b""
            assert got == b"", got      # closed without an answer: the limit
        finally:
            extra.close()
        status, took = _timed_login(system, source="127.0.0.7")
        assert status == 200 and took < 1.0, (status, took)
    finally:
        for s in held:
            s.close()


def test_one_user_cannot_hold_more_than_a_few_bodies_at_once(system, agent_token, admin_token):
    """EDGE_UPLOADS_PER_USER (8): an agent trickling ticket bodies holds eight; the ninth is
    429 from its headers; other users are not affected, and the slots come back."""
    held = []
    try:
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
            s.sendall(_head("/api/tickets", 1000, token=agent_token) + b'{"subject":')
            held.append(s)
        assert wait_metric(system, "edge_uploading_users", lambda v: v >= 1) == 1
        s = socket.create_connection(("127.0.0.1", system.port), timeout=5)
        try:
            s.sendall(_head("/api/tickets", 1000, token=agent_token) + b" " * 1000)
            head, body = read_raw_response(s)
        finally:
            s.close()
        assert _status(head) == 429, head[:200]
        assert error_of(json.loads(body))["code"] == "too_many_uploads"
        status, _, answer = system.request("POST", "/api/tickets", token=admin_token,
                                           body={"subject": "Not blocked", "requesterEmail": "a@b.co"})
        assert status == 201, answer
    finally:
        for s in held:
            s.close()
    assert wait_metric(system, "edge_uploading_users", lambda v: v == 0) == 0
    status, _, answer = system.request("POST", "/api/tickets", token=agent_token,
                                       body={"subject": "Slots back", "requesterEmail": "a@b.co"})
    assert status == 201, answer


@pytest.mark.parametrize("rid", [b"a" * 65, b"a b", b"\x00\xff", b""])
def test_a_request_with_a_bad_rid_is_answered_400_and_takes_no_worker_out(system, rid):
    """Found from outside: such a request reached a worker, which could not answer without a
    rid, and the broker gave that worker nothing more; two of them froze the API. The
    broker now answers it itself, and workers answer one anyway (rid "-")."""
    import zmq
    s = system.zmq_socket(zmq.DEALER, role="tool", connect=system.broker_endpoint)
    try:
        for _ in range(4):          # more than there are workers
            s.send_multipart([b"", b"MDPC01", b"sys.health", rid, b"", b"{}"])
        for _ in range(4):
            assert s.poll(5000), "no answer to a request with a bad rid within 5 s"
            frames = s.recv_multipart()
            assert frames[:5] == [b"", b"MDPC01", b"sys.health", b"-", b"400"], frames
            assert json.loads(frames[5])["error"]["code"] == "bad_request", frames
    finally:
        s.close()
    # Every worker still serves: a burst of reads, more than there are workers, succeeds.
    deadline = time.monotonic() + 10
    for _ in range(6):
        status, _, body = system.request("GET", "/api/health")
        assert status == 200, (status, body)
        assert time.monotonic() < deadline, "health reads took more than 10 s"


@pytest.mark.parametrize("coding", ["gzip, chunked", "chunked, chunked", "identity", "chunked ",
                                    "chunked\r\nTransfer-Encoding: gzip"])
def test_a_transfer_coding_other_than_chunked_is_answered_501_at_once(system, admin_token, coding):
    """libmicrohttpd decodes chunked alone: under another coding it would read the body
    until the client closed while the client waited for the answer. RFC 9112 6.1: 501,
    the contract's JSON, and the connection closed, without waiting for the body."""
    import socket
    from conftest import read_raw_response
    head_bytes = (f"POST /api/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_token}\r\n"
                  f"Content-Type: application/json\r\nTransfer-Encoding: {coding}\r\n\r\n").encode()
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", system.port), timeout=10) as s:
        s.sendall(head_bytes)               # the body never comes
        head, body = read_raw_response(s)
    assert time.monotonic() - t0 < 5, f"answered after {time.monotonic() - t0:.1f} s"
    assert head.startswith(b"http/1.1 501"), head
    assert json.loads(body)["error"]["code"] == "not_implemented", body
    assert b"connection: close" in head, head


@pytest.mark.parametrize("framing", ["two-lengths", "length-and-chunked", "spaced-length"])
def test_ambiguous_body_framing_is_refused_and_the_connection_closed(system, admin_token, framing):
    """Two Content-Lengths, Content-Length beside Transfer-Encoding, or "Content-Length :"
    (which libmicrohttpd takes for another header) are smuggling primitives: a proxy in front
    may frame the body by the other reading. Refused 400, and the bytes behind it are never
    read as a request of their own (RFC 9112 5.1, 6.1, 6.3)."""
    import socket
    from conftest import read_raw_response
    inner = (f"GET /api/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_token}\r\n"
             f"X-Request-Id: SMUGGLED\r\n\r\n").encode()
    if framing == "two-lengths":
        framing_headers = f"Content-Length: 0\r\nContent-Length: {len(inner)}\r\n\r\n".encode()
        body = inner
    elif framing == "spaced-length":
        framing_headers = f"Content-Length : {len(inner)}\r\n\r\n".encode()
        body = inner
    else:
        framing_headers = b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        body = b"2\r\n{}\r\n0\r\n\r\n" + inner
    outer = (f"POST /api/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_token}\r\n"
             f"Content-Type: application/json\r\n").encode() + framing_headers + body
    with socket.create_connection(("127.0.0.1", system.port), timeout=10) as s:
        s.sendall(outer)
        head, body = read_raw_response(s)
        rest = b""
        s.settimeout(5)
        try:
            while chunk := s.recv(65536):
                rest += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    assert head.startswith(b"http/1.1 400"), head
    assert json.loads(body)["error"]["code"] == "bad_request", body
    assert b"connection: close" in head, head
    assert b"smuggled" not in rest.lower() and b"HTTP/1.1" not in rest, rest[:300]


@pytest.mark.parametrize("case", ["http11-no-host", "two-hosts", "http10-no-host",
                                  "two-authorizations"])
def test_a_request_needs_exactly_one_host_and_at_most_one_authorization(system, case):
    """RFC 9112 3.2: an HTTP/1.1 request without Host, or any request with several, is
    answered 400 with the contract's JSON and the connection closed, on the API port and the
    UI's alike; HTTP/1.0 has no Host to require. Several Authorization headers likewise:
    which user acts must not depend on which one a proxy in front checked."""
    import socket
    from conftest import read_raw_response
    head_lines = {"http11-no-host": "GET /api/health HTTP/1.1\r\n",
                  "two-hosts": "GET /api/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n",
                  "two-authorizations": "GET /api/health HTTP/1.1\r\nHost: a\r\n"
                                        "Authorization: Bearer x\r\nAuthorization: Bearer y\r\n",
                  "http10-no-host": "GET /api/health HTTP/1.0\r\n"}[case]
    for port in (system.port, system.web_port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall((head_lines + "Connection: close\r\n\r\n").encode())
            head, body = read_raw_response(s)
        if case == "http10-no-host":
            assert head.split()[1] in (b"200", b"404"), (port, head)
            continue
        assert head.split()[1] == b"400", (port, head)
        assert json.loads(body)["error"]["code"] == "bad_request", (port, body)
        assert b"connection: close" in head, (port, head)


def test_two_authorizations_act_as_neither_user(system, admin_token, agent_token):
    """An agent's request carrying an admin's token beside its own is refused whichever
    comes first, not answered as the first's user."""
    import socket
    from conftest import read_raw_response
    for first, second in ((agent_token, admin_token), (admin_token, agent_token)):
        with socket.create_connection(("127.0.0.1", system.port), timeout=10) as s:
            s.sendall((f"GET /api/auth/me HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {first}\r\n"
                       f"Authorization: Bearer {second}\r\nConnection: close\r\n\r\n").encode())
            head, body = read_raw_response(s)
        assert head.split()[1] == b"400", head
        assert json.loads(body)["error"]["code"] == "bad_request", body

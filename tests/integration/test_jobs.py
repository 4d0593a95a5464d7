"""Bulk-delete jobs over real HTTP: creation, progress to completion, item results, cancel,
idempotency, scoping, bounds, and crashes of workers, the broker and PostgreSQL mid-job."""
import base64
import json
import signal
import socket
import threading
import time
import uuid

import pytest
import zmq

from conftest import error_of, metric, read_raw_response, wait_metric

JOB_FIELDS = {"id", "type", "status", "progress", "total", "processed", "succeeded", "failed",
              "createdBy", "createdAt", "startedAt", "finishedAt", "error", "seq",
              "filter", "set", "sourceJobId", "expectedTotal"}
TERMINAL = {"completed", "failed", "canceled"}


def make_tickets(system, n, tag):
    """n live tickets, created set-based in SQL (the API is tested elsewhere)."""
    system.psql(f"""INSERT INTO tickets (subject, requester_email)
                    SELECT '{tag} ' || g, 'bulk@example.com' FROM generate_series(1, {n}) g""")
    ids = system.psql(f"SELECT id FROM tickets WHERE subject LIKE '{tag} %' ORDER BY subject")
    return ids.split()


def create_job(system, token, ids, key=None, expect=202):
    headers = {"Idempotency-Key": key} if key else {}
    status, h, body = system.request("POST", "/api/jobs",
                                     {"type": "bulk-delete", "payload": {"ticketIds": ids}},
                                     token=token, headers=headers)
    assert status == expect, f"create job: expected {expect}, got {status} {str(body)[:300]}"
    return body, h


def wait_terminal(system, token, job_id, timeout=60):
    deadline = time.time() + timeout
    job = None
    while time.time() < deadline:
        status, _, job = system.request("GET", f"/api/jobs/{job_id}?itemsLimit=1", token=token)
        # 503 is the honest answer while PostgreSQL restarts; anything else is a bug.
        assert status in (200, 503), job
        if status == 200 and job["status"] in TERMINAL:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not finished after {timeout} s: {job}\n{system.log_tail()}")


def assert_exact(system, job_id):
    """Counters equal the recorded outcomes; every succeeded ticket is deleted."""
    row = system.psql(f"""
        SELECT j.processed, j.succeeded, j.failed,
               coalesce(sum(c.succeeded) FILTER (WHERE c.status = 'done'), 0),
               coalesce(sum(c.failed) FILTER (WHERE c.status = 'done'), 0),
               count(*) FILTER (WHERE c.status = 'done')
        FROM jobs j JOIN job_chunks c ON c.job_id = j.id WHERE j.id = '{job_id}'
        GROUP BY j.id""")
    processed, ok, bad, sum_ok, sum_bad, done = map(int, row.split("|"))
    assert processed == ok + bad
    assert (ok, bad) == (sum_ok, sum_bad), f"counters {ok}/{bad} != outcomes {sum_ok}/{sum_bad}"
    alive = system.psql(f"""
        SELECT count(*) FROM job_chunks c, unnest(c.ticket_ids, c.outcomes) u(id, o)
        JOIN tickets t ON t.id = u.id
        WHERE c.job_id = '{job_id}' AND u.o = 'succeeded' AND t.deleted_at IS NULL""")
    assert alive == "0", f"{alive} tickets marked succeeded are not deleted"


def test_agents_cannot_create_jobs(system, agent_token):
    status, _, body = system.request("POST", "/api/jobs",
                                     {"type": "bulk-delete", "payload": {"ticketIds": []}},
                                     token=agent_token)
    assert status == 403, body


@pytest.mark.parametrize("body,field", [
    ({"type": "bulk-archive", "payload": {"ticketIds": [str(uuid.uuid4())]}}, "type"),
    ({"type": "bulk-delete", "payload": {"ticketIds": []}}, "payload.ticketIds"),
    ({"type": "bulk-delete", "payload": {"ticketIds": ["nope"]}}, "payload.ticketIds[0]"),
    ({"type": "bulk-delete", "payload": {"ticketIds": "x"}}, "payload.ticketIds"),
    ({"type": "bulk-delete"}, "payload"),
    ({"type": "bulk-delete", "payload": {"ticketIds": [str(uuid.uuid4())]}, "x": 1}, "x"),
])
def test_create_rejects_bad_bodies_with_422(system, admin_token, body, field):
    status, _, resp = system.request("POST", "/api/jobs", body, token=admin_token)
    assert status == 422, resp
    assert field in {d["field"] for d in error_of(resp)["details"]}, resp


@pytest.mark.parametrize("raw,status,code", [
    # The job body is read as it streams in (http-edge/jobbody.c): broken JSON anywhere,
    # inside the id array too, is a 400 naming the byte, never a 422 or a hang.
    (b'{"type":"bulk-delete","payload":{"ticketIds":["00000000-0000-4000-8000-000000000001" 1]}}',
     400, "invalid_json"),
    (b'{"type":"bulk-delete","payload":{"ticketIds":["00000000-0000-4000-8000-000000000001",]}}',
     400, "invalid_json"),
    (b'{"type":"bulk-delete","payload":{"ticketIds":["00000000-0000-4000-8000-00000000', 400,
     "invalid_json"),
    (b'{"type":"bulk-delete","payload":{"ticketIds":[]},"payload":{"ticketIds":[]}}', 400,
     "invalid_json"),
    (b'["00000000-0000-4000-8000-000000000001"]', 422, "validation_failed"),
    (b'', 400, "bad_request"),
])
def test_broken_job_bodies_get_the_contract_error(system, admin_token, raw, status, code):
    got, _, body = system.request("POST", "/api/jobs", raw=raw, token=admin_token,
                                  headers={"Content-Type": "application/json"})
    assert (got, error_of(body)["code"]) == (status, code), body


def test_a_job_body_that_is_not_json_typed_is_415(system, admin_token):
    raw = json.dumps({"type": "bulk-delete", "payload": {"ticketIds": [str(uuid.uuid4())]}})
    status, _, body = system.request("POST", "/api/jobs", raw=raw.encode(), token=admin_token,
                                     headers={"Content-Type": "text/plain"})
    assert status == 415 and error_of(body)["code"] == "unsupported_media_type", body


def test_bad_ids_are_named_by_index_then_summarised(system, admin_token):
    ids = [str(uuid.uuid4()) for _ in range(100)]
    for i in range(30, 55):
        ids[i] = 7 if i % 2 else f"not-a-uuid-{i}"
    ids.append(str(uuid.uuid4()).upper())           # case does not matter
    status, _, body = system.request("POST", "/api/jobs",
                                     {"type": "bulk-delete", "payload": {"ticketIds": ids}},
                                     token=admin_token)
    assert status == 422, body
    fields = [d["field"] for d in error_of(body)["details"]]
    assert fields[:20] == [f"payload.ticketIds[{i}]" for i in range(30, 50)]
    assert fields[20:] == ["payload.ticketIds"]
    assert "25 ids are not UUIDs" in error_of(body)["details"][20]["message"]


def test_large_job_bodies_read_at_once_are_bounded_and_the_next_gets_503(system, admin_token):
    # EDGE_MAX_JOB_UPLOADS (4): a job body larger than MAX_BODY_BYTES grows to 16 bytes an id
    # while it is read, so the edge reads four such at once; a fifth is refused with 503 and
    # Retry-After before its body is read. Ordinary-sized job bodies are not held back.
    head = (f"POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n").encode()
    slow = []
    try:
        assert metric(system, "edge_job_uploads_max") == 4
        for _ in range(4):
            s = socket.create_connection(("127.0.0.1", system.port), timeout=10)
            s.sendall(head + b'{"type":"bulk-delete","payload":{"ticketIds":[')
            slow.append(s)
        # The four hold their slots before the fifth comes.
        assert wait_metric(system, "edge_job_uploads", lambda v: v >= 4) == 4
        fifth = socket.create_connection(("127.0.0.1", system.port), timeout=10)
        fifth.sendall(head)
        answer, _ = read_raw_response(fifth)
        fifth.close()
        status_line, _, rest = answer.partition(b"\r\n")
        assert b" 503 " in status_line, answer[:300]
        assert b"retry-after: 1" in rest
        job, _ = create_job(system, admin_token, [str(uuid.uuid4())])
        wait_terminal(system, admin_token, job["id"])
    finally:
        for s in slow:
            s.close()


def mdp_call(system, service, payload, blob=None):
    """One request straight to the broker, as a ZeroMQ client with an admin's auth frame
    (proto/README.md). Only the edge may send one, so the client holds the edge's key.
    Returns (status, JSON reply)."""
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    s = system.zmq_socket(zmq.REQ, role="edge")
    s.rcvtimeo = 10000
    s.connect(system.broker_endpoint)
    try:
        frames = [b"MDPC01", service.encode(), b"mdp-test-1", f"{admin} admin".encode(),
                  json.dumps(payload).encode()]
        s.send_multipart(frames + ([blob] if blob is not None else []))
        reply = s.recv_multipart()
    finally:
        s.close()
    assert reply[0] == b"MDPC01" and reply[2] == b"mdp-test-1", reply[:3]
    return int(reply[3]), json.loads(reply[4]) if reply[4] else None


def test_a_zeromq_client_creates_a_job_with_ids_as_json(system, admin_token):
    # The edge sends ids as a blob; a client without one may send them as JSON.
    ids = make_tickets(system, 30, "bulkZ")
    status, job = mdp_call(system, "jobs.create", {"id": str(uuid.uuid4()), "type": "bulk-delete",
                                                   "ticketIds": ids + [ids[0].upper()],
                                                   "idempotencyKey": None})
    assert status == 202 and job["total"] == 31, job
    done = wait_terminal(system, admin_token, job["id"])
    assert (done["succeeded"], done["failed"]) == (30, 1)
    assert_exact(system, job["id"])


def test_the_blob_must_match_its_count_and_only_jobs_create_takes_one(system):
    ids = b"".join(uuid.uuid4().bytes for _ in range(3))
    status, body = mdp_call(system, "jobs.create", {"id": str(uuid.uuid4()), "type": "bulk-delete",
                                                    "count": 4, "idempotencyKey": None}, ids)
    assert status == 422 and "count" in {d["field"] for d in error_of(body)["details"]}, body
    status, body = mdp_call(system, "tickets.get", {"id": str(uuid.uuid4())}, ids)
    assert status == 400 and error_of(body)["code"] == "bad_request", body


def test_bulk_delete_runs_to_completion_with_exact_items(system, admin_token):
    ids = make_tickets(system, 500, "bulkA")
    missing = str(uuid.uuid4())
    already = ids[0]
    system.request("DELETE", f"/api/tickets/{already}", token=admin_token)
    payload = ids + [missing, ids[5]]
    job, headers = create_job(system, admin_token, payload)
    assert set(job) == JOB_FIELDS
    assert job["status"] == "queued" and job["processed"] == 0 and job["total"] == 502
    assert headers["location"] == f"/api/jobs/{job['id']}"
    done = wait_terminal(system, admin_token, job["id"])
    assert done["status"] == "completed", done
    assert done["processed"] == 502 and done["progress"] == 100
    assert done["succeeded"] == 499 and done["failed"] == 3
    assert done["startedAt"] and done["finishedAt"]
    assert job["seq"] == 1 and done["seq"] == 2, (job["seq"], done["seq"])     # created, one chunk
    assert_exact(system, job["id"])
    status, _, failed = system.request("GET", f"/api/jobs/{job['id']}?itemStatus=failed",
                                       token=admin_token)
    assert status == 200
    assert failed["itemsTotal"] == 3
    codes = {i["ticketId"]: i["error"]["code"] for i in failed["items"]}
    assert codes == {already: "already_deleted", missing: "not_found", ids[5]: "duplicate"}
    assert system.psql(f"SELECT count(*) FROM tickets WHERE id = '{ids[7]}' AND deleted_at IS NOT NULL") == "1"


def test_a_job_bigger_than_one_create_batch_is_created_whole_in_order(system, admin_token):
    # The worker creates a job in batches of 65,536 ids (one transaction); this one needs
    # two, with a duplicate, an unknown id and mixed case in the second batch.
    ids = make_tickets(system, 70000, "bulkB")
    missing = str(uuid.uuid4())
    payload = ids[:69000] + [ids[10].upper(), missing] + ids[69000:]
    job, _ = create_job(system, admin_token, payload)
    assert job["total"] == 70002
    assert system.psql(f"SELECT chunks_total, (SELECT count(*) FROM job_chunks WHERE job_id = "
                       f"'{job['id']}') FROM jobs WHERE id = '{job['id']}'") == "71|71"
    done = wait_terminal(system, admin_token, job["id"], timeout=120)
    assert done["status"] == "completed", done
    assert (done["succeeded"], done["failed"]) == (70000, 2)
    assert_exact(system, job["id"])
    status, _, page = system.request(
        "GET", f"/api/jobs/{job['id']}?itemsPage=69&itemsLimit=1000", token=admin_token)
    assert status == 200
    got = [i["ticketId"] for i in page["items"]]
    assert got == ids[68000:69000]
    status, _, page = system.request(
        "GET", f"/api/jobs/{job['id']}?itemsPage=70&itemsLimit=1000", token=admin_token)
    assert [i["ticketId"] for i in page["items"][:3]] == [ids[10], missing, ids[69000]]
    assert [i["error"] and i["error"]["code"] for i in page["items"][:3]] == \
        ["duplicate", "not_found", None]


def test_a_create_whose_connection_dies_between_batches_leaves_no_job_and_can_be_retried(
        system, admin_token):
    # 200,000 ids are four create batches in one transaction. A session in PostgreSQL waits
    # for the worker's backend to run a later batch (job_add_chunks) and terminates it: the
    # transaction dies with the connection, so no part of the job may remain, the answer is
    # 503 (retryable), and the same request with the same Idempotency-Key then creates it.
    ids = [str(uuid.uuid4()) for _ in range(200000)]
    key = f"conn-lost-{uuid.uuid4()}"
    jobs_before = system.psql("SELECT count(*) FROM jobs")
    killer_sql = """DO $$ DECLARE p int; BEGIN
      FOR i IN 1..10000 LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT pid INTO p FROM pg_stat_activity
         WHERE query LIKE '%job_add_chunks%' AND state = 'active' AND pid <> pg_backend_pid();
        IF p IS NOT NULL THEN PERFORM pg_terminate_backend(p); RETURN; END IF;
        PERFORM pg_sleep(0.002);
      END LOOP;
      RAISE EXCEPTION 'no create batch seen';
    END $$"""
    killed = {}
    killer = threading.Thread(target=lambda: killed.update(out=system.psql(killer_sql)))
    killer.start()
    time.sleep(0.3)                     # the killer's session is up before the create starts
    status, _, body = system.request("POST", "/api/jobs",
                                     {"type": "bulk-delete", "payload": {"ticketIds": ids}},
                                     token=admin_token, headers={"Idempotency-Key": key},
                                     timeout=60)
    killer.join(30)
    assert "out" in killed, "the create's second batch was never seen running"
    assert status == 503, (status, str(body)[:300])
    error_of(body)
    assert system.psql("SELECT count(*) FROM jobs") == jobs_before
    assert system.psql("SELECT count(*) FROM jobs WHERE idempotency_key = "
                       f"'{key}'") == "0"
    job, _ = create_job(system, admin_token, ids, key=key)
    assert job["total"] == 200000
    done = wait_terminal(system, admin_token, job["id"], timeout=180)
    assert done["status"] == "completed", done
    assert (done["succeeded"], done["failed"]) == (0, 200000)
    assert_exact(system, job["id"])


def test_items_are_paged_and_bounded(system, admin_token):
    ids = make_tickets(system, 30, "bulkP")
    job, _ = create_job(system, admin_token, ids)
    wait_terminal(system, admin_token, job["id"])
    status, _, page = system.request("GET", f"/api/jobs/{job['id']}?itemsPage=2&itemsLimit=10",
                                     token=admin_token)
    assert status == 200
    assert [i["ticketId"] for i in page["items"]] == ids[10:20]
    assert page["itemsTotal"] == 30
    assert all(i["status"] == "succeeded" and i["error"] is None for i in page["items"])
    status, _, body = system.request("GET", f"/api/jobs/{job['id']}?itemsLimit=1001",
                                     token=admin_token)
    assert status == 422 and "itemsLimit" in {d["field"] for d in error_of(body)["details"]}


def test_list_jobs_newest_first_with_filters(system, admin_token):
    status, _, page = system.request("GET", "/api/jobs?type=bulk-delete&status=completed&limit=5",
                                     token=admin_token)
    assert status == 200, page
    assert set(page) == {"data", "page", "limit", "total", "totalPages"}
    assert page["data"] and all(j["status"] == "completed" for j in page["data"])
    created = [j["createdAt"] for j in page["data"]]
    assert created == sorted(created, reverse=True)


def test_agents_see_only_their_own_jobs(system, admin_token, agent_token):
    ids = make_tickets(system, 3, "bulkS")
    job, _ = create_job(system, admin_token, ids)
    status, _, body = system.request("GET", f"/api/jobs/{job['id']}", token=agent_token)
    assert status == 404, body
    # Other tests of the session may have made jobs of the agent's own (in SQL): the list
    # holds exactly those, never the admin's.
    claims = agent_token.split(".")[1]
    agent_id = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"]
    own = int(system.psql(f"SELECT count(*) FROM jobs WHERE created_by = '{agent_id}'"))
    status, _, page = system.request("GET", "/api/jobs?limit=100", token=agent_token)
    assert status == 200 and page["total"] == own, page
    assert all(j["createdBy"] == agent_id for j in page["data"]), page["data"]
    assert job["id"] not in {j["id"] for j in page["data"]}
    status, _, body = system.request("POST", f"/api/jobs/{job['id']}/cancel", token=agent_token)
    assert status in (403, 404), body


def test_idempotency_key_replays_and_rejects_a_different_body(system, admin_token):
    ids = make_tickets(system, 5, "bulkI")
    key = f"key-{uuid.uuid4()}"
    first, _ = create_job(system, admin_token, ids, key=key)
    again, headers = create_job(system, admin_token, ids, key=key, expect=200)
    assert again["id"] == first["id"]
    assert headers.get("idempotent-replayed") == "true"
    status, _, body = system.request("POST", "/api/jobs",
                                     {"type": "bulk-delete", "payload": {"ticketIds": ids[:2]}},
                                     token=admin_token, headers={"Idempotency-Key": key})
    assert status == 422 and error_of(body)["code"] == "idempotency_key_reused", body


def test_twenty_concurrent_requests_with_one_key_create_one_job(system, admin_token):
    ids = make_tickets(system, 50, "bulkC")
    key = f"key-{uuid.uuid4()}"
    results = []

    def post():
        status, _, body = system.request("POST", "/api/jobs",
                                         {"type": "bulk-delete", "payload": {"ticketIds": ids}},
                                         token=admin_token, headers={"Idempotency-Key": key})
        results.append((status, body.get("id") if isinstance(body, dict) else None))

    threads = [threading.Thread(target=post) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    statuses = sorted(s for s, _ in results)
    assert statuses.count(202) == 1 and statuses.count(200) == 19, statuses
    assert len({i for _, i in results}) == 1
    assert system.psql(f"SELECT count(*) FROM jobs WHERE idempotency_key = '{key}'") == "1"


def test_cancel_stops_the_job_and_untouched_items_become_canceled(system, admin_token):
    ids = make_tickets(system, 60000, "bulkX")
    job, _ = create_job(system, admin_token, ids)
    # Cancel once the job is really under way (some items done, most not).
    deadline = time.time() + 20
    while time.time() < deadline:
        _, _, now = system.request("GET", f"/api/jobs/{job['id']}?itemsLimit=1", token=admin_token)
        if now["processed"] > 0:
            break
        time.sleep(0.02)
    assert 0 < now["processed"] < 60000, f"could not catch the job mid-way: {now}"
    status, _, canceled = system.request("POST", f"/api/jobs/{job['id']}/cancel", token=admin_token)
    assert status == 200, canceled
    assert canceled["status"] == "canceled" and canceled["finishedAt"]
    processed = canceled["processed"]
    time.sleep(1.0)
    _, _, later = system.request("GET", f"/api/jobs/{job['id']}?itemStatus=canceled&itemsLimit=5",
                                 token=admin_token)
    assert later["processed"] == processed, "nothing is processed after the cancel's answer"
    assert later["itemsTotal"] == 60000 - processed
    deleted = int(system.psql("SELECT count(*) FROM tickets WHERE subject LIKE 'bulkX %' "
                              "AND deleted_at IS NOT NULL"))
    assert deleted == canceled["succeeded"], "tickets deleted == items succeeded at the cancel"
    assert_exact(system, job["id"])
    status, _, body = system.request("POST", f"/api/jobs/{job['id']}/cancel", token=admin_token)
    assert status == 409, body


def queued_job(system):
    """A queued job of no items, inserted directly: nothing runs it, so a cancel always finds
    it active. Canceled in SQL at the end whatever happens (MAX_ACTIVE_JOBS counts it)."""
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    job_id = str(uuid.uuid4())
    system.psql(f"INSERT INTO jobs (id, type, total, chunks_total, created_by) "
                f"VALUES ('{job_id}', 'bulk-delete', 0, 0, '{admin}')")
    return job_id, admin


def failed_job_of(system, ids):
    """A failed job, inserted directly, whose one chunk of ids its failure closed before any
    item ran: what a resume re-opens. Returns its id and its creator (the first admin)."""
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    job_id = str(uuid.uuid4())
    array = "ARRAY[" + ",".join(f"'{i}'" for i in ids) + "]::uuid[]"
    system.psql(f"""INSERT INTO jobs (id, type, status, total, chunks_total, created_by,
                                      finished_at, error)
                    VALUES ('{job_id}', 'bulk-delete', 'failed', {len(ids)}, 1, '{admin}', now(),
                            '{{"code":"chunk_failed","message":"chunk 0 failed"}}');
                    INSERT INTO job_chunks (job_id, seq, first_item, ticket_ids, outcomes, status)
                    VALUES ('{job_id}', 0, 0, {array}, array_fill(NULL::text, ARRAY[{len(ids)}]),
                            'canceled')""")
    return job_id, admin


def end_job(system, job_id):
    system.psql(f"UPDATE jobs SET status = 'canceled', finished_at = now() "
                f"WHERE id = '{job_id}' AND finished_at IS NULL")


def test_a_cancel_re_delivered_with_its_rid_answers_as_the_first_time(system):
    """The broker hands a request whose worker died (after COMMIT, before replying) to
    another worker with the same rid: the retry must answer what the first run did (200 and
    the same job), not 409. Any other cancel of the canceled job is still 409."""
    job_id, admin = queued_job(system)
    other_id, _ = queued_job(system)
    rid = f"redeliver-{uuid.uuid4().hex[:12]}"
    try:
        first = system.mdp_request("jobs.cancel", {"id": job_id}, rid, admin, "admin")
        assert first[0] == 200 and first[1]["status"] == "canceled", first
        again = system.mdp_request("jobs.cancel", {"id": job_id}, rid, admin, "admin")
        assert again == first, f"expected the first answer {first}, got {again}"
        # The same request, key order aside, is the same request.
        again = system.mdp_request("jobs.cancel", '{ "id" : "%s" }' % job_id, rid, admin, "admin")
        assert again == first, f"expected the first answer {first}, got {again}"
        status, body = system.mdp_request("jobs.cancel", {"id": job_id},
                                          f"other-{uuid.uuid4().hex[:12]}", admin, "admin")
        assert status == 409 and error_of(body)["code"] == "job_finished", (status, body)
        # A rid reused for another job's cancel is not that request: its own answer.
        end_job(system, other_id)
        status, body = system.mdp_request("jobs.cancel", {"id": other_id}, rid, admin, "admin")
        assert status == 409 and error_of(body)["code"] == "job_finished", (status, body)
        # Recorded once, for this user and service.
        row = system.psql(f"SELECT service, user_id, status FROM request_results WHERE rid = '{rid}'")
        assert row == f"jobs.cancel|{admin}|200", row
    finally:
        end_job(system, job_id)
        end_job(system, other_id)


def test_an_old_request_result_is_swept_after_a_day(system):
    rid = f"old-{uuid.uuid4().hex[:12]}"
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    system.psql(f"INSERT INTO request_results (rid, service, user_id, request_hash, status, body,"
                f" created_at) VALUES ('{rid}', 'jobs.cancel', '{admin}', 'x', 200, '{{}}',"
                f" now() - interval '25 hours')")
    # A worker sweeps at its first idle second, then once a minute: new ones sweep now.
    system.kill("worker-1", signal.SIGTERM)
    system.kill("worker-2", signal.SIGTERM)
    system.manage("up")
    deadline = time.time() + 15
    while time.time() < deadline:
        if system.psql(f"SELECT count(*) FROM request_results WHERE rid = '{rid}'") == "0":
            return
        time.sleep(0.2)
    raise AssertionError(f"expected the 25-hour-old result {rid} swept, it is still there\n"
                         f"{system.log_tail()}")


def test_a_worker_killed_mid_job_loses_and_doubles_nothing(system, admin_token):
    ids = make_tickets(system, 30000, "bulkK")
    job, _ = create_job(system, admin_token, ids)
    time.sleep(0.5)
    system.kill("worker-1", signal.SIGKILL)
    try:
        done = wait_terminal(system, admin_token, job["id"], timeout=120)
    finally:
        system.manage("up")
    assert done["status"] == "completed", done
    assert done["succeeded"] == 30000 and done["failed"] == 0
    assert_exact(system, job["id"])


def test_the_broker_killed_mid_job_and_restarted_still_completes(system, admin_token):
    ids = make_tickets(system, 30000, "bulkB")
    job, _ = create_job(system, admin_token, ids)
    time.sleep(0.5)
    system.kill("broker", signal.SIGKILL)
    time.sleep(1.0)
    system.manage("up")
    done = wait_terminal(system, admin_token, job["id"], timeout=120)
    assert done["status"] == "completed", done
    assert done["succeeded"] == 30000
    assert_exact(system, job["id"])


def test_postgres_restarted_mid_job_still_completes(system, admin_token):
    ids = make_tickets(system, 30000, "bulkD")
    job, _ = create_job(system, admin_token, ids)
    time.sleep(0.5)
    system.pg_ctl("-m", "immediate", "restart")
    done = wait_terminal(system, admin_token, job["id"], timeout=120)
    assert done["status"] == "completed", done
    assert done["succeeded"] == 30000
    assert_exact(system, job["id"])


def test_too_many_active_jobs_is_429_with_retry_after(system, admin_token):
    # MAX_ACTIVE_JOBS is 10 by default; hold the slots with queued jobs the workers cannot
    # reach by marking them queued in SQL, then ask for one more.
    user = system.psql("SELECT id FROM users WHERE email = 'admin@example.com'")
    fake = [str(uuid.uuid4()) for _ in range(10)]
    values = ",".join(f"('{j}', 'bulk-delete', 'queued', 0, 0, '{user}')" for j in fake)
    system.psql(f"INSERT INTO jobs (id, type, status, total, chunks_total, created_by) VALUES {values}")
    try:
        status, headers, body = system.request(
            "POST", "/api/jobs", {"type": "bulk-delete", "payload": {"ticketIds": [str(uuid.uuid4())]}},
            token=admin_token)
        assert status == 429, body
        assert int(headers["retry-after"]) >= 1
        error_of(body)
    finally:
        system.psql("DELETE FROM jobs WHERE id IN (" + ",".join(f"'{j}'" for j in fake) + ")")

"""Outages mid-job, with the workers on short chunk leases (CHUNK_LEASE_MS 1 s,
CHUNK_MAX_ATTEMPTS 3): the broker, every worker or PostgreSQL away for twice lease x attempts
fails no job, and the job completes with every item recorded once. Only a chunk that cannot
be applied fails its job (PostgreSQL rejects it, or its processing takes its worker's
connection down every time), and the job's error names the chunk. A failed job resumes
(POST /api/jobs/:id/resume, admin only): it completes, and every item has exactly one
outcome.
"""
import glob
import json
import os
import re
import signal
import time
import uuid

import pytest

from conftest import error_of
from test_chaos import assert_every_item_once, job_row, wait_running, wait_terminal_db
from test_jobs import assert_exact, create_job, failed_job_of, make_tickets

LEASE_MS = 1000
MAX_STARTS = 3
CHUNK = 500
OUTAGE_S = 2 * LEASE_MS * MAX_STARTS / 1000
SHORT = {"CHUNK_LEASE_MS": str(LEASE_MS), "CHUNK_MAX_ATTEMPTS": str(MAX_STARTS),
         "CHUNK_SIZE": str(CHUNK)}
ITEMS = 40000


def restart_workers(system):
    for name in ("worker-1", "worker-2"):
        if system.pid(name):
            system.kill(name, signal.SIGTERM)
    system.manage("up")


@pytest.fixture(scope="module")
def short(system):
    """The session's system with its workers restarted on short leases; put back after."""
    try:
        with system.overridden(**SHORT):
            restart_workers(system)
            yield system
    finally:
        restart_workers(system)


def worker_logs(system):
    return sorted(glob.glob(os.path.join(system.env["VAR_DIR"], "log", "worker-*.log")))


def log_sizes(system):
    return {p: os.path.getsize(p) for p in worker_logs(system)}


def resends_since(system, sizes, job_id):
    """Re-sends of each chunk of the job that the workers logged since sizes was taken."""
    count = {}
    for path in worker_logs(system):
        with open(path, errors="replace") as f:
            f.seek(sizes.get(path, 0))
            for line in f:
                m = re.search(r"event=chunk_resent job=%s seq=(\d+)" % job_id, line)
                if m:
                    count[int(m.group(1))] = count.get(int(m.group(1)), 0) + 1
    return count


def job_error(system, job_id):
    return json.loads(system.psql(f"SELECT coalesce(error::text, 'null') FROM jobs WHERE id = '{job_id}'"))


def through_outage(system, token, tag, stop, start, watch_db=True):
    """A job of ITEMS tickets, stop() once it is under way, OUTAGE_S later start(); the
    job must stay running meanwhile (read from PostgreSQL when it is up) and complete with
    every item recorded once. Returns the job id and the worker logs' sizes at the stop."""
    job_id = create_job(system, token, make_tickets(system, ITEMS, tag))[0]["id"]
    wait_running(system, job_id)
    sizes = log_sizes(system)
    stop()
    try:
        at_stop = job_row(system, job_id) if watch_db else None
        deadline = time.time() + OUTAGE_S
        while time.time() < deadline:
            if watch_db:
                row = job_row(system, job_id)
                assert row[0] == "running", \
                    f"the job ended during the outage: {row} {job_error(system, job_id)}"
            time.sleep(0.2)
    finally:
        start()
    if watch_db:
        assert at_stop[0] == "running" and at_stop[2] < ITEMS, f"not caught mid-job: {at_stop}"
    status, total, processed, ok, bad = wait_terminal_db(system, job_id, 60)
    assert status == "completed", f"expected completed, got {status} {job_error(system, job_id)}"
    assert (total, processed, ok, bad) == (ITEMS, ITEMS, ITEMS, 0)
    assert_every_item_once(system, job_id, ITEMS)
    assert_exact(system, job_id)
    return job_id, sizes


def test_the_broker_away_past_every_lease_and_attempt_fails_no_job(short, admin_token):
    job_id, sizes = through_outage(short, admin_token, "outB",
                                   lambda: short.kill("broker", signal.SIGKILL),
                                   lambda: short.manage("up"))
    # Re-sends wait while the broker is away, and back off: no chunk re-sent every lease.
    resent = resends_since(short, sizes, job_id)
    assert max(resent.values(), default=0) <= 2, f"chunks re-sent while the broker was away: {resent}"


def test_every_worker_away_past_every_lease_and_attempt_fails_no_job(short, admin_token):
    def stop():
        short.kill("worker-1", signal.SIGKILL)
        short.kill("worker-2", signal.SIGKILL)
    through_outage(short, admin_token, "outW", stop, lambda: short.manage("up"))


def test_postgres_away_past_every_lease_and_attempt_fails_no_job(short, admin_token):
    through_outage(short, admin_token, "outP", lambda: short.pg_ctl("-m", "immediate", "stop"),
                   lambda: short.manage("up"), watch_db=False)


# -- chunks that cannot be applied

def poison(system, name, ticket_id, body):
    """A trigger that runs body when the job's UPDATE reaches ticket_id."""
    system.psql(f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.id = '{ticket_id}' THEN {body} END IF; RETURN NEW; END $$;
                    CREATE TRIGGER {name} BEFORE UPDATE ON tickets FOR EACH ROW
                    EXECUTE FUNCTION {name}()""")


def unpoison(system, name):
    system.psql(f"DROP TRIGGER IF EXISTS {name} ON tickets; DROP FUNCTION IF EXISTS {name}()")


def failed_job(system, token, tag, body, items=6000, at=2700):
    """A job whose item `at` runs body in PostgreSQL; returns (job id, seq of that chunk,
    error) once the job has failed. The trigger is gone afterwards."""
    ids = make_tickets(system, items, tag)
    name = f"poison_{tag.lower()}"
    poison(system, name, ids[at], body)
    try:
        job_id = create_job(system, token, ids)[0]["id"]
        status = wait_terminal_db(system, job_id, 60)[0]
    finally:
        unpoison(system, name)
    error = job_error(system, job_id)
    assert status == "failed", f"expected the job failed, got {status} {error}"
    return job_id, at // CHUNK, error


def test_a_chunk_postgres_rejects_fails_its_job_naming_the_chunk(short, admin_token):
    job_id, seq, error = failed_job(short, admin_token, "PoisonR",
                                    "RAISE EXCEPTION 'this ticket cannot be deleted';")
    assert error["code"] == "chunk_failed", error
    assert re.match(rf"chunk {seq} was rejected by the database \d+ times", error["message"]), error
    assert "SQLSTATE" not in error["message"] and "postgres" not in error["message"].lower()
    chunk = short.psql(f"SELECT status, starts FROM job_chunks WHERE job_id = '{job_id}' AND seq = {seq}")
    assert chunk == "canceled|1", f"the poison chunk: expected canceled after one start, got {chunk}"


def test_a_chunk_whose_processing_kills_its_connection_fails_the_job_after_max_starts(
        short, admin_token):
    job_id, seq, error = failed_job(short, admin_token, "PoisonK",
                                    "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);")
    assert error["code"] == "chunk_failed", error
    assert error["message"].startswith(f"chunk {seq} was started {MAX_STARTS} times"), error
    starts = short.psql(f"SELECT starts FROM job_chunks WHERE job_id = '{job_id}' AND seq = {seq}")
    assert starts == str(MAX_STARTS), f"expected {MAX_STARTS} starts counted, got {starts}"


# -- resume

def resume(system, token, job_id):
    return system.request("POST", f"/api/jobs/{job_id}/resume", token=token)


def test_a_failed_job_resumes_and_completes_with_every_item_once(short, admin_token, agent_token):
    job_id, seq, _ = failed_job(short, admin_token, "ResumeA",
                                "RAISE EXCEPTION 'this ticket cannot be deleted';", items=20000)
    before = short.psql(f"SELECT processed FROM jobs WHERE id = '{job_id}'")
    status, _, body = resume(short, agent_token, job_id)
    assert status == 403 and error_of(body)["code"] == "forbidden", (status, body)
    status, _, job = resume(short, admin_token, job_id)
    assert status == 200, (status, job)
    assert job["status"] == "running" and job["error"] is None and job["finishedAt"] is None, job
    assert job["processed"] == int(before), "a resume keeps every recorded outcome"
    # A second resume, sent again by the client, changes nothing: the job is not failed.
    status, _, body = resume(short, admin_token, job_id)
    assert status == 409 and error_of(body)["code"] == "job_not_failed", (status, body)
    status, total, processed, ok, bad = wait_terminal_db(short, job_id, 60)
    assert status == "completed", (status, job_error(short, job_id))
    assert (total, processed, ok, bad) == (20000, 20000, 20000, 0)
    assert_every_item_once(short, job_id, 20000)
    assert_exact(short, job_id)
    status, _, body = resume(short, admin_token, job_id)
    assert status == 409 and error_of(body)["code"] == "job_not_failed", (status, body)
    assert "completed" in error_of(body)["message"], body


def test_resume_answers_404_for_unknown_jobs_and_409_for_running_ones(system, admin_token):
    status, _, body = resume(system, admin_token, str(uuid.uuid4()))
    assert status == 404 and error_of(body)["code"] == "not_found", (status, body)
    status, _, body = resume(system, admin_token, "not-a-uuid")
    assert status == 404 and error_of(body)["code"] == "not_found", (status, body)
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    job_id = str(uuid.uuid4())
    system.psql(f"INSERT INTO jobs (id, type, status, total, chunks_total, created_by) "
                f"VALUES ('{job_id}', 'bulk-delete', 'running', 0, 0, '{admin}')")
    try:
        status, _, body = resume(system, admin_token, job_id)
        assert status == 409 and error_of(body)["code"] == "job_not_failed", (status, body)
        assert "running" in error_of(body)["message"], body
    finally:
        system.psql(f"DELETE FROM jobs WHERE id = '{job_id}'")


def test_a_resume_re_delivered_with_its_rid_answers_as_the_first_time(system, admin_token):
    """A resume whose worker died past COMMIT reaches the next worker with the same rid: it
    answers the first run's 200 and re-opens nothing twice."""
    job_id, admin = failed_job_of(system, make_tickets(system, 10, "resumeR"))
    rid = f"resume-{uuid.uuid4().hex[:12]}"
    first = system.mdp_request("jobs.resume", {"id": job_id}, rid, admin, "admin")
    assert first[0] == 200 and first[1]["status"] == "running", first
    again = system.mdp_request("jobs.resume", {"id": job_id}, rid, admin, "admin")
    assert again == first, f"expected the first answer {first}, got {again}"
    status, body = system.mdp_request("jobs.resume", {"id": job_id}, f"other-{rid}", admin, "admin")
    assert status == 409 and error_of(body)["code"] == "job_not_failed", (status, body)
    done = wait_terminal_db(system, job_id, 30)
    assert done == ("completed", 10, 10, 10, 0), done
    assert_every_item_once(system, job_id, 10)


# -- the SQL functions' rules, each in a transaction that is rolled back (no worker sees it)

def in_rolled_back_job(system, chunks, queries):
    """Runs queries after inserting a running job with chunks (seq, dispatched_at, attempts,
    starts, started_at, as SQL), all in one transaction that is rolled back. Returns the
    queries' output lines; {job} in a query is the job's id."""
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")
    job_id = str(uuid.uuid4())
    rows = ",".join(f"('{job_id}', {seq}, {seq}, ARRAY[gen_random_uuid()], '{{NULL}}', {at},"
                    f" {attempts}, {starts}, {started})"
                    for seq, at, attempts, starts, started in chunks)
    script = (f"BEGIN; INSERT INTO jobs (id, type, status, total, chunks_total, created_by) "
              f"VALUES ('{job_id}', 'bulk-delete', 'running', {len(chunks)}, {len(chunks)}, '{admin}');"
              f"INSERT INTO job_chunks (job_id, seq, first_item, ticket_ids, outcomes, dispatched_at,"
              f" attempts, starts, started_at) VALUES {rows};"
              + "".join(q.format(job=job_id) + ";" for q in queries) + " ROLLBACK")
    return system.psql(script).splitlines()


def test_resends_back_off_up_to_a_cap_and_start_over_when_the_broker_returns(system):
    ago = "now() - interval '{} s'".format
    resend = ("SELECT coalesce(string_agg(seq || ':' || sends, ' ' ORDER BY seq), '-') "
              "FROM job_resend(1000, 60000, 100000, {fresh}) WHERE job_id = '{{job}}'")
    got = in_rolled_back_job(system, [
        (0, ago(0.5), 1, 0, "NULL"),    # within its lease
        (1, ago(1.5), 1, 0, "NULL"),    # sent once: due after one lease
        (2, ago(3), 2, 0, "NULL"),      # sent twice: due after 2 leases
        (3, ago(3), 3, 0, "NULL"),      # sent 3 times: waits 4 leases
        (4, ago(61), 40, 0, "NULL"),    # the back-off is capped at 60 s
        (5, ago(59), 40, 0, "NULL"),
        (6, ago(1.5), 0, 1, "now()"),   # started since its last send: one lease again
    ], [resend.format(fresh="false"), resend.format(fresh="true")])
    assert got == ["1:2 2:3 4:41 6:1", "3:1 5:1"], \
        f"expected chunks 1 2 4 6 due, then 3 and 5 with the broker back; got {got}"


def test_a_start_cut_short_by_a_postgres_restart_is_not_counted(system):
    start = "SELECT state FROM job_chunk_start('{{job}}', {seq}, 3)"
    starts = "SELECT string_agg(seq || ':' || starts, ' ' ORDER BY seq) FROM job_chunks WHERE job_id = '{job}'"
    before_server = "pg_postmaster_start_time() - interval '1 s'"
    got = in_rolled_back_job(system, [
        (0, "now()", 1, 2, "now()"),          # two starts died: a third may go
        (1, "now()", 1, 3, before_server),    # the last of 3 died with the server
        (2, "now()", 1, 3, "now()"),          # 3 starts died: the job fails here
    ], [start.format(seq=0), start.format(seq=1), starts, start.format(seq=2),
        "SELECT status || ' ' || (error->>'message') FROM jobs WHERE id = '{job}'"])
    assert got[:3] == ["started", "started", "0:3 1:3 2:3"], got
    assert got[3] == "exhausted", got
    assert got[4].startswith("failed chunk 2 was started 3 times"), got

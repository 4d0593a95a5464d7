"""Statement budgets: a request's statement that waits on PostgreSQL longer than
STATEMENT_TIMEOUT_MS is cancelled by the server and answered 504 gateway_timeout by the
worker, which is free for the next request at once; a job's chunk runs under
JOB_STATEMENT_TIMEOUT_MS instead, so the same wait does not fail it. The waits here are row
and table locks held by a psql session of the test's own.
"""
import os
import subprocess
import time

import pytest

from conftest import error_of
from test_chaos import wait_terminal_db
from test_job_outages import restart_workers
from test_jobs import assert_exact, create_job, make_tickets

BUDGET_MS = 1000


@pytest.fixture(scope="module")
def budget(system):
    """The session's system with its workers on a 1 s request budget; put back after."""
    system.env["STATEMENT_TIMEOUT_MS"] = str(BUDGET_MS)
    restart_workers(system)
    system.wait_healthy()
    try:
        yield system
    finally:
        system.env.pop("STATEMENT_TIMEOUT_MS", None)
        restart_workers(system)


def hold(system, sql, seconds):
    """A psql session that takes a lock with sql and keeps it for seconds; returns once the
    lock is granted (its Popen, to wait for)."""
    env = dict(system.env, PGPASSWORD=system.db_password(), PGHOST="127.0.0.1",
               PGPORT=str(system.db_port), PGUSER="ticketd", PGDATABASE="ticketd")
    proc = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                             f"BEGIN; {sql}; SELECT pg_sleep({seconds}); COMMIT;"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        n = system.psql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                        "WHERE a.query LIKE 'BEGIN; %pg_sleep%' AND l.granted "
                        "AND l.locktype IN ('relation', 'tuple', 'transactionid')")
        if int(n) > 0:
            return proc
        assert proc.poll() is None, f"psql exited: {proc.stderr.read()}"
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the test's lock was not granted within 10 s")


def read_logs(system, *names):
    out = ""
    for name in names:
        with open(os.path.join(system.env["VAR_DIR"], "log", f"{name}.log")) as f:
            out += f.read()
    return out


def worker_log(system):
    return read_logs(system, "worker-1", "worker-2")


def test_a_request_blocked_past_its_budget_is_504_and_the_worker_is_free_after(budget, admin_token):
    system = budget
    (tid,) = make_tickets(system, 1, "budget-get")
    proc = hold(system, "LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE", 6)
    try:
        t = time.time()
        status, _, body = system.request("GET", f"/api/tickets/{tid}", token=admin_token)
        took = time.time() - t
        assert status == 504, (status, body)
        assert error_of(body)["code"] == "gateway_timeout", body
        # The worker's own answer, well before the edge's 10 s wait for one would end.
        assert took < 6, f"answered after {took:.1f} s"
        status, _, body = system.request("GET", "/api/tickets?q=budget-get", token=admin_token)
        assert status == 504, (status, body)
    finally:
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read()
    status, _, body = system.request("GET", f"/api/tickets/{tid}", token=admin_token)
    assert status == 200 and body["id"] == tid, (status, body)
    assert "event=statement_timeout" in worker_log(system)


def test_a_chunk_waits_out_a_lock_longer_than_the_request_budget(budget, admin_token):
    """The chunk's statement waits 3 s, past the broker's 4 heartbeats of 200 ms: the worker
    runs statements and its broker link in one thread, and its waits on PostgreSQL keep
    the heartbeats going, so no worker is declared dead meanwhile."""
    system = budget
    expired = read_logs(system, "broker").count("event=worker_expired")
    ids = make_tickets(system, 20, "budget-job")
    proc = hold(system, f"SELECT 1 FROM tickets WHERE id = '{ids[7]}' FOR UPDATE", 3)
    try:
        body, _ = create_job(system, admin_token, ids)
        row = wait_terminal_db(system, body["id"], timeout=60)
    finally:
        proc.wait(timeout=20)
    assert row[0] == "completed", row
    assert_exact(system, body["id"])
    deleted = system.psql(f"SELECT count(*) FROM tickets WHERE subject LIKE 'budget-job %' "
                          f"AND deleted_at IS NOT NULL")
    assert int(deleted) == 20
    assert read_logs(system, "broker").count("event=worker_expired") == expired, \
        "a worker waiting on a statement fell silent to the broker"

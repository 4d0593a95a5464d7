"""The bound on prepared statements per PostgreSQL connection (DB_PREPARED_MAX): past it, a
statement new to the connection runs unprepared, so no client walking the list's filter
combinations makes a server backend hold a plan for each. With the bound at 3 nearly every
statement runs unprepared: reads one by one and in a batch's pipeline, writes with text and
binary parameters, and a job, all answering exactly as prepared ones do.
"""
import concurrent.futures
import glob
import os

import pytest

from test_chaos import wait_terminal_db
from test_job_outages import restart_workers
from test_jobs import assert_exact, create_job, make_tickets


@pytest.fixture(scope="module")
def bounded(system):
    try:
        with system.overridden(DB_PREPARED_MAX="3"):
            restart_workers(system)
            system.wait_healthy()
            yield system
    finally:
        restart_workers(system)
        system.wait_healthy()


def test_statements_past_the_bound_run_unprepared_and_answer_the_same(bounded, admin_token):
    system = bounded
    ids = make_tickets(system, 30, "prepB")
    system.psql(f"UPDATE tickets SET priority = 'high' WHERE id IN "
                f"('{ids[0]}', '{ids[1]}', '{ids[2]}')")
    combos = {"q=prepB": 30, "q=prepB&priority=high": 3, "q=prepB&status=open": 30,
              "q=prepB&priority=high&status=open&sort=subject": 3, "q=prepB&limit=5&page=2": 30}
    for query, total in combos.items():
        status, _, body = system.request("GET", f"/api/tickets?{query}", token=admin_token)
        assert status == 200 and body["total"] == total, (query, status, body)

    # Many GETs at once: the workers take them in batches, their reads in one pipeline.
    def get(i):
        return system.request("GET", f"/api/tickets/{ids[i % 30]}", token=admin_token)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(get, range(160)))
    assert all(s == 200 and b["id"] == ids[i % 30] for i, (s, _, b) in enumerate(answers))

    status, headers, body = system.request("PUT", f"/api/tickets/{ids[3]}", {"status": "closed"},
                                           token=admin_token, headers={"If-Match": '"1"'})
    assert status == 200 and body["status"] == "closed" and body["version"] == 2, (status, body)

    job = create_job(system, admin_token, ids[10:])[0]          # ids in binary uuid[]
    assert wait_terminal_db(system, job["id"], 60)[0] == "completed"
    assert_exact(system, job["id"])

    logs = "".join(open(p).read() for p in glob.glob(
        os.path.join(system.env["VAR_DIR"], "log", "worker-*.log")))
    assert "event=db_prepared_full max=3" in logs

"""Fault injection: processes SIGKILLed or frozen at random moments mid-job, PostgreSQL stopped
and started; after every round the job reaches a terminal state soon after the restart, every
item has exactly one outcome, the stored counters equal the outcomes, and every ticket marked
succeeded is deleted.

`make test` runs a short version; `make chaos` the long one (CHAOS_ROUNDS=20,
CHAOS_ITEMS=100000). CHAOS_SEED replays a run: the seed is printed at the start.
"""
import os
import random
import signal
import subprocess
import time

import pytest

from test_jobs import assert_exact, create_job, make_tickets

ROUNDS = int(os.environ.get("CHAOS_ROUNDS", "3"))
ITEMS = int(os.environ.get("CHAOS_ITEMS", "50000"))
SEED = int(os.environ.get("CHAOS_SEED", str(random.SystemRandom().randrange(1 << 30))))
VICTIMS = ["worker-1", "worker-2", "broker", "progress-hub", "http-edge"]
TERMINAL_AFTER_RESTART_S = 10


def job_row(system, job_id):
    row = system.psql(f"SELECT status, total, processed, succeeded, failed FROM jobs WHERE id = '{job_id}'")
    status, total, processed, ok, bad = row.split("|")
    return status, int(total), int(processed), int(ok), int(bad)


def wait_terminal_db(system, job_id, timeout):
    """From PostgreSQL itself: the edge may be one of the processes that died."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        row = job_row(system, job_id)
        if row[0] in ("completed", "failed", "canceled"):
            return row
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not terminal {timeout} s after the restart: "
                         f"{job_row(system, job_id)}\n{system.log_tail()}")


def wait_running(system, job_id, timeout=30):
    """Until the job has processed something: from then on a kill lands mid-job."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        row = job_row(system, job_id)
        if row[2] > 0:
            return row
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} never started: {job_row(system, job_id)}")


def assert_every_item_once(system, job_id, total):
    n = system.psql(f"""SELECT count(*) FROM job_chunks c, unnest(c.outcomes) o
                        WHERE c.job_id = '{job_id}' AND c.status = 'done' AND o IS NOT NULL""")
    items = system.psql(f"SELECT coalesce(sum(cardinality(ticket_ids)), 0) FROM job_chunks "
                        f"WHERE job_id = '{job_id}'")
    assert int(items) == total, f"{items} items stored for a job of {total}"
    assert int(n) == total, f"{n} outcomes recorded for {total} items"


def start_job(system, token, tag):
    ids = make_tickets(system, ITEMS, tag)
    job, _ = create_job(system, token, ids)
    return job["id"]


@pytest.fixture(scope="module")
def rng():
    print(f"chaos seed {SEED} (CHAOS_SEED={SEED} replays it)")
    return random.Random(SEED)


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_a_random_process_killed_mid_job_loses_and_doubles_nothing(system, admin_token, rng,
                                                                     round_no):
    job_id = start_job(system, admin_token, f"chaos{round_no}x{SEED}")
    victims = rng.sample(VICTIMS, rng.randint(1, 2))
    wait_running(system, job_id)
    time.sleep(rng.uniform(0.0, 0.3))
    try:
        for victim in victims:
            system.kill(victim, signal.SIGKILL)
        at_kill = job_row(system, job_id)
        time.sleep(rng.uniform(0.0, 1.0))
    finally:
        system.manage("up")
    assert at_kill[0] == "running", f"the job was not mid-way when {victims} died: {at_kill}"
    restarted = time.time()
    status, total, processed, ok, bad = wait_terminal_db(system, job_id, TERMINAL_AFTER_RESTART_S
                                                         + ITEMS / 5000)
    print(f"round {round_no}: killed {victims} at {at_kill[2]}/{ITEMS} items, "
          f"terminal {time.time() - restarted:.1f} s after restart")
    assert status == "completed", (victims, status)
    assert (total, processed, ok, bad) == (ITEMS, ITEMS, ITEMS, 0), (victims, processed, ok, bad)
    assert_every_item_once(system, job_id, ITEMS)
    assert_exact(system, job_id)


def test_a_frozen_worker_is_declared_dead_and_its_late_work_counts_once(system, admin_token):
    job_id = start_job(system, admin_token, f"chaosF{SEED}")
    wait_running(system, job_id)
    pid = system.kill("worker-1", signal.SIGSTOP)
    try:
        # The broker declares it dead after 4 silent heartbeats (HEARTBEAT_MS=200 here) and
        # hands its chunk to worker-2, which finishes the job alone.
        time.sleep(2.0)
    finally:
        os.kill(pid, signal.SIGCONT)
    status, total, processed, ok, bad = wait_terminal_db(system, job_id, 60)
    assert status == "completed"
    assert (processed, ok, bad) == (ITEMS, ITEMS, 0)
    assert_every_item_once(system, job_id, ITEMS)
    assert_exact(system, job_id)
    # The thawed worker reconnects and serves again.
    system.wait_healthy()


def test_postgres_stopped_and_started_mid_job_still_completes_exactly(system, admin_token):
    job_id = start_job(system, admin_token, f"chaosP{SEED}")
    wait_running(system, job_id)
    pg_ctl = ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", f"{system.env['VAR_DIR']}/pg/data",
              "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        pg_ctl = ["runuser", "-u", "postgres", "--"] + pg_ctl
    subprocess.run(pg_ctl, check=True, capture_output=True, timeout=60)
    time.sleep(1.0)
    system.manage("up")
    status, total, processed, ok, bad = wait_terminal_db(system, job_id, 60)
    assert status == "completed"
    assert (processed, ok, bad) == (ITEMS, ITEMS, 0)
    assert_every_item_once(system, job_id, ITEMS)
    assert_exact(system, job_id)

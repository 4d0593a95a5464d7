"""Fault injection: processes SIGKILLed or frozen at random moments mid-job, PostgreSQL stopped
and started, two of them at once, and outages longer than every chunk lease and attempt;
after every round the job completes soon after the restart, every item has exactly one
outcome, the stored counters equal the outcomes, and every ticket marked succeeded is deleted.

`make test` runs a short version; `make chaos` the long one (CHAOS_ROUNDS=20,
CHAOS_ITEMS=100000, CHAOS_OUTAGE_S=60: the long-outage rounds run only when it is set).
CHAOS_SEED replays a run: the seed is printed at the start.
"""
import os
import random
import signal
import time

import pytest

from test_jobs import assert_exact, create_job, make_tickets

ROUNDS = int(os.environ.get("CHAOS_ROUNDS", "3"))
ITEMS = int(os.environ.get("CHAOS_ITEMS", "50000"))
SEED = int(os.environ.get("CHAOS_SEED", str(random.SystemRandom().randrange(1 << 30))))
VICTIMS = ["worker-1", "worker-2", "broker", "progress-hub", "http-edge"]
TERMINAL_AFTER_RESTART_S = 10
# Two at once, PostgreSQL ("postgres": an immediate stop, as a crash) among them.
PAIRS = [("broker", "worker-1"), ("worker-1", "worker-2"), ("broker", "postgres"),
         ("worker-2", "postgres")]
# Away far longer than CHUNK_LEASE_MS x CHUNK_MAX_ATTEMPTS (25 s by default).
OUTAGE_S = float(os.environ.get("CHAOS_OUTAGE_S", "0"))
LONG = [("broker",), ("worker-1", "worker-2"), ("postgres",), ("broker", "postgres")]


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


def stop(system, victim):
    if victim == "postgres":
        system.pg_ctl("-m", "immediate", "stop")
    else:
        system.kill(victim, signal.SIGKILL)


def outage_round(system, token, tag, victims, down_s, delay_s=0.0):
    """A job, victims stopped delay_s after it is under way, started again down_s later; the
    job must stay running meanwhile (read while PostgreSQL is up) and complete exactly."""
    job_id = start_job(system, token, tag)
    wait_running(system, job_id)
    time.sleep(delay_s)
    at_kill = job_row(system, job_id)
    try:
        for victim in victims:
            stop(system, victim)
        deadline = time.time() + down_s
        while time.time() < deadline:
            if "postgres" not in victims:
                row = job_row(system, job_id)
                assert row[0] == "running", f"the job ended while {victims} were down: {row}"
            time.sleep(min(1.0, max(0.0, deadline - time.time())))
    finally:
        system.manage("up")
    assert at_kill[0] == "running", f"the job was not mid-way when {victims} died: {at_kill}"
    restarted = time.time()
    status, total, processed, ok, bad = wait_terminal_db(system, job_id, TERMINAL_AFTER_RESTART_S
                                                         + ITEMS / 5000)
    print(f"{tag}: stopped {list(victims)} at {at_kill[2]}/{ITEMS} items for {down_s:.1f} s, "
          f"terminal {time.time() - restarted:.1f} s after restart")
    assert status == "completed", (victims, status, system.psql(
        f"SELECT error FROM jobs WHERE id = '{job_id}'"))
    assert (total, processed, ok, bad) == (ITEMS, ITEMS, ITEMS, 0), (victims, processed, ok, bad)
    assert_every_item_once(system, job_id, ITEMS)
    assert_exact(system, job_id)


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_a_random_process_killed_mid_job_loses_and_doubles_nothing(system, admin_token, rng,
                                                                     round_no):
    victims = rng.sample(VICTIMS, rng.randint(1, 2))
    delay_s = rng.uniform(0.0, 0.3)
    outage_round(system, admin_token, f"chaos{round_no}x{SEED}", victims, rng.uniform(0.0, 1.0),
                 delay_s)


@pytest.mark.parametrize("victims", PAIRS, ids="+".join)
def test_two_processes_stopped_at_once_lose_and_double_nothing(system, admin_token, rng, victims):
    outage_round(system, admin_token, f"chaos{'.'.join(victims)}x{SEED}", victims,
                 rng.uniform(0.0, 1.0))


@pytest.mark.skipif(OUTAGE_S <= 0, reason="long outages: make chaos (CHAOS_OUTAGE_S)")
@pytest.mark.parametrize("victims", LONG, ids="+".join)
def test_a_long_outage_fails_no_job(system, admin_token, victims):
    outage_round(system, admin_token, f"chaosL{'.'.join(victims)}x{SEED}", victims, OUTAGE_S)


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
    system.pg_ctl("-m", "fast", "stop")
    time.sleep(1.0)
    system.manage("up")
    status, total, processed, ok, bad = wait_terminal_db(system, job_id, 60)
    assert status == "completed"
    assert (processed, ok, bad) == (ITEMS, ITEMS, 0)
    assert_every_item_once(system, job_id, ITEMS)
    assert_exact(system, job_id)

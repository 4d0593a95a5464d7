"""Several brokers and hubs, the workers' side: with BROKER_ENDPOINTS naming two brokers,
every worker registers with both and answers each on its own, and a job's chunks go through
whichever broker lives: one broker SIGKILLed mid-job costs nothing but a lease, and the job
completes with every item recorded once. With HUB_PUB_ENDPOINTS naming two hubs, each gets
every job event. The second broker is a process of the test's own, with the system's
CurveZMQ server certificate, as a broker on another host would have; the second hub is an
XSUB of the test's, with the same certificate.
"""
import os
import signal
import subprocess
import time
import uuid

import pytest
import zmq

from conftest import ROOT, BUILD_DIR, free_ports, read_cert
from test_chaos import assert_every_item_once, job_row, wait_running, wait_terminal_db
from test_job_outages import restart_workers
from test_jobs import assert_exact, create_job, make_tickets

SHORT = {"CHUNK_LEASE_MS": "1000", "CHUNK_MAX_ATTEMPTS": "3", "CHUNK_SIZE": "500"}
ITEMS = 150000


def status_of(system, endpoint):
    """The broker at endpoint's mmi.status, through ticketd-status --json."""
    import json
    env = dict(system.client_env("tool"), BROKER_ENDPOINT=endpoint)
    r = subprocess.run([os.path.join(ROOT, BUILD_DIR, "bin", "ticketd-status"), "--json",
                        "--env", "none"], env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def wait_workers(system, endpoint, n, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if status_of(system, endpoint)["workers"] >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"{endpoint} has {status_of(system, endpoint)['workers']} workers, "
                         f"not {n}\n{system.log_tail()}")


@pytest.fixture(scope="module")
def two(system):
    """The session's system with a second broker, and its workers registered with both (on
    short chunk leases); put back after."""
    port, hub_port = free_ports(2)
    second = f"tcp://127.0.0.1:{port}"
    hub = zmq.Context.instance().socket(zmq.XSUB)
    hub.linger = 0
    hub.curve_server = True
    hub.curve_secretkey = read_cert(os.path.join(system.curve_dir, "server_secret"))[1].encode()
    hub.bind(f"tcp://127.0.0.1:{hub_port}")
    hub.send(b"\x01")                                # every topic
    log = open(os.path.join(system.env["VAR_DIR"], "log", "broker-second.log"), "a")
    env = dict(system.env, BROKER_ENDPOINT=second,
               CURVE_SERVER_CERT=os.path.join(system.curve_dir, "server_secret"),
               CURVE_ALLOW_DIR=os.path.join(system.curve_dir, "allow"))
    proc = subprocess.Popen([os.path.join(ROOT, BUILD_DIR, "bin", "broker")], env=env,
                            stdout=log, stderr=log)
    try:
        with system.overridden(**SHORT, BROKER_ENDPOINTS=f"{system.broker_endpoint},{second}",
                               HUB_PUB_ENDPOINTS=f"{system.env['HUB_PUB_ENDPOINT']},"
                                                 f"tcp://127.0.0.1:{hub_port}"):
            restart_workers(system)
            system.wait_healthy()
            yield system, second, hub
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()
        hub.close()
        system.ensure_up()
        restart_workers(system)
        system.wait_healthy()


def test_every_worker_registers_with_both_brokers_and_each_serves(two):
    system, second, _ = two
    wait_workers(system, system.broker_endpoint, 2)
    wait_workers(system, second, 2)
    user = system.psql("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
    saved = system.broker_endpoint
    try:
        for endpoint in (saved, second):
            system.broker_endpoint = endpoint
            for i in range(8):
                status, body = system.mdp_request("tickets.list", {"limit": 1},
                                                  f"two-{uuid.uuid4().hex[:12]}", user, "admin")
                assert status == 200 and body["total"] >= 1, (endpoint, status, body)
    finally:
        system.broker_endpoint = saved


def test_a_broker_killed_mid_job_costs_a_lease_and_the_job_completes_exactly(two, admin_token):
    system, second, _ = two
    wait_workers(system, second, 2)
    job_id = create_job(system, admin_token, make_tickets(system, ITEMS, "twoB"))[0]["id"]
    wait_running(system, job_id)
    system.kill("broker", signal.SIGKILL)           # the first; the edge's only one
    at_kill = job_row(system, job_id)
    try:
        status, total, processed, ok, bad = wait_terminal_db(system, job_id, 60)
    finally:
        system.manage("up")
    assert at_kill[0] == "running" and at_kill[2] < ITEMS, f"not caught mid-job: {at_kill}"
    assert status == "completed", (status, processed)
    assert (total, processed, ok, bad) == (ITEMS, ITEMS, ITEMS, 0)
    assert_every_item_once(system, job_id, ITEMS)
    assert_exact(system, job_id)


def test_every_hub_gets_every_job_event(two, admin_token):
    system, _, hub = two
    while hub.poll(0):
        hub.recv_multipart()
    job_id = create_job(system, admin_token, make_tickets(system, 1200, "twoH"))[0]["id"]
    wait_terminal_db(system, job_id, 60)
    topics = set()
    deadline = time.time() + 10
    while time.time() < deadline and f"jobs.completed.{job_id}".encode() not in topics:
        if hub.poll(200):
            topics.add(hub.recv_multipart()[0])
    assert f"jobs.completed.{job_id}".encode() in topics, sorted(topics)[:10]
    assert any(t.startswith(b"jobs.progress.") and t.endswith(job_id.encode()) for t in topics)

"""Several brokers, active-active (BROKER_ENDPOINTS): the edge spreads requests over the live
brokers and, when one dies, sends what it held once more to another (same rid: a write that
committed answers as its first run, workers/replay.c); the hub authenticates WebSocket users
through any live broker.

The module's fixture starts a second broker (build/bin/broker, the system's CURVE server
certificate and allow folder) with two workers of its own, then restarts the system's edge
and hub with BROKER_ENDPOINTS="<system broker>,<second>". The tests kill the SYSTEM's broker
(the one the edge and hub used before), so that they fail on a client of one broker; each
starts it again (./manage.sh up) and waits until the edge sees both brokers live."""
import os
import signal
import subprocess
import threading
import time
import uuid

import pytest

from conftest import free_ports
from harness import Process
from test_hub import Publisher, connect, events_until, sub_of
from test_metrics import get, scrape, wait_for
from test_write_once import new_ticket, version_of, worker_env

ENDPOINT_UP = "edge_broker_endpoint_up"


def restart_clients(system):
    """The edge and the hub again, with the system's environment as it is now."""
    for name in ("http-edge", "progress-hub"):
        if system.pid(name):
            system.kill(name, signal.SIGTERM)
    system.manage("up")
    system.wait_healthy()


def brokers_live(system, endpoints, timeout=15):
    """Waits until the edge reports each endpoint up; the samples."""
    deadline = time.time() + timeout
    while True:
        s = scrape(system)
        ups = [get(s, ENDPOINT_UP, endpoint=e) for e in endpoints]
        if all(u == 1 for u in ups):
            return s
        if time.time() > deadline:
            raise AssertionError(f"the edge does not see every broker up after {timeout} s: "
                                 f"{dict(zip(endpoints, ups))}\n{system.log_tail()}")
        time.sleep(0.1)


class Second:
    """The second broker and its two workers."""

    def __init__(self, system):
        self.system = system
        self.endpoint = f"tcp://127.0.0.1:{free_ports(1)[0]}"
        curve = system.curve_dir
        benv = dict(system.env, BROKER_ENDPOINT=self.endpoint,
                    CURVE_SERVER_CERT=os.path.join(curve, "server_secret"),
                    CURVE_ALLOW_DIR=os.path.join(curve, "allow"))
        benv.pop("BROKER_ENDPOINTS", None)
        self.broker = Process("broker-2", "broker", benv)
        wenv = dict(worker_env(system), BROKER_ENDPOINT=self.endpoint)
        wenv.pop("BROKER_ENDPOINTS", None)
        self.workers = [Process(f"broker-2-worker-{i}", "worker",
                                dict(wenv, WORKER_NAME=f"broker-2-worker-{i}"))
                        for i in (1, 2)]

    def worker_logs(self):
        return "".join(w.read_log() for w in self.workers)

    def stop(self):
        for w in self.workers:
            w.stop()
        self.broker.stop()


@pytest.fixture(scope="module")
def two(system):
    second = Second(system)
    endpoints = [system.broker_endpoint, second.endpoint]
    try:
        system.env["BROKER_ENDPOINTS"] = ",".join(endpoints)
        restart_clients(system)
        brokers_live(system, endpoints)
        second.endpoints = endpoints
        yield second
    finally:
        system.env.pop("BROKER_ENDPOINTS", None)
        second.stop()
        restart_clients(system)
        system.ensure_up()


@pytest.fixture
def both(system, two):
    """The module's brokers, both live as the edge sees them (a test before may have left
    the system's broker to the autouse restart)."""
    brokers_live(system, two.endpoints)
    return two


def restart_system_broker(system, two):
    system.manage("up")
    brokers_live(system, two.endpoints)


def sent_by_endpoint(system, two):
    s = scrape(system)
    return [get(s, "edge_broker_endpoint_requests_total", endpoint=e) or 0 for e in two.endpoints]


def test_requests_are_spread_over_both_brokers(system, both, admin_token):
    before = sent_by_endpoint(system, both)
    for _ in range(20):
        status, _, body = system.request("GET", "/api/tickets?limit=1", token=admin_token)
        assert status == 200, (status, body)
    after = sent_by_endpoint(system, both)
    spread = [a - b for a, b in zip(after, before)]
    print(f"requests per broker for 20 GETs: {dict(zip(both.endpoints, spread))}")
    assert all(n >= 5 for n in spread), f"expected each broker to carry some: {spread}"
    status, _, health = system.request("GET", "/api/health")
    assert status == 200 and health["brokers"] == {"live": 2, "total": 2}, health


def poll_load(system, token, stop, out):
    """GET every 50 ms until stop is set: (monotonic time, status) of each answer."""
    while not stop.is_set():
        t = time.monotonic()
        try:
            status, _, _ = system.request("GET", "/api/tickets?limit=1", token=token, timeout=10)
        except OSError as e:
            status = repr(e)
        out.append((time.monotonic(), t, status))
        time.sleep(0.05)


def test_killing_a_broker_under_load_interrupts_nothing_for_more_than_a_second(system, both,
                                                                               admin_token):
    answers = []
    stop = threading.Event()
    client = threading.Thread(target=poll_load, args=(system, admin_token, stop, answers))
    client.start()
    try:
        time.sleep(2.0)
        killed_at = time.monotonic()
        system.kill("broker", signal.SIGKILL)
        time.sleep(3.0)
    finally:
        stop.set()
        client.join(15)
    failed = [(round(t - killed_at, 3), s) for t, _, s in answers if s != 200]
    ok = [t for t, _, s in answers if s == 200]
    gaps = [b - a for a, b in zip(ok, ok[1:])]
    longest = max(gaps)
    after = [t for t in ok if t > killed_at]
    print(f"{len(answers)} answers, {len(failed)} failed {failed}, longest gap between two "
          f"successes {longest * 1000:.0f} ms, {len(after)} successes after the kill")
    # One client polls sequentially: at most one request is in flight at the kill.
    assert len(failed) <= 1, failed
    assert len(after) >= 20, f"too few answers after the kill: {len(after)}"
    assert longest < 1.2, f"the longest gap between two successful answers was {longest:.3f} s"
    restart_system_broker(system, both)


def lock_tickets(system, ids):
    """A psql session holding the tickets' rows locked (FOR UPDATE) until rollback is
    written to it: an update of them waits at the worker, in its transaction."""
    env = dict(system.env, PGHOST="127.0.0.1", PGPORT=str(system.db_port), PGUSER="ticketd",
               PGDATABASE="ticketd", PGPASSWORD=system.db_password())
    p = subprocess.Popen(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    quoted = ",".join(f"'{i}'" for i in ids)
    p.stdin.write(f"BEGIN;\nSELECT count(*) FROM (SELECT id FROM tickets WHERE id IN ({quoted}) "
                  f"FOR UPDATE) l;\n")
    p.stdin.flush()
    assert p.stdout.readline().strip() == str(len(ids)), "the rows could not be locked"
    return p


def test_a_write_in_flight_on_a_killed_broker_is_applied_once(system, both, admin_token):
    tickets = [new_ticket(system, admin_token, f"brokers: once {i}") for i in range(3)]
    ids = [t["id"] for t in tickets]
    locker = lock_tickets(system, ids)
    results = {}

    def put(t):
        results[t["id"]] = system.request("PUT", f"/api/tickets/{t['id']}",
                                          {"status": "pending"}, token=admin_token, timeout=30)

    threads = [threading.Thread(target=put, args=(t,)) for t in tickets]
    try:
        for th in threads:
            th.start()
            time.sleep(0.05)
        # Round-robin over two brokers: one of three is on the system's broker at least.
        inflight = lambda ep: get(scrape(system), "edge_broker_endpoint_inflight", endpoint=ep)
        wait_for(lambda: inflight(system.broker_endpoint) >= 1, "a PUT waiting on the system's broker",
                 timeout=10)
        # Updates waiting for the locks, per broker: each worker's connection is named
        # "ticketd-worker <WORKER_NAME>", and only the second broker's are broker-2-worker-N.
        # A worker that holds two runs one and keeps the other behind it: what counts is that
        # each broker carrying a PUT has one of its workers' updates waiting in PostgreSQL.
        waiting = ("SELECT count(*) FILTER (WHERE application_name NOT LIKE '%broker-2-worker-%'),"
                   " count(*) FILTER (WHERE application_name LIKE '%broker-2-worker-%')"
                   " FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%tickets%'")
        def in_postgres():
            on_system, on_second = (int(x) for x in system.psql(waiting).split("|"))
            return on_system >= 1 and (on_second >= 1 or inflight(both.endpoint) == 0) \
                and on_system + on_second
        held = wait_for(in_postgres, "an update of each broker waiting for the locks", timeout=10)
        # The broker freezes; the updates commit, and the answers of those it carried stay
        # in its socket; then it dies with them.
        system.kill("broker", signal.SIGSTOP)
        locker.stdin.write("ROLLBACK;\n")
        locker.stdin.close()
        locker.wait(10)
        committed = lambda: sum(version_of(system, t["id"]) == t["version"] + 1 for t in tickets)
        wait_for(lambda: committed() >= held, "the updates that waited committed", timeout=10)
        system.kill("broker", signal.SIGKILL)
        for th in threads:
            th.join(30)
    finally:
        if locker.poll() is None:
            locker.kill()
        pid = system.pid("broker")
        if pid:
            os.kill(pid, signal.SIGKILL)
    for t in tickets:
        status, headers, body = results[t["id"]]
        assert status == 200, (status, body)
        assert body["version"] == t["version"] + 1, f"answered {body['version']}, expected the first run's"
        assert version_of(system, t["id"]) == t["version"] + 1, "the update was applied twice"
    # The one the dead broker held went to the second with its rid, and the second run
    # answered from the first run's record.
    edge_log = open(os.path.join(system.env["VAR_DIR"], "log", "http-edge.log")).read()
    resent = [line.split("rid=")[1].split()[0] for line in edge_log.splitlines()
              if "event=request_resent" in line and "service=tickets.update" in line]
    assert resent, "no tickets.update was sent again"
    logs = both.worker_logs()
    assert any(f"event=request_replayed rid={rid} service=tickets.update" in logs
               for rid in resent), f"no replay of {resent} in the second broker's workers' logs"
    restart_system_broker(system, both)


def test_the_hub_authenticates_websocket_users_with_one_broker_dead(system, both, admin_token):
    system.kill("broker", signal.SIGKILL)
    pub = Publisher(system)
    try:
        ws = connect(system, admin_token)
        job = str(uuid.uuid4())
        time.sleep(0.5)
        pub.send("created", job, sub_of(admin_token))
        got = events_until(ws, lambda e: e["data"]["id"] == job, timeout=10)
        assert got[-1]["event"] == "jobs:created"
        ws.close()
    finally:
        pub.close()
    restart_system_broker(system, both)

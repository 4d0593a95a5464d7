"""Which worker of which host did what: every worker names itself in its READY (WORKER_NAME;
./manage.sh's <short host>-worker-N), the broker keeps that name with the worker's peer address
and since when it is registered, lists them in mmi.status (workerList) and names the worker in
its log lines, ticketd-status prints them, and a bad name keeps a worker from starting or a
READY from registering. Every wait has a wall-clock deadline; a test that kills a worker
starts it again and waits until the broker lists it."""
import datetime
import json
import os
import re
import signal
import subprocess
import time

import zmq

from conftest import ROOT, worker_name

# This host's workers reach the broker over its Unix socket (address "local"); others over
# TCP on the loopback.
LOOPBACK = re.compile(r"^(local|127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$")


def mmi_status(system, timeout=5):
    """The broker's mmi.status, asked with the tool key as ticketd-status asks it."""
    sock = system.zmq_socket(zmq.DEALER, role="tool", connect=system.broker_endpoint)
    try:
        sock.send_multipart([b"", b"MDPC01", b"mmi.status"])
        assert sock.poll(timeout * 1000), f"no answer to mmi.status within {timeout} s"
        frames = sock.recv_multipart()
    finally:
        sock.close()
    assert frames[:3] == [b"", b"MDPC01", b"mmi.status"] and len(frames) == 4, frames[:3]
    return json.loads(frames[3])


def listed(status):
    """name -> entry of the status's workerList."""
    return {w["name"]: w for w in status.get("workerList", [])}


def status_until(system, names, timeout=20):
    """mmi.status once every name in names is listed (the workers may still be saying
    READY, first in a fresh suite or after a restart); the last one seen otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        status = mmi_status(system)
        if set(names) <= set(listed(status)) or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def since_of(entry):
    text = entry["since"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def names(system):
    return [worker_name("worker-1"), worker_name("worker-2")]


def broker_log(system):
    return os.path.join(system.env["VAR_DIR"], "log", "broker.log")


def log_until(path, offset, pattern, timeout):
    """The first line of path after offset matching pattern, within timeout seconds; None
    and the lines read otherwise."""
    deadline = time.monotonic() + timeout
    lines = []
    while True:
        with open(path, errors="replace") as f:
            f.seek(offset)
            lines = f.read().splitlines()
        for line in lines:
            if re.search(pattern, line):
                return line, lines
        if time.monotonic() > deadline:
            return None, lines
        time.sleep(0.1)


def test_mmi_status_lists_each_worker_by_name_with_address_services_credit_and_since(system):
    want = names(system)
    status = status_until(system, want)
    workers = listed(status)
    assert set(want) <= set(workers), f"expected workers {want} in workerList, got {status}"
    assert status["workers"] == len(status["workerList"]), status
    assert "workerListTruncated" not in status, status
    credit = int(system.env.get("WORKER_CREDIT", "8"))
    for i, name in enumerate(want, 1):
        w = workers[name]
        assert LOOPBACK.match(w["address"]), f"{name}: expected a loopback address, got {w}"
        assert re.fullmatch(r"[0-9a-f]{2,510}", w["id"]), w
        assert {"tickets.get", "jobs.chunk", "auth.login"} <= set(w["services"]), w
        assert w["credit"] == credit and 0 <= w["held"] <= credit, w
        # Registered after its process started (its pid file is written at launch), and
        # not in the future.
        started = os.path.getmtime(os.path.join(system.env["VAR_DIR"], "run", f"worker-{i}.pid"))
        assert started - 2 <= since_of(w) <= time.time() + 1, (name, w["since"], started)


def test_a_worker_with_a_bad_name_refuses_to_start_naming_the_variable(system):
    exe = os.path.join(ROOT, system.env["BUILD_DIR"], "bin", "worker")
    for bad in ("two words", "semi;colon", "x" * 65, "quote\"d"):
        env = dict(system.client_env("worker"), WORKER_NAME=bad)
        try:
            r = subprocess.run([exe], env=env, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"WORKER_NAME={bad!r}: expected exit 1, the worker ran on")
        assert r.returncode == 1 and "event=bad_config var=WORKER_NAME" in r.stderr, \
            f"WORKER_NAME={bad!r}: expected exit 1 with bad_config, got {r.returncode}: {r.stderr}"


def test_a_ready_with_a_bad_name_frame_is_refused_with_the_reason(system):
    offset = os.path.getsize(broker_log(system))
    sock = system.zmq_socket(zmq.DEALER, role="worker", connect=system.broker_endpoint)
    try:
        sock.send_multipart([b"", b"MDPW01", b"\x01", b"tickets.get", b"name two words"])
        deadline = time.monotonic() + 5
        got = None
        while time.monotonic() < deadline and got is None:
            if sock.poll(100):
                frames = sock.recv_multipart()
                if frames[2:3] != [b"\x04"]:          # a HEARTBEAT is not the answer
                    got = frames
    finally:
        sock.close()
    assert got == [b"", b"MDPW01", b"\x05"], f"expected DISCONNECT, got {got}"
    line, lines = log_until(broker_log(system), offset, r"event=worker_refused .*name frame", 5)
    assert line and re.search(r" addr=\S+ id=[0-9a-f]+ ", line), lines[-5:]


def test_ticketd_status_prints_each_worker_by_name(system, tmp_path):
    want = names(system)
    status_until(system, want)
    exe = os.path.join(ROOT, system.env["BUILD_DIR"], "bin", "ticketd-status")
    r = subprocess.run([exe, "--env", system.env["ENV_FILE"]], env=system.client_env("tool"),
                       cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=15)
    assert r.returncode == 0, r.stderr
    for name in want:
        row = re.search(rf"^{re.escape(name)} +(\S+) +(\d+)/(\d+) +(\S+Z) +(\d+)$", r.stdout, re.M)
        assert row, f"expected a line for {name}, got:\n{r.stdout}"
        assert LOOPBACK.match(row.group(1)) and int(row.group(5)) >= 10, row.group(0)
    j = subprocess.run([exe, "--json", "--env", system.env["ENV_FILE"]],
                       env=system.client_env("tool"), cwd=tmp_path, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=15)
    assert j.returncode == 0 and set(want) <= set(listed(json.loads(j.stdout))), j.stdout


def test_the_broker_log_names_a_killed_worker_when_it_expires_and_when_it_rejoins(system):
    name = worker_name("worker-2")
    status_until(system, [name])
    offset = os.path.getsize(broker_log(system))
    system.kill("worker-2", signal.SIGKILL)
    try:
        # Dead after 4 silent heartbeats (HEARTBEAT_MS=200 here): about a second.
        line, lines = log_until(broker_log(system), offset,
                                rf"event=worker_expired worker={re.escape(name)} ", 10)
        assert line, f"expected worker_expired naming {name}, got:\n" + "\n".join(lines[-10:])
        addr = re.search(r" addr=(\S+) id=([0-9a-f]+) ", line)
        assert addr and LOOPBACK.match(addr.group(1)), line
        assert name not in listed(mmi_status(system))
    finally:
        system.manage("up")
    line, lines = log_until(broker_log(system), offset,
                            rf"event=worker_join worker={re.escape(name)} addr=\S+ id=", 20)
    assert line, f"expected worker_join naming {name}, got:\n" + "\n".join(lines[-10:])
    assert name in listed(status_until(system, [name])), "the restarted worker is not listed"

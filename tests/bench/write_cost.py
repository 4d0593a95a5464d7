#!/usr/bin/python3
"""What recording a write's answer costs (workers/replay.c: BEGIN, the write, one INSERT into
request_results, COMMIT, where the write alone used to be one autocommit statement).

Starts one private system (tests/integration/conftest.py's System: its own PostgreSQL cluster
and processes on free ports, never var/), then, on that same database, edge and broker, runs
the workers of each build given in turn, ROUNDS times over (A B A B ...) so that a noisy
machine weighs on both alike. Each round sends PUTS `PUT /api/tickets/:id` and POSTS
`POST /api/tickets` on one keep-alive connection, one at a time, and reports the client's
latency (p50, p99, mean) and the workers' own time per request (the `us=` of their
`event=request` log lines), over all rounds and as the median of the rounds' medians.

  make all && make BUILD=build-base all      # build-base: the tree before the change
  /usr/bin/python3 tests/bench/write_cost.py build-base build
  PUTS=250 POSTS=0 ROUNDS=8 (defaults: 2,000 PUTs a build)
"""
import http.client
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from conftest import ROOT, System  # noqa: E402

PUTS = int(os.environ.get("PUTS", "250"))
POSTS = int(os.environ.get("POSTS", "0"))
ROUNDS = int(os.environ.get("ROUNDS", "8"))
WORKERS = ("worker-1", "worker-2")


def pct(values, p):
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def use_build(system, build):
    """Stops the workers and starts those of build (./manage.sh up starts what is missing)."""
    for name in WORKERS:
        if system.pid(name):
            system.kill(name, signal.SIGTERM)
    system.env["BUILD_DIR"] = os.path.join(ROOT, build)
    system.manage("up")


def log_sizes(system):
    logdir = os.path.join(system.env["VAR_DIR"], "log")
    return {n: os.path.getsize(os.path.join(logdir, f"{n}.log")) for n in WORKERS}


def worker_us(system, since, service):
    """The us= of every 2xx request of service the workers logged after the offsets since."""
    out = []
    pat = re.compile(rf"event=request rid=\S+ service={re.escape(service)} status=2\d\d us=(\d+)")
    logdir = os.path.join(system.env["VAR_DIR"], "log")
    for name, offset in since.items():
        with open(os.path.join(logdir, f"{name}.log"), errors="replace") as f:
            f.seek(offset)
            out += [int(m.group(1)) for m in pat.finditer(f.read())]
    return out


def timed(conn, method, path, body, headers, expect):
    t0 = time.perf_counter()
    conn.request(method, path, body=json.dumps(body).encode(), headers=headers)
    r = conn.getresponse()
    data = r.read()
    ms = (time.perf_counter() - t0) * 1000
    assert r.status == expect, (method, path, r.status, data[:200])
    return ms, json.loads(data)


def one_round(system, token):
    h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", system.port, timeout=30)
    _, t = timed(conn, "POST", "/api/tickets", {"subject": "cost", "requesterEmail": "c@example.com"},
                 h, 201)
    for i in range(50):                 # warm-up: statements prepared on both workers
        timed(conn, "PUT", f"/api/tickets/{t['id']}", {"description": f"w{i}"}, h, 200)
    since = log_sizes(system)
    puts = [timed(conn, "PUT", f"/api/tickets/{t['id']}", {"description": f"d{i}"}, h, 200)[0]
            for i in range(PUTS)]
    posts = [timed(conn, "POST", "/api/tickets", {"subject": f"cost {i}",
                                                  "requesterEmail": "c@example.com"}, h, 201)[0]
             for i in range(POSTS)]
    conn.close()
    time.sleep(0.5)                     # the last log lines
    return {"PUT": (puts, worker_us(system, since, "tickets.update")),
            "POST": (posts, worker_us(system, since, "tickets.create"))}


def main():
    builds = sys.argv[1:] or ["build"]
    workdir = tempfile.mkdtemp(prefix="ticketd-cost-")
    os.chmod(workdir, 0o755)
    system = System(workdir)
    system.env["BUILD_DIR"] = os.path.join(ROOT, builds[-1])
    results = {b: {"PUT": ([], []), "POST": ([], [])} for b in builds}
    medians = {b: {"PUT": ([], []), "POST": ([], [])} for b in builds}
    try:
        system.manage("up")
        token = system.login("admin")
        for r in range(ROUNDS):
            for b in builds:
                use_build(system, b)
                got = one_round(system, token)
                for k, (client, worker) in got.items():
                    results[b][k][0].extend(client)
                    results[b][k][1].extend(worker)
                    if client and worker:
                        medians[b][k][0].append(pct(client, 50))
                        medians[b][k][1].append(pct(worker, 50))
                print(f"round {r + 1} {b}: PUT p50 {pct(got['PUT'][0], 50):.2f} ms, "
                      f"worker median {statistics.median(got['PUT'][1]):.0f} us", flush=True)
        rows = system.psql("SELECT count(*) FROM request_results")
    finally:
        system.manage("down", check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{PUTS} PUTs and {POSTS} POSTs a round, {ROUNDS} rounds a build; "
          f"request_results rows at the end: {rows}")
    print(f"{'build':<12} {'req':<4} {'client p50':>11} {'p99':>8} {'mean':>8} "
          f"{'worker p50':>11} {'p99':>8}   median of round medians: client, worker")
    for b in builds:
        for k in ("PUT", "POST"):
            client, worker = results[b][k]
            if not client or not worker:
                continue
            print(f"{b:<12} {k:<4} {pct(client, 50):>8.2f} ms {pct(client, 99):>5.2f} ms "
                  f"{statistics.mean(client):>5.2f} ms {pct(worker, 50):>8.0f} us "
                  f"{pct(worker, 99):>5.0f} us   {statistics.median(medians[b][k][0]):.2f} ms, "
                  f"{statistics.median(medians[b][k][1]):.0f} us")


if __name__ == "__main__":
    main()

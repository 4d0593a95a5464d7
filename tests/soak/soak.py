#!/usr/bin/python3
"""Soak (issue 7): SOAK_SECONDS (default 600) of mixed API load, SOAK_WS (default 1000)
WebSocket clients connected throughout, and a bulk-delete job every SOAK_JOB_EVERY seconds,
against a private system started exactly as the integration suite starts it. Proves: no
error but the statuses the load provokes on purpose (and 429), no WebSocket dropped by the
hub, every job completed with exact counts, resident memory of every process flat.

    make soak                               # the 10-minute run
    SOAK_SECONDS=60 /usr/bin/python3 tests/soak/soak.py    # a quick one

Prints PROVED:/FAILED: lines, writes the report to build/soak-report.txt, exits 1 on failure.
"""
import collections
import http.client
import json
import os
import random
import resource
import select
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from conftest import System  # noqa: E402
import websocket  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
HTTP_THREADS = int(os.environ.get("SOAK_HTTP_THREADS", "4"))
WS_CLIENTS = int(os.environ.get("SOAK_WS", "1000"))
WS_THREADS = int(os.environ.get("SOAK_WS_THREADS", "4"))
JOB_ITEMS = int(os.environ.get("SOAK_JOB_ITEMS", "20000"))
JOB_EVERY = float(os.environ.get("SOAK_JOB_EVERY", "30"))
TICKETS = int(os.environ.get("SOAK_TICKETS", "200000"))
SAMPLE_EVERY = 5.0
PROCS = ("broker", "worker-1", "worker-2", "progress-hub", "http-edge")
FLAT_RATIO, FLAT_SLACK_KB = 1.10, 8 * 1024
REPORT = os.environ.get("SOAK_REPORT") or os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"), "soak-report.txt")

stop = threading.Event()
lock = threading.Lock()
statuses = collections.Counter()          # (method route, status) -> n
unexpected = collections.Counter()        # (op, status, expected) -> n
unexpected_samples = []                   # first few, with bodies
conn_errors = collections.Counter()       # exception name -> n
ops = collections.Counter()
latencies = collections.defaultdict(list)  # op -> seconds (bounded reservoir per op)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------- HTTP load

class Client:
    """One keep-alive connection, reopened only if the server closes it (counted)."""

    def __init__(self, system, token):
        self.system, self.token, self.conn = system, token, None
        self.last_used = time.time()

    def close(self):
        """Between jobs: the edge closes a connection idle EDGE_CONNECTION_TIMEOUT_S (30 s),
        and a request racing that close would be a client artefact, not a system error."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, op, method, path, expect, body=None, headers=None):
        h = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in (1, 2):
            t0 = time.perf_counter()
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.system.port, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                raw = resp.read()
                etag = resp.getheader("ETag")
                break
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    conn_errors[f"{op}: {type(e).__name__} after {time.time() - self.last_used:.1f} s idle"] += 1
                self.conn.close()
                self.conn = None
                if attempt == 2 or stop.is_set():
                    return None, None, None
        dt = time.perf_counter() - t0
        self.last_used = time.time()
        with lock:
            ops[op] += 1
            lat = latencies[op]
            if len(lat) < 20000:
                lat.append(dt)
            else:
                lat[random.randrange(20000)] = dt
            statuses[resp.status] += 1
            if resp.status not in expect and resp.status != 429:
                unexpected[(op, resp.status, tuple(sorted(expect)))] += 1
                if len(unexpected_samples) < 10:
                    unexpected_samples.append(f"{op} {method} {path} -> {resp.status} "
                                              f"{raw[:300].decode('utf-8', 'replace')}")
        parsed = None
        if raw and raw[:1] in (b"{", b"["):
            try:
                parsed = json.loads(raw)
            except ValueError:
                pass
        return resp.status, parsed, etag


def http_worker(system, token, role, seeded_ids, rnd):
    c = Client(system, token)
    mine = []                                     # tickets this thread created: (id, version)
    deleted = []
    statuses_f = ("open", "pending", "resolved", "closed")
    prios = ("low", "normal", "high", "urgent")
    while not stop.is_set():
        r = rnd.random()
        if r < 0.25:
            q = f"page={rnd.randint(1, 200)}&limit={rnd.choice((10, 20, 50, 100))}"
            f = rnd.random()
            if f < 0.3:
                q += f"&status={rnd.choice(statuses_f)}"
            elif f < 0.5:
                q += f"&priority={rnd.choice(prios)}&status={rnd.choice(statuses_f)}"
            elif f < 0.6:
                q += "&q=printer"
            elif f < 0.65 and role == "admin":
                q += "&deleted=include"
            c.call("list", "GET", f"/api/tickets?{q}", {200})
        elif r < 0.45:
            c.call("get", "GET", f"/api/tickets/{rnd.choice(seeded_ids)}", {200})
        elif r < 0.48:
            c.call("get-unknown", "GET", f"/api/tickets/{uuid.uuid4()}", {404})
        elif r < 0.58 or not mine:
            body = {"subject": f"soak {rnd.randint(0, 1 << 30)}", "description": "soak load",
                    "priority": rnd.choice(prios), "requesterEmail": "soak@example.com"}
            st, t, _ = c.call("create", "POST", "/api/tickets", {201}, body)
            if st == 201 and t:
                mine.append((t["id"], t["version"]))
        elif r < 0.60:
            c.call("create-invalid", "POST", "/api/tickets", {422}, {"subject": "", "priority": "x"})
        elif r < 0.68:
            i = rnd.randrange(len(mine))
            tid, ver = mine[i]
            st, t, _ = c.call("update", "PUT", f"/api/tickets/{tid}", {200},
                              {"status": rnd.choice(statuses_f)}, {"If-Match": f'"{ver}"'})
            if st == 200 and t:
                mine[i] = (tid, t["version"])
        elif r < 0.70:
            tid, ver = rnd.choice(mine)
            c.call("update-stale", "PUT", f"/api/tickets/{tid}", {412},
                   {"priority": "low"}, {"If-Match": f'"{ver - 1 if ver > 1 else ver + 1000}"'})
        elif r < 0.76:
            tid, _ = mine.pop(rnd.randrange(len(mine)))
            st, _, _ = c.call("delete", "DELETE", f"/api/tickets/{tid}", {204})
            if st == 204:
                deleted.append(tid)
                c.call("get-deleted", "GET", f"/api/tickets/{tid}", {404})
        elif r < 0.80 and deleted:
            tid = deleted.pop(rnd.randrange(len(deleted)))
            if role == "admin":
                st, t, _ = c.call("restore", "POST", f"/api/tickets/{tid}/restore", {200})
                if st == 200 and t:
                    mine.append((tid, t["version"]))
            else:
                c.call("restore-agent", "POST", f"/api/tickets/{tid}/restore", {403})
        elif r < 0.90:
            c.call("jobs", "GET", f"/api/jobs?page=1&limit={rnd.choice((5, 20))}", {200})
        else:
            c.call("me", "GET", "/api/auth/me", {200})
        if len(mine) > 500:                        # bounded: keep the newest
            mine = mine[-250:]
        if len(deleted) > 500:
            deleted = deleted[-250:]


# ----------------------------------------------------------------------------- WebSockets

ws_stats = collections.Counter()          # events by name, "connected", "dropped", ...
ws_drops = collections.Counter()          # close code / exception -> n
ws_alive = {}                              # socket -> role
completed_seen = collections.defaultdict(set)   # job id -> ids of admin sockets that saw completed
agent_saw_admin_job = [0]


def ws_reader(socks):
    """Reads every socket it owns with select(); a frame is read whole (websocket-client
    never reads past the frame it parses, so select() sees whatever is left)."""
    by_fd = {ws.sock.fileno(): (ws, role, i) for ws, role, i in socks}
    while by_fd and not stop.is_set():
        try:
            ready, _, _ = select.select(list(by_fd), [], [], 0.5)
        except (OSError, ValueError):
            ready = [fd for fd, (ws, _, _) in by_fd.items() if ws.sock is None]
        for fd in ready:
            ws, role, idx = by_fd[fd]
            try:
                op, frame = ws.recv_data_frame(True)
            except Exception as e:   # the hub closed or broke the connection
                if stop.is_set():
                    return
                with lock:
                    ws_drops[type(e).__name__] += 1
                    ws_alive.pop(idx, None)
                del by_fd[fd]
                continue
            if op == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else 1005
                with lock:
                    ws_drops[f"close {code}"] += 1
                    ws_alive.pop(idx, None)
                del by_fd[fd]
                continue
            if op != websocket.ABNF.OPCODE_TEXT:
                continue
            try:
                e = json.loads(frame.data)
                name, job = e["event"], e["data"]["id"]
            except (ValueError, KeyError, TypeError):
                with lock:
                    ws_stats["malformed"] += 1
                continue
            with lock:
                ws_stats[name] += 1
                if role == "agent":
                    agent_saw_admin_job[0] += 1
                elif name == "jobs:completed":
                    completed_seen[job].add(idx)


def ws_connect_all(system, tokens):
    socks = []
    url = f"ws://127.0.0.1:{system.ws_port}/ws?token="
    for i in range(WS_CLIENTS):
        role = "admin" if i % 2 == 0 else "agent"
        ws = websocket.create_connection(url + tokens[role], timeout=10, suppress_origin=True)
        socks.append((ws, role, i))
        ws_alive[i] = role
    return socks


# ----------------------------------------------------------------------------- jobs

jobs_done = []                             # dicts: id, n, status, counts, seconds, db_deleted
jobs_bad = []


def job_runner(system, token):
    c = Client(system, token)
    n = 0
    next_at = time.time() + 5
    while not stop.is_set():
        if time.time() < next_at:
            stop.wait(0.5)
            continue
        next_at = time.time() + JOB_EVERY
        c.close()
        n += 1
        tag = f"soak-job-{n}-{uuid.uuid4().hex[:8]}"
        out = system.psql(
            "INSERT INTO tickets (subject, requester_email) "
            f"SELECT '{tag}', 'soak@example.com' FROM generate_series(1, {JOB_ITEMS}) "
            "RETURNING id")
        ids = out.split()
        t0 = time.time()
        st, job, _ = c.call("job-create", "POST", "/api/jobs", {202},
                            {"type": "bulk-delete", "payload": {"ticketIds": ids}},
                            {"Idempotency-Key": tag})
        if st != 202 or not job:
            jobs_bad.append(f"{tag}: POST /api/jobs -> {st}")
            continue
        jid = job["id"]
        deadline = t0 + max(120.0, JOB_EVERY * 4)
        while time.time() < deadline and not stop.is_set():
            st, job, _ = c.call("job-get", "GET", f"/api/jobs/{jid}?itemsLimit=1", {200})
            if job and job.get("status") in ("completed", "failed", "canceled"):
                break
            stop.wait(0.5)
        if stop.is_set() and not (job and job.get("status") == "completed"):
            break                              # the run ended while this job ran: not counted
        secs = time.time() - t0
        db_deleted = int(system.psql(
            f"SELECT count(*) FROM tickets WHERE subject = '{tag}' AND deleted_at IS NOT NULL"))
        rec = {"id": jid, "n": n, "status": job and job.get("status"), "seconds": round(secs, 1),
               "total": job and job.get("total"), "processed": job and job.get("processed"),
               "succeeded": job and job.get("succeeded"), "failed": job and job.get("failed"),
               "db_deleted": db_deleted}
        exact = (rec["status"] == "completed" and rec["total"] == JOB_ITEMS
                 and rec["processed"] == JOB_ITEMS and rec["succeeded"] == JOB_ITEMS
                 and rec["failed"] == 0 and db_deleted == JOB_ITEMS)
        (jobs_done if exact else jobs_bad).append(rec)
        log(f"job {n}: {rec['status']} {rec['succeeded']}/{rec['total']} in {secs:.1f} s, "
            f"{db_deleted} deleted in the database{'' if exact else '  <-- NOT EXACT'}")


# ----------------------------------------------------------------------------- memory

rss = collections.defaultdict(list)        # name -> [(t, kB)]
pids_seen = collections.defaultdict(set)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def sampler(system, t0):
    while True:
        now = time.time() - t0
        for name in PROCS:
            pid = system.pid(name)
            if pid:
                pids_seen[name].add(pid)
                try:
                    rss[name].append((now, rss_kb(pid)))
                except OSError:
                    pass
            else:
                pids_seen[name].add(None)
        if stop.wait(SAMPLE_EVERY):
            return


def flat(samples):
    """Median of the last third of the run within max(+10%, +8 MB) of the second third's."""
    v2 = [kb for t, kb in samples if SECONDS / 3 <= t < 2 * SECONDS / 3]
    v3 = [kb for t, kb in samples if t >= 2 * SECONDS / 3]
    if not v2 or not v3:
        return False, None, None, None
    m2, m3 = statistics.median(v2), statistics.median(v3)
    limit = max(m2 * FLAT_RATIO, m2 + FLAT_SLACK_KB)
    return m3 <= limit, m2, m3, limit


# ----------------------------------------------------------------------------- main

def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, WS_CLIENTS * 2 + 1024)), hard))
    workdir = tempfile.mkdtemp(prefix="ticketd-soak-")
    os.chmod(workdir, 0o755)
    system = System(workdir)
    system.env["SEED_TICKETS"] = str(TICKETS)
    # SOAK_WS sockets connect at once from one address: beyond the hub's guard against
    # handshake floods (HUB_PENDING_PER_ADDRESS), which the soak does not test.
    system.env["HUB_PENDING_PER_ADDRESS"] = "0"
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    threads = []
    lines = []
    ok = False
    try:
        log(f"starting a private system in {workdir} with {TICKETS} seeded tickets")
        t = time.time()
        system.manage("up", timeout=900)
        system.wait_healthy()
        log(f"up in {time.time() - t:.0f} s")
        tokens = {"admin": system.login("admin"), "agent": system.login("agent")}
        seeded = system.psql("SELECT id FROM tickets WHERE deleted_at IS NULL "
                             "ORDER BY random() LIMIT 2000").split()
        t = time.time()
        socks = ws_connect_all(system, tokens)
        log(f"{len(socks)} WebSocket clients connected in {time.time() - t:.1f} s")
        for k in range(WS_THREADS):
            threads.append(threading.Thread(target=ws_reader, args=(socks[k::WS_THREADS],),
                                            daemon=True))
        for k in range(HTTP_THREADS):
            role = "admin" if k % 2 == 0 else "agent"
            threads.append(threading.Thread(target=http_worker, daemon=True, args=(
                system, tokens[role], role, seeded, random.Random(k))))
        threads.append(threading.Thread(target=job_runner, args=(system, tokens["admin"]),
                                        daemon=True))
        t0 = time.time()
        threads.append(threading.Thread(target=sampler, args=(system, t0), daemon=True))
        for th in threads:
            th.start()
        log(f"load running for {SECONDS} s")
        last = 0
        while time.time() - t0 < SECONDS:
            time.sleep(1)
            el = time.time() - t0
            if el - last >= 60 or el >= SECONDS:
                last = el
                with lock:
                    n = sum(statuses.values())
                    log(f"{el:.0f} s: {n} requests ({n / el:.0f}/s), {sum(unexpected.values())} "
                        f"unexpected, WS alive {len(ws_alive)}, events {sum(v for k, v in ws_stats.items() if k.startswith('jobs:'))}, "
                        f"jobs exact {len(jobs_done)} bad {len(jobs_bad)}")
        elapsed = time.time() - t0
        with lock:
            alive_at_end = len(ws_alive)
            drops = dict(ws_drops)
        stop.set()
        for th in threads:
            th.join(timeout=150)
        ok, lines = report(system, elapsed, alive_at_end, drops)
        for ws, _, _ in socks:
            try:
                ws.close(timeout=0.1)
            except Exception:
                pass
    except KeyboardInterrupt:
        log("interrupted")
        stop.set()
    finally:
        stop.set()
        # The teardown itself must not be interrupted: a second signal would leave the
        # private PostgreSQL and the processes running.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        log("stopping the system")
        system.manage("down", check=False)
        if os.environ.get("KEEP_SOAK_DIR") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
    if lines:
        os.makedirs(os.path.dirname(REPORT), exist_ok=True)
        with open(REPORT, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"report written to {os.path.relpath(REPORT, ROOT)}")
    return 0 if ok else 1


def pct(values, p):
    v = sorted(values)
    return 1000 * v[min(len(v) - 1, int(len(v) * p / 100))]


def report(system, elapsed, alive_at_end, drops):
    out = []
    p = out.append
    total = sum(statuses.values())
    p("=" * 78)
    p(f"SOAK REPORT  {time.strftime('%Y-%m-%d %H:%M:%S')}  ({elapsed:.0f} s of load, "
      f"{os.cpu_count()} cores, load generator on the same box)")
    p(f"load: {HTTP_THREADS} HTTP threads on keep-alive connections (half admin, half agent; "
      f"list/filter 25%, get 20%, create 10%, update 8%, delete+get 6%, restore 4%, jobs 10%, "
      f"me 10%, deliberate 404/412/422/403 ~7%), {WS_CLIENTS} WebSocket clients (half admin, "
      f"half agent) in {WS_THREADS} select() threads, a {JOB_ITEMS}-item bulk-delete every "
      f"{JOB_EVERY:.0f} s, {TICKETS} seeded tickets")
    p("")
    p(f"HTTP: {total} requests, {total / elapsed:.0f} req/s")
    p("  by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    p("  by operation: " + ", ".join(f"{o}: {n}" for o, n in sorted(ops.items())))
    p("  latency ms (p50/p99) as the load generator saw it: " + ", ".join(
        f"{o} {pct(v, 50):.0f}/{pct(v, 99):.0f}" for o, v in sorted(latencies.items()) if v))
    p(f"  unexpected statuses: {sum(unexpected.values())}"
      + "".join(f"\n    {op}: {st} (expected {list(ex)}) x{n}" for (op, st, ex), n in unexpected.items()))
    for s in unexpected_samples:
        p(f"    e.g. {s}")
    p(f"  connection errors (reconnected): {sum(conn_errors.values())} {dict(conn_errors)}")
    p("")
    evs = {k: v for k, v in ws_stats.items() if k.startswith("jobs:")}
    p(f"WebSocket: {alive_at_end}/{WS_CLIENTS} alive at the end; events received "
      f"{sum(evs.values())} {evs}; malformed {ws_stats['malformed']}; dropped by the hub: {drops or 0}")
    n_admin = (WS_CLIENTS + 1) // 2
    missing_completed = {j["id"]: n_admin - len(completed_seen.get(j["id"], ())) for j in jobs_done}
    short = {k: v for k, v in missing_completed.items() if v}
    p(f"  jobs:completed of each finished job reached {'every' if not short else 'NOT every'} "
      f"admin socket ({n_admin}); agent sockets got {agent_saw_admin_job[0]} events of admin jobs")
    p("")
    p(f"jobs: {len(jobs_done)} completed with exact counts, {len(jobs_bad)} not")
    for j in jobs_done:
        p(f"  #{j['n']} {j['id']} completed total={j['total']} processed={j['processed']} "
          f"succeeded={j['succeeded']} failed={j['failed']} db_deleted={j['db_deleted']} in {j['seconds']} s")
    for j in jobs_bad:
        p(f"  BAD {j}")
    p("")
    p(f"resident memory (VmRSS, MB), sampled every {SAMPLE_EVERY:.0f} s; flat = median of the "
      f"last third <= max(median of the second third x {FLAT_RATIO:.2f}, + {FLAT_SLACK_KB // 1024} MB)")
    p(f"  {'process':<13} {'start':>7} {'mid':>7} {'end':>7} {'max':>7} {'med 2/3':>8} {'med 3/3':>8} flat")
    flat_all, restarted = True, []
    for name in PROCS:
        s = rss[name]
        if len(pids_seen[name]) != 1 or None in pids_seen[name]:
            restarted.append(name)
        if not s:
            flat_all = False
            p(f"  {name:<13} no samples")
            continue
        f, m2, m3, _ = flat(s)
        flat_all &= f
        mb = lambda kb: f"{kb / 1024:7.1f}" if kb is not None else "      -"
        p(f"  {name:<13} {mb(s[0][1])} {mb(s[len(s) // 2][1])} {mb(s[-1][1])} "
          f"{mb(max(kb for _, kb in s))} {mb(m2)} {mb(m3)}  {'yes' if f else 'NO'}")
    p("")
    verdicts = [
        (sum(unexpected.values()) == 0 and sum(conn_errors.values()) == 0,
         f"{total} HTTP requests: no status but 2xx, the load's deliberate 403/404/412/422 and "
         f"429; no connection dropped",
         f"{sum(unexpected.values())} unexpected statuses, {sum(conn_errors.values())} connection errors"),
        (alive_at_end == WS_CLIENTS and not drops and ws_stats["malformed"] == 0,
         f"{WS_CLIENTS} WebSocket clients stayed connected for the whole run, no drop, no malformed frame",
         f"WebSocket clients: {alive_at_end}/{WS_CLIENTS} alive, dropped {drops}"),
        (not short and agent_saw_admin_job[0] == 0 and len(jobs_done) > 0,
         f"every admin socket got jobs:completed of every job; agents got no event of admin jobs",
         f"completed events missing on some sockets {short}, agent saw {agent_saw_admin_job[0]}"),
        (len(jobs_done) > 0 and not jobs_bad,
         f"{len(jobs_done)} bulk-delete jobs of {JOB_ITEMS} items completed with exact counts "
         f"(API and database)",
         f"{len(jobs_bad)} jobs not exact, {len(jobs_done)} exact"),
        (flat_all and not restarted,
         "resident memory of broker, both workers, progress-hub and http-edge flat; no process restarted",
         f"memory not flat or process restarted ({restarted})"),
    ]
    ok = True
    for good, yes, no in verdicts:
        ok &= good
        p(("PROVED: " + yes) if good else ("FAILED: " + no))
    p("=" * 78)
    print("\n".join(out), flush=True)
    return ok, out


if __name__ == "__main__":
    sys.exit(main())

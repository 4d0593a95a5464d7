#!/usr/bin/python3
"""P5: progress latency, from a chunk's commit to its event on a WebSocket, with 1,000
sockets open (all admin, so every socket gets every event). The commit time is PostgreSQL's
own (track_commit_timestamp, turned on for the bench cluster): the k-th chunk to commit is
the one whose event says processed = the first k chunks' items. Baseline: lws_bare, a bare
libwebsockets broadcast server, with the same client (build/bench/ws_latency) relaying a
timestamped frame to the same 1,000 sockets, one frame per median gap between ticketd's
chunk commits in the run before it (both fan out the same number of events a second), and
while ticketd runs a job of other tickets (both share the two cores with the same workers
and PostgreSQL backends); the idle bare server is reported beside it.

The path is split in two at the hub's XPUB (HUB_SUB_ENDPOINT), where a plain SUB socket in
this script sees each event as the hub forwards it, before the hub fans it out: commit ->
XPUB is PostgreSQL's WAL flush, the worker's publish and one ZeroMQ hop; XPUB -> WebSocket
is the hub's fan-out, what the bare server is compared with."""
import json, os, subprocess, sys, threading, time
import zmq
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa

SOCKS = int(os.environ.get("P5_SOCKETS", "1000"))
ITEMS = int(os.environ.get("P5_ITEMS", "100000"))


def client(port, path, send, interval_us=50000):
    return subprocess.Popen(["taskset", "-c", CPU, os.path.join(BUILD, "bench/ws_latency"), str(port),
                             path, str(SOCKS), "300", str(send), str(interval_us)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def lines(p):
    out = []
    for line in p.stdout:
        a, b = line.split()
        out.append((int(a), int(b)))
    p.wait()
    return out


class XpubTap:
    """A SUB socket on the hub's XPUB: (processed, receive ns) of every progress event and
    the final one, from its own thread while the job runs."""

    def __init__(self):
        self.sock = zmq.Context.instance().socket(zmq.SUB)
        self.sock.linger = 0
        self.sock.rcvtimeo = 200
        for name in ("progress", "completed"):
            self.sock.subscribe(f"jobs.{name}.".encode())
        self.sock.connect(ENV["HUB_SUB_ENDPOINT"])
        self.seen, self.done = [], False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        time.sleep(0.3)                     # the subscription reaches the hub first

    def run(self):
        while not self.done:
            try:
                topic, body = self.sock.recv_multipart()
            except zmq.Again:
                continue
            at = time.time_ns()
            self.seen.append((topic.decode().rsplit(".", 1)[1], json.loads(body), at))

    def stop(self, job_id):
        self.done = True
        self.thread.join()
        self.sock.close()
        return {ev["data"]["processed"]: at for jid, ev, at in self.seen if jid == job_id}


def system_once(tok, ids):
    p = client(WS_PORT, f"/ws?token={tok}", 0)
    assert p.stdout.readline().strip() == "READY"
    tap = XpubTap()
    st, job = request("POST", "/api/jobs", raw=job_body(ids), tok=tok, timeout=300)
    assert st == 202, (st, job)
    p.stdin.write(job["id"] + "\n")
    p.stdin.flush()
    got = lines(p)
    at_xpub = tap.stop(job["id"])
    rows = psql(f"SELECT cardinality(ticket_ids), (extract(epoch FROM pg_xact_commit_timestamp(xmin))"
                f" * 1e9)::bigint FROM job_chunks WHERE job_id = '{job['id']}' AND status = 'done'"
                " ORDER BY 2").split()
    commit_at, cum = {}, 0
    for r in rows:
        size, ts = r.split("|")
        cum += int(size)
        commit_at[cum] = int(ts)
    lat = [(recv - commit_at[k]) / 1e6 for k, recv in got if k in commit_at]
    to_xpub = [(at_xpub[k] - commit_at[k]) / 1e6 for k in commit_at if k in at_xpub]
    fan_out = [(recv - at_xpub[k]) / 1e6 for k, recv in got if k in at_xpub and k in commit_at]
    neg = [x for x in lat if x < 0]
    if neg:
        print(f"  WARNING: {len(neg)} deliveries before their commit (min {min(neg):.1f} ms): dropped")
        lat = [x for x in lat if x >= 0]
    if os.environ.get("P5_DEBUG"):
        print("commits", sorted(commit_at.items())[:12], "events", sorted(set(got))[:12], "rows", rows[:12])
    commits = sorted(commit_at.values())
    gaps = [b - a for a, b in zip(commits, commits[1:])]
    return lat, len(commit_at), len(got), to_xpub, fan_out, median(gaps) / 1e3 if gaps else 50000


def bare_once(interval_us, tok=None, load_ids=None):
    """The bare server at ticketd's event rate: one frame every interval_us. With load_ids,
    while ticketd runs a job of those ids, so that the bare server shares the two cores
    with the same workers and PostgreSQL backends as ticketd's hub does in system_once."""
    srv = subprocess.Popen([os.path.join(BUILD, "bench/lws_bare"), os.environ["BARE_WS_PORT"]])
    time.sleep(0.3)
    job = None
    try:
        p = client(os.environ["BARE_WS_PORT"], "/", 100, int(interval_us))
        assert p.stdout.readline().strip() == "READY"
        if load_ids:
            st, job = request("POST", "/api/jobs", raw=job_body(load_ids), tok=tok, timeout=300)
            assert st == 202, (st, job)
        got = lines(p)
    finally:
        srv.terminate()
        srv.wait()
    if job:
        deadline = time.time() + 300
        while request("GET", f"/api/jobs/{job['id']}", tok=tok)[1]["status"] in ("queued", "running"):
            assert time.time() < deadline, f"the background job {job['id']} did not finish"
            time.sleep(0.2)
        undelete(f"id = ANY ('{{{','.join(load_ids)}}}'::uuid[])")
    return [(recv - t) / 1e6 for t, recv in got]


def main():
    undelete()
    tok = token()
    ids = ticket_ids(ITEMS)
    # The bare server's job outlasts its 100 frames: twice the items, other tickets.
    load_ids = ticket_ids(2 * ITEMS, offset=ITEMS)
    sys_p99, bare_p99, sys_p50, bare_p50 = [], [], [], []
    idle_p99, idle_p50 = [], []
    stages = {"commit -> XPUB": ([], []), "XPUB -> WebSocket": ([], [])}
    gaps = []
    for r in range(RUNS):
        undelete(f"id = ANY ('{{{','.join(ids)}}}'::uuid[])") if r else None
        lat, chunks, frames, to_xpub, fan_out, gap_us = system_once(tok, ids)
        gaps.append(gap_us)
        for (p50s, p99s), xs in zip(stages.values(), (to_xpub, fan_out)):
            if xs:
                p50s.append(pct(xs, 50)); p99s.append(pct(xs, 99))
        b = bare_once(gap_us, tok, load_ids)
        idle = bare_once(gap_us)
        sys_p99.append(pct(lat, 99)); sys_p50.append(pct(lat, 50))
        bare_p99.append(pct(b, 99)); bare_p50.append(pct(b, 50))
        idle_p99.append(pct(idle, 99)); idle_p50.append(pct(idle, 50))
        print(f"  run {r + 1}: ticketd {chunks} chunks, {len(lat)} deliveries, p50 {sys_p50[-1]:.2f}"
              f" p99 {sys_p99[-1]:.2f} ms; bare (a frame every {gap_us / 1e3:.1f} ms) {len(b)}"
              f" deliveries beside a job p50 {bare_p50[-1]:.2f} p99 {bare_p99[-1]:.2f} ms,"
              f" idle p50 {idle_p50[-1]:.2f} p99 {idle_p99[-1]:.2f} ms; stages (p50/p99 ms) "
              + ", ".join(f"{n} {a[-1]:.2f}/{b[-1]:.2f}" for n, (a, b) in stages.items() if a),
              flush=True)
    s, b = median(sys_p99), median(bare_p99)
    result("P5", f"chunk commit -> event on {SOCKS} WebSockets (p99)", f"{s:.2f} ms (p50 {median(sys_p50):.2f})",
           f"lws_bare beside a job {b:.2f} ms (p50 {median(bare_p50):.2f}); idle"
           f" {median(idle_p99):.2f} ms (p50 {median(idle_p50):.2f})",
           f"{s / b:.2f}x (idle bare: {s / median(idle_p99):.2f}x)",
           "p99 <= 20 ms and <= 1.5x bare", s <= 20 and s / b <= 1.5,
           f"median of {RUNS}; {ITEMS:,}-item job; client pinned to core {CPU}; bare sends at"
           f" ticketd's chunk rate (one every {median(gaps) / 1e3:.1f} ms), once while ticketd"
           f" runs a {2 * ITEMS:,}-item job (the ratio) and once idle; stages p50/p99: "
           + ", ".join(f"{n} {median(a):.2f}/{median(b):.2f} ms" for n, (a, b) in stages.items() if a),
           [f"build/bench/ws_latency PORT /ws?token=... {SOCKS} 300 0",
            f"build/bench/lws_bare PORT + build/bench/ws_latency PORT / {SOCKS} 300 100 INTERVAL_US"])


if __name__ == "__main__":
    main()

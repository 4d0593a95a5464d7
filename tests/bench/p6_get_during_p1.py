#!/usr/bin/python3
"""P6: GET /api/tickets/:id p99 while a P1 bulk delete runs, beside the same probe idle.
The probe is wrk with 8 keep-alive connections pinned to the load-generator core (a latency
probe, not a saturation test), on a ticket the job does not touch."""
import os, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa
import p1_bulk_delete as p1

CONNS = int(os.environ.get("P6_CONNS", "8"))


def probe(url, tok, stop_event=None, secs=10):
    """wrk in slices of 2 s (until stop_event, or for secs), pooled by 0.1-percentile points.
    (wrk does not reliably stop on SIGINT: the signal may land on a worker thread.)"""
    cmd = ["taskset", "-c", CPU, "wrk", "-t", "1", "-c", str(CONNS), "-d", "2s", "-s",
           os.path.join(ROOT, "tests/bench/wrk_hist.lua"), "-H", f"Authorization: Bearer {tok}", url]
    hist, reqs, dur, bad = {}, 0, 0, 0
    t0 = time.time()
    while (stop_event and not stop_event.is_set()) or (not stop_event and time.time() - t0 < secs):
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        n = 0
        qs = []
        for line in out.splitlines():
            f = line.split()
            if f and f[0] == "Q":
                qs.append(int(f[2]))
            elif f and f[0] == "SUMMARY":
                n = int(f[1])
                reqs += n; dur += int(f[2]); bad += int(f[3])
        for v in qs:        # each 0.1-percentile point stands for n/1000 requests
            hist[v] = hist.get(v, 0) + n / 1000.0
    total = sum(hist.values())
    def q(p):
        k, acc = total * p / 100.0, 0
        for v in sorted(hist):
            acc += hist[v]
            if acc >= k:
                return v / 1000.0
        return float("nan")
    if bad:
        print(f"  WARNING: {bad} non-2xx answers in the probe")
    return reqs / (dur / 1e6) if dur else float("nan"), q(50), q(99), " ".join(cmd).replace(tok, "$TOKEN")


def main():
    n = int(os.environ.get("P6_ITEMS", os.environ.get("BENCH_TICKETS", "1000000")))
    tok = token()
    ids = ticket_ids(n)
    # A ticket the job does not touch: outside the job's ids, or the job is one id shorter.
    if int(psql("SELECT count(*) FROM tickets")) > n:
        tid = ticket_ids(1, n)[0]
    else:
        tid, ids = ids[-1], ids[:-1]
    url = f"http://127.0.0.1:{PORT}/api/tickets/{tid}"
    idle, busy = [], []
    for r in range(int(os.environ.get("P6_RUNS", "1"))):
        undelete()
        idle.append(probe(url, tok))
        stop = threading.Event()
        box = {}
        th = threading.Thread(target=lambda: box.update(r=probe(url, tok, stop)))
        th.start()
        time.sleep(0.5)
        t, _, ok, _ = p1.system_run(ids, tok)
        stop.set()
        th.join()
        busy.append(box["r"])
        print(f"  run {r + 1}: idle p99 {idle[-1][2]:.2f} ms ({idle[-1][0]:.0f} req/s); during a"
              f" {len(ids):,}-item job ({t:.1f} s) p99 {busy[-1][2]:.2f} ms ({busy[-1][0]:.0f} req/s)",
              flush=True)
    i, b = median([x[2] for x in idle]), median([x[2] for x in busy])
    result("P6", f"GET /api/tickets/:id p99 while a {len(ids):,}-item job runs ({CONNS} conns)",
           f"{b:.2f} ms", f"idle {i:.2f} ms", f"{b / i:.2f}x", "<= 2x idle", b / i <= 2,
           f"p50 idle {median([x[1] for x in idle]):.2f} ms, during {median([x[1] for x in busy]):.2f} ms;"
           f" req/s idle {median([x[0] for x in idle]):.0f}, during {median([x[0] for x in busy]):.0f}"
           " (wrk in 2-s slices, histograms pooled; the probed ticket is not in the job)",
           [idle[0][3]])


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""P8: resident memory of edge + broker + hub + 2 workers. Short form (make bench): sampled
every 50 ms during a BENCH_TICKETS-item bulk delete. BENCH_LONG=1 (make soak-mem): a
10-minute run of repeated 100k-item jobs plus a GET load, sampled every second; "flat" means
the last minute's mean is within 10% of the second minute's."""
import os, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa
import p1_bulk_delete as p1


def summary(samples):
    peak = max(samples, key=lambda s: s[1])
    return peak[1] / 1024, {k: round(v / 1024, 1) for k, v in peak[2].items()}


def main():
    tok = token()
    n = int(os.environ.get("BENCH_TICKETS", "1000000"))
    ids = ticket_ids(n)
    undelete()
    start = {k: rss_kb(v) for k, v in pids().items()}
    s = p1.RssSampler(every=0.05); s.start()
    t, _, ok, _ = p1.system_run(ids, tok)
    s.stop.set(); s.join()
    peak, per = summary(s.samples)
    pss = max(x[3] for x in s.samples) / 1024
    # Judged on PSS: summing RSS counts every shared library page (libc, libzmq, libcrypto)
    # once per process, five times over; PSS splits shared pages among the processes that
    # map them, so its sum is what the five processes cost the machine together.
    result("P8", f"memory of edge + broker + hub + 2 workers, peak during a {n:,}-item job",
           f"PSS {pss:.1f} MB (RSS summed {peak:.1f} MB)", f"idle RSS summed {sum(start.values()) / 1024:.1f} MB", "-",
           "< 64 MB", pss < 64,
           f"peak RSS per process (MB) {per}; judged on PSS (shared pages counted once), RSS"
           " summed beside it", ["tests/bench/p8_memory.py"])
    if os.environ.get("BENCH_LONG") != "1":
        return
    secs = int(os.environ.get("SOAK_SECS", "600"))
    small = ids[:100000]
    tid = ids[-1]
    s = p1.RssSampler(); s.start()
    wrk_p = subprocess.Popen(["taskset", "-c", CPU, "wrk", "-t", "1", "-c", "8", "-d", f"{secs}s",
                              "-H", f"Authorization: Bearer {tok}",
                              f"http://127.0.0.1:{PORT}/api/tickets/{tid}"], stdout=subprocess.DEVNULL)
    t0, jobs = time.time(), 0
    while time.time() - t0 < secs:
        undelete(f"id = ANY ('{{{','.join(small)}}}'::uuid[])")
        p1.system_run(small, tok)
        jobs += 1
    wrk_p.wait()
    s.stop.set(); s.join()
    def mean(a, b, k):
        v = [x[k] for x in s.samples if a <= x[0] < b]
        return sum(v) / len(v) / 1024 if v else float("nan")
    m2, last = mean(60, 120, 3), mean(secs - 60, secs + 5, 3)
    rss_m2, rss_last = mean(60, 120, 1), mean(secs - 60, secs + 5, 1)
    peak, per = summary(s.samples)
    pss = max(x[3] for x in s.samples) / 1024
    result("P8", f"memory across a {secs // 60}-minute run ({jobs} jobs of 100k + GET load)",
           f"PSS last minute {last:.1f} MB, peak {pss:.1f} MB (RSS summed: last minute"
           f" {rss_last:.1f}, peak {peak:.1f})", f"second minute PSS {m2:.1f} MB (RSS {rss_m2:.1f})",
           f"{last / m2:.2f}x", "< 64 MB; flat", pss < 64 and last / m2 <= 1.1,
           f"peak RSS per process (MB) {per}", ["make soak-mem"])


if __name__ == "__main__":
    main()

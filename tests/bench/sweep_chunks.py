#!/usr/bin/python3
"""CHUNK_SIZE x JOB_WINDOW sweep for P1 (not part of the default `make bench`; run it with
BENCH_ONLY=sweep). Restarts the workers with each setting (SIGTERM, then ./manage.sh up,
which starts what is not running) and times P1 at each size in SWEEP_ITEMS beside the raw
UPDATE of the same rows."""
import os, signal, subprocess, sys, time
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa
import p1_bulk_delete as p1

CHUNKS = [int(x) for x in os.environ.get("SWEEP_CHUNKS", "250 500 1000 2000 5000").split()]
WINDOWS = [int(x) for x in os.environ.get("SWEEP_WINDOWS", "8").split()]
SIZES = [int(x) for x in os.environ.get("SWEEP_ITEMS", "100000 1000000").split()]
REPS = int(os.environ.get("SWEEP_RUNS", "1"))


def restart_workers(chunk, window):
    for name, pid in pids().items():
        if name.startswith("worker-"):
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                    time.sleep(0.1)
                except OSError:
                    break
    env = dict(os.environ, CHUNK_SIZE=str(chunk), JOB_WINDOW=str(window))
    subprocess.run([os.path.join(ROOT, "manage.sh"), "up"], env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL, check=True)
    time.sleep(1.5)     # the workers' READY reaches the broker


def main():
    tok = token()
    rows = []
    for n in SIZES:
        ids = ticket_ids(n)
        f = os.path.join(os.environ.get("BENCH_WORK", "/tmp"), "sweep_ids.txt")
        with open(f, "w") as fh:
            fh.write("{" + ",".join(ids) + "}")
        for window in WINDOWS:
            for chunk in CHUNKS:
                restart_workers(chunk, window)
                ts, rs = [], []
                for _ in range(REPS):
                    undelete()
                    rs.append(p1.raw_run(f))
                    undelete()
                    ts.append(p1.system_run(ids, tok)[0])
                t, r = median(ts), median(rs)
                rows.append((n, chunk, window, t, r))
                print(f"  SWEEP items={n} chunk={chunk} window={window} system={t:.2f}s raw={r:.2f}s"
                      f" ratio={t / r:.2f} load={load()}", flush=True)
    restart_workers(int(os.environ.get("CHUNK_SIZE_DEFAULT", "1000")), 8)
    for n in SIZES:
        best = min((x for x in rows if x[0] == n), key=lambda x: x[3] / x[4])
        result("sweep", f"P1 at {n:,} items, best CHUNK_SIZE / JOB_WINDOW", f"{best[3]:.2f} s",
               f"raw {best[4]:.2f} s", f"{best[3] / best[4]:.2f}x", "-", True,
               "; ".join(f"{c}/{w}: {t:.2f}s ({t / r:.2f}x)" for m, c, w, t, r in rows if m == n),
               ["BENCH_ONLY=sweep tests/bench/run.sh"])


if __name__ == "__main__":
    main()

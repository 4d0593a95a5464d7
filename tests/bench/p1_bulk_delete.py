#!/usr/bin/python3
"""P1: soft-delete N tickets end to end (POST /api/jobs until jobs:completed arrives on a
WebSocket, every item's outcome recorded) beside one raw UPDATE of the same rows in psql.
Both start from the same state: every ticket live, tickets vacuumed, a checkpoint taken.
P8 samples the resident memory of the five processes while this runs (BENCH_RSS_OUT).
"""
import json, os, subprocess, sys, threading, time, uuid
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa

N = int(os.environ.get("P1_ITEMS", os.environ.get("BENCH_TICKETS", "1000000")))
RAW_SQL = ("UPDATE tickets SET deleted_at = now(), updated_at = now(), version = version + 1 "
           "WHERE id = ANY ($1) AND deleted_at IS NULL")


def raw_run(ids_file):
    # The same rows, as one uuid[] parameter of a prepared statement, in psql.
    sql = (f"\\set ids `cat {ids_file}`\n"
           f"PREPARE raw (uuid[]) AS {RAW_SQL};\n"
           "EXECUTE raw (:'ids');\n")
    return psql_timed(sql)


def system_run(ids, tok):
    t, t_post, d = job_until_final(tok, raw=job_body(ids))
    recorded = int(psql(f"SELECT sum(cardinality(array_remove(outcomes, NULL))) FROM job_chunks"
                        f" WHERE job_id = '{d['id']}'"))
    return t, t_post, d["succeeded"], recorded


class RssSampler(threading.Thread):
    """RSS and PSS of every actor every `every` seconds. P1 samples slowly (reading
    smaps_rollup costs CPU the run is timed on); P8 fast enough to catch the create of a
    million ids, which holds 16 MB in edge, broker and worker for about a second."""
    def __init__(self, every=0.25):
        super().__init__(daemon=True)
        self.every = every
        self.stop = threading.Event()
        self.samples = []   # (t, total_kb, {name: kb})

    def run(self):
        ps = pids()
        t0 = time.time()
        while not self.stop.is_set():
            per = {n: rss_kb(p) for n, p in ps.items()}
            pss = sum(pss_kb(p) for p in ps.values())
            self.samples.append((time.time() - t0, sum(per.values()), per, pss))
            time.sleep(self.every)


def main():
    tok = token()
    ids = ticket_ids(N)
    n = len(ids)
    ids_file = os.path.join(os.environ.get("BENCH_WORK", "/tmp"), "p1_ids.txt")
    with open(ids_file, "w") as f:
        f.write("{" + ",".join(ids) + "}")
    runs = int(os.environ.get("P1_RUNS", "3" if n <= 200000 else "1"))
    raws, syss, posts = [], [], []
    for r in range(runs):
        undelete()
        raws.append(raw_run(ids_file))
        undelete()
        sampler = RssSampler()
        sampler.start()
        t, t_post, ok, recorded = system_run(ids, tok)
        sampler.stop.set()
        sampler.join()
        syss.append(t)
        posts.append(t_post)
        peak = max(sampler.samples, key=lambda s: s[1]) if sampler.samples else (0, 0, {})
        print(f"  run {r + 1}: raw {raws[-1]:.2f} s, system {t:.2f} s (POST {t_post * 1000:.0f} ms),"
              f" succeeded {ok}/{n}, outcomes recorded {recorded}; peak RSS {peak[1] / 1024:.1f} MB"
              f" {json.dumps({k: round(v / 1024, 1) for k, v in peak[2].items()})}", flush=True)
        out = os.environ.get("BENCH_RSS_OUT")
        if out:
            with open(out, "a") as f:
                f.write(json.dumps({"n": n, "samples": sampler.samples}) + "\n")
        if recorded != n or ok != n:
            print(f"  WARNING: {ok} succeeded and {recorded} outcomes recorded of {n}")
    raw, sy = median(raws), median(syss)
    chunk = os.environ.get("CHUNK_SIZE", "default")
    result("P1", f"soft-delete {n:,} tickets end to end (CHUNK_SIZE {chunk})", f"{sy:.2f} s",
           f"raw UPDATE {raw:.2f} s", f"{sy / raw:.2f}x", "<= 1.5x", sy / raw <= 1.5,
           f"median of {runs}; runs system {[round(x, 2) for x in syss]} raw "
           f"{[round(x, 2) for x in raws]}; POST {median(posts) * 1000:.0f} ms",
           ["tests/bench/p1_bulk_delete.py", f"psql: PREPARE raw (uuid[]) AS {RAW_SQL}; EXECUTE raw (:'ids')"])


if __name__ == "__main__":
    main()

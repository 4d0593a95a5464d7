#!/usr/bin/python3
"""P9: bulk work by filter (sql/0009_bulk_scope.sql). A bulk-delete of every live ticket
matching a filter, timed from POST /api/jobs to jobs:completed on a WebSocket, beside one
raw UPDATE ... WHERE <the same filter>; then its undo (a bulk-restore of that job) beside the
raw UPDATE ... SET deleted_at = NULL of the same rows. Also the POST's own latency, which
must not grow with the matches (the set is taken by a worker after the 202).
The filter is {} (every live ticket: BENCH_TICKETS of them), so both sides touch all rows.
"""
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa

RAW_DELETE = ("UPDATE tickets SET deleted_at = now(), updated_at = now(), version = version + 1 "
              "WHERE deleted_at IS NULL")
RAW_RESTORE = ("UPDATE tickets SET deleted_at = NULL, updated_at = now(), version = version + 1 "
               "WHERE deleted_at IS NOT NULL")


def fresh():
    undelete()
    psql("TRUNCATE ticket_history")


def job_run(tok, body):
    t, t_post, d = job_until_final(tok, body=body)
    return t, t_post, d["succeeded"], d["id"]


def main():
    tok = token()
    n = int(psql("SELECT count(*) FROM tickets"))
    runs = int(os.environ.get("P9_RUNS", "3" if n <= 200000 else "1"))
    raw_d, raw_r, sys_d, sys_r, posts = [], [], [], [], []
    for r in range(runs):
        fresh()
        raw_d.append(psql_timed(RAW_DELETE + ";"))
        raw_r.append(psql_timed(RAW_RESTORE + ";"))
        fresh()
        t, t_post, ok, job_id = job_run(tok, {"type": "bulk-delete", "payload": {"filter": {}}})
        sys_d.append(t)
        posts.append(t_post)
        psql("VACUUM ANALYZE tickets")
        tr, _, ok_r, _ = job_run(tok, {"type": "bulk-restore", "payload": {"jobId": job_id}})
        sys_r.append(tr)
        print(f"  run {r + 1}: delete raw {raw_d[-1]:.2f} s, job {t:.2f} s (POST {t_post * 1000:.0f} ms,"
              f" {ok}/{n}); undo raw {raw_r[-1]:.2f} s, job {tr:.2f} s ({ok_r}/{n})", flush=True)
        if ok != n or ok_r != n:
            print(f"  WARNING: {ok} deleted and {ok_r} restored of {n}")
    d, rd, u, ru = median(sys_d), median(raw_d), median(sys_r), median(raw_r)
    result("P9", f"bulk-delete by filter of {n:,} tickets end to end", f"{d:.2f} s",
           f"raw UPDATE {rd:.2f} s", f"{d / rd:.2f}x", "<= 1.5x", d / rd <= 1.5,
           f"median of {runs}; POST answered in {median(posts) * 1000:.0f} ms (target < 100 ms);"
           f" runs job {[round(x, 2) for x in sys_d]} raw {[round(x, 2) for x in raw_d]}",
           ["tests/bench/p9_filter_job.py", f"psql: {RAW_DELETE}"])
    result("P9u", f"undo (bulk-restore of that job) of {n:,} tickets", f"{u:.2f} s",
           f"raw UPDATE {ru:.2f} s", f"{u / ru:.2f}x", "<= 1.5x", u / ru <= 1.5,
           f"median of {runs}; runs job {[round(x, 2) for x in sys_r]} raw {[round(x, 2) for x in raw_r]}",
           ["tests/bench/p9_filter_job.py", f"psql: {RAW_RESTORE}"])


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""P2 and P3: GET /api/tickets/:id with a token, keep-alive, 64 connections (wrk pinned to
one core), on ticketd, on Fastify 5 + pg + node:crypto HS256, and on Express 4 + pg +
jsonwebtoken; then pgbench running the same SELECT at 2..64 clients (its best is P3's bound).
All against the same PostgreSQL and the same ticket, one after another, each BENCH_RUNS times
interleaved; medians are reported."""
import os, re, subprocess, sys, time
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa

SECS = int(os.environ.get("P2_SECS", "10"))
SQL = ("SELECT id, subject, description, status, priority, requester_email, assignee_id, "
       "created_at, updated_at, deleted_at, version FROM tickets WHERE id = :'id'::uuid "
       "AND deleted_at IS NULL;")


def start_node(mode, port):
    p = subprocess.Popen(["taskset", "-c", "0", "node", "server.js", mode, str(port)],
                         cwd=os.path.join(ROOT, "tests/bench/baselines"),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    p.stdout.readline()
    return p


def pgbench(clients, tid, secs):
    f = os.path.join(os.environ.get("BENCH_WORK", "/tmp"), "p3.sql")
    with open(f, "w") as fh:
        fh.write(SQL.replace(":'id'", f"'{tid}'") + "\n")
    cmd = ["taskset", "-c", CPU, "pgbench", "-n", "-M", "prepared", "-f", f, "-c", str(clients),
           "-j", str(min(clients, 2)), "-T", str(secs)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"tps = ([0-9.]+) \(without initial", r.stdout)
    return (float(m.group(1)) if m else float("nan")), " ".join(cmd)


def main():
    undelete()
    tok = token()
    tid = ticket_ids(1, 5000)[0]
    path = f"/api/tickets/{tid}"
    st, _ = request("GET", path, tok=tok)
    assert st == 200, st
    fast = start_node("fastify", os.environ["FASTIFY_PORT"])
    expr = start_node("express", os.environ["EXPRESS_PORT"])
    res = {"ticketd": [], "fastify": [], "express": []}
    cmds = {}
    try:
        for r in range(RUNS):
            for name, port in (("ticketd", PORT), ("fastify", os.environ["FASTIFY_PORT"]),
                               ("express", os.environ["EXPRESS_PORT"])):
                rps, p50, p99, bad, cmd = wrk(f"http://127.0.0.1:{port}{path}", 64, SECS, tok)
                cmds[name] = cmd.replace(tok, "$TOKEN")
                res[name].append((rps, p50, p99, bad))
                print(f"  run {r + 1} {name}: {rps:.0f} req/s p50 {p50:.2f} ms p99 {p99:.2f} ms"
                      f" non-2xx {bad}", flush=True)
    finally:
        fast.terminate()
        expr.terminate()
    t = median([x[0] for x in res["ticketd"]])
    f = median([x[0] for x in res["fastify"]])
    e = median([x[0] for x in res["express"]])
    result("P2", "GET /api/tickets/:id, 64 keep-alive connections (req/s)", f"{t:.0f}",
           f"Fastify {f:.0f} (Express {e:.0f})", f"{t / f:.2f}x (vs Express {t / e:.2f}x)",
           ">= 3x Fastify", t / f >= 3,
           f"median of {RUNS}; ticketd p99 {median([x[2] for x in res['ticketd']]):.1f} ms,"
           f" Fastify p99 {median([x[2] for x in res['fastify']]):.1f} ms; node and the system"
           " share core 0/1 with wrk on core " + CPU,
           [cmds["ticketd"], "taskset -c 0 node tests/bench/baselines/server.js fastify|express PORT"])
    best, best_c, tries = 0, 0, []
    for c in (2, 4, 8, 16, 32, 64):
        tps, cmd = pgbench(c, tid, max(5, SECS // 2))
        tries.append(f"{c}:{tps:.0f}")
        print(f"  pgbench -c {c}: {tps:.0f} tps", flush=True)
        if tps > best:
            best, best_c, pcmd = tps, c, cmd
    result("P3", "the same route vs the database's own limit (pgbench, same SELECT)", f"{t:.0f} req/s",
           f"pgbench {best:.0f} TPS at {best_c} clients", f"{t / best:.0%}", ">= 50%", t / best >= 0.5,
           "pgbench tries " + " ".join(tries), [pcmd])


if __name__ == "__main__":
    main()

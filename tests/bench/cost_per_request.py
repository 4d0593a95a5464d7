#!/usr/bin/python3
"""Cost of one GET /api/tickets/:id in each process: CPU time (utime + stime from
/proc/PID/stat) and context switches (voluntary + involuntary, summed over every thread in
/proc/PID/task), read before and after a wrk run, divided by the requests wrk made. The same
for the Fastify baseline. Explains P2/P3: on this VM a wake-up costs microseconds, and every
ZeroMQ hop is a wake-up of a libzmq I/O thread and of an application thread. Run it against
a kept bench system (BENCH_KEEP=1 make bench; . $WORK/bench.env):
    tests/bench/cost_per_request.py"""
import glob, os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa
from p2_get_ticket import start_node

SECS = int(os.environ.get("COST_SECS", "8"))
TICK = os.sysconf("SC_CLK_TCK")


def sample(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    switches = 0
    for st in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(st) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except FileNotFoundError:
            pass
    return cpu, switches


def backends():
    out = subprocess.run(["pgrep", "-f", f"postgres: {ENV.get('DB_USER', 'ticketd')} "],
                         capture_output=True, text=True).stdout.split()
    return {f"postgres {p}": int(p) for p in out}


def measure(name, url, procs, tok):
    before = {n: sample(p) for n, p in procs.items()}
    r = subprocess.run(["taskset", "-c", CPU, "wrk", "-t1", "-c64", f"-d{SECS}s", "-H",
                        f"Authorization: Bearer {tok}", url], capture_output=True, text=True)
    after = {n: sample(p) for n, p in procs.items()}
    reqs = int([l for l in r.stdout.splitlines() if "requests in" in l][0].split()[0])
    print(f"== {name}: {reqs} requests in {SECS} s ({reqs / SECS:.0f} req/s)")
    tot_cpu = tot_sw = 0
    for n in procs:
        cpu = after[n][0] - before[n][0]
        sw = after[n][1] - before[n][1]
        if cpu == 0 and sw == 0:
            continue
        tot_cpu += cpu
        tot_sw += sw
        print(f"  {n:<18} {cpu / reqs * 1e6:7.1f} us CPU  {sw / reqs:6.2f} context switches  per request")
    print(f"  {'total':<18} {tot_cpu / reqs * 1e6:7.1f} us CPU  {tot_sw / reqs:6.2f} context switches  per request")


def main():
    tok = token()
    tid = ticket_ids(1, 5000)[0]
    procs = {n: p for n, p in pids().items() if n != "progress-hub"}
    procs.update(backends())
    measure("ticketd", f"http://127.0.0.1:{PORT}/api/tickets/{tid}", procs, tok)
    node = start_node("fastify", ENV["FASTIFY_PORT"])
    try:
        old = set(backends())
        url = f"http://127.0.0.1:{ENV['FASTIFY_PORT']}/api/tickets/{tid}"
        subprocess.run(["taskset", "-c", CPU, "wrk", "-t1", "-c64", "-d1s", "-H",
                        f"Authorization: Bearer {tok}", url], capture_output=True)
        procs = {"node (Fastify)": node.pid}
        procs.update({n: p for n, p in backends().items() if n not in old})
        measure("Fastify 5 + pg", url, procs, tok)
    finally:
        node.terminate()
        node.wait()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""P10: P1's bulk soft-delete with 1, 2 and 4 REMOTE workers (worker hosts in network
namespaces, over veth, CurveZMQ on) beside the same job with as many workers on the app
host itself, and the CPU seconds PostgreSQL and the workers spend on it, so that
docs/BENCHMARKS.md can say where PostgreSQL becomes the bound and model bigger hosts.

Run from tests/bench/run.sh (`make bench`, BENCH_ONLY="p10"), this file re-runs itself
through tests/scale/run.sh (SCALE_SCRIPT), which makes the hosts' namespaces, enters none of
the machine's own network and removes every namespace and process afterwards, even on a
failure. It needs root: without it, it reports a row "not run: needs root" and does nothing.

Hosts (tests/scale/hosts.py): A, PostgreSQL + broker + hub + edge (./manage.sh, WORKERS=0);
remote workers on C (N = 1: one; N = 2: one on C, one on D; N = 4: two on each); local
workers: a worker-only ./manage.sh in A's own namespace, to A's broker on loopback, same
keys, same cluster, same tickets. Every run: every ticket restored, VACUUM ANALYZE, CHECKPOINT
(P1's undelete), then POST /api/jobs and the wall time to the job's finished_at in
PostgreSQL; CPU: utime+stime from /proc of the cluster's processes (the postmaster's own
and its reaped children's, plus every live child) and of the worker processes, before and
after. Settings: P10_ITEMS (200000), P10_RUNS (BENCH_RUNS, 3; the median is reported),
P10_WORKERS ("1 2 4").
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scale"))
from benchlib import median, result  # noqa: E402

ITEMS = int(os.environ.get("P10_ITEMS", "200000"))
RUNS = int(os.environ.get("P10_RUNS", os.environ.get("BENCH_RUNS", "3")))
COUNTS = [int(n) for n in os.environ.get("P10_WORKERS", "1 2 4").split()]
CORES = os.cpu_count()
TICK = os.sysconf("SC_CLK_TCK")
SPLIT = {1: {"c": 1}, 2: {"c": 1, "d": 1}, 4: {"c": 2, "d": 2}}
COMMAND = "sudo make bench BENCH_ONLY=p10 (or: SCALE_SCRIPT=tests/bench/p10_remote_workers.py tests/scale/run.sh)"


def outside():
    """Not yet on the simulated hosts: say why not, or go there through tests/scale/run.sh."""
    if os.geteuid() != 0:
        result("P10", "bulk delete with 1, 2, 4 remote workers", "not run: needs root",
               "-", "-", "report", True, "network namespaces need root (ip netns)", [COMMAND])
        return 0
    root = os.path.dirname(os.path.dirname(HERE))
    # The hosts run ./manage.sh's defaults, not the bench system's overrides for P2 and P5.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PROGRESS_INTERVAL_MS", "RATE_LIMIT_PER_USER", "MAX_ACTIVE_JOBS")}
    env.update(SCALE_SCRIPT=os.path.abspath(__file__), SCALE_TIMEOUT="1100")  # under run.sh's 1200 s
    r = subprocess.run([os.path.join(root, "tests/scale/run.sh"), os.environ.get("BENCH_BUILD", "build")],
                       cwd=root, env=env)
    if r.returncode != 0:
        result("P10", "bulk delete with 1, 2, 4 remote workers", f"not run: exit {r.returncode}",
               "-", "-", "report", True, "see the output above", [COMMAND])
    return 0


def ticks(pid, children=False):
    """utime+stime of pid (and of its reaped children) in seconds; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
    return used / TICK


def pg_cpu(postmaster):
    """Every second the cluster's processes have used: a backend that exited since is in the
    postmaster's children's time, which is why that is counted too."""
    total = ticks(postmaster, children=True)
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == postmaster:
                total += ticks(int(name), children=True)
    return total


def pids_of(var_dir, prefix):
    run = os.path.join(var_dir, "run")
    out = []
    for f in os.listdir(run):
        if f.startswith(prefix) and f.endswith(".pid"):
            try:
                out.append(int(open(os.path.join(run, f)).read().strip()))
            except (OSError, ValueError):
                pass
    return out


class Bench:
    def __init__(self):
        from hosts import ROOT, BROKER_PORT, DB_PORT, AppHost, Net, addr
        from scale import Api, Db
        self.net = Net(os.environ["SCALE_TAG"])
        self.dir = os.environ["SCALE_DIR"]
        self.build = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"))
        self.net.create_bridge()
        for h in "acd":
            self.net.add_host(h)
        self.net.enter("a")
        self.brokers = [f"tcp://{addr('a')}:{BROKER_PORT}"]
        settings = {"HEARTBEAT_MS": "500"}
        self.app = AppHost(self.net, "a", self.dir, self.build, settings, self.brokers)
        self.app.manage("up")
        self.db_url = (f"postgresql://ticketd:{self.app.secret('DB_PASSWORD')}@{addr('a')}:"
                       f"{DB_PORT}/ticketd")
        self.local_url = self.db_url.replace(addr("a"), "127.0.0.1")
        self.db = Db(self.app.secret("DB_PASSWORD"))
        self.api = Api()            # logs in once a worker is up: the edge asks one
        with open(os.path.join(self.app.env["VAR_DIR"], "pg", "data", "postmaster.pid")) as f:
            self.postmaster = int(f.readline())
        self.ids = self.db.make_tickets(ITEMS, "p10")
        self.hosts = []

    def workers_on(self, split, tag):
        """Worker hosts per split ({host: workers}), each from a fresh folder; the ones
        before go down first, and the broker must list exactly the new ones."""
        from hosts import WorkerHost, BROKER_PORT
        from scale import wait_for
        for h in self.hosts:
            h.env["ROLE"] = "worker"
            subprocess.run(h.net.exec_prefix(h.host) + [os.path.join(os.path.dirname(os.path.dirname(HERE)), "manage.sh"),
                           "down", "--role", "worker"], env=h.env, capture_output=True, timeout=60)
        self.hosts = []
        for host, n in split.items():
            url = self.local_url if host == "a" else self.db_url
            brokers = [f"tcp://127.0.0.1:{BROKER_PORT}"] if host == "a" else self.brokers
            w = WorkerHost(self.net, host, os.path.join(self.dir, tag), self.build, [self.app],
                           brokers, url, n, {"HEARTBEAT_MS": "500"})
            w.up()
            self.hosts.append(w)
        want = sum(split.values())
        wait_for(f"{want} workers", lambda: (self.app.status(f"tcp://127.0.0.1:{BROKER_PORT}")
                                             or {}).get("workers", -1) == want, 30, 0.2)
        running = sum(len(pids_of(h.env["VAR_DIR"], "worker-")) for h in self.hosts)
        if running != want:                        # else their CPU would be counted wrong
            raise RuntimeError(f"{running} worker pid files for {want} workers")

    def worker_cpu(self):
        return sum(ticks(p) for h in self.hosts for p in pids_of(h.env["VAR_DIR"], "worker-"))

    def app_cpu(self):
        return sum(ticks(p) for p in pids_of(self.app.env["VAR_DIR"], ""))

    def one_run(self):
        self.db.rows("UPDATE tickets SET deleted_at = NULL WHERE deleted_at IS NOT NULL")
        self.db.rows("VACUUM ANALYZE tickets")
        self.db.rows("CHECKPOINT")
        if self.api.token is None:
            self.api.login()
        before = (pg_cpu(self.postmaster), self.worker_cpu(), self.app_cpu())
        t0 = time.time()
        job = self.api.create_job(self.ids)
        deadline = time.monotonic() + 600
        while True:
            status, finished = self.db.one("SELECT status, extract(epoch FROM finished_at) "
                                           "FROM jobs WHERE id = %s", job)
            if status in ("completed", "failed", "canceled") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        after = (pg_cpu(self.postmaster), self.worker_cpu(), self.app_cpu())
        if status != "completed":
            raise RuntimeError(f"job {job} is {status}")
        wall = float(finished) - t0
        pg, wk, app = (a - b for a, b in zip(after, before))
        return {"wall": wall, "pg": pg, "worker": wk, "app": app, "load": load()}


def load():
    return float(open("/proc/loadavg").read().split()[0])


def point(bench, n, where):
    split = {"a": n} if where == "local" else SPLIT[n]
    bench.workers_on(split, f"{where}{n}")
    runs = [bench.one_run() for _ in range(RUNS)]
    m = {k: median([r[k] for r in runs]) for k in runs[0]}
    m.update(rate=ITEMS / m["wall"], pg_share=m["pg"] / m["wall"] / CORES,
             us_worker=m["worker"] / ITEMS * 1e6, us_pg=m["pg"] / ITEMS * 1e6,
             walls=[round(r["wall"], 2) for r in runs], loads=[r["load"] for r in runs])
    print(f"  {where} N={n}: {m['rate']:.0f} items/s (walls {m['walls']} s), PostgreSQL "
          f"{m['pg']:.2f} CPU s ({m['pg_share']:.0%} of {CORES} cores), workers "
          f"{m['worker']:.2f} CPU s, broker+edge+hub {m['app']:.2f} CPU s, loads {m['loads']}",
          flush=True)
    return m


def rows(points):
    for n in COUNTS:
        r, l = points[("remote", n)], points[("local", n)]
        split = " + ".join(f"{k.upper()}:{v}" for k, v in SPLIT[n].items())
        result("P10", f"bulk delete {ITEMS:,} tickets, {n} remote worker(s) ({split}, veth, CURVE)",
               f"{r['rate']:.0f} items/s; PG CPU {r['pg_share']:.0%}", 
               f"{n} local: {l['rate']:.0f} items/s; PG CPU {l['pg_share']:.0%}",
               f"{r['rate'] / l['rate']:.2f}x", "report", True,
               f"median of {RUNS}; walls remote {r['walls']} local {l['walls']} s; CPU per item: PG "
               f"{r['us_pg']:.0f}/{l['us_pg']:.0f} us, worker {r['us_worker']:.1f}/"
               f"{l['us_worker']:.1f} us (remote/local); 1-min loads {r['loads'] + l['loads']}"
               + ("; TAKEN UNDER LOAD" if max(r["loads"] + l["loads"]) > 1.5 else ""),
               [COMMAND])
    # PostgreSQL's cost per item grows with the backends at work at once, so the model
    # takes it where the most workers ran: what a bigger host with more workers meets.
    top = points[("remote", max(COUNTS))]
    k_pg = ITEMS / top["pg"]
    every = list(points.values())
    k_pgs = [ITEMS / p["pg"] for p in every]
    k_w = median([ITEMS / max(p["worker"], 1 / TICK) for p in every])
    k_app = median([ITEMS / max(p["app"], 1 / TICK) for p in every])
    result("P10", "model: items/s ~ min(k_pg x PG cores, k_w x worker cores)",
           f"k_pg {k_pg:.0f}, k_w {k_w:.0f} items per CPU s", "-", "-", "report", True,
           f"k_pg at {max(COUNTS)} remote workers (all points: {min(k_pgs):.0f}-{max(k_pgs):.0f}); "
           f"k_w the median of all points; broker+edge+hub {k_app:.0f} items per CPU s; "
           f"CPU time from /proc in ticks of 1/{TICK} s", [COMMAND])


def main():
    if "SCALE_TAG" not in os.environ:
        return outside()
    bench = Bench()
    print(f"== P10: {ITEMS} tickets, {RUNS} run(s) per point, workers {COUNTS}", flush=True)
    points = {}
    for n in COUNTS:
        for where in ("remote", "local"):
            points[(where, n)] = point(bench, n, where)
    rows(points)
    return 0


if __name__ == "__main__":
    sys.exit(main())

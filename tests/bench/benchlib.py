"""Helpers shared by the benchmark scripts (tests/bench/p*.py). run.sh starts the system and
exports its settings; these read them from the environment."""
import base64, hashlib, hmac, json, os, statistics, subprocess, sys, time, uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import http_request  # noqa: E402
ENV = os.environ
PORT = int(ENV.get("PORT", "3001"))
WS_PORT = int(ENV.get("WS_PORT", "3002"))
BUILD = os.path.join(ROOT, ENV.get("BENCH_BUILD", "build"))
RUNS = int(ENV.get("BENCH_RUNS", "3"))
CPU = ENV.get("LOADGEN_CPU", "1")


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def admin_id():
    return psql("SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1")


def token(sub=None, role="admin", ttl=3600 * 4):
    sub = sub or admin_id()
    now = int(time.time())
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64(json.dumps({"sub": sub, "role": role, "iat": now, "exp": now + ttl}).encode())
    sig = hmac.new(ENV["JWT_SECRET"].encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(sig)}"


def psql(sql, *args):
    r = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", *args], input=sql,
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr}")
    return r.stdout.strip()


def psql_timed(sql):
    """Wall time of one statement in psql's own \\timing (server round trip, no startup)."""
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], input="\\timing on\n" + sql,
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr}")
    ms = [float(l.split()[1]) for l in r.stdout.splitlines() if l.startswith("Time:")]
    return ms[-1] / 1000.0


def request(method, path, body=None, tok=None, raw=None, timeout=120):
    headers = {"Content-Type": "application/json"} if raw is not None else None
    status, _, text = http_request(PORT, method, path, body, tok, headers, raw, timeout)
    return status, (json.loads(text) if text else None)


def ticket_ids(n, offset=0):
    out = psql(f"SELECT id FROM tickets ORDER BY id LIMIT {n} OFFSET {offset}")
    return out.split()


def undelete(ids_sql="TRUE"):
    """Puts the tickets back as the seed left them, then vacuums, so every run starts alike."""
    psql(f"UPDATE tickets SET deleted_at = NULL WHERE deleted_at IS NOT NULL AND {ids_sql}")
    psql("VACUUM ANALYZE tickets")
    psql("CHECKPOINT")


def job_body(ids):
    return json.dumps({"type": "bulk-delete", "payload": {"ticketIds": ids}}).encode()


def pids():
    run = os.path.join(ENV["VAR_DIR"], "run")
    out = {}
    for f in sorted(os.listdir(run)):
        if f.endswith(".pid"):
            try:
                out[f[:-4]] = int(open(os.path.join(run, f)).read().strip())
            except (OSError, ValueError):
                pass
    return out


def _proc_kb(pid, name, key):
    """A "Key: N kB" line of /proc/PID/<name>; 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid):
    return _proc_kb(pid, "status", "VmRSS:")


def pss_kb(pid):
    """Proportional set size: shared library pages split among the processes that map them."""
    return _proc_kb(pid, "smaps_rollup", "Pss:")


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def median(values):
    return statistics.median(values) if values else float("nan")


def load():
    return open("/proc/loadavg").read().split()[0]


def result(id_, measure, value, baseline, ratio, target, met, detail="", commands=()):
    """One table row, appended to BENCH_RESULTS for report.py; also printed."""
    row = {"id": id_, "measure": measure, "value": value, "baseline": baseline, "ratio": ratio,
           "target": target, "met": met, "detail": detail, "commands": list(commands),
           "load": load()}
    print(f"  {id_}: {measure}: {value} | baseline {baseline} | ratio {ratio} | target {target}"
          f" | {'met' if met else 'NOT met'} {detail}", flush=True)
    path = ENV.get("BENCH_RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")


def wrk(url, conns=64, secs=10, tok=None, threads=1, cpu=None):
    """wrk pinned to the load-generator core: (requests/s, p50 ms, p99 ms, non-2xx)."""
    cmd = ["taskset", "-c", cpu or CPU, "wrk", "-t", str(threads), "-c", str(conns), "-d",
           f"{secs}s", "--latency", "-s", os.path.join(ROOT, "tests/bench/wrk_report.lua"), url]
    if tok:
        cmd[1:1] = []
        cmd += ["-H", f"Authorization: Bearer {tok}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
    rps = p50 = p99 = float("nan")
    bad = 0
    for line in r.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            rps = float(line.split()[1])
        if line.startswith("BENCH "):
            _, a, b, c = line.split()
            p50, p99, bad = float(a), float(b), int(c)
        if "Non-2xx" in line:
            bad = int(line.split()[-1])
    return rps, p50, p99, bad, " ".join(cmd)


def job_until_final(tok, body=None, raw=None):
    """POST /api/jobs and wait on a WebSocket for that job's final event: (seconds from the
    POST to the event, seconds the POST took, the final event's data). Raises unless the
    job completed."""
    import websocket
    ws = websocket.create_connection(f"ws://127.0.0.1:{WS_PORT}/ws?token={tok}", timeout=900,
                                     suppress_origin=True)
    t0 = time.perf_counter()
    st, job = request("POST", "/api/jobs", body=body, raw=raw, tok=tok, timeout=600)
    t_post = time.perf_counter() - t0
    if st != 202:
        raise RuntimeError(f"POST /api/jobs: {st} {job}")
    while True:
        msg = json.loads(ws.recv())
        if msg["data"]["id"] == job["id"] and msg["event"] in ("jobs:completed", "jobs:failed",
                                                               "jobs:canceled"):
            break
    t = time.perf_counter() - t0
    ws.close()
    if msg["event"] != "jobs:completed":
        raise RuntimeError(f"job ended {msg}")
    return t, t_post, msg["data"]

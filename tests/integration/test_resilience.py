"""Processes die; requests are still answered, and ./manage.sh brings the system back."""
import signal
import subprocess
import threading
import time
import uuid

from conftest import error_of


def hammer(system, token, seconds, results, path="/api/tickets?limit=5", per_second=100):
    """GETs for seconds, at most per_second of them: eight threads stay under one user's
    RATE_LIMIT_PER_USER (1000/s), whose 429s are answers but not what is tested here."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        t0 = time.time()
        try:
            status, _, body = system.request("GET", path, token=token, timeout=15)
            results.append((status, body))
        except OSError as e:
            results.append(("dropped", repr(e)))
        time.sleep(max(0.0, 1.0 / per_second - (time.time() - t0)))


def both_workers_back(system, seconds=15):
    _, _, health = system.wait_healthy()
    deadline = time.time() + seconds
    while health["workers"] < 2 and time.time() < deadline:
        time.sleep(0.2)
        _, _, health = system.request("GET", "/api/health")
    assert health["workers"] == 2, health


def test_worker_sigkilled_under_load_loses_no_request(system, agent_token):
    results = []
    threads = [threading.Thread(target=hammer, args=(system, agent_token, 3.0, results))
               for _ in range(8)]
    for th in threads:
        th.start()
    time.sleep(1.0)
    system.kill("worker-1", signal.SIGKILL)
    for th in threads:
        th.join()
    bad = [r for r in results if r[0] != 200]
    assert results and not bad, f"{len(bad)} of {len(results)} not 200: {bad[:5]}"
    system.manage("up")
    both_workers_back(system)


def test_with_no_worker_a_request_is_503_at_once_not_504_after_the_timeout(system, agent_token):
    """docs/API.md: 503 service_unavailable when no worker offers the service. The broker
    used to queue the request for its whole ttl, so the client waited 10 s for a 504."""
    try:
        for name in ("worker-1", "worker-2"):
            system.kill(name, signal.SIGKILL)
        # Before the broker notices, health cannot tell how the database is: "unknown",
        # never "down" (which only a worker that cannot reach PostgreSQL says).
        status, _, body = system.request("GET", "/api/health", timeout=15)
        assert status == 503 and body["db"] == "unknown", (status, body)
        # Within BROKER_UNOFFERED_MS (3 s) of the broker noticing, a request still waits;
        # the broker notices a SIGKILLed worker within its heartbeat liveness (4 s).
        deadline = time.time() + 20
        while True:
            t0 = time.time()
            status, headers, body = system.request("GET", "/api/tickets?limit=1",
                                                   token=agent_token, timeout=15)
            took = time.time() - t0
            if status == 503 and took < 1.0:
                break
            assert status in (503, 504), (status, body)
            assert time.time() < deadline, f"still {status} after {took:.1f} s: {body}"
        assert error_of(body)["code"] == "service_unavailable", body
        assert headers.get("retry-after") == "1", headers
        status, _, body = system.request("POST", "/api/auth/login",
                                         {"email": system.agent[0], "password": system.agent[1]})
        assert status == 503 and error_of(body)["code"] == "service_unavailable", (status, body)
        # A login no worker could check is given back to the limiter (20 a minute per
        # address and e-mail): retrying through an outage never ends in 429.
        email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
        for _ in range(25):
            status, _, body = system.request("POST", "/api/auth/login",
                                             {"email": email, "password": "x"})
            assert status == 503, (status, body)
    finally:
        system.manage("up")
    both_workers_back(system)
    assert system.request("GET", "/api/tickets?limit=1", token=agent_token)[0] == 200
    status, _, body = system.request("POST", "/api/auth/login", {"email": email, "password": "x"})
    assert status == 401 and error_of(body)["code"] == "invalid_credentials", (status, body)


def test_database_down_gives_503_then_recovers(system, agent_token):
    pgdata = f"{system.env['VAR_DIR']}/pg/data"
    stop = ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", pgdata, "-m", "fast", "-w", "stop"]
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        stop = ["runuser", "-u", "postgres", "--"] + stop
    subprocess.run(stop, check=True, capture_output=True, timeout=60)
    try:
        status, _, body = system.request("GET", "/api/tickets?limit=1", token=agent_token)
        assert status == 503, f"expected 503 with the database down, got {status} {body}"
        assert error_of(body)["code"] == "database_unavailable"
        status, _, body = system.request("GET", "/api/health")
        assert status == 503 and body["db"] == "down", body
    finally:
        system.manage("up")
    deadline = time.time() + 15
    status = None
    while time.time() < deadline:
        status, _, body = system.request("GET", "/api/tickets?limit=1", token=agent_token)
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200, f"workers did not reconnect to PostgreSQL: {status}"


def test_broker_down_gives_503_fast_and_recovers(system, agent_token):
    system.kill("broker", signal.SIGKILL)
    time.sleep(3.5)  # the edge notices within 3 s of silence
    t0 = time.time()
    status, _, body = system.request("GET", "/api/tickets?limit=1", token=agent_token)
    assert status == 503, f"expected 503 with the broker down, got {status} {body}"
    assert time.time() - t0 < 2, "a down broker is answered at once, not after a timeout"
    status, _, body = system.request("GET", "/api/health")
    assert status == 503 and body["broker"] != "ok", body
    system.manage("up")
    system.wait_healthy()
    deadline = time.time() + 10
    while time.time() < deadline:
        status, _, _ = system.request("GET", "/api/tickets?limit=1", token=agent_token)
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200


def test_manage_up_twice_touches_nothing_that_runs(system):
    before = {n: system.pid(n) for n in ("broker", "worker-1", "worker-2", "http-edge")}
    assert all(before.values()), before
    r = system.manage("up")
    after = {n: system.pid(n) for n in before}
    assert before == after, r.stdout
    assert "started" not in r.stdout


def test_sigterm_stops_every_process_with_exit_zero(system):
    # Each actor exits 0 on SIGTERM; manage.sh down sends it. Checked through the logs'
    # absence of SIGKILL escalation and the processes being gone.
    r = system.manage("down")
    assert "SIGKILL" not in r.stdout, r.stdout
    for n in ("broker", "worker-1", "worker-2", "http-edge"):
        assert system.pid(n) is None, f"{n} still running after down"
    system.manage("up")
    system.wait_healthy()


def test_every_binary_exits_zero_on_sigterm(system):
    """Each actor, started as our own child beside the running system (on ports of its
    own), stops taking work on SIGTERM, hands back or finishes what it holds, exits 0."""
    from conftest import ROOT, BUILD_DIR, free_ports
    import os
    port, web, ws, broker, pub, sub = free_ports(6)
    env = dict(system.env, PORT=str(port), WEB_PORT=str(web), WS_PORT=str(ws),
               HUB_PUB_ENDPOINT=f"tcp://127.0.0.1:{pub}", HUB_SUB_ENDPOINT=f"tcp://127.0.0.1:{sub}")
    with open(system.env["ENV_FILE"]) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key in ("JWT_SECRET", "DB_PASSWORD"):
                env[key] = value
    cases = {
        "broker": dict(env, BROKER_ENDPOINT=f"tcp://127.0.0.1:{broker}"),
        "worker": env,                      # joins the running broker
        "http-edge": env,
        "progress-hub": env,
    }
    for name, e in cases.items():
        exe = os.path.join(ROOT, BUILD_DIR, "bin", name)
        proc = subprocess.Popen([exe], env=e, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)
            assert proc.poll() is None, f"{name} exited early: {proc.stderr.read()}"
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert rc == 0, f"{name} exited {rc} on SIGTERM: {proc.stderr.read()[-2000:]}"


def _policies(pid):
    """The scheduling policy of each thread of a process, by thread id."""
    import os
    return {int(t): os.sched_getscheduler(int(t)) for t in os.listdir(f"/proc/{pid}/task")}


def test_every_process_and_each_of_its_threads_runs_under_sched_batch(system):
    """SCHED_BATCH (common/sched.h) is what lets one wake-up of a hop serve several
    requests: it must cover the libzmq I/O threads too, which start after main set it."""
    import os
    for name in ("broker", "worker-1", "worker-2", "http-edge", "progress-hub"):
        pid = system.pid(name)
        assert pid, f"{name} is not running"
        policies = _policies(pid)
        assert len(policies) >= 2, f"{name}: expected its libzmq I/O thread beside main"
        assert set(policies.values()) == {os.SCHED_BATCH}, f"{name}: {policies}"


def test_sched_policy_normal_keeps_the_default_and_a_bad_value_is_refused(system):
    from conftest import ROOT, BUILD_DIR, free_ports
    import os
    (broker,) = free_ports(1)
    exe = os.path.join(ROOT, BUILD_DIR, "bin", "broker")
    env = dict(system.env, BROKER_ENDPOINT=f"tcp://127.0.0.1:{broker}")
    r = subprocess.run([exe], env=dict(env, SCHED_POLICY="fifo"), capture_output=True,
                       text=True, timeout=15)
    assert r.returncode == 1 and "event=bad_config var=SCHED_POLICY" in r.stderr, \
        f"SCHED_POLICY=fifo: expected exit 1 with bad_config, got {r.returncode}: {r.stderr}"
    proc = subprocess.Popen([exe], env=dict(env, SCHED_POLICY="normal"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while len(_policies(proc.pid)) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        policies = _policies(proc.pid)
        assert len(policies) >= 2 and set(policies.values()) == {os.SCHED_OTHER}, policies
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        proc.stderr.close()


def test_max_job_items_beyond_one_frame_is_refused_at_start(system):
    """A job's ids cross ZeroMQ as one frame of 16 bytes each, and every MDP socket drops a
    peer sending a frame over 64 MiB: MAX_JOB_ITEMS above 4,000,000 would let a valid job
    cut the edge off the broker. The edge and the worker refuse it at start, naming it."""
    from conftest import ROOT, BUILD_DIR, free_ports
    import os
    port, web, broker = free_ports(3)
    env = dict(system.env, PORT=str(port), WEB_PORT=str(web),
               BROKER_ENDPOINT=f"tcp://127.0.0.1:{broker}", JWT_SECRET="s" * 40,
               DB_PASSWORD="unused", MAX_JOB_ITEMS="4000001")
    for name in ("http-edge", "worker"):
        run = subprocess.run([os.path.join(ROOT, BUILD_DIR, "bin", name)], env=env,
                             capture_output=True, text=True, timeout=10)
        assert run.returncode == 1, (name, run.returncode, run.stderr[-500:])
        assert "var=MAX_JOB_ITEMS" in run.stderr and "4000000" in run.stderr, run.stderr[-500:]

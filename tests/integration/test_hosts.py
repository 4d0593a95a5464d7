"""Several hosts from one checkout's tools: binds other hosts can reach need CurveZMQ, a
worker-only host (./manage.sh up --role worker) joins another host's broker with a key of
its own, an app host may run no workers, and the private PostgreSQL admits the networks
DB_ALLOW_NETWORKS names. The "other host" is a second tree on this machine: its own VAR_DIR
and .env, reaching the session's system over TCP as a remote host would.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, BUILD_DIR, free_ports


def binary(name):
    return os.path.join(ROOT, BUILD_DIR, "bin", name)


def secrets(system):
    out = {}
    with open(system.env["ENV_FILE"]) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key in ("JWT_SECRET", "DB_PASSWORD"):
                out[key] = value
    return out


def start_and_stop(exe, env):
    """Starts exe; returns (exit code, stderr): its own when it refused to start, else 0
    after a SIGTERM a second later."""
    proc = subprocess.Popen([exe], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        rc = proc.wait(timeout=1.5)
        return rc, proc.stderr.read()
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=15)
        return (0 if rc == 0 else 100 + rc), proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("exe, var", [("broker", "BROKER_BIND"), ("progress-hub", "HUB_PUB_BIND"),
                                      ("progress-hub", "HUB_SUB_BIND")])
def test_a_bind_other_hosts_can_reach_needs_curve(system, exe, var):
    port, web, ws, broker, pub, sub = free_ports(6)
    env = dict(system.env, **secrets(system), PORT=str(port), WEB_PORT=str(web), WS_PORT=str(ws),
               BROKER_ENDPOINT=f"tcp://127.0.0.1:{broker}", HUB_PUB_ENDPOINT=f"tcp://127.0.0.1:{pub}",
               HUB_SUB_ENDPOINT=f"tcp://127.0.0.1:{sub}")
    for k in ("CURVE_SERVER_CERT", "CURVE_ALLOW_DIR", "CURVE_CLIENT_CERT", "CURVE_SERVER_KEY"):
        env.pop(k, None)
    own = {"BROKER_BIND": broker, "HUB_PUB_BIND": pub, "HUB_SUB_BIND": sub}[var]
    wide = dict(env, **{var: f"tcp://0.0.0.0:{own}"})
    rc, err = start_and_stop(binary(exe), wide)
    assert rc == 1 and f"var={var}" in err and "CurveZMQ" in err, (rc, err[-600:])
    rc, err = start_and_stop(binary(exe), dict(wide, ZMQ_INSECURE_BIND="yes"))
    assert rc == 0, (rc, err[-600:])
    rc, err = start_and_stop(binary(exe), dict(env, **{var: f"tcp://127.0.0.1:{own}"}))
    assert rc == 0, (rc, err[-600:])
    curve = dict(wide, CURVE_SERVER_CERT=os.path.join(system.curve_dir, "server_secret"),
                 CURVE_ALLOW_DIR=os.path.join(system.curve_dir, "allow"))
    if exe == "progress-hub":
        curve.update(CURVE_CLIENT_CERT=os.path.join(system.curve_dir, "edge_secret"),
                     CURVE_SERVER_KEY=os.path.join(system.curve_dir, "server"))
    rc, err = start_and_stop(binary(exe), curve)
    assert rc == 0, (rc, err[-600:])


@pytest.fixture
def worker_host(system):
    """A second tree that is a worker-only host of the session's system; removed after,
    with the key it had admitted."""
    root = tempfile.mkdtemp(prefix="ticketd-workerhost-")
    os.chmod(root, 0o755)
    admitted = os.path.join(system.curve_dir, "allow", "worker-host-test")
    env = {k: v for k, v in system.env.items() if k not in ("DB_PORT", "WORKERS")}
    env.update(VAR_DIR=os.path.join(root, "var"), ENV_FILE=os.path.join(root, ".env"),
               PORT="1", WEB_PORT="2", WS_PORT="3", WORKERS="1",
               DATABASE_URL=f"postgresql://ticketd:{system.db_password()}@127.0.0.1:"
                            f"{system.db_port}/ticketd")

    def manage(*args, check=True):
        r = subprocess.run([os.path.join(ROOT, "manage.sh"), *args], env=env, cwd=ROOT,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        if check:
            assert r.returncode == 0, f"{args}: {r.stdout}\n{r.stderr}"
        return r
    try:
        yield root, env, manage, admitted
    finally:
        manage("down", check=False)
        if os.path.exists(admitted):
            os.unlink(admitted)
        shutil.rmtree(root, ignore_errors=True)
        system.ensure_up()


def broker_status(system):
    r = subprocess.run([binary("ticketd-status"), "--json", "--env", "none"],
                       env=system.client_env("tool"), capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_worker_host_joins_with_a_key_of_its_own_and_serves(system, admin_token, worker_host):
    root, env, manage, admitted = worker_host
    curve = os.path.join(root, "var", "curve")
    # Without the app host's public key it cannot talk to the broker: said, after making
    # this host's own worker key.
    r = manage("up", "--role", "worker", check=False)
    assert r.returncode != 0 and "needs the app host's public server key" in r.stderr, r.stderr
    assert "copy" in r.stdout and os.path.exists(os.path.join(curve, "worker_secret")), r.stdout
    shutil.copy(os.path.join(system.curve_dir, "server"), os.path.join(curve, "server"))
    shutil.copy(os.path.join(curve, "worker"), admitted)        # the app host admits it
    before = broker_status(system)["workers"]
    r = manage("up")                                            # ROLE=worker was kept
    assert "1 worker(s) up" in r.stdout, r.stdout
    t = time.time()                                             # already up: at once
    assert "1 worker(s) up" in manage("up").stdout and time.time() - t < 15
    with open(env["ENV_FILE"]) as f:
        assert "ROLE=worker\n" in f.read()
    deadline = time.time() + 10
    while broker_status(system)["workers"] < before + 1 and time.time() < deadline:
        time.sleep(0.1)
    assert broker_status(system)["workers"] == before + 1
    # Only the worker host's worker left: it answers the API.
    for name in ("worker-1", "worker-2"):
        system.kill(name, signal.SIGTERM)
    ticket = system.psql("SELECT id FROM tickets WHERE deleted_at IS NULL LIMIT 1")
    status, _, body = system.request("GET", f"/api/tickets/{ticket}", token=admin_token)
    assert status == 200 and body["id"] == ticket, (status, body)
    r = manage("status")
    assert "worker-1" in r.stdout and "running" in r.stdout and "health:" not in r.stdout, r.stdout
    manage("down")
    assert "stopped" in manage("status").stdout


def test_roles_and_worker_counts_are_checked(system):
    def status(**extra):
        return subprocess.run([os.path.join(ROOT, "manage.sh"), "status"],
                              env=dict(system.env, **extra), cwd=ROOT, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
    r = status(WORKERS="0")
    # Its own process lines only: the broker's list below them names the running workers.
    assert r.returncode == 0 and not re.search(r"^worker-1 ", r.stdout, re.M) \
        and re.search(r"^http-edge ", r.stdout, re.M), r.stdout
    r = status(ROLE="workers")
    assert r.returncode != 0 and "ROLE must be all or worker" in r.stderr, r.stderr
    r = status(ROLE="worker", WORKERS="0")
    assert r.returncode != 0 and "from 1 to 64" in r.stderr, r.stderr
    r = status(ROLE="worker", DB_HOST="127.0.0.1")
    assert r.returncode != 0 and "runs no database" in r.stderr, r.stderr


def hba_networks(system):
    return system.psql("SELECT coalesce(string_agg(address || '/' || netmask, ',' ORDER BY line_number), '')"
                       " FROM pg_hba_file_rules WHERE address NOT IN ('127.0.0.1', '::1')")


def test_db_allow_networks_admit_those_networks_and_go_when_removed(system):
    try:
        system.env["DB_ALLOW_NETWORKS"] = "10.11.0.0/16,192.168.7.0/24"
        system.manage("migrate")
        assert hba_networks(system) == "10.11.0.0/255.255.0.0,192.168.7.0/255.255.255.0"
        rules = system.psql("SELECT DISTINCT auth_method FROM pg_hba_file_rules "
                            "WHERE address LIKE '10.11.%'")
        assert rules == "scram-sha-256"
        system.env["DB_ALLOW_NETWORKS"] = "10.11.0.0/33"
        r = system.manage("migrate", check=False)
        assert r.returncode != 0 and "DB_ALLOW_NETWORKS must be CIDRs" in r.stderr, r.stderr
        system.env["DB_ALLOW_NETWORKS"] = ""
        system.env["DB_LISTEN_ADDRESSES"] = "127.0.0.1,127.0.0.2"
        r = system.manage("migrate")
        assert "listens on 127.0.0.1, not DB_LISTEN_ADDRESSES=127.0.0.1,127.0.0.2" in r.stdout, r.stdout
        assert hba_networks(system) == ""
    finally:
        system.env.pop("DB_ALLOW_NETWORKS", None)
        system.env.pop("DB_LISTEN_ADDRESSES", None)
        system.manage("migrate")

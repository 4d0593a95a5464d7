"""Simulated hosts for tests/scale: one Linux network namespace per host, each joined by a
veth pair to a bridge that lives in a namespace of its own, so nothing of the test is ever
in the machine's own network (no address, no route, no interface). Every name starts with
the run's tag (SCALE_TAG): tests/scale/run.sh removes whatever carries it, even after a
failure.

Hosts A and B: app hosts by ./manage.sh with WORKERS=0 (a broker, a hub, an edge each); A
also runs PostgreSQL (the private cluster, listening on A's address for the subnet), which
B and the worker hosts reach over TCP. Worker hosts: ./manage.sh up --role worker from a
folder of their own (VAR_DIR, ENV_FILE), with a worker key of their own admitted by
copying its public half into both app hosts' allow folders. That is docs/OPERATIONS.md's
three-host layout, with the database host folded into A.

The checker runs inside host A (run.sh enters it first), so its HTTP and SQL go to A's
loopback; every other host is reached with `ip netns exec`.
"""
import ctypes
import json
import os
import shutil
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUBNET = "10.77.0"
ADDRESS = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
BROKER_PORT, HUB_PUB_PORT, HUB_SUB_PORT, DB_PORT, API_PORT = 5555, 5556, 5557, 5433, 3001
CLONE_NEWNET = 0x40000000


def addr(host):
    return f"{SUBNET}.{ADDRESS[host]}"


def sh(*cmd, timeout=120, check=True, env=None, capture=True):
    r = subprocess.run(list(cmd), env=env, capture_output=capture, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def clean_env(**extra):
    """This machine's environment without any ticketd setting (none may leak in), plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DB_", "PG", "SEED_", "JWT_", "BROKER_", "HUB_", "CURVE", "CHUNK_"))
           and k not in ("DATABASE_URL", "PORT", "WEB_PORT", "WS_PORT", "WORKERS", "ROLE",
                         "VAR_DIR", "ENV_FILE", "WORKER_NAME", "HEARTBEAT_MS", "LOG_LEVEL")}
    env.update(extra)
    return env


class Net:
    """The bridge and the hosts' links. Namespaces are named TAG + host, the bridge's
    TAG + "br"; a host's link is eth0 inside it and TAG + host on the bridge's side."""

    def __init__(self, tag):
        self.tag = tag
        self.bridge_ns = tag + "br"

    def ns(self, host):
        return self.tag + host

    def port(self, host):
        return self.tag + host

    def create_bridge(self):
        sh("ip", "netns", "add", self.bridge_ns)
        sh("ip", "-n", self.bridge_ns, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.bridge_ns, "link", "set", "br0", "up")

    def add_host(self, host):
        ns = self.ns(host)
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.bridge_ns, "link", "add", self.port(host), "type", "veth",
           "peer", "name", "eth0", "netns", ns)
        sh("ip", "-n", ns, "addr", "add", f"{addr(host)}/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.bridge_ns, "link", "set", self.port(host), "master", "br0", "up")

    def link(self, host, up):
        """The host's cable: its port on the bridge, down or up. The host keeps its address
        and sees only its carrier go; the others see it fall silent."""
        sh("ip", "-n", self.bridge_ns, "link", "set", self.port(host), "up" if up else "down")

    def enter(self, host):
        """This process (single-threaded still) joins host's network namespace; threads and
        children it starts from here on live there too. Its mount namespace stays the
        machine's, so `ip netns` commands keep seeing every namespace of the run."""
        libc = ctypes.CDLL(None, use_errno=True)
        with open(f"/run/netns/{self.ns(host)}") as f:
            if libc.setns(f.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {self.ns(host)}")

    def exec_prefix(self, host):
        return ["ip", "netns", "exec", self.ns(host)]


class AppHost:
    """An app host by ./manage.sh, WORKERS=0: a broker, a hub and an edge, each bound for
    the subnet (CurveZMQ on). Host A (db=None) also runs the private PostgreSQL, listening
    on A's address for the subnet; host B uses A's by DATABASE_URL, with a copy of A's
    var/curve (one server certificate for every broker and hub, the same allowed keys) and
    A's JWT_SECRET (a token from either edge holds at both). The edge is given
    BROKER_ENDPOINTS, its own host's broker first."""

    def __init__(self, net, host, workdir, build, settings, brokers, db=None, first=None):
        self.net, self.host = net, host
        self.dir = os.path.join(workdir, host)
        os.makedirs(self.dir)
        mine = f"tcp://127.0.0.1:{BROKER_PORT}"
        self.env = clean_env(
            VAR_DIR=os.path.join(self.dir, "var"), ENV_FILE=os.path.join(self.dir, ".env"),
            BUILD_DIR=build, SKIP_BUILD="1", WORKERS="0", PORT=str(API_PORT),
            BIND_ADDRESS="0.0.0.0",
            BROKER_ENDPOINT=mine, BROKER_BIND=f"tcp://0.0.0.0:{BROKER_PORT}",
            BROKER_ENDPOINTS=",".join([mine] + [b for b in brokers if addr(host) not in b]),
            HUB_PUB_ENDPOINT=f"tcp://127.0.0.1:{HUB_PUB_PORT}",
            HUB_PUB_BIND=f"tcp://0.0.0.0:{HUB_PUB_PORT}",
            HUB_SUB_ENDPOINT=f"tcp://127.0.0.1:{HUB_SUB_PORT}", SEED_TICKETS="200", **settings)
        if db is None:
            self.env.update(DB_PORT=str(DB_PORT), DB_LISTEN_ADDRESSES=f"127.0.0.1,{addr(host)}",
                            DB_ALLOW_NETWORKS=f"{SUBNET}.0/24")
        else:
            self.env.update(DATABASE_URL=db, JWT_SECRET=first.secret("JWT_SECRET"))
            shutil.copytree(first.curve, self.curve)

    def manage(self, *args, timeout=300):
        return sh(*self.net.exec_prefix(self.host), os.path.join(ROOT, "manage.sh"), *args,
                  env=self.env, timeout=timeout)

    @property
    def curve(self):
        return os.path.join(self.env["VAR_DIR"], "curve")

    def secret(self, key):
        with open(self.env["ENV_FILE"]) as f:
            for line in f:
                if line.startswith(key + "="):
                    return line.split("=", 1)[1].strip()
        raise RuntimeError(f"no {key} in {self.env['ENV_FILE']}")

    def pid(self, name):
        try:
            with open(os.path.join(self.env["VAR_DIR"], "run", f"{name}.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def status(self, endpoint):
        """mmi.status of the broker at endpoint, asked from here with the tool key."""
        env = dict(self.env, BROKER_ENDPOINT=endpoint,
                   CURVE_CLIENT_CERT=os.path.join(self.curve, "tool_secret"),
                   CURVE_SERVER_KEY=os.path.join(self.curve, "server"))
        r = sh(os.path.join(self.env["BUILD_DIR"], "bin", "ticketd-status"), "--json",
               "--env", "none", env=env, timeout=10, check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def worker_names(self, endpoint):
        """{name: address} of the workers the broker at endpoint lists; None: no answer."""
        status = self.status(endpoint)
        if status is None:
            return None
        return {w["name"]: w["address"] for w in status.get("workerList", [])}


class WorkerHost:
    """A worker-only host: ./manage.sh up --role worker in its namespace and folder, with
    WORKERS workers registered with every broker of brokers. Its HOSTNAME (host-c) starts
    its workers' names (host-c-worker-1), as a real host's name would."""

    def __init__(self, net, host, workdir, build, app, brokers, db_url, workers, settings):
        self.net, self.host = net, host
        self.dir = os.path.join(workdir, host)
        self.curve = os.path.join(self.dir, "var", "curve")
        os.makedirs(self.curve, mode=0o700)
        self.env = clean_env(
            VAR_DIR=os.path.join(self.dir, "var"), ENV_FILE=os.path.join(self.dir, ".env"),
            BUILD_DIR=build, SKIP_BUILD="1", WORKERS=str(workers),
            BROKER_ENDPOINT=brokers[0], BROKER_ENDPOINTS=",".join(brokers),
            HUB_PUB_ENDPOINT=f"tcp://{addr('a')}:{HUB_PUB_PORT}",
            HUB_PUB_ENDPOINTS=",".join(f"tcp://{addr(h)}:{HUB_PUB_PORT}" for h in "ab"),
            DATABASE_URL=db_url, HOSTNAME=f"host-{host}", **settings)
        # What an operator does once per worker host (docs/OPERATIONS.md): the app hosts'
        # public server key in, this host's worker key made and its public half admitted
        # on every app host.
        shutil.copy(os.path.join(app[0].curve, "server"), os.path.join(self.curve, "server"))
        sh(os.path.join(build, "bin", "ticketd-keygen"), "--role", "worker", "worker", self.curve)
        for allow in [os.path.join(a.curve, "allow") for a in app]:
            shutil.copy(os.path.join(self.curve, "worker"),
                        os.path.join(allow, f"worker-host-{host}"))
        self.workers = workers

    def up(self):
        return sh(*self.net.exec_prefix(self.host), os.path.join(ROOT, "manage.sh"), "up",
                  "--role", "worker", env=self.env, timeout=90)

    def logs(self):
        """{worker name: log path}."""
        logdir = os.path.join(self.env["VAR_DIR"], "log")
        return {f"worker-{i}": os.path.join(logdir, f"worker-{i}.log")
                for i in range(1, self.workers + 1)}

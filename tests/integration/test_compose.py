"""compose.yaml and the Dockerfile, checked without a Docker engine: the file parses, every
service runs the binary ./manage.sh runs with the variables that binary reads, the ZeroMQ
endpoints bind where they must bind and connect where they must connect, the ports are the
.env.example defaults, healthchecks, the named volume, a scalable worker, a migrate step
everything waits for, and Dockerfile steps that name only packages Debian has."""
import functools
import glob
import os
import re
import shlex
import shutil
import subprocess

import yaml

from conftest import ROOT, BUILD_DIR

ACTOR_DIRS = {"broker": "broker", "worker": "workers", "http-edge": "http-edge",
              "progress-hub": "progress-hub"}
APP_SERVICES = ("broker", "worker", "progress-hub", "http-edge")
# Variables compose.yaml reads that no binary does: where the host publishes ports, and the
# images (docs/OPERATIONS.md, "Compose-only settings").
COMPOSE_ONLY = {"ZMQ_PUBLISH_ADDRESS", "DB_PUBLISH_ADDRESS", "BROKER_PORT", "HUB_PUB_PORT",
                "HUB_SUB_PORT", "TAG", "BASE_IMAGE", "POSTGRES_IMAGE"}
# Libraries every bookworm-slim image has.
BASE_PACKAGES = {"libc6", "libcrypt1", "libgcc-s1"}


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=1)
def compose():
    return yaml.safe_load(read("compose.yaml"))


@functools.lru_cache(maxsize=1)
def env_example():
    out = {}
    for line in read(".env.example").splitlines():
        m = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def readme_variables():
    """The variables of README.md's configuration table."""
    names = set()
    for line in read("README.md").splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def interpolate(value, env):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?message} and $$, with env as .env."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1), m.group(2), m.group(3)
        v = env.get(name, "")
        if op == ":-" and not v:
            return arg
        if op == ":?" and not v:
            return f"<{name}>"
        return v
    return re.sub(r"\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}", sub, str(value))


def referenced_variables(node):
    """Every ${VAR} compose.yaml interpolates."""
    text = yaml.safe_dump(node)
    return set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))


def env_of(service):
    """A service's environment, interpolated with .env.example's values."""
    env = compose()["services"][service].get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: interpolate(v, env_example()) for k, v in env.items()}


@functools.lru_cache(maxsize=None)
def variables_read(binary):
    """The environment variables a binary reads: conf_* and getenv calls in its actor folder
    and in common/ (log level) and proto/ (MAX_JOB_ITEMS, read alike by edge and workers),
    the library every binary links, as the sources say."""
    files = glob.glob(os.path.join(ROOT, ACTOR_DIRS[binary], "*.c"))
    files += glob.glob(os.path.join(ROOT, "common", "*.c"))
    files += glob.glob(os.path.join(ROOT, "proto", "*.c"))
    names = set()
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # conf_endpoints names two: the list (BROKER_ENDPOINTS), else the one.
        for pair in re.findall(r'\b(?:conf_int|conf_str|conf_endpoints?|conf_bind|getenv)\s*\(\s*'
                               r'"([A-Z_][A-Z0-9_]*)"(?:\s*,\s*"([A-Z_][A-Z0-9_]*)")?', text):
            names.update(n for n in pair if n)
    return names


def manage_binaries():
    """The binaries ./manage.sh starts (its services() function)."""
    text = read("manage.sh")
    body = re.search(r"^services\(\) \{\n(.*?)^\}", text, re.S | re.M).group(1)
    return set(re.findall(r'echo "[a-z$-]+(?:-\$i)? ([a-z-]+)"', body))


def manage_exports():
    m = re.search(r"^\s*export (PORT .*)$", read("manage.sh"), re.M)
    names = set(m.group(1).split())
    m = re.search(r"^\s*export (DB_HOST .*)$", read("manage.sh"), re.M)
    return names | set(m.group(1).split())


def port_of(endpoint):
    m = re.match(r"^tcp://([^:]+):(\d+)$", endpoint)
    assert m, f"not a tcp endpoint: {endpoint}"
    return m.group(1), int(m.group(2))


# ------------------------------------------------------------------ compose.yaml


def test_compose_yaml_parses_with_the_expected_services():
    services = compose()["services"]
    assert set(services) == {"postgres", "migrate", *APP_SERVICES}, sorted(services)
    assert manage_binaries() == set(APP_SERVICES), manage_binaries()


def test_every_actor_runs_the_binary_manage_sh_runs_without_arguments():
    for name in APP_SERVICES:
        command = compose()["services"][name]["command"]
        if isinstance(command, str):
            command = shlex.split(command)
        assert command == [name], f"{name}: command {command}"
        assert os.path.exists(os.path.join(ROOT, ACTOR_DIRS[name], "main.c"))


def test_every_variable_a_service_sets_is_one_its_binary_reads():
    for name in APP_SERVICES:
        unknown = set(env_of(name)) - variables_read(name)
        assert not unknown, f"{name} sets {sorted(unknown)}, which {name} never reads"


def test_every_setting_manage_sh_passes_is_set_for_the_binaries_that_read_it():
    for name in APP_SERVICES:
        needed = (manage_exports() & variables_read(name)) | ({"LOG_LEVEL"} & variables_read(name))
        missing = needed - set(env_of(name))
        assert not missing, f"{name} reads {sorted(missing)} but compose.yaml does not set them"


def test_compose_uses_only_variables_of_env_example_and_the_readme():
    known = set(env_example()) | readme_variables() | COMPOSE_ONLY
    for b in APP_SERVICES:
        known |= variables_read(b)
    unknown = referenced_variables(compose()) - known
    assert not unknown, f"compose.yaml reads {sorted(unknown)}: add them to .env.example/README"
    # The secrets are required, never defaulted.
    text = read("compose.yaml")
    assert "${JWT_SECRET:?" in text and "${DB_PASSWORD:?" in text


def test_zeromq_endpoints_bind_in_their_owner_and_connect_by_service_name_elsewhere():
    defaults = env_example()
    _, broker_port = port_of(defaults["BROKER_ENDPOINT"])
    _, pub_port = port_of(defaults["HUB_PUB_ENDPOINT"])
    _, sub_port = port_of(defaults["HUB_SUB_ENDPOINT"])
    # broker/broker.c and progress-hub/hub.c bind these; workers and the edge connect.
    assert "zsock_bind (self->router" in read("broker", "broker.c")
    assert 's_connect_hubs (self->pub, hubs)' in read("workers", "outbox.c")
    assert env_of("broker")["BROKER_ENDPOINT"] == f"tcp://*:{broker_port}"
    hub = env_of("progress-hub")
    assert hub["HUB_PUB_ENDPOINT"] == f"tcp://*:{pub_port}"
    assert hub["HUB_SUB_ENDPOINT"] == f"tcp://*:{sub_port}"
    for name in ("worker", "http-edge"):
        assert env_of(name)["BROKER_ENDPOINT"] == f"tcp://broker:{broker_port}", name
    assert env_of("worker")["HUB_PUB_ENDPOINT"] == f"tcp://progress-hub:{pub_port}"


def test_http_listeners_bind_every_interface_inside_the_container():
    assert env_of("http-edge")["BIND_ADDRESS"] == "0.0.0.0"
    assert env_of("progress-hub")["BIND_ADDRESS"] == "0.0.0.0"


def published(service):
    """(host address, host port, container port) of each published port."""
    out = []
    for p in compose()["services"][service].get("ports", []):
        parts = interpolate(p, env_example()).split(":")
        if len(parts) == 2:
            parts = ["0.0.0.0"] + parts
        out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


def test_published_ports_are_the_env_example_defaults_and_match_what_listens():
    d = env_example()
    edge, hub = env_of("http-edge"), env_of("progress-hub")
    assert edge["PORT"] == d["PORT"] and edge["WEB_PORT"] == d["WEB_PORT"]
    assert hub["WS_PORT"] == d["WS_PORT"] == edge["WS_PORT"]
    assert {(h, c) for _, h, c in published("http-edge")} == {
        (int(d["PORT"]), int(d["PORT"])), (int(d["WEB_PORT"]), int(d["WEB_PORT"]))}
    hub_ports = {(h, c) for _, h, c in published("progress-hub")}
    assert (int(d["WS_PORT"]), int(d["WS_PORT"])) in hub_ports
    for var in ("HUB_PUB_ENDPOINT", "HUB_SUB_ENDPOINT"):
        port = port_of(d[var])[1]
        assert (port, port) in hub_ports, var
    port = port_of(d["BROKER_ENDPOINT"])[1]
    assert {(h, c) for _, h, c in published("broker")} == {(port, port)}
    # ZeroMQ has no authentication here: by default only this host may reach it.
    for name in ("broker", "progress-hub"):
        for addr, h, _ in published(name):
            if h != int(d["WS_PORT"]):
                assert addr == "127.0.0.1", f"{name} publishes {h} on {addr}"


def test_every_published_host_port_is_a_variable():
    """Another instance, or anything else on the host, may hold a default port: each one
    can be moved from .env."""
    for name, svc in compose()["services"].items():
        for p in svc.get("ports", []):
            host_port = re.findall(r"\$\{[^}]*\}|[^:]+", p)[-2]
            assert re.fullmatch(r"\$\{[A-Z_]+:-\d+\}", host_port), f"{name}: {p}"


def test_the_image_is_built_once_and_every_actor_runs_it():
    services = compose()["services"]
    builders = [n for n, s in services.items() if "build" in s]
    assert builders == ["migrate"], builders
    images = {services[n]["image"] for n in ("migrate", *APP_SERVICES)}
    assert images == {"ticketd:${TAG:-latest}"}, images
    # Never pulled: no registry has ticketd, and compose would ask one before building.
    for n in ("migrate", *APP_SERVICES):
        assert services[n].get("pull_policy") == "never", n
    # The base and the database images can be swapped for local ones (tests/compose/run.sh).
    assert services["migrate"]["build"]["args"]["BASE_IMAGE"] == "${BASE_IMAGE:-debian:bookworm-slim}"
    assert services["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:15-bookworm}"


def test_compose_only_settings_are_documented_and_listed_in_env_example():
    ops = read("docs", "OPERATIONS.md")
    listed = set(re.findall(r"^#([A-Z_]+)=", read(".env.example"), re.M))
    for var in COMPOSE_ONLY:
        assert f"`{var}`" in ops, f"docs/OPERATIONS.md does not describe {var}"
        assert var in listed, f".env.example does not list {var}"
        assert var in readme_variables(), f"README.md's table does not list {var}"


def test_every_long_running_service_has_a_healthcheck():
    for name, svc in compose()["services"].items():
        if name == "migrate":
            continue
        hc = svc.get("healthcheck")
        assert hc and hc.get("test"), f"{name} has no healthcheck"
        test = hc["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: {test}"


def test_the_database_lives_in_a_named_volume():
    assert "pgdata" in (compose().get("volumes") or {})
    assert "pgdata:/var/lib/postgresql/data" in compose()["services"]["postgres"]["volumes"]
    pg = env_of("postgres")
    assert pg["POSTGRES_DB"] == env_example()["DB_NAME"]
    assert pg["POSTGRES_USER"] == env_example()["DB_USER"]


def test_workers_can_be_scaled():
    worker = compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert interpolate(worker["deploy"]["replicas"], env_example()) == env_example()["WORKERS"]
    env = env_of("worker")
    assert env["DB_HOST"] == "postgres" and env["DB_PORT"] == "5432"
    for var in ("DB_NAME", "DB_USER", "DB_PASSWORD"):
        assert var in env


def test_a_one_shot_migrate_runs_the_migrations_and_seed_before_everything():
    migrate = compose()["services"]["migrate"]
    script = " ".join(migrate["command"]) if isinstance(migrate["command"], list) \
        else migrate["command"]
    assert "/app/sql/migrate.sh" in script and "/app/sql/seed.sql" in script
    # Every variable seed.sql takes is passed: on the command line, or (the passwords, which
    # no command line may carry) in the environment it reads with \getenv.
    seed = read("sql", "seed.sql")
    from_env = dict(re.findall(r"^\\getenv ([a-z_]+) ([A-Z_]+)$", seed, re.M))
    assert set(from_env) == {"admin_password", "agent_password"}, from_env
    seed_vars = set(re.findall(r":'?([a-z_]+)'?", seed)) & {
        "admin_email", "admin_password", "agent_email", "agent_password", "tickets"}
    for v in seed_vars:
        if v in from_env:
            assert from_env[v] in migrate["environment"], from_env[v]
            assert f"-v {v}=" not in script, f"{v} on psql's command line"
        else:
            assert f"-v {v}=" in script, v
    assert migrate.get("restart") == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in APP_SERVICES:
        dep = compose()["services"][name]["depends_on"]
        assert dep["migrate"]["condition"] == "service_completed_successfully", name


def test_docker_compose_config_accepts_the_file_where_docker_compose_exists():
    """Only a real check where the compose plugin is installed; the parse above always runs."""
    docker = shutil.which("docker")
    ok = docker and subprocess.run([docker, "compose", "version"], capture_output=True,
                                   timeout=30).returncode == 0
    if not ok:
        assert compose()["services"]        # parsed above; nothing more to ask here
        return
    env = dict(os.environ, JWT_SECRET="x" * 32, DB_PASSWORD="pw")
    r = subprocess.run([docker, "compose", "-f", os.path.join(ROOT, "compose.yaml"), "config",
                        "-q"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------ Dockerfile


def dockerfiles():
    return sorted(glob.glob(os.path.join(ROOT, "Dockerfile*"))) + \
        sorted(glob.glob(os.path.join(ROOT, "*", "Dockerfile*")))


def stages(path):
    """[(FROM line, [instructions])] with continuation lines joined, and ${ARG} in a FROM
    line replaced by the default an ARG before the first FROM gives it."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"\\\n", " ", f.read())
    out, args = [], {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word = line.split()[0].upper()
        if word == "FROM":
            line = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), line)
            out.append((line, []))
        elif word == "ARG" and not out:
            name, _, default = line.split(None, 1)[1].partition("=")
            args[name] = default
        else:
            assert out, f"{path}: {line} before FROM"
            out[-1][1].append(line)
    return out


def apt_packages(instructions):
    pkgs = []
    for ins in instructions:
        if not ins.upper().startswith("RUN"):
            continue
        for cmd in re.split(r"&&|;", ins[3:]):
            words = cmd.split()
            if "apt-get" in words and "install" in words:
                rest = words[words.index("install") + 1:]
                pkgs += [w for w in rest if not w.startswith("-") and "=" not in w]
    return pkgs


def test_there_is_a_dockerfile_with_a_multi_stage_build_and_a_non_root_bookworm_slim_runtime():
    files = dockerfiles()
    assert files, "no Dockerfile"
    for path in files:
        st = stages(path)
        assert len(st) >= 2, f"{path}: not multi-stage"
        final_from, final = st[-1]
        assert re.match(r"FROM\s+debian:bookworm-slim\b", final_from, re.I), final_from
        users = [i.split(None, 1)[1] for i in final if i.upper().startswith("USER ")]
        assert users and users[-1].split(":")[0] not in ("root", "0"), f"{path}: runs as root"
        assert any(i.upper().startswith("COPY --FROM=") for i in final), "nothing copied from the build"


def ensure_apt_lists():
    lists = glob.glob("/var/lib/apt/lists/*_Packages*")
    if not lists and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=300)
        lists = glob.glob("/var/lib/apt/lists/*_Packages*")
    assert lists, "no apt package lists: run `apt-get update` once (as root)"


def test_every_package_a_dockerfile_installs_exists_in_debian():
    ensure_apt_lists()
    wanted = {}
    for path in dockerfiles():
        for _, instructions in stages(path):
            for pkg in apt_packages(instructions):
                wanted.setdefault(pkg, os.path.basename(path))
    assert wanted, "no apt-get install step found"
    # One apt-cache call: it prints the records it has, and errors for the others.
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", *sorted(wanted)],
                       capture_output=True, text=True, timeout=300)
    known = set(re.findall(r"^Package: (\S+)$", r.stdout, re.M))
    missing = [f"{wanted[p]}: {p}" for p in sorted(wanted) if p not in known]
    assert not missing, f"packages Debian does not have: {missing}"


def test_the_runtime_stage_installs_the_library_of_every_shared_object_the_binaries_need():
    bins = [os.path.join(ROOT, BUILD_DIR, "bin", b) for b in
            (*APP_SERVICES, "ticketd-status")]
    bins = [b for b in bins if os.path.exists(b)]
    assert bins, f"no binaries in {BUILD_DIR}/bin: run make"
    runtime = set(apt_packages(stages(dockerfiles()[0])[-1][1])) | BASE_PACKAGES
    needed = set()
    for b in bins:
        out = subprocess.run(["objdump", "-p", b], capture_output=True, text=True,
                             timeout=60).stdout
        needed.update(re.findall(r"NEEDED\s+(\S+)", out))
    # A `make SAN=1` build also links the sanitizer runtimes, which no image ships.
    needed = {so for so in needed if not so.startswith(("libasan", "libubsan"))}
    r = subprocess.run(["dpkg", "-S", *(f"*/{so}" for so in sorted(needed))],
                       capture_output=True, text=True, timeout=120)
    owners = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^([^:]+):[^:]*: (\S+)$", line)
        if m:
            owners.setdefault(os.path.basename(m.group(2)), set()).add(m.group(1))
    missing = [f"{so} ({', '.join(sorted(owners.get(so, []))) or 'no package'})"
               for so in sorted(needed) if not owners.get(so, set()) & runtime]
    assert not missing, f"the runtime stage lacks: {missing}"


def test_the_build_stage_copies_every_folder_the_makefile_builds_from():
    text = read("Dockerfile")
    build_stage = text.split("FROM ${BASE_IMAGE} AS runtime")[0]
    for folder in ("common", "proto", *ACTOR_DIRS.values(), "tools"):
        assert re.search(rf"^COPY {re.escape(folder)}/ ", build_stage, re.M), folder
    for b in (*APP_SERVICES, "ticketd-status"):
        assert f"build/bin/{b}" in build_stage, b
    ignore = read(".dockerignore").split()
    for must in (".env", "var", "build", ".git"):
        assert must in ignore, f".dockerignore must keep {must} out of the image"

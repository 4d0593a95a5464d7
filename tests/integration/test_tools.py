"""ticketd-status and ticketd-watch find the system they belong to: with --env FILE, or
the .env of the folder they run in, or of the checkout they were built in, they use its
endpoints and the CurveZMQ keys ./manage.sh made for the tool role, with the environment
winning over the file as in manage.sh. A bad .env is a clear error naming file and line;
watch says within seconds when no hub answers. The session's system runs on free ports
with CURVE on, so the built-in defaults (5555/5557, plain) never reach it. Every wait has
a wall-clock deadline."""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import time

from conftest import ROOT, free_ports

SETTING_PREFIXES = ("BROKER_", "HUB_", "CURVE", "ENV_FILE", "VAR_DIR")


def tool(system, name):
    return os.path.join(ROOT, system.env["BUILD_DIR"], "bin", name)


def bare_env(**extra):
    """The caller's environment without any ticketd setting: only a file can name one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    env.update(extra)
    return env


def run(exe, *args, env, cwd, timeout=15):
    return subprocess.run([exe, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def stderr_until(proc, pattern, timeout):
    """proc's stderr lines until one matches pattern or timeout seconds pass: (line or
    None, every line read, seconds it took)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    lines, buf = [], b""
    fd = proc.stderr.fileno()
    os.set_blocking(fd, False)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.01, deadline - time.monotonic()))
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode(errors="replace"))
            if re.search(pattern, lines[-1]):
                return lines[-1], lines, time.monotonic() - t0
    return None, lines, time.monotonic() - t0


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_status_with_env_reports_that_system_with_its_curve_keys(system, tmp_path):
    r = run(tool(system, "ticketd-status"), "--env", system.env["ENV_FILE"], env=bare_env(),
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"broker {system.broker_endpoint}:"), r.stdout
    assert "curve_off" not in r.stderr, r.stderr
    # First in a fresh suite, the workers may still be saying READY: asked again until then.
    deadline = time.time() + 15
    while True:
        r = run(tool(system, "ticketd-status"), "--json", f"--env={system.env['ENV_FILE']}",
                env=bare_env(), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        status = json.loads(r.stdout)
        if status["workers"] >= 2 and "tickets.get" in r.stdout or time.time() > deadline:
            break
        time.sleep(0.2)
    assert status["workers"] >= 2 and "tickets.get" in r.stdout, r.stdout


def test_both_tools_run_in_the_systems_folder_use_its_env(system):
    workdir = os.path.dirname(system.env["ENV_FILE"])
    r = run(tool(system, "ticketd-status"), env=bare_env(), cwd=workdir)
    assert r.returncode == 0 and r.stdout.startswith(f"broker {system.broker_endpoint}:"), \
        (r.stdout, r.stderr)
    watch = subprocess.Popen([tool(system, "ticketd-watch"), "jobs."], env=bare_env(),
                             cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        hub = re.escape(system.env["HUB_SUB_ENDPOINT"])
        line, lines, _ = stderr_until(watch, rf"connected to the hub at {hub}$|cannot connect",
                                      timeout=10)
        assert line and "connected" in line and "cannot" not in line, lines
    finally:
        assert stop(watch) == 0


def test_status_built_in_a_checkout_uses_that_checkouts_env(system, tmp_path):
    """<checkout>/build/bin/ticketd-status run from elsewhere: the .env beside manage.sh."""
    checkout = tmp_path / "checkout"
    (checkout / "build" / "bin").mkdir(parents=True)
    exe = checkout / "build" / "bin" / "ticketd-status"
    shutil.copy(tool(system, "ticketd-status"), exe)
    (checkout / "manage.sh").write_text("#!/bin/sh\n")
    shutil.copy(system.env["ENV_FILE"], checkout / ".env")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The keys are the system's: VAR_DIR names them, as it would for ./manage.sh.
    r = run(str(exe), env=bare_env(VAR_DIR=system.env["VAR_DIR"]), cwd=elsewhere)
    assert r.returncode == 0 and r.stdout.startswith(f"broker {system.broker_endpoint}:"), \
        (r.stdout, r.stderr)


def test_the_environment_wins_over_the_file(system, tmp_path):
    dead, = free_ports(1)
    dead_endpoint = f"tcp://127.0.0.1:{dead}"
    t0 = time.monotonic()
    r = run(tool(system, "ticketd-status"), "--env", system.env["ENV_FILE"],
            env=bare_env(BROKER_ENDPOINT=dead_endpoint), cwd=tmp_path)
    took = time.monotonic() - t0
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert f"the broker at {dead_endpoint} did not answer within 2 s" in r.stderr, r.stderr
    assert "nothing accepts connections" in r.stderr and system.env["ENV_FILE"] in r.stderr, \
        r.stderr
    assert took < 8, took
    # CURVE=off in the environment: plain TCP to the CURVE broker, which refuses it.
    r = run(tool(system, "ticketd-status"), "--env", system.env["ENV_FILE"],
            env=bare_env(CURVE="off"), cwd=tmp_path)
    assert r.returncode == 1 and "refused the handshake" in r.stderr, (r.stdout, r.stderr)


def test_watch_says_within_its_deadline_that_no_hub_answers_and_keeps_trying(system, tmp_path):
    dead, = free_ports(1)
    endpoint = f"tcp://127.0.0.1:{dead}"
    (tmp_path / ".env").write_text(f"# a system that is down\nHUB_SUB_ENDPOINT={endpoint}\n"
                                   "CURVE=off\n")
    watch = subprocess.Popen([tool(system, "ticketd-watch")], env=bare_env(), cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        line, lines, took = stderr_until(watch, r"cannot connect", timeout=10)
        assert line and endpoint in line and "nothing accepts connections" in line, lines
        assert took < 6, f"told after {took:.1f} s"
        assert watch.poll() is None, "watch gave up instead of waiting for the hub"
    finally:
        assert stop(watch) == 0


def test_a_malformed_env_is_an_error_naming_file_and_line(system, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"# ticketd\nCURVE=off\nBROKER_ENDPOINT = {system.broker_endpoint}\n")
    for args, cwd in ((("--env", str(env_file)), "/"), ((), tmp_path)):
        for name in ("ticketd-status", "ticketd-watch"):
            r = run(tool(system, name), *args, env=bare_env(), cwd=cwd, timeout=10)
            assert r.returncode == 2, (name, args, r.returncode, r.stderr)
            assert f"{name}: {env_file} line 3: expected '='" in r.stderr, (name, r.stderr)
    r = run(tool(system, "ticketd-status"), "--env", str(tmp_path / "absent"), env=bare_env(),
            cwd=tmp_path)
    assert r.returncode == 2 and "absent: No such file" in r.stderr, r.stderr

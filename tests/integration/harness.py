"""Processes of our own for the tests that start one outside the session's system: a
broker, a hub or an edge on free ports, with its log kept under the build folder for
reading after a failure, stopped with SIGTERM (so a sanitizer build checks for leaks at
exit) and killed if it hangs."""
import os
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD_DIR", "build")
BIN = os.path.join(ROOT, BUILD, "bin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """One of our binaries (build/bin/<exe>) with env, logging to <build>/<log_name>.log."""

    def __init__(self, log_name, exe, env, settle=0.3):
        self.log_path = os.path.join(ROOT, BUILD, "%s.log" % log_name)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([os.path.join(BIN, exe)], env=env, stderr=self.log)
        time.sleep(settle)
        assert self.proc.poll() is None, "%s exited at start: %s" % (exe, self.read_log())

    def read_log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM, SIGKILL if it hangs. The exit code, or None when it had to be killed."""
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(7)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                rc = None
        self.log.close()
        return rc

"""A real unas-coordinator and unas-worker processes on loopback for the
Python client tests, started from $UNAS_BIN_DIR (the build's bin/)."""

import os
import subprocess
import time

BIN_DIR = os.environ["UNAS_BIN_DIR"]


def wait_for(predicate, timeout, what):
    """Polls `predicate` (an observable event: a file, a server's answer) until
    it returns a true value; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))


class Process:
    """A child process with its output in `log`; stopped by stop()."""

    def __init__(self, argv, log):
        self.log = log
        with open(log, "wb") as out:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start_coordinator(directory, extra=()):
    """unas-coordinator on 127.0.0.1 with a free port; (process, "127.0.0.1:PORT")."""
    port_file = os.path.join(directory, "port")
    process = Process([os.path.join(BIN_DIR, "unas-coordinator"), "--db",
                       os.path.join(directory, "search.db"), "--listen", "127.0.0.1:0",
                       "--port-file", port_file] + list(extra),
                      os.path.join(directory, "coordinator.log"))

    def port():
        if process.popen.poll() is not None:
            raise AssertionError("unas-coordinator exited:\n" + process.read_log())
        if os.path.exists(port_file):  # written through a rename: complete when present
            with open(port_file) as f:
                return f.read().strip()
        return None

    return process, "127.0.0.1:" + wait_for(port, 20, "the coordinator's port file")


def start_worker(directory, address, name):
    """A synthetic unas-worker (no training: a smooth error in milliseconds)."""
    return Process([os.path.join(BIN_DIR, "unas-worker"), "--coordinator", address, "--name",
                    name, "--acquire-wait", "2", "--synthetic"],
                   os.path.join(directory, name + ".log"))

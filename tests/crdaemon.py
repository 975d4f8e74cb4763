"""Helpers for the Python tests that run connringd: start it on loopback,
wait for log lines, read its -statsfile snapshot (SIGUSR1), stop it by pid.
Not a test itself (ctest globs py_*.py only)."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Daemon:
    """One connringd process on 127.0.0.1 with its own temporary datadir."""

    def __init__(self, build, name, args):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="cr-%s-" % name)
        self.port = free_port()
        self.rpcport = free_port()
        # bitcoind's layout: regtest's files live in <datadir>/regtest
        self.netdir = os.path.join(self.dir, "regtest")
        self.stats = os.path.join(self.netdir, "stats.json")
        self.cookie = os.path.join(self.netdir, ".cookie")
        self.log = os.path.join(self.dir, "stderr.log")
        argv = [os.path.join(build, "cmd", "connringd"), "-chain=regtest", "-bind=127.0.0.1",
                "-port=%d" % self.port, "-datadir=" + self.dir, "-statsfile=stats.json",
                "-rpcport=%d" % self.rpcport,
                "-statsinterval=3600"] + args
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT)
        self.wait_log("started:", 15)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def wait_log(self, needle, timeout, count=1):
        end = time.time() + timeout
        while time.time() < end:
            if self.text().count(needle) >= count:
                return
            if self.proc.poll() is not None:
                raise Failure("%s exited with %d before logging %r:\n%s" %
                              (self.name, self.proc.returncode, needle, self.text()[-3000:]))
            time.sleep(0.05)
        raise Failure("%s did not log %r within %s s:\n%s" % (self.name, needle, timeout,
                                                            self.text()[-3000:]))

    def snapshot(self, timeout=5):
        """SIGUSR1, then the statsfile written in answer to it."""
        before = os.stat(self.stats).st_mtime_ns if os.path.exists(self.stats) else 0
        n = self.text().count("stats(SIGUSR1)")
        self.proc.send_signal(signal.SIGUSR1)
        self.wait_log("stats(SIGUSR1)", timeout, n + 1)
        end = time.time() + timeout
        while time.time() < end:
            if os.path.exists(self.stats) and os.stat(self.stats).st_mtime_ns != before:
                with open(self.stats) as f:
                    return json.load(f)
            time.sleep(0.02)
        raise Failure("%s did not write %s" % (self.name, self.stats))

    def stop(self, timeout=15):
        """SIGTERM by pid; returns the exit code (kills after timeout)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("%s did not stop within %s s after SIGTERM" % (self.name, timeout))
        self.logf.close()
        return self.proc.returncode

"""Helpers for the Python tests that run connringd: start it on loopback,
wait for log lines, read its -statsfile snapshot (SIGUSR1), stop it by pid.
Not a test itself (ctest globs py_*.py only)."""
import json
import os
import random
import resource
import signal
import socket
import subprocess
import tempfile
import time


# Ports for listeners are drawn at random below the kernel's ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default), which
# bind(port 0) and every outgoing connection take theirs from: under
# `ctest -j 2` a port found free by bind-then-close in that range is soon
# some other test's source port. Below it only another test's own random
# pick can collide, and Daemon retries on "Address already in use".
PORT_LO, PORT_HI = 20000, 32000


def free_port():
    """A loopback TCP port nothing is bound to right now (see above)."""
    for _ in range(200):
        port = random.randrange(PORT_LO, PORT_HI)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in %d..%d" % (PORT_LO, PORT_HI))


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Daemon:
    """One connringd process on 127.0.0.1 with its own temporary datadir."""

    def __init__(self, build, name, args, port=None, datadir=None, nofile=None):
        """datadir: an earlier Daemon's dir, to restart on its files.
        nofile: RLIMIT_NOFILE (soft and hard) for connringd, which sizes
        each worker's fixed-file table and so its peer capacity."""
        self.name = name
        self.dir = datadir or tempfile.mkdtemp(prefix="cr-%s-" % name)
        # bitcoind's layout: regtest's files live in <datadir>/regtest
        self.netdir = os.path.join(self.dir, "regtest")
        self.stats = os.path.join(self.netdir, "stats.json")
        self.cookie = os.path.join(self.netdir, ".cookie")
        # a restart on the same files gets a log of its own
        self.log = os.path.join(self.dir, "stderr-%s.log" % name if datadir else "stderr.log")
        # A port another test took between our check and connringd's bind
        # (P2P or RPC) is retried with new ones (said on stdout), up to 5 times.
        for attempt in range(5):
            self.port = port or free_port()
            self.rpcport = free_port()
            argv = [os.path.join(build, "cmd", "connringd"), "-chain=regtest", "-bind=127.0.0.1",
                    "-port=%d" % self.port, "-datadir=" + self.dir, "-statsfile=stats.json",
                    "-rpcport=%d" % self.rpcport, "-statsinterval=3600"] + args
            self.logf = open(self.log, "w")
            pre = None
            if nofile:
                def pre():
                    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT, preexec_fn=pre)
            try:
                self.wait_log("started:", 15)
                return
            except Failure:
                taken = "Address already in use" in self.text()
                if (port and "RPC" not in self.text()) or self.proc.poll() is None or not taken:
                    raise
                self.logf.close()
                print("%s: port %d or %d was taken before connringd bound it; retrying with others" %
                      (name, self.port, self.rpcport))
        raise Failure("%s: no free port after 5 attempts" % name)

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

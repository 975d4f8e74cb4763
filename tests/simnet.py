"""Helpers for the Python tests that use the simulated network
(build/VARIANT/bench/simnet) and a real DNS server (dnsmasq from Debian's
dnsmasq-base) on loopback: start each, stop it by pid, ask a DNS question.
Not a test itself (ctest globs py_*.py only)."""
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time

SKIP = 77  # SKIP_RETURN_CODE of the tests that use these helpers


def free_udp_port():
    """A UDP port for dnsmasq, drawn below the ephemeral range as
    crdaemon.free_port does (bind-then-close on port 0 hands out one from
    the range every socket without an explicit port takes its own from)."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free UDP port in 20000..32000")


class Simnet:
    """bench/simnet with a hosts file for dnsmasq; commands on its stdin."""

    def __init__(self, build, args, seed_name=None):
        self.dir = tempfile.mkdtemp(prefix="cr-simnet-")
        self.out = os.path.join(self.dir, "simnet.out")
        self.hosts = os.path.join(self.dir, "hosts")
        ready = os.path.join(self.dir, "ready")
        argv = [os.path.join(build, "bench", "simnet"), "--ready-file", ready] + args
        if seed_name:
            argv += ["--dns-hosts", self.hosts, "--seed-name", seed_name]
        self.outf = open(self.out, "w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self.outf,
                                     stderr=subprocess.STDOUT)
        end = time.time() + 15
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.time() > end:
                raise RuntimeError("simnet did not start:\n" + self.text())
            time.sleep(0.05)

    def text(self):
        with open(self.out) as f:
            return f.read()

    def command(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.outf.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Dnsmasq:
    """dnsmasq in the foreground on 127.0.0.1:port, answering only from a
    hosts file (no upstream, no /etc/hosts)."""

    def __init__(self, hosts):
        exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not os.path.exists(exe):
            raise FileNotFoundError("dnsmasq (Debian's dnsmasq-base) is not installed")
        self.port = free_udp_port()
        self.dir = tempfile.mkdtemp(prefix="cr-dnsmasq-")
        self.log = os.path.join(self.dir, "dnsmasq.log")
        argv = [exe, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--addn-hosts=" + hosts, "--listen-address=127.0.0.1",
                "--bind-interfaces", "--port=%d" % self.port, "--cache-size=0",
                "--local=/test/",
                "--pid-file=" + os.path.join(self.dir, "pid"), "--log-facility=-"]
        if os.geteuid() == 0:
            argv.append("--user=root")  # its default, nobody, cannot read our temp dir
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT)
        end = time.time() + 10
        while True:
            try:
                query_a("127.0.0.1", self.port, "probe.invalid", timeout=0.2)
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > end:
                    raise RuntimeError("dnsmasq did not start: " + open(self.log).read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def query_a(server, port, name, timeout=2.0):
    """One A question over UDP; returns the list of IPv4 addresses (may be
    empty for NXDOMAIN). Raises OSError on timeout."""
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (server, port))
        data, _ = s.recvfrom(4096)
    finally:
        s.close()
    _, flags, qd, an, _, _ = struct.unpack(">HHHHHH", data[:12])
    off = 12
    for _ in range(qd):
        while data[off] != 0:
            off += 1 + data[off]
        off += 5
    out = []
    for _ in range(an):
        if data[off] & 0xC0 == 0xC0:
            off += 2
        else:
            while data[off] != 0:
                off += 1 + data[off]
            off += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(data[off:off + 4]))
        off += rdlen
    return out

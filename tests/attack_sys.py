"""The attack suite's common part (issue 10; not a test itself: ctest globs
py_*.py only). Each attack runs against a connringd of its own, started
here with one worker and small budgets, so its VmHWM (the peak resident
memory of the process, /proc/PID/status) is the peak of that attack alone.
The bound each attack asserts is stated from the daemon's configuration:

  bound = RSS at start + 2 x receive budget + send budget
          + the worker's provided receive buffers (count x size)
          + peers x PER_PEER + SLACK

The receive budget counts twice: large messages' reservations and the
input paused peers keep (their stashes) are each bounded by it, apart.
PER_PEER is what README's Limits allows a peer beyond the shared budgets:
the send queue up to the send buffer at which its input stops being read
(fPauseSend), held in 1 KiB pool buffers plus their header, which jemalloc
rounds up to its 1,280-byte class (x 1.25); the largest message in
progress before it needs the budget, 64 KiB; 16 KiB for its slot and
transport state (its socket's kernel buffers are not in RSS). SLACK is
the allocator's own overhead (stated once here, not per test). No timing
is asserted: every wait is bounded and a node slow to answer only makes a
test slower. Under a sanitizer build (CR_SANITIZE=1) RSS means nothing
(redzones, quarantine): the bound is printed, not asserted; the rest is.

Honest bystanders: each attack holds a Bystander (an honest V1 peer
connected before the attack) and asserts its ping RTT during the attack,
best of 3, within RTT_FACTOR (20) times its RTT before or RTT_FLOOR_S
(1 s), whichever is larger; and a fresh peer's ping is answered at the
end. No leaks: peers back to 0, and /metrics' fixed files, receive bytes
held and reserved, send bytes queued and pool buffers and segments back to
their values at start (check_released).

Loopback only: peers connect from 127.0.0.x (x from 2) to 127.0.0.1.
Bounded: at most MAX_PEERS sockets at once, every loop has a deadline."""
import os
import socket
import struct
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check, free_port  # noqa: E402,F401
import v1peers  # noqa: E402

MAGIC = v1peers.MAGIC["regtest"]
MAX_PEERS = 500
MAX_CONNECTIONS = MAX_PEERS + 20  # -maxconnections
RECV_BUDGET_MIB = 8       # -maxreceivetotal (the smallest the parser takes)
SEND_BUDGET_MIB = 8       # -maxsendtotal
RING_BYTES = 1024 * 16384  # engine defaults recv_buf_count x recv_buf_size, one worker
SEND_BUFFER = 1000000     # engine default send_buffer_bytes (fPauseSend)
PER_PEER = SEND_BUFFER * 5 // 4 + 65536 + 16384
PER_PEER_QUIET = 65536 + 16384  # a peer the node answers with nothing large
SLACK = 24 << 20
HELD = ("connring_fixed_files", "connring_recv_held_bytes", "connring_recv_reserved_bytes",
        "connring_send_queued_bytes", "connring_send_pool_buffers", "connring_send_pool_segments")
PEER_TIMEOUT_S = 4        # -peertimeout: the handshake timeout


def frame(command, payload=b""):
    return v1peers.frame(MAGIC, command, payload)


def version_msg(port):
    return frame("version", v1peers.version_payload("127.0.0.1", port))


def status(pid):
    """VmRSS and VmHWM of pid, in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out["VmRSS"], out["VmHWM"]


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def mib(kib):
    return kib / 1024.0


class Node:
    """A connringd for one attack, with the suite's limits."""

    def __init__(self, build, name, extra=(), nofile=None):
        self.mport = free_port()
        self.d = Daemon(build, name, ["-workers=1", "-metricsbind=127.0.0.1:%d" % self.mport, "-maxreceivetotal=%d" % RECV_BUDGET_MIB,
                                      "-maxsendtotal=%d" % SEND_BUDGET_MIB,
                                      "-peertimeout=%d" % PEER_TIMEOUT_S, "-floodguard=0",
                                      "-maxconnections=%d" % MAX_CONNECTIONS,
                                      "-pinginterval=3600"] + list(extra), nofile=nofile)
        self.name = name
        self.pid = self.d.proc.pid
        self.port = self.d.port
        self.rss_start, _ = status(self.pid)
        self.fds_start = fd_count(self.pid)
        self.peak = self.rss_start
        self.gauges_start = self.gauges()

    def gauges(self):
        """The engine's gauges of held resources, from /metrics."""
        url = "http://127.0.0.1:%d/metrics" % self.mport
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in HELD:
                out[parts[0]] = int(float(parts[1]))
        check(len(out) == len(HELD), "%s: /metrics lacks some of %s" % (self.name, HELD))
        return out

    def capacity(self):
        """The node's peer capacity (/metrics connring_peer_capacity)."""
        url = "http://127.0.0.1:%d/metrics" % self.mport
        with urllib.request.urlopen(url, timeout=10) as r:
            for line in r.read().decode().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == "connring_peer_capacity":
                    return int(float(parts[1]))
        raise Failure("%s: /metrics lacks connring_peer_capacity" % self.name)

    def check_released(self):
        """Once no peer is left: fixed files, receive buffers, reservations,
        queued bytes and pool buffers/segments are back at their start
        values (a leak in any keeps one above)."""
        g = self.gauges()
        end = time.time() + 10
        while g != self.gauges_start and time.time() < end:
            time.sleep(0.2)
            g = self.gauges()
        print("%s: held after: %s (start %s)" % (self.name, g, self.gauges_start))
        check(g == self.gauges_start, "%s: not released after the attack: %s, at start %s" %
              (self.name, g, self.gauges_start))

    def bound_kib(self, peers, per_peer=PER_PEER):
        return (self.rss_start * 1024 + ((2 * RECV_BUDGET_MIB + SEND_BUDGET_MIB) << 20) + RING_BYTES +
                peers * per_peer + SLACK) // 1024

    def sample(self):
        rss, hwm = status(self.pid)
        self.peak = max(self.peak, hwm)
        return rss

    def peers(self):
        return self.d.snapshot()["totals"]["peers"]

    def wait_peers(self, want, timeout):
        """Until the node counts want peers (True) or timeout (False)."""
        end = time.time() + timeout
        while time.time() < end:
            if self.peers() == want:
                return True
            time.sleep(0.2)
        return False

    def alive(self):
        return self.d.proc.poll() is None

    def check_bound(self, peers, what, per_peer=PER_PEER):
        """Asserts the peak stayed under the bound; prints the figures."""
        self.sample()
        bound = self.bound_kib(peers, per_peer)
        print("%s: %s: rss_start_mib=%.1f rss_peak_mib=%.1f (VmHWM) rss_now_mib=%.1f bound_mib=%.1f" %
              (self.name, what, mib(self.rss_start), mib(self.peak), mib(status(self.pid)[0]),
               mib(bound)))
        check(self.alive(), "%s: connringd died: %s" % (self.name, self.d.text()[-2000:]))
        if os.environ.get("CR_SANITIZE"):
            print("%s: sanitizer build: RSS bound not asserted" % self.name)
            return
        check(self.peak <= bound, "%s: %s: peak RSS %.1f MiB above the bound %.1f MiB" %
              (self.name, what, mib(self.peak), mib(bound)))

    def stop(self):
        rc = self.d.stop()
        return rc


def src_addr(i):
    """Source address of attacker i: 127.0.0.2 .. 127.0.0.254."""
    return "127.0.0.%d" % (2 + i % 253)


def connect(port, i, rcvbuf=None, timeout=5.0):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((src_addr(i), 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def read_until(s, pred, timeout):
    """Reads V1 messages from s until pred(command, payload) holds; True
    then, False at EOF or timeout."""
    buf = b""
    end = time.time() + timeout
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return False
        if not data:
            return False
        buf += data
        while len(buf) >= 24:
            n = struct.unpack("<I", buf[16:20])[0]
            if len(buf) < 24 + n:
                break
            cmd = buf[4:16].rstrip(b"\0").decode(errors="replace")
            payload = buf[24:24 + n]
            buf = buf[24 + n:]
            if pred(cmd, payload):
                return True
    return False


def handshaked(port, i, rcvbuf=None):
    """A V1 peer that has sent version+verack and seen the node's verack."""
    s = connect(port, i, rcvbuf)
    s.sendall(version_msg(port) + frame("verack"))
    # generous: under ASan on a busy machine a worker catching up with a
    # flood's backlog took over 10 s once (answered, not fast, is the claim)
    check(read_until(s, lambda c, p: c == "verack", 60), "peer %d: no verack from the node in 60 s" % i)
    return s


def ping_answered(port, i, nonce=0x1234567890abcdef, timeout=60):
    """A fresh bystander peer: handshake, one ping; True if its pong came."""
    s = handshaked(port, i)
    try:
        s.sendall(frame("ping", struct.pack("<Q", nonce)))
        return read_until(s, lambda c, p: c == "pong" and p == struct.pack("<Q", nonce), timeout)
    finally:
        s.close()


RTT_FACTOR = 20    # a bystander's ping RTT under attack: within 20x its RTT before,
RTT_FLOOR_S = 1.0  # or 1 s, whichever is larger (each the best of 3 pings)


class Bystander:
    """An honest V1 peer (from 127.0.0.255 - i) held through an attack, whose
    ping RTT is measured before it and during it. Best of 3 pings each
    time: one ping delayed by this busy shared machine's scheduler is
    noise; a worker that the attack keeps from answering delays all three.
    A starved worker shows as seconds or no pong at all, so the floor of
    1 s keeps the check about starvation, not about speed; under a
    sanitizer build the figures are printed, not asserted."""

    def __init__(self, port, i=249):
        self.s = handshaked(port, i)
        self.buf = b""
        self.nonce = 0
        self.before = self.best()
        check(self.before is not None, "bystander: no pong before the attack")

    def rtt(self, timeout=30):
        self.nonce += 1
        want = struct.pack("<Q", self.nonce)
        t0 = time.perf_counter()
        self.s.sendall(frame("ping", want))
        end = time.time() + timeout
        while time.time() < end:
            while len(self.buf) >= 24:
                n = struct.unpack("<I", self.buf[16:20])[0]
                if len(self.buf) < 24 + n:
                    break
                cmd = self.buf[4:16].rstrip(b"\0")
                payload = self.buf[24:24 + n]
                self.buf = self.buf[24 + n:]
                if cmd == b"pong" and payload == want:
                    return time.perf_counter() - t0
            self.s.settimeout(max(0.05, end - time.time()))
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return None
            if not data:
                return None
            self.buf += data
        return None

    def best(self):
        rtts = [r for r in (self.rtt() for _ in range(3)) if r is not None]
        return min(rtts) if rtts else None

    def check(self, name, what):
        """Asserts the RTT now is within RTT_FACTOR of the one before."""
        during = self.best()
        bound = max(RTT_FACTOR * self.before, RTT_FLOOR_S)
        print("%s: %s: bystander ping RTT before %.2f ms, during %s ms (bound %.0f ms)" %
              (name, what, self.before * 1000, "%.2f" % (during * 1000) if during is not None else "none",
               bound * 1000))
        check(during is not None, "%s: %s: the bystander's pings were not answered" % (name, what))
        if os.environ.get("CR_SANITIZE"):
            return
        check(during <= bound, "%s: %s: bystander ping RTT %.0f ms above %.0f ms (%dx %.2f ms or %.0f ms)" %
              (name, what, during * 1000, bound * 1000, RTT_FACTOR, self.before * 1000, RTT_FLOOR_S * 1000))

    def close(self):
        self.s.close()


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def run(tests, build):
    """Runs each (name, fn(build)) in turn; exits 1 if any failed."""
    failed = []
    for name, fn in tests:
        t0 = time.time()
        try:
            fn(build)
            print("ok   %s (%.1f s)" % (name, time.time() - t0))
        except Failure as f:
            print("FAIL %s: %s" % (name, f))
            failed.append(name)
    sys.exit(1 if failed else 0)

"""Attack suite, memory (issue 10): what peers can make a real connringd
hold, read from its /proc/PID/status (VmHWM, the peak) against the bound
attack_sys.py states from the configured budgets. Each attack runs against
a daemon of its own (one worker, -maxreceivetotal=8, -maxsendtotal=8,
-peertimeout=4) and ends by checking that the node is still up, that a
fresh bystander's ping is answered, and that its peer count returns to 0
once the attackers are gone.

  pingflood     peers with a 4 KiB receive buffer complete the handshake
                and send pings without ever reading (Core's fPauseSend)
  partial_pre   peers declare a 4,000,000-byte version and send all of it
                but a byte (refused: at most 4 KiB before the handshake)
  partial_post  handshaked peers declare a 4,000,000-byte tx and send all
                but a byte, then stall (the receive budget, then its
                stall disconnect)
  slowloris     peers send a version header one byte a second (closed by
                the handshake timeout; until then each holds a few bytes)
  v2garbage     peers send an ElligatorSwift key and then random garbage of
                lengths spread over 0..4095 (BIP324's limit) and stall; and
                peers that go past the limit (refused at once)

Usage: py_attack_mem.py BUILD_DIR [attack ...] (ctest passes BUILD_DIR)."""
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attack_sys as A  # noqa: E402
from attack_sys import check  # noqa: E402


def finish(n, peers_held, what, socks=(), per_peer=A.PER_PEER, by=None):
    """Common end of an attack: bound, bystander, attackers gone, peers 0."""
    n.check_bound(peers_held, what, per_peer)
    check(A.ping_answered(n.port, 250), "%s: a bystander's ping was not answered" % n.name)
    if by:
        by.close()
    A.close_all(socks)
    check(n.wait_peers(0, 20), "%s: %d peers still counted 20 s after the attackers closed" %
          (n.name, n.peers()))
    n.check_released()
    n.sample()
    print("%s: after close: rss_now_mib=%.1f fds=%d (start %d)" %
          (n.name, A.mib(A.status(n.pid)[0]), A.fd_count(n.pid), n.fds_start))


def pingflood(build, peers=20, seconds=8):
    n = A.Node(build, "pingflood")
    socks = []
    try:
        by = A.Bystander(n.port)
        socks = [A.handshaked(n.port, i, rcvbuf=4096) for i in range(peers)]
        burst = b"".join(A.frame("ping", struct.pack("<Q", i)) for i in range(64))
        for s in socks:
            s.setblocking(False)
        sent = 0
        end = time.time() + seconds
        measured = False
        while time.time() < end:
            if not measured and time.time() > end - seconds / 2:
                by.check(n.name, "halfway through the flood")
                measured = True
            _, w, _ = select.select([], socks, [], 0.2)
            for s in w:
                try:
                    sent += s.send(burst)
                except OSError:
                    pass  # the node's buffers are full or it closed us: its bound at work
            n.sample()
        print("pingflood: %d peers sent %.1f MB of pings without reading" % (peers, sent / 1e6))
        finish(n, peers, "%d non-reading peers ping-flooded for %d s" % (peers, seconds), socks, by=by)
    finally:
        A.close_all(socks)
        n.stop()


def send_partial(n, socks, command, seconds):
    """Each sock: a header declaring 4,000,000 bytes, then all but one byte,
    sent without blocking, round-robin until done or seconds pass."""
    head = A.MAGIC + command.encode().ljust(12, b"\0") + struct.pack("<I", 4000000) + b"\0" * 4
    left = {}
    for s in socks:
        s.sendall(head)
        s.setblocking(False)
        left[s] = 3999999
    body = os.urandom(65536)
    end = time.time() + seconds
    while left and time.time() < end:
        _, w, _ = select.select([], list(left), [], 0.2)
        for s in w:
            try:
                left[s] -= s.send(body[:min(left[s], len(body))])
            except OSError:
                left[s] = 0  # closed by the node
            if left[s] == 0:
                del left[s]
        n.sample()
    return len(socks) - len(left)


def partial_pre(build, peers=50):
    n = A.Node(build, "partial_pre")
    socks = []
    try:
        by = A.Bystander(n.port)
        socks = [A.connect(n.port, i) for i in range(peers)]
        done = send_partial(n, socks, "version", 10)
        by.check(n.name, "partials held")
        print("partial_pre: %d of %d peers got rid of their 3,999,999 bytes (refused or held)" %
              (done, peers))
        finish(n, peers, "%d peers x 4 MB partial version before the handshake" % peers, socks,
               A.PER_PEER_QUIET, by)
    finally:
        A.close_all(socks)
        n.stop()


def partial_post(build, peers=40):
    n = A.Node(build, "partial_post")
    socks = []
    try:
        by = A.Bystander(n.port)
        socks = [A.handshaked(n.port, i) for i in range(peers)]
        done = send_partial(n, socks, "tx", 12)
        by.check(n.name, "partials held")
        print("partial_post: %d of %d peers sent all but a byte of 4,000,000" % (done, peers))
        finish(n, peers, "%d handshaked peers x 4 MB partial tx, -maxreceivetotal=%d" %
               (peers, A.RECV_BUDGET_MIB), socks, A.PER_PEER_QUIET, by)
    finally:
        A.close_all(socks)
        n.stop()


def wait_closed(n, socks, timeout):
    """Reads each sock until the node closes it; returns how many it closed."""
    open_ = set(socks)
    end = time.time() + timeout
    while open_ and time.time() < end:
        r, _, _ = select.select(list(open_), [], [], 0.2)
        for s in r:
            try:
                if not s.recv(65536):
                    open_.discard(s)
            except OSError:
                open_.discard(s)
        n.sample()
    return len(socks) - len(open_)


def slowloris(build, peers=200):
    n = A.Node(build, "slowloris")
    socks = []
    try:
        by = A.Bystander(n.port)
        socks = [A.connect(n.port, i) for i in range(peers)]
        for s in socks:
            s.setblocking(False)
        header = A.version_msg(n.port)[:24]
        pos = 0
        closed = set()
        t0 = time.time()
        # one byte a second per peer, well past the handshake timeout
        end = time.time() + A.PEER_TIMEOUT_S + 8
        while time.time() < end and len(closed) < peers and pos < len(header):
            for s in socks:
                if s in closed:
                    continue
                try:
                    s.send(header[pos:pos + 1])
                except OSError:
                    closed.add(s)
            pos += 1
            n.sample()
            if pos == 2:
                by.check(n.name, "slow handshakes in progress")
            while time.time() < t0 + pos:  # the next byte a second after this one
                r, _, _ = select.select([s for s in socks if s not in closed], [], [],
                                        max(0, t0 + pos - time.time()))
                for s in r:
                    try:
                        if not s.recv(65536):
                            closed.add(s)
                    except OSError:
                        closed.add(s)
        rest = [s for s in socks if s not in closed]
        got = len(closed) + wait_closed(n, rest, 20)
        print("slowloris: %d of %d peers closed by the node (handshake timeout %d s) after %d bytes each" %
              (got, peers, A.PEER_TIMEOUT_S, pos))
        check(got == peers, "slowloris: only %d of %d slow handshakes were closed" % (got, peers))
        finish(n, peers, "%d peers sending a version header a byte a second" % peers, socks,
               A.PER_PEER_QUIET, by)
    finally:
        A.close_all(socks)
        n.stop()


def v2garbage(build, peers=200, over=50):
    n = A.Node(build, "v2garbage")
    socks = []
    try:
        by = A.Bystander(n.port)
        socks = [A.connect(n.port, i) for i in range(peers + over)]
        for i, s in enumerate(socks):
            # any 64 bytes decode as an ElligatorSwift key (BIP324); then
            # garbage of a spread of lengths up to 4095, never a terminator
            # (random bytes match the node's 16-byte terminator with
            # probability ~2^-128); the last `over` peers send 4096 + 16 +
            # more, past what a responder may take before the terminator
            glen = (i * 4096 // peers) if i < peers else 4095 + 16 + 1 + i
            key = os.urandom(64)
            if key[:4] == A.MAGIC:  # would read as V1
                key = b"\0" + key[1:]
            s.sendall(key + os.urandom(glen))
            s.setblocking(False)
        n.sample()
        by.check(n.name, "V2 garbage handshakes in progress")
        early = wait_closed(n, socks[peers:], 10)
        print("v2garbage: %d of %d peers past the garbage limit closed" % (early, over))
        check(early == over, "v2garbage: only %d of %d peers past BIP324's garbage limit were closed" %
              (early, over))
        stalled = wait_closed(n, socks[:peers], A.PEER_TIMEOUT_S + 20)
        print("v2garbage: %d of %d stalled peers closed (handshake timeout %d s)" %
              (stalled, peers, A.PEER_TIMEOUT_S))
        check(stalled == peers, "v2garbage: only %d of %d stalled V2 handshakes were closed" %
              (stalled, peers))
        finish(n, peers + over, "%d V2 peers with garbage 0..4095 bytes, %d past the limit" %
               (peers, over), socks, A.PER_PEER_QUIET, by)
    finally:
        A.close_all(socks)
        n.stop()


ATTACKS = [("pingflood", pingflood), ("partial_pre", partial_pre), ("partial_post", partial_post),
           ("slowloris", slowloris), ("v2garbage", v2garbage)]

if __name__ == "__main__":
    want = sys.argv[2:]
    A.run([a for a in ATTACKS if not want or a[0] in want], sys.argv[1])

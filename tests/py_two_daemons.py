"""Two connringd processes on loopback, one -connect-ing to the other, with
-v2transport=0 (V1) and =1 (BIP324 V2): both complete the handshake, ping
each other every second (-pinginterval=1), and the statistics each side
reports for the connection match the other side's exactly: bytes and
messages per command, sent on one side = received on the other; transport
and V2 session id equal. Both are stopped by pid. Bounded: ~10 s per run.

usage: py_two_daemons.py BUILD_DIR"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402


def peer_of(snap, inbound):
    peers = [p for p in snap["peers"] if p["inbound"] == inbound and p["handshaked"]]
    check(len(peers) == 1, "expected one %s handshaked peer, got %s" %
          ("inbound" if inbound else "outbound", snap["peers"]))
    return peers[0]


def mismatches(a, b, a_extra=(0, 0)):
    """Differences between a's sending and b's receiving, and back, in
    total and per command (V2 included: the receiver counts each message's
    exact wire size, short id or 12-byte command). a_extra: bytes a sent and received that b never saw (a proxy's)."""
    out = []
    for x, y, extra in ((a, b, a_extra[0]), (b, a, -a_extra[1])):
        if x["bytes_sent"] - extra != y["bytes_recv"]:
            out.append("bytes %d sent vs %d received (%+d expected)" %
                       (x["bytes_sent"], y["bytes_recv"], -extra))
        if x["msgs_sent"] != y["msgs_recv"]:
            out.append("msgs %d sent vs %d received" % (x["msgs_sent"], y["msgs_recv"]))
        for cmd, c in x["cmds"].items():
            r = y["cmds"].get(cmd, {"msgs_recv": 0, "bytes_recv": 0})
            if c["msgs_sent"] != r["msgs_recv"] or c["bytes_sent"] != r["bytes_recv"]:
                out.append("%s: %d msgs/%d bytes sent vs %d/%d received" %
                           (cmd, c["msgs_sent"], c["bytes_sent"], r["msgs_recv"], r["bytes_recv"]))
    return out


def run(build, v2, a_args=(), a_extra=(0, 0)):
    """a -connects to b; a_args go to a (e.g. -proxy), a_extra as in
    mismatches()."""
    flag = "-v2transport=%d" % v2
    b = Daemon(build, "b-v%d" % (v2 + 1), [flag, "-pinginterval=1", "-debug=net"])
    a = None
    try:
        a = Daemon(build, "a-v%d" % (v2 + 1),
                   [flag, "-pinginterval=1", "-listen=0", "-connect=127.0.0.1:%d" % b.port] + list(a_args))
        a.wait_log("connect: peer=", 15)
        b.wait_log("connect: peer=", 15)
        check(" outbound " in a.text() and " inbound " in b.text(), "directions in the logs")
        # Pings every second from both sides: wait for two rounds (polled,
        # not a fixed sleep: a loaded machine or a sanitizer build is slower;
        # how long it took is printed).
        t0, rounds = time.time(), 0
        while time.time() - t0 < 30:
            pa, pb = peer_of(a.snapshot(), False), peer_of(b.snapshot(), True)
            rounds = min(p["cmds"].get(c, {}).get(k, 0) for p in (pa, pb)
                         for c, k in (("ping", "msgs_sent"), ("pong", "msgs_recv")))
            if rounds >= 2:
                break
            time.sleep(0.25)
        print("v%d: two ping rounds after %.1f s" % (v2 + 1, time.time() - t0))
        last = None
        for attempt in range(6):
            sa, sb = a.snapshot(), b.snapshot()
            pa, pb = peer_of(sa, False), peer_of(sb, True)
            last = mismatches(pa, pb, a_extra=a_extra)
            if not last:
                break
            time.sleep(0.3)  # a ping was in flight between the two snapshots
        check(not last, "statistics differ: %s" % "; ".join(last))
        want = 2 if v2 else 1
        check(pa["transport"] == want and pb["transport"] == want,
              "transport %s/%s, wanted %d" % (pa["transport"], pb["transport"], want))
        if v2:
            check(len(pa["session_id"]) == 64 and pa["session_id"] == pb["session_id"],
                  "V2 session ids differ: %s vs %s" % (pa["session_id"], pb["session_id"]))
        check(pa["addr"] == "127.0.0.1:%d" % b.port, "outbound address %s" % pa["addr"])
        for p in (pa, pb):
            check(p["user_agent"].startswith("/connring:"), "user agent %r" % p["user_agent"])
            check(p["version"] == 70016, "version %d" % p["version"])
            check(p["cmds"].get("ping", {}).get("msgs_sent", 0) >= 2, "fewer than 2 pings sent: %s" % p["cmds"])
            check(p["cmds"].get("pong", {}).get("msgs_recv", 0) >= 1, "no pong received: %s" % p["cmds"])
            check(p["ping_last_us"] >= 0, "no ping time measured")
        print("v%d: ok: %d bytes and %d msgs each way match; pings %d/%d" %
              (want, pa["bytes_sent"], pa["msgs_sent"], pa["cmds"]["ping"]["msgs_sent"],
               pb["cmds"]["ping"]["msgs_sent"]))
    finally:
        codes = []
        for d in (a, b):
            if d:
                codes.append(d.stop())
    check(codes == [0, 0], "exit codes %s" % codes)
    check("connringd stopped" in a.text() and "connringd stopped" in b.text(), "clean stop logged")
    check("disconnect: peer=" in b.text(), "b logged a's disconnect")


def main():
    build = sys.argv[1]
    try:
        run(build, 0)
        run(build, 1)
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

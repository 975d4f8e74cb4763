"""The eviction system tests' common part (not a test itself): connringd
with 200 inbound slots and 127/8 routable (-routable127=1, so each
127.a.x.x is its own /16 netgroup), 200 honest V1 peers from 200 distinct
/16s that connect over a few seconds (varied age) and answer pings after
0-40 ms (varied ping), then an attacker (bench/connring-flood) opening
5,000 connections one after another from 127.250.0.0/16. Afterwards the
share of honest peers still connected is measured, with the daemon's own
counters. Every process is stopped by its pid, also on failure."""
import asyncio
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402
import v1peers  # noqa: E402

HONEST = 200
ATTACK = 5000


async def fill(d, n, first=10, spread_s=3.0):
    """n honest peers, peer i from 127.(first+i).0.1, pong delay i % 41 ms,
    connecting over spread_s seconds; returns them once all are ready."""
    peers = []
    for i in range(n):
        p = v1peers.Peer("127.%d.0.1" % (first + i), "127.0.0.1", d.port,
                         pong_delay=(i % 41) / 1000.0)
        peers.append(p.start())
        await asyncio.sleep(spread_s / n)
    ok = await v1peers.wait_until(lambda: all(p.ready_at for p in peers), 20)
    check(ok, "only %d of %d honest peers finished their handshake" %
          (sum(1 for p in peers if p.ready_at), n))
    return peers


def flood(build, port, mode, conns=ATTACK, rate=1000, hold_ms=60000, duration=10):
    """Runs connring-flood from 127.250/16; returns its JSON summary."""
    tool = os.path.join(build, "bench", "connring-flood")
    out = subprocess.run([tool, "--connect", "127.0.0.1:%d" % port, "--conns", str(conns),
                          "--from", "127.250", "--mode", mode, "--concurrency", str(conns),
                          "--rate", str(rate), "--hold-ms", str(hold_ms), "--duration", str(duration),
                          "--json"], capture_output=True, text=True, timeout=duration + 30)
    check(out.returncode == 0, "connring-flood failed: %s" % out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def daemon(build, name, extra=()):
    return Daemon(build, name, ["-routable127=1", "-maxconnections=%d" % (HONEST + 11),
                                "-pinginterval=1", "-debug=net"] + list(extra))


def report(name, d, peers, before, summary):
    alive = sum(1 for p in peers if p.alive)
    snap = d.snapshot()
    defence = snap.get("defence", {})
    print("%s: %d of %d honest peers still connected (%.1f%%); attacker: %s; node: %s" %
          (name, alive, len(peers), 100.0 * alive / len(peers), json.dumps(summary),
           json.dumps(defence)))
    gone = [p.close_reason for p in peers if not p.alive]
    if gone:
        print("%s: honest peers lost: %s" % (name, gone[:10]))
    return alive, defence


def run(test):
    """Calls test(); prints FAIL and exits 1 on Failure (daemons are
    stopped by the test's own finally)."""
    try:
        asyncio.run(test())
    except Failure as f:
        print("FAIL:", f)
        sys.exit(1)
    print("ok")

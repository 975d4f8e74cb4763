"""-importpeers is applied before the scheduler's first pass: connringd
(regtest, -routable127=1 so each 127.a/16 is its own netgroup, no other
address source) started from an empty datadir with a peers.dat of 8
loopback addresses on the default port makes its first outbound attempt
to one of them, and the engine's "imported 8 of 8 addresses" comes before
any "opening ... connection". Then, on the datadir of that run (its own
peers.dat saved at the clean stop holds those 8), a second start imports 8
others: they are again placed before the first attempt, so that attempt
may go to any of the 16 but never precedes the import. Nothing listens on
the addresses used (127.200-215.0.1:18444): attempts are refused.

Bounded: about 10 s. usage: py_importpeers_first.py BUILD_DIR"""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402
from py_rpc_addrman import entry, peers_dat, v4  # noqa: E402

PORT = 18444  # regtest's default: other ports are skipped before 50 tries (Core)
ARGS = ["-routable127=1", "-dnsseed=0", "-fixedseeds=0", "-debug=net,addrman"]


def write_peers(path, first):
    now = int(time.time())
    new = [entry(1, v4(127, 200 + first + i, 0, 1), PORT, 9, now - 60) for i in range(8)]
    with open(path, "wb") as f:
        f.write(peers_dat(new, []))
    return {"127.%d.0.1:%d" % (200 + first + i, PORT) for i in range(8)}


def first_attempt(d, timeout=10):
    """(offset of the import line, offset of the first opening line, its address)."""
    d.wait_log("opening ", timeout)
    text = d.text()
    m = re.search(r"opening (\S+) connection to (\S+)", text)
    imp = text.find("imported 8 of 8 addresses")
    check(imp >= 0, "no import line:\n" + text[-2000:])
    return imp, m.start(), m.group(2)


def main():
    build = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="cr-importfirst-")
    d = None
    try:
        a = os.path.join(tmp, "a.dat")
        first = write_peers(a, 0)
        d = Daemon(build, "import1", ARGS + ["-importpeers=" + a])
        imp, opening, addr = first_attempt(d)
        check(imp < opening, "the first connection was opened before the import:\n" + d.text()[-2000:])
        check(addr in first, "first outbound attempt to %s, not an imported address %s" % (addr, sorted(first)))
        print("empty datadir: first outbound attempt to imported %s, after the import" % addr)
        check(d.stop() == 0, "clean stop")
        b = os.path.join(tmp, "b.dat")
        second = write_peers(b, 8)
        d = Daemon(build, "import2", ARGS + ["-importpeers=" + b], datadir=d.dir)
        check("loaded 8 addresses" in d.text(), "peers.dat of 8 not loaded:\n" + d.text()[-2000:])
        imp, opening, addr = first_attempt(d)
        check(imp < opening, "the first connection was opened before the import:\n" + d.text()[-2000:])
        check(addr in first | second, "first attempt to %s, unknown" % addr)
        print("restart on a peers.dat of 8: 8 more imported before the first attempt (to %s)" % addr)
        check(d.stop() == 0, "clean stop")
        d = None
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        if d:
            d.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

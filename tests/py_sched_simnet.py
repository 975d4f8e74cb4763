"""The open-connections scheduler on a simulated network (issue 8):
bench/simnet's fake nodes on 127.a.b.1 across 60 /16 groups (a fifth of
them not listening), a real DNS server (dnsmasq) serving the seed name,
and connringd started from an empty datadir with only -chain=regtest,
-routable127=1 and the test-only seed name and DNS server. It must reach
8 outbound full-relay and 2 block-relay-only peers in 10 distinct /16
groups by itself (the time it took is printed), open feelers, and keep
its address manager: after a clean stop anchors.dat holds its two
block-relay-only peers, the next start tries them first (as
block-relay-only), connects to them and deletes the file; after a SIGKILL
peers.dat, saved periodically by the killed run, still loads, and the
temp file of a save cut short is removed by the next save. Growth of the address manager beyond the DNS
seed's answer is asserted only where the engine ingests gossiped
addresses (engine/coord_addr.c present). Bounded: about 30 s.

usage: py_sched_simnet.py BUILD_DIR"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simnet as sn  # noqa: E402
from crdaemon import Daemon, Failure, check  # noqa: E402
from rpcclient import Client  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = "seed.simnet.test"
OUT_TYPES = ("outbound-full-relay", "block-relay-only")


def group(addr):
    a = addr.split(":")[0].split(".")
    return "%s.%s" % (a[0], a[1])


def outbound(rpc):
    peers = rpc.call("getpeerinfo")
    return [p for p in peers if p["connection_type"] in OUT_TYPES]


def wait_full(d, rpc, timeout):
    """Waits for 8 full-relay + 2 block-relay-only ready peers; returns them."""
    end = time.time() + timeout
    last = []
    while time.time() < end:
        last = outbound(rpc)
        full = [p for p in last if p["connection_type"] == "outbound-full-relay"]
        block = [p for p in last if p["connection_type"] == "block-relay-only"]
        if len(full) >= 8 and len(block) >= 2:
            return last
        check(d.proc.poll() is None, "connringd died:\n" + d.text()[-3000:])
        time.sleep(0.05)
    raise Failure("outbound slots not full within %d s: %s\n%s" %
                  (timeout, [(p["addr"], p["connection_type"]) for p in last], d.text()[-3000:]))


def saved_count(text):
    m = re.findall(r"saved (\d+) addresses to", text)
    return int(m[-1]) if m else -1


def main():
    build = os.path.abspath(sys.argv[1])
    if not os.path.exists(os.path.join(build, "bench", "simnet")):
        print("skip: bench/simnet not built")
        return sn.SKIP
    net = sn.Simnet(build, ["--nodes", "300", "--groups", "60", "--unreachable", "0.2",
                            "--getaddr", "25", "--duration", "90"], seed_name=SEED)
    dns = d = None
    try:
        try:
            dns = sn.Dnsmasq(net.hosts)
        except FileNotFoundError as e:
            print("skip: %s" % e)
            return sn.SKIP
        args = ["-routable127=1", "-dnsseedname=" + SEED, "-dnsserver=127.0.0.1:%d" % dns.port,
                "-feelerinterval=300", "-addrsaveinterval=2000", "-debug=net,addrman"]
        t0 = time.time()
        d = Daemon(build, "sched", args)
        rpc = Client(d.rpcport, cookie=d.cookie)
        peers = wait_full(d, rpc, 20)
        took = time.time() - t0
        groups = {group(p["addr"]) for p in peers}
        check(len(groups) == len(peers) == 10, "not 10 peers in distinct /16 groups: %s" %
              sorted(p["addr"] for p in peers))
        print("full outbound slots (8 full-relay + 2 block-relay-only, %d groups) %.2f s after start"
              % (len(groups), took))
        # feelers run once the slots are full
        d.wait_log("opening feeler connection", 10)
        d.wait_log("outbound feeler", 10)
        print("feeler opened and handshaked")
        block = sorted(p["addr"] for p in peers if p["connection_type"] == "block-relay-only")
        # growth needs the worker side's getaddr and addr ingestion
        grows = os.path.exists(os.path.join(SRC, "engine", "coord_addr.c"))
        if grows:
            end = time.time() + 10
            while saved_count(d.text()) <= 25 and time.time() < end:
                time.sleep(0.2)
            check(saved_count(d.text()) > 25, "the address manager did not grow past the seed's 25")
            print("address manager grew to %d" % saved_count(d.text()))
        else:
            print("address growth not asserted: gossip ingestion (engine/coord_addr.c) not in this tree")
        # clean stop: anchors written; the restart tries them first
        rpc.close()
        check(d.stop() == 0, "clean stop")
        anchors = os.path.join(d.netdir, "anchors.dat")
        check(os.path.exists(anchors), "no anchors.dat after a clean stop")
        before = saved_count(d.text())
        d = Daemon(build, "sched2", args, datadir=d.dir)
        d.wait_log("2 block-relay-only anchors loaded", 10)
        check(not os.path.exists(anchors), "anchors.dat not deleted once read")
        d.wait_log("opening ", 10, 2)
        opened = re.findall(r"opening (\S+) connection to (\S+)", d.text())
        first = sorted(a for _, a in opened[:2])
        check([t for t, _ in opened[:2]] == ["block-relay-only"] * 2 and first == block,
              "the first connections were %s, not the anchors %s" % (opened[:4], block))
        check("loaded %d addresses" % before in d.text(), "peers.dat of %d did not load" % before)
        print("restart: anchors %s tried first, anchors.dat deleted, %d addresses loaded" % (block, before))
        rpc = Client(d.rpcport, cookie=d.cookie)
        peers2 = wait_full(d, rpc, 20)
        rpc.close()
        # the anchors were not only tried first: they are connected
        block2 = {p["addr"] for p in peers2 if p["connection_type"] == "block-relay-only"}
        check(set(block) <= block2, "anchors %s not among the block-relay-only peers %s" % (block, sorted(block2)))
        # SIGKILL: the periodic save is what is left, and it loads
        d.wait_log("saved ", 10)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        d.logf.close()
        saves = [int(n) for n in re.findall(r"saved (\d+) addresses to", d.text())]
        # a save cut short by a kill leaves its temp file: the next start
        # loads peers.dat regardless, and its first save removes it
        stale = os.path.join(d.netdir, "peers.dat.new-0123456789abcdef")
        with open(stale, "wb") as f:
            f.write(b"\xfa\xbf\xb5\xda half a file")
        d = Daemon(build, "sched3", args, datadir=d.dir)
        d.wait_log("loaded ", 10)
        m = re.search(r"loaded (\d+) addresses from", d.text())
        check(m and int(m.group(1)) >= 25, "peers.dat after SIGKILL: %s" % d.text()[-2000:])
        # what loaded is a periodic save of the killed run (a later one
        # than its last log line only if the kill fell between rename and log)
        n = int(m.group(1))
        check(n in saves or n > max(saves), "loaded %d, the killed run saved %s" % (n, saves))
        d.wait_log("saved ", 10)
        check(not os.path.exists(stale), "a stale temp file of a killed save was left after a save")
        print("after SIGKILL: peers.dat of the killed run's periodic save loads (%d addresses; saves %s), "
              "a stale temp file is removed" % (n, saves[-3:]))
        check(d.stop() == 0, "clean stop")
        d = None
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        if d:
            d.stop()
        if dns:
            dns.stop()
        net.stop()
    print("py_sched_simnet: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""System test of a BIP324 handshake flood (issue 9): connringd with 200
inbound slots filled by honest V1 peers, each from its own /16; an
attacker opens 5,000 connections one after another from one /16, each
sending a 64-byte ElligatorSwift key (every admitted one costs the node an
ECDH). Meanwhile 20 new honest peers, each from its own /16, connect one
after another. With the flood defence on (the default) every one of their
handshakes must complete; with it off (eviction alone) they compete with
the attacker's newcomers for the eviction queue (-evict wait bound), so
their count is only reported, and that run shows what the defence saves:
the node answers well over 1,000 key exchanges. Both runs keep at least
98% of the first 200 connected.

Usage: py_evict_v2flood.py BUILD_DIR (ctest passes it)."""
import asyncio
import sys

import evict_sys
import v1peers
from evict_sys import check

NEWCOMERS = 20


async def one(build, name, extra, newcomers_must_finish):
    d = evict_sys.daemon(build, name, extra)
    peers, late = [], []
    try:
        peers = await evict_sys.fill(d, evict_sys.HONEST)
        await asyncio.sleep(2.5)
        before = d.snapshot()
        loop = asyncio.get_running_loop()
        attack = loop.run_in_executor(None, evict_sys.flood, build, d.port, "v2")
        await asyncio.sleep(1.0)  # the flood is under way
        for i in range(NEWCOMERS):
            # a slower ping than every established peer, so a newcomer does not
            # win a ping protection and displace one (Core's rule, not the flood)
            late.append(v1peers.Peer("127.%d.0.1" % (220 + i), "127.0.0.1", d.port,
                                     pong_delay=0.1).start())
            await asyncio.sleep(0.2)
        ok = await v1peers.wait_until(lambda: all(p.ready_at for p in late), 10)
        summary = await attack
        await asyncio.sleep(1.0)
        alive, defence = evict_sys.report(name, d, peers, before, summary)
        done = sum(1 for p in late if p.ready_at)
        print("%s: %d of %d newcomers finished their handshake during the flood" % (name, done, NEWCOMERS))
        check(ok or not newcomers_must_finish,
              "%s: only %d of %d newcomers finished their handshake during the flood" %
              (name, done, NEWCOMERS))
        check(summary["connected"] >= 4900, "the attacker could not even connect: %s" % summary)
        check(alive >= 0.98 * evict_sys.HONEST,
              "%s: only %d of %d honest peers survived the flood" % (name, alive, evict_sys.HONEST))
        return defence, summary
    finally:
        for p in peers + late:
            p.stop()
        d.stop()


async def test():
    build = sys.argv[1]
    on, s_on = await one(build, "v2-defence-on", [], True)
    check(on["refused"]["flood_rate"] > 4000, "the flood defence refused only %s" % on["refused"])
    check(s_on["answered"] < 100, "%d V2 key exchanges answered despite the defence" % s_on["answered"])
    off, s_off = await one(build, "v2-defence-off", ["-floodguard=0"], False)
    check(s_off["answered"] > 1000, "without the defence the node answered only %d" % s_off["answered"])


evict_sys.run(test)

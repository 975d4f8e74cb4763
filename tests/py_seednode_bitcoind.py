"""-seednode against a real bitcoind, run only where bitcoind and
bitcoin-cli are on PATH (otherwise SKIPPED through ctest's
SKIP_RETURN_CODE 77, with the reason printed). bitcoind -regtest listens on
loopback in a temporary datadir (-connect=0: it dials nobody); bitcoin-cli
addpeeraddress gives it 40 addresses. Core takes routable addresses only,
so they are 11.1.1.x on ports of Core's bad-port list (25, 22, ...), which
connringd's scheduler never dials (Core's IsBadPort): nothing but loopback
is ever contacted. connringd -seednode=127.0.0.1:PORT opens an addr-fetch
connection, gets bitcoind's getaddr answer (Core answers with up to 23% of
its table from its cache: 9 of 40) and closes it; its getnodeaddresses
then lists addresses bitcoind knows, and only those.

Bounded: about 30 s. usage: py_seednode_bitcoind.py BUILD_DIR"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check, free_port  # noqa: E402
from rpcclient import Client  # noqa: E402

SKIP = 77
BAD_PORTS = [25, 22, 23, 21, 110, 143, 465, 587, 993, 995]


def main():
    build = sys.argv[1]
    bitcoind, cli = shutil.which("bitcoind"), shutil.which("bitcoin-cli")
    if not bitcoind or not cli:
        missing = [n for n, w in (("bitcoind", bitcoind), ("bitcoin-cli", cli)) if not w]
        print("SKIPPED: %s not on PATH: -seednode against a real bitcoind is not tested here" %
              " and ".join(missing))
        return SKIP
    tmp = tempfile.mkdtemp(prefix="cr-bitcoind-")
    port, rpcport = free_port(), free_port()
    auth = ["-regtest", "-datadir=" + tmp, "-rpcport=%d" % rpcport, "-rpcuser=cr", "-rpcpassword=cr"]
    proc = subprocess.Popen([bitcoind] + auth + ["-port=%d" % port, "-bind=127.0.0.1", "-listen=1",
                                                 "-dnsseed=0", "-fixedseeds=0", "-connect=0", "-server=1",
                                                 "-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1",
                                                 "-printtoconsole=0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = None

    def bcli(*args):
        return subprocess.run([cli] + auth + ["-rpcwait", "-rpcwaittimeout=30"] + list(args),
                              capture_output=True, text=True, timeout=40).stdout.strip()
    try:
        added = set()
        for i in range(40):
            ip, p = "11.1.1.%d" % (i + 1), BAD_PORTS[i % len(BAD_PORTS)]
            if '"success": true' in bcli("addpeeraddress", ip, str(p)):
                added.add((ip, p))
        check(len(added) >= 30, "bitcoind took %d of 40 addresses" % len(added))
        d = Daemon(build, "seednode", ["-seednode=127.0.0.1:%d" % port, "-dnsseed=0", "-fixedseeds=0",
                                       "-v2transport=0", "-debug=net"])
        rpc = Client(d.rpcport, cookie=d.cookie)
        end = time.time() + 20
        got = []
        while time.time() < end and not got:
            got = rpc.call("getnodeaddresses", 0)
            time.sleep(0.2)
        learned = {(a["address"], a["port"]) for a in got}
        check(learned and learned <= added, "connringd learned %s; bitcoind knows %s" %
              (sorted(learned), sorted(added)))
        check("addr-fetch" in d.text(), "no addr-fetch connection logged")
        print("connringd learned %d of bitcoind's %d addresses through -seednode" % (len(learned), len(added)))
        rpc.close()
        check(d.stop() == 0, "clean stop")
        d = None
    except Failure as e:
        print("FAIL: %s" % e)
        if d:
            print(d.text()[-2000:])
        return 1
    finally:
        if d:
            d.stop()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

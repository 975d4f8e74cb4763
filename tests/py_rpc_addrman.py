"""getnodeaddresses, addpeeraddress, getaddrmaninfo and -importpeers on
the coordinator's address manager of a live connringd (regtest,
-routable127=1 so 127/8 addresses count as routable IPv4; every address
used is on loopback, where nothing listens on the ports used):

- -importpeers takes a peers.dat built as Core writes it (format 3, BIP155
  entries, 3 new and 2 tried, one Tor v2 entry Core drops), and
  getaddrmaninfo shows them by network and table with Core's fields;
- getnodeaddresses: Core's fields and types, count, count 0 = all, the
  largest count (INT32_MAX) answered with what there is, the
  network filter, -8 for a negative count and an unknown network;
- addpeeraddress: success for a new address (new table, or tried with
  tried=true), false with Core's "failed-adding-to-new" error for one
  known already, false alone for text that is not an address;
- a peers.dat with a flipped byte stops the start with the reason.

Bounded: about 5 s. usage: py_rpc_addrman.py BUILD_DIR"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402
from py_rpc_daemon import REGTEST_MAGIC, expect_error  # noqa: E402
from rpcclient import Client, RPCError  # noqa: E402

NOW = int(time.time())  # older than 30 days would be terrible: left out


def entry(net, addr, port, services, time_s):
    """Core's CAddrInfo on disk, BIP155 form (format >= 3)."""
    src = bytes([1, 4]) + bytes([127, 9, 9, 9])
    return (struct.pack("<II", 220000 | 1 << 29, time_s) + bytes([services]) + bytes([net, len(addr)]) + addr +
            struct.pack(">H", port) + src + struct.pack("<qi", NOW - 3600, 1))


def peers_dat(new, tried):
    body = bytes([3, 32 + 3]) + bytes([7] * 32) + struct.pack("<ii", len(new), len(tried))
    body += struct.pack("<I", 1024 ^ 1 << 30)
    for e in new + tried:
        body += e
    for b in range(1024):  # new entry i sits in bucket i
        body += struct.pack("<ii", 1, b) if b < len(new) else struct.pack("<i", 0)
    body += bytes(32)  # asmap checksum
    data = REGTEST_MAGIC + body
    return data + hashlib.sha256(hashlib.sha256(data).digest()).digest()


def v4(a, b, c, d):
    return bytes([a, b, c, d])


def vm_peak_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmPeak:"):
                return int(line.split()[1])
    return 0


def main():
    build = sys.argv[1]
    d = None
    tmp = tempfile.mkdtemp(prefix="cr-addrman-")
    try:
        new = [entry(1, v4(127, 1 + i, 0, 1), 1111 + i, 9, NOW - 100 * i) for i in range(3)]
        new.append(entry(3, bytes(10), 8333, 1, NOW))  # Tor v2: Core drops it
        tried = [entry(1, v4(127, 10 + i, 0, 1), 2222 + i, 1, NOW - 7) for i in range(2)]
        good = os.path.join(tmp, "peers.dat")
        with open(good, "wb") as f:
            f.write(peers_dat(new, tried))
        d = Daemon(build, "addrman", ["-routable127=1", "-importpeers=" + good])
        rpc = Client(d.rpcport, cookie=d.cookie)
        check("5 addresses read (1 skipped" in d.text() and "imported 5 of 5 addresses" in d.text(),
              "import log lines:\n" + d.text()[-2000:])

        info = rpc.call("getaddrmaninfo")
        check(list(info) == ["ipv4", "ipv6", "onion", "i2p", "cjdns", "all_networks"], "networks %s" % list(info))
        for k, v in info.items():
            check(list(v) == ["new", "tried", "total"] and v["total"] == v["new"] + v["tried"], "%s: %s" % (k, v))
        check(info["ipv4"] == {"new": 3, "tried": 2, "total": 5}, "ipv4 after import: %s" % info["ipv4"])
        check(info["all_networks"]["total"] == 5 and info["onion"]["total"] == 0, "totals: %s" % info)

        one = rpc.call("getnodeaddresses")
        check(len(one) == 1, "default count 1: %s" % one)
        every = rpc.call("getnodeaddresses", 0)
        check(len(every) == 5, "count 0: %s" % every)
        for a in every:
            check(list(a) == ["time", "services", "address", "port", "network"], "fields %s" % list(a))
            # Core's network class of a loopback address, -routable127 or not
            check(isinstance(a["time"], int) and isinstance(a["services"], int) and
                  isinstance(a["port"], int) and a["network"] == "not_publicly_routable", "types %s" % a)
        got = {(a["address"], a["port"]): a for a in every}
        check(("127.1.0.1", 1111) in got and got[("127.1.0.1", 1111)]["services"] == 9 and
              got[("127.1.0.1", 1111)]["time"] == NOW, "imported entry: %s" % sorted(got))
        check(("127.11.0.1", 2223) in got, "tried entry: %s" % sorted(got))
        check(len(rpc.call("getnodeaddresses", 3)) == 3, "count 3")
        # the largest count answers with what there is (no count-sized allocation)
        check(len(rpc.call("getnodeaddresses", 2147483647)) == 5, "count INT32_MAX")
        if not os.environ.get("CR_SANITIZE"):  # ASan reserves terabytes of shadow
            peak = vm_peak_kib(d.proc.pid)
            check(peak < 4 << 20, "VmPeak after count INT32_MAX: %d KiB" % peak)
        check(rpc.call("getnodeaddresses", 0, "onion") == [], "onion filter")
        check(len(rpc.call("getnodeaddresses", 0, "ipv4")) == 5, "ipv4 filter")
        expect_error(lambda: rpc.call("getnodeaddresses", -1), -8, "negative count")
        expect_error(lambda: rpc.call("getnodeaddresses", 1, "ipv5"), -8, "unknown network")

        check(rpc.call("addpeeraddress", "127.20.0.1", 3333) == {"success": True}, "addpeeraddress new")
        # Core's error field, before success (the assertion here was
        # {"success": False}, which locked in its absence)
        twice = rpc.call("addpeeraddress", "127.20.0.1", 3333)
        check(list(twice.items()) == [("error", "failed-adding-to-new"), ("success", False)],
              "addpeeraddress twice: %s" % twice)
        check(rpc.call("addpeeraddress", "127.21.0.1", 3334, True) == {"success": True}, "addpeeraddress tried")
        check(rpc.call("addpeeraddress", "no-such-address", 1) == {"success": False}, "addpeeraddress bad text")
        info = rpc.call("getaddrmaninfo")["ipv4"]
        check(info == {"new": 4, "tried": 3, "total": 7}, "after addpeeraddress: %s" % info)
        added = [a for a in rpc.call("getnodeaddresses", 0) if a["address"] == "127.20.0.1"]
        check(len(added) == 1 and added[0]["port"] == 3333 and added[0]["services"] == 9, "added: %s" % added)
        rpc.close()
        check(d.stop() == 0, "clean stop")

        bad = os.path.join(tmp, "bad.dat")
        data = bytearray(peers_dat(new, tried))
        data[60] ^= 1
        with open(bad, "wb") as f:
            f.write(bytes(data))
        p = subprocess.run([os.path.join(build, "cmd", "connringd"), "-chain=regtest", "-datadir=" + tmp,
                            "-importpeers=" + bad, "-port=1", "-rpcport=1"], capture_output=True, text=True,
                           timeout=20)
        check(p.returncode != 0 and "-importpeers" in p.stdout + p.stderr, "corrupt peers.dat: %d %r" %
              (p.returncode, p.stdout + p.stderr))
    except (Failure, RPCError, OSError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
        print("FAIL: %s" % e)
        if d:
            print(d.text()[-3000:])
        return 1
    finally:
        if d and d.proc.poll() is None:
            d.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

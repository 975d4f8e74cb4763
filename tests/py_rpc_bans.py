"""setban / listbanned / clearbanned and -importbans against a live
connringd, with raw V1 peers bound to their own loopback addresses
(127.0.0.5, .6, ...):

- setban of a connected peer's address closes it at once, and a new
  connection from it is closed before any byte comes back, while another
  address still gets its version answered; the same for a /24;
- Core's errors: -23 already banned (the address, or one a banned subnet
  covers), -30 invalid IP/Subnet, -30 unban of what was not banned, -8 an
  absolute time in the past (after -23: an address banned already with a
  time in the past is -23, as Core), -1 with the help text for a bad command;
- listbanned with Core's fields and times (relative, absolute, -bantime);
- bans survive a clean restart and a SIGKILL right after setban answered
  (banlist.dat is written before the call returns);
- -importbans merges a bitcoind banlist.json (a subnet banned already is
  merged, not counted as added; expired entries and other
  versions dropped as Core drops them, creation times kept); a corrupt one
  stops the start and leaves banlist.dat as it was;
- setban remove and clearbanned let the address in again; a ban with
  bantime=2 lets it in again after it expires and is no longer listed.

Bounded: about 5 s. usage: py_rpc_bans.py BUILD_DIR"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402
from py_rpc_daemon import REGTEST_MAGIC, evil_version, expect_error, frame  # noqa: E402
from rpcclient import Client, RPCError  # noqa: E402


def raw_peer(src, port):
    """A V1 peer from src: connects, sends version and verack. Returns
    (socket, first bytes back): b"" when it was closed without a byte."""
    s = socket.socket()
    s.settimeout(30)  # generous: a ThreadSanitizer build answers slowly
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(frame("version", evil_version(b"/raw:1/")) + frame("verack", b""))
        got = s.recv(24)
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    return s, got


def admitted(src, port):
    s, got = raw_peer(src, port)
    s.close()
    check(got == b"" or got.startswith(REGTEST_MAGIC), "from %s: %r" % (src, got))
    return got != b""


def closed_within(s, timeout):
    """True when the peer's side sees the connection end within timeout."""
    s.settimeout(0.2)
    end = time.time() + timeout
    while time.time() < end:
        try:
            if s.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def bans(rpc):
    return {b["address"]: b for b in rpc.call("listbanned")}


def check_fields(b):
    for key in ("address", "ban_created", "banned_until", "ban_duration", "time_remaining"):
        check(key in b, "listbanned entry lacks %s: %s" % (key, b))
    check(list(b) == ["address", "ban_created", "banned_until", "ban_duration", "time_remaining"],
          "listbanned member order %s" % list(b))
    check(b["ban_duration"] == b["banned_until"] - b["ban_created"], "ban_duration of %s" % b)
    now = int(time.time())
    check(abs(b["time_remaining"] - (b["banned_until"] - now)) <= 2, "time_remaining of %s" % b)


def check_live_ban(rpc, d):
    """A connected peer is closed by the ban; a newcomer from it is refused."""
    s, got = raw_peer("127.0.0.5", d.port)
    check(got.startswith(REGTEST_MAGIC), "127.0.0.5 before the ban: %r" % got)
    end = time.time() + 10
    while time.time() < end and not any(p["addr"].startswith("127.0.0.5:") for p in rpc.call("getpeerinfo")):
        time.sleep(0.05)
    check(any(p["addr"].startswith("127.0.0.5:") for p in rpc.call("getpeerinfo")), "127.0.0.5 connected")
    t0 = int(time.time())
    check(rpc.call("setban", "127.0.0.5", "add") is None, "setban add")
    check(closed_within(s, 5), "the banned peer was not closed")
    s.close()
    check(not admitted("127.0.0.5", d.port), "a new connection from a banned address got bytes")
    check(admitted("127.0.0.6", d.port), "127.0.0.6 refused without a ban")
    # a subnet: every address in it is refused at accept, its neighbours not
    check(rpc.call("setban", "127.0.1.0/24", "add") is None, "setban of a /24")
    check(not admitted("127.0.1.9", d.port), "a newcomer from a banned /24 got bytes")
    check(admitted("127.0.2.9", d.port), "127.0.2.9 refused by a ban of 127.0.1.0/24")
    check("127.0.1.0/24" in bans(rpc), "the /24 listed: %s" % sorted(bans(rpc)))
    check(rpc.call("setban", "127.0.1.0/24", "remove") is None, "setban remove of the /24")
    b = bans(rpc)["127.0.0.5/32"]
    check_fields(b)
    check(t0 - 1 <= b["ban_created"] <= int(time.time()) and b["ban_duration"] == 86400,
          "default ban time: %s" % b)


def check_errors(rpc):
    expect_error(lambda: rpc.call("setban", "127.0.0.5", "add"), -23, "ban twice")
    check(rpc.call("setban", "10.0.0.0/8", "add", 1000) is None, "ban a subnet")
    expect_error(lambda: rpc.call("setban", "10.1.2.3", "add"), -23, "an address a subnet covers")
    expect_error(lambda: rpc.call("setban", "10.0.0.0/8", "add"), -23, "the same subnet")
    check(rpc.call("setban", "10.1.0.0/16", "add", 500) is None, "a smaller subnet inside (Core allows it)")
    expect_error(lambda: rpc.call("setban", "not-an-ip", "add"), -30, "invalid address")
    expect_error(lambda: rpc.call("setban", "10.0.0.0/99", "add"), -30, "invalid subnet")
    expect_error(lambda: rpc.call("setban", "1.2.3.4", "remove"), -30, "unban of no ban")
    expect_error(lambda: rpc.call("setban", "10.1.2.3", "remove"), -30, "unban of an address a subnet covers")
    expect_error(lambda: rpc.call("setban", "1.2.3.4", "add", 1000, True), -8, "absolute time in the past")
    # Core checks "already banned" first
    expect_error(lambda: rpc.call("setban", "127.0.0.5", "add", 1000, True), -23, "banned, a time in the past")
    e = expect_error(lambda: rpc.call("setban", "1.2.3.4", "frob"), -1, "bad command")
    check("setban" in e.error["message"], "bad command answers the help: %s" % e.error)
    expect_error(lambda: rpc.call("setban", "1.2.3.4", "add", "x"), -3, "bantime of the wrong type")
    until = int(time.time()) + 5000
    check(rpc.call("setban", "2001:db8::/32", "add", until, True) is None, "absolute IPv6 ban")
    bl = bans(rpc)
    for b in bl.values():
        check_fields(b)
    check(bl["2001:db8::/32"]["banned_until"] == until, "absolute until: %s" % bl["2001:db8::/32"])
    check(bl["10.0.0.0/8"]["ban_duration"] == 1000 and bl["10.1.0.0/16"]["ban_duration"] == 500,
          "relative bans: %s" % bl)
    check(sorted(bl) == sorted(["127.0.0.5/32", "10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"]),
          "listbanned: %s" % sorted(bl))
    return bl


def write_banlist_json(path, entries):
    with open(path, "w") as f:
        json.dump({"banned_nets": entries}, f)


def main():
    build = sys.argv[1]
    a = None
    daemons = []
    try:
        a = Daemon(build, "bans-a", [])
        daemons.append(a)
        rpc = Client(a.rpcport, cookie=a.cookie)
        check(rpc.call("listbanned") == [], "no bans at first")
        check_live_ban(rpc, a)
        before = check_errors(rpc)
        rpc.close()

        # A clean restart, importing a bitcoind banlist.json on the way.
        now = int(time.time())
        imported = os.path.join(a.dir, "banlist.json")
        write_banlist_json(imported, [
            {"version": 1, "ban_created": now - 100, "banned_until": now + 3000, "address": "192.0.2.0/24"},
            {"version": 1, "ban_created": now - 900, "banned_until": now - 10, "address": "198.51.100.7/32"},
            {"version": 2, "ban_created": now, "banned_until": now + 3000, "address": "203.0.113.0/24"},
            {"version": 1, "ban_created": now, "banned_until": now + 3000, "address": "bogus/8"},
            # banned already, and longer: merged (the later expiry kept), not counted as added
            {"version": 1, "ban_created": now - 50, "banned_until": now + 100, "address": "10.0.0.0/8"},
        ])
        check(a.stop() == 0, "clean stop")
        a = Daemon(build, "bans-b", ["-importbans=" + imported], datadir=a.dir)
        daemons.append(a)
        rpc = Client(a.rpcport, cookie=a.cookie)
        after = bans(rpc)
        for k, b in before.items():
            check(k in after and after[k]["ban_created"] == b["ban_created"] and
                  after[k]["banned_until"] == b["banned_until"], "%s after restart: %s" % (k, after.get(k)))
        imp = after.get("192.0.2.0/24")
        check(imp and imp["ban_created"] == now - 100 and imp["banned_until"] == now + 3000,
              "imported ban: %s" % imp)
        check(len(after) == len(before) + 1, "imported only the live version-1 entry: %s" % sorted(after))
        check("1 bans added" in a.text() and "3 skipped" in a.text(), "import log line")
        check(not admitted("127.0.0.5", a.port), "127.0.0.5 admitted after a restart")

        # SIGKILL right after setban answered: the ban is on disk.
        check(rpc.call("setban", "127.0.0.7", "add") is None, "setban before SIGKILL")
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        a.logf.close()
        rpc.close()
        dat = os.path.join(a.netdir, "banlist.dat")
        with open(dat, "rb") as f:
            saved = f.read()
        # A corrupt import stops the start and leaves banlist.dat as it was.
        with open(imported, "w") as f:
            f.write('{"banned_nets": [{"version": 1, "address": "1.2.3.4"')
        bad = subprocess.run([os.path.join(build, "cmd", "connringd"), "-chain=regtest", "-datadir=" + a.dir,
                              "-importbans=" + imported, "-port=1", "-rpcport=1"],
                             capture_output=True, text=True, timeout=20)
        check(bad.returncode != 0 and "-importbans" in bad.stdout + bad.stderr,
              "corrupt import: %d %r" % (bad.returncode, bad.stdout + bad.stderr))
        with open(dat, "rb") as f:
            check(f.read() == saved, "banlist.dat changed by a refused import")

        a = Daemon(build, "bans-c", [], datadir=a.dir)
        daemons.append(a)
        rpc = Client(a.rpcport, cookie=a.cookie)
        check("127.0.0.7/32" in bans(rpc), "the ban made just before SIGKILL: %s" % sorted(bans(rpc)))
        check(not admitted("127.0.0.7", a.port), "127.0.0.7 admitted after SIGKILL")

        # remove, clearbanned, expiry
        check(rpc.call("setban", "127.0.0.5", "remove") is None, "setban remove")
        check("127.0.0.5/32" not in bans(rpc) and admitted("127.0.0.5", a.port), "127.0.0.5 after remove")
        check(rpc.call("clearbanned") is None and rpc.call("listbanned") == [], "clearbanned")
        check(admitted("127.0.0.7", a.port), "127.0.0.7 after clearbanned")
        check(rpc.call("setban", "127.0.0.8", "add", 2) is None, "setban bantime=2")
        check(not admitted("127.0.0.8", a.port), "127.0.0.8 within its 2 s ban")
        end = time.time() + 10
        while time.time() < end and "127.0.0.8/32" in bans(rpc):
            time.sleep(0.25)
        check("127.0.0.8/32" not in bans(rpc), "an expired ban still listed")
        check(admitted("127.0.0.8", a.port), "127.0.0.8 refused after its ban expired")
        rpc.close()
    except (Failure, RPCError, OSError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
        print("FAIL: %s" % e)
        if a:
            print(a.text()[-3000:])
        return 1
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

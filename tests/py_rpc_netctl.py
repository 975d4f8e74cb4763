"""addnode add/remove, getaddednodeinfo, ping and setnetworkactive against
live connringds (regtest, loopback only):

- addnode add keeps a second connringd connected (getaddednodeinfo shows
  it connected, outbound); Core's errors -23 (added twice) and -24
  (removing or asking for a node not added); remove drops it from the list;
- ping: a raw V1 peer that answered the first ping (and, with
  -pinginterval=3600, would get no other) receives a ping after the call,
  and, when the call came while that ping was out, another after its pong;
- setnetworkactive false: every peer is disconnected, a new inbound
  connection is closed before any byte, an added node is not connected,
  getnetworkinfo says networkactive false; true again: inbound connections
  are answered and the added node connects.

Bounded: about 10 s. usage: py_rpc_netctl.py BUILD_DIR"""
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402
from py_rpc_bans import admitted, closed_within  # noqa: E402
from py_rpc_daemon import REGTEST_MAGIC, evil_version, expect_error, frame  # noqa: E402
from rpcclient import Client, RPCError  # noqa: E402


def read_msg(s):
    head = b""
    while len(head) < 24:
        chunk = s.recv(24 - len(head))
        if not chunk:
            raise Failure("peer closed while reading a header")
        head += chunk
    check(head[:4] == REGTEST_MAGIC, "bad magic %r" % head[:4])
    (n,) = struct.unpack("<I", head[16:20])
    payload = b""
    while len(payload) < n:
        chunk = s.recv(n - len(payload))
        if not chunk:
            raise Failure("peer closed while reading a payload")
        payload += chunk
    return head[4:16].rstrip(b"\0").decode(), payload


def wait_for(what, fn, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return
        time.sleep(0.1)
    raise Failure("timed out waiting for " + what)


def check_ping(rpc, d):
    s = socket.socket()
    s.settimeout(30)
    s.bind(("127.0.0.5", 0))
    s.connect(("127.0.0.1", d.port))
    s.sendall(frame("version", evil_version(b"/pinger:1/")) + frame("verack", b""))
    pings = 0
    while pings == 0:  # Core pings a new peer at once: answer it
        cmd, payload = read_msg(s)
        if cmd == "ping":
            s.sendall(frame("pong", payload))
            pings += 1
    wait_for("the pong to count", lambda: any(p["addr"].startswith("127.0.0.5:") and "pingtime" in p
                                              for p in rpc.call("getpeerinfo")))
    check(rpc.call("ping") is None, "ping answers null")
    cmd = None
    while cmd != "ping":
        cmd, payload = read_msg(s)
    # asked again while that ping is out: the ping follows its pong
    check(rpc.call("ping") is None, "ping with a ping out")
    s.sendall(frame("pong", payload))
    s.settimeout(10)
    cmd = None
    while cmd != "ping":
        cmd, payload = read_msg(s)
    s.sendall(frame("pong", payload))
    s.settimeout(30)
    return s


def check_addnode(rpc, b):
    target = "127.0.0.1:%d" % b.port
    check(rpc.call("getaddednodeinfo") == [], "no added nodes at first")
    check(rpc.call("addnode", target, "add") is None, "addnode add")
    expect_error(lambda: rpc.call("addnode", target, "add"), -23, "addnode add twice")
    wait_for("the added node to connect", lambda: rpc.call("getaddednodeinfo", target)[0]["connected"])
    info = rpc.call("getaddednodeinfo")
    check(len(info) == 1 and info[0]["addednode"] == target and
          info[0]["addresses"] == [{"address": target, "connected": "outbound"}], "getaddednodeinfo: %s" % info)
    check(list(info[0]) == ["addednode", "connected", "addresses"], "member order %s" % list(info[0]))
    out = [p for p in rpc.call("getpeerinfo") if p["addr"] == target]
    check(len(out) == 1 and out[0]["connection_type"] == "manual", "the added node's peer: %s" % out)
    expect_error(lambda: rpc.call("getaddednodeinfo", "127.0.0.1:1"), -24, "info of a node not added")
    expect_error(lambda: rpc.call("addnode", "127.0.0.1:1", "remove"), -24, "remove of a node not added")
    e = expect_error(lambda: rpc.call("addnode", target, "frob"), -1, "addnode bad command")
    check("addnode" in e.error["message"], "bad command answers the help")
    check(rpc.call("addnode", target, "remove") is None, "addnode remove")
    check(rpc.call("getaddednodeinfo") == [], "list after remove")
    expect_error(lambda: rpc.call("addnode", target, "remove"), -24, "remove twice")
    return target


def main():
    build = sys.argv[1]
    a = b = pinger = None
    try:
        a = Daemon(build, "netctl-a", ["-pinginterval=3600"])
        b = Daemon(build, "netctl-b", [])
        rpc = Client(a.rpcport, cookie=a.cookie)
        rpcb = Client(b.rpcport, cookie=b.cookie)
        pinger = check_ping(rpc, a)
        target = check_addnode(rpc, b)
        check(rpc.call("getnetworkinfo")["networkactive"] is True, "active at first")

        # Inactive: everyone leaves, nobody comes in, nothing goes out.
        check(rpc.call("addnode", target, "add") is None, "addnode add again")
        wait_for("the added node again", lambda: rpc.call("getaddednodeinfo", target)[0]["connected"])
        check(rpc.call("setnetworkactive", False) is False, "setnetworkactive false")
        check(rpc.call("getnetworkinfo")["networkactive"] is False, "getnetworkinfo networkactive false")
        check(closed_within(pinger, 5), "a peer stayed connected while inactive")
        wait_for("every peer gone", lambda: rpc.call("getconnectioncount") == 0)
        check(not admitted("127.0.0.6", a.port), "an inbound connection got bytes while inactive")
        wait_for("b to see a gone", lambda: rpcb.call("getconnectioncount") == 0)
        time.sleep(1.5)  # an added node would be retried at once if anything opened
        check(rpcb.call("getconnectioncount") == 0 and not rpc.call("getaddednodeinfo")[0]["connected"],
              "an outbound connection opened while inactive")

        check(rpc.call("setnetworkactive", True) is True, "setnetworkactive true")
        check(rpc.call("getnetworkinfo")["networkactive"] is True, "active again")
        check(admitted("127.0.0.6", a.port), "inbound refused after setnetworkactive true")
        wait_for("the added node after reactivation",
                 lambda: rpc.call("getaddednodeinfo", target)[0]["connected"])
        rpc.close()
        rpcb.close()
    except (Failure, RPCError, OSError, subprocess.TimeoutExpired, ValueError, KeyError, IndexError) as e:
        print("FAIL: %s" % e)
        if a:
            print(a.text()[-3000:])
        return 1
    finally:
        if pinger:
            pinger.close()
        for d in (a, b):
            if d:
                d.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

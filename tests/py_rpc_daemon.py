"""connringd's JSON-RPC end to end, as an operator meets it.

A connringd (regtest, its own datadir) with 6 inbound peers from
connring-load (3 V1, 3 BIP324 V2), one outbound peer to a second connringd
(addnode onetry) and one hand-made V1 peer whose user agent carries a quote
and bytes >= 0x80 and who sends a message named 'a"b'. Then:

- the cookie is <datadir>/regtest/.cookie, mode 0600, and is gone at stop;
- a client written from bitcoin-cli's documented behaviour (rpcclient.py:
  HTTP POST, Basic auth from the cookie) calls every method; each result
  has Core's field names and JSON types; methods whose owner (the address
  manager) is not wired answer Core's error for a missing feature;
- bad auth (401 after Core's pause), bad JSON (-32700), unknown method
  (-32601, HTTP 404), wrong parameter types (-3), a declared oversized body
  (413), a batch, JSON-RPC 2.0;
- a client that sends half a request and stalls is closed after
  -rpcservertimeout while other calls are served;
- connring-cli: plain, -named, -stdin, -netinfo (levels 0 and 4), an error
  with bitcoin-cli's output and exit status;
- the -statsfile is valid JSON despite the hand-made peer; its user agent
  shows escaped there and sanitized in getpeerinfo (Core's cleanSubVer);
- "logging" turns a category on and off; disconnectnode by id and by
  address; "stop" stops the daemon.

Bounded: about 20 s. usage: py_rpc_daemon.py BUILD_DIR"""
import hashlib
import json
import os
import socket
import stat
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402
from rpcclient import Client, RPCError  # noqa: E402

REGTEST_MAGIC = bytes.fromhex("fabfb5da")


def frame(command, payload):
    cmd = command.encode("latin-1").ljust(12, b"\0")
    checksum = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return REGTEST_MAGIC + cmd + struct.pack("<I", len(payload)) + checksum + payload


def evil_version(ua):
    addr = struct.pack("<Q", 0) + bytes(10) + b"\xff\xff" + bytes([127, 0, 0, 1]) + struct.pack(">H", 0)
    return (struct.pack("<iQq", 70016, 0, int(time.time())) + addr + addr +
            struct.pack("<Q", 0x1234567) + bytes([len(ua)]) + ua + struct.pack("<i", 7) + b"\x01")


def evil_peer(port):
    """A raw V1 peer: user agent with a quote and non-UTF-8 bytes, then a
    message whose name holds a quote."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(frame("version", evil_version(b'/evil"\xff\xfe\x80:1/')))
    s.sendall(frame("verack", b""))
    time.sleep(0.3)
    s.sendall(frame('a"b', b"xyz"))
    return s


def expect_error(fn, code, what):
    try:
        fn()
    except RPCError as e:
        got = e.error.get("code") if isinstance(e.error, dict) else e.status
        check(got == code, "%s: error %s, wanted %s" % (what, e.error, code))
        return e
    raise Failure("%s: no error" % what)


def types_ok(obj, spec, what):
    for key, typ in spec.items():
        check(key in obj, "%s lacks %s: %s" % (what, key, sorted(obj)))
        check(isinstance(obj[key], typ) and not (typ is int and isinstance(obj[key], bool)),
              "%s.%s is %r, wanted %s" % (what, key, obj[key], typ))


PEER_FIELDS = {
    "id": int, "addr": str, "network": str, "services": str, "servicesnames": list, "relaytxes": bool,
    "lastsend": int, "lastrecv": int, "last_transaction": int, "last_block": int, "bytessent": int,
    "bytesrecv": int, "conntime": int, "timeoffset": int, "version": int, "subver": str, "inbound": bool,
    "startingheight": int, "connection_type": str, "transport_protocol_type": str, "session_id": str,
    "permissions": list, "bytessent_per_msg": dict, "bytesrecv_per_msg": dict,
}


def with_key_order(data):
    """Parses JSON keeping each object's member order under "__keys__"."""
    return json.loads(data, object_pairs_hook=lambda pairs: dict(pairs, __keys__=[k for k, _ in pairs]))


def check_streamed(rpc):
    """getpeerinfo alone is streamed peer by peer, in a batch it is built
    as one tree: both must give the same peers with the same members in
    the same order, in the reply object's exact frame."""
    req = {"jsonrpc": "1.0", "id": 7, "method": "getpeerinfo"}
    st1, _, legacy = rpc.raw(json.dumps(req))
    st2, _, v2 = rpc.raw(json.dumps(dict(req, jsonrpc="2.0")))
    st3, _, batch = rpc.raw(json.dumps([req]))
    check(st1 == 200 and st2 == 200 and st3 == 200, "getpeerinfo statuses %s %s %s" % (st1, st2, st3))
    check(legacy.startswith(b'{"result":[{"id":') and legacy.endswith(b'}],"error":null,"id":7}\n'),
          "streamed 1.0 frame: %r ... %r" % (legacy[:40], legacy[-40:]))
    check(v2.startswith(b'{"jsonrpc":"2.0","result":[{"id":') and v2.endswith(b'}],"id":7}\n'),
          "streamed 2.0 frame: %r ... %r" % (v2[:40], v2[-40:]))
    one = with_key_order(legacy)["result"]
    tree = with_key_order(batch)[0]["result"]
    check([p["id"] for p in one] == [p["id"] for p in tree] and len(one) >= 7,
          "streamed and tree peers: %s vs %s" % ([p["id"] for p in one], [p["id"] for p in tree]))
    for s, t in zip(one, tree):
        check(s["__keys__"] == t["__keys__"] and s["__keys__"][0] == "id",
              "member order streamed %s vs tree %s" % (s["__keys__"], t["__keys__"]))


def check_peers(rpc):
    check_streamed(rpc)
    peers = rpc.call("getpeerinfo")
    for p in peers:
        types_ok(p, PEER_FIELDS, "getpeerinfo[%s]" % p.get("addr"))
        if "minping" in p:
            check(isinstance(p["minping"], (int, float)), "minping type")
    tps = [p["transport_protocol_type"] for p in peers]
    check(tps.count("v2") >= 3 and tps.count("v1") >= 3, "transports %s" % tps)
    for p in peers:
        if p["transport_protocol_type"] == "v2":
            check(len(p["session_id"]) == 64, "v2 session id %r" % p["session_id"])
    out = [p for p in peers if not p["inbound"]]
    check(len(out) == 1 and out[0]["connection_type"] in ("manual", "outbound-full-relay"),
          "outbound peers %s" % [(p["addr"], p["connection_type"]) for p in out])
    return peers


def check_methods(rpc, d):
    check(isinstance(rpc.call("getconnectioncount"), int), "getconnectioncount")
    nt = rpc.call("getnettotals")
    types_ok(nt, {"totalbytesrecv": int, "totalbytessent": int, "timemillis": int, "uploadtarget": dict},
             "getnettotals")
    types_ok(nt["uploadtarget"], {"timeframe": int, "target": int, "target_reached": bool,
                                  "serve_historical_blocks": bool, "bytes_left_in_cycle": int,
                                  "time_left_in_cycle": int}, "uploadtarget")
    ni = rpc.call("getnetworkinfo")
    types_ok(ni, {"version": int, "subversion": str, "protocolversion": int, "localservices": str,
                  "localservicesnames": list, "localrelay": bool, "timeoffset": int, "connections": int,
                  "connections_in": int, "connections_out": int, "networkactive": bool, "networks": list,
                  "localaddresses": list}, "getnetworkinfo")
    check(isinstance(rpc.call("uptime"), int), "uptime")
    check("getpeerinfo" in rpc.call("help") and rpc.call("help", "uptime").startswith("uptime"), "help")
    check(rpc.call("help", "nosuch") == "help: unknown command: nosuch", "help of an unknown command")
    table = rpc.call("getpeertable")
    check(len(table["rows"]) >= 7 and all(len(r) == len(table["columns"]) for r in table["rows"]),
          "getpeertable shape")
    # logging: Core's shape, categories on and off
    lg = rpc.call("logging", ["net"])
    check(lg.get("net") is True and all(isinstance(v, bool) for v in lg.values()), "logging on: %s" % lg)
    lg = rpc.call("logging", [], ["net"])
    check(lg.get("net") is False, "logging off: %s" % lg)
    expect_error(lambda: rpc.call("logging", ["bogus"]), -8, "logging of an unknown category")
    # Methods waiting for their owner (the address manager) must answer
    # Core's missing-feature error, or work with Core's shape.
    for method, args, code, shape in (
            ("getnodeaddresses", [], -31, list), ("getaddrmaninfo", [], -31, dict),
            ("addpeeraddress", ["1.2.3.4", 8333], -31, dict)):
        try:
            r = rpc.call(method, *args)
            check(isinstance(r, shape), "%s returned %r" % (method, r))
        except RPCError as e:
            check(isinstance(e.error, dict) and e.error.get("code") == code,
                  "%s: %s, wanted a result or code %d" % (method, e.error, code))
    # Wired to the engine: they must work (py_rpc_bans and py_rpc_netctl
    # test what they do).
    for method, args, shape in (
            ("listbanned", [], list), ("setban", ["10.1.2.3", "add"], type(None)),
            ("clearbanned", [], type(None)), ("getaddednodeinfo", [], list), ("ping", [], type(None))):
        r = rpc.call(method, *args)
        check(isinstance(r, shape), "%s returned %r" % (method, r))


def check_errors(rpc, d):
    bad = Client(d.rpcport, "__cookie__", "wrong")
    t0 = time.time()
    status, _, _ = bad.raw('{"method":"uptime"}')
    check(status == 401 and time.time() - t0 >= 0.2, "bad auth: %d after %.2f s" % (status, time.time() - t0))
    bad.close()
    status, reply, _ = rpc.raw('{"method":')
    check(status == 500 and reply["error"]["code"] == -32700, "bad JSON: %s %s" % (status, reply))
    status, reply, _ = rpc.raw('{"method":"nosuch","id":1}')
    check(status == 404 and reply["error"]["code"] == -32601, "unknown method: %s %s" % (status, reply))
    status, reply, _ = rpc.raw('{"method":"getnodeaddresses","params":["x"],"id":1}')
    check(reply["error"]["code"] == -3, "wrong type: %s" % reply)
    status, reply, _ = rpc.raw('{"method":"disconnectnode","params":{"nodeid":"1"},"id":1}')
    check(reply["error"]["code"] == -3, "wrong named type: %s" % reply)
    status, reply, _ = rpc.raw('{"jsonrpc":"2.0","method":"nosuch","id":2}')
    check(status == 200 and "result" not in reply and reply["error"]["code"] == -32601, "2.0 error")
    status, reply, _ = rpc.raw('[{"method":"uptime","id":1},{"method":"getconnectioncount","id":2}]')
    check(status == 200 and [r["id"] for r in reply] == [1, 2], "batch: %s" % reply)
    expect_error(lambda: rpc.call("disconnectnode", "", 1 << 40), -29, "disconnect of no peer")
    # A body declared over the limit is refused before it is read.
    s = socket.create_connection(("127.0.0.1", d.rpcport), timeout=5)
    s.sendall(("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Length: 40000000\r\n\r\n"
               % rpc.auth).encode())
    head = s.recv(200)
    check(head.startswith(b"HTTP/1.1 413"), "oversized body: %r" % head)
    s.close()


def check_stalled(rpc, d):
    """Half a request, then silence: the server closes it after
    -rpcservertimeout=2 and serves everyone else meanwhile."""
    s = socket.create_connection(("127.0.0.1", d.rpcport), timeout=10)
    s.sendall(("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Length: 100\r\n\r\n{\"meth"
               % rpc.auth).encode())
    t0 = time.time()
    for _ in range(5):
        rpc.call("getconnectioncount")
    check(time.time() - t0 < 2, "calls beside a stalled client took %.2f s" % (time.time() - t0))
    data = s.recv(100)
    check(data == b"" and time.time() - t0 < 8, "stalled client: %r after %.1f s" % (data, time.time() - t0))
    s.close()


def cli(build, d, *args, stdin=None):
    p = subprocess.run([os.path.join(build, "cmd", "connring-cli"), "-regtest", "-datadir=" + d.dir,
                        "-rpcport=%d" % d.rpcport] + list(args), input=stdin, capture_output=True,
                       text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def check_cli(build, d):
    code, out, err = cli(build, d, "getconnectioncount")
    check(code == 0 and out.strip().isdigit(), "cli getconnectioncount: %d %r %r" % (code, out, err))
    code, out, _ = cli(build, d, "-named", "help", "command=uptime")
    check(code == 0 and out.startswith("uptime"), "cli -named: %r" % out)
    code, out, _ = cli(build, d, "-stdin", "help", stdin="getpeerinfo\n")
    check(code == 0 and out.startswith("getpeerinfo"), "cli -stdin: %r" % out)
    code, out, _ = cli(build, d, "getnetworkinfo")
    check(code == 0 and json.loads(out)["protocolversion"] == 70016, "cli JSON output")
    code, out, err = cli(build, d, "nosuch")
    check(code == 32601 % 256 and "error code: -32601" in err and "Method not found" in err,
          "cli error: %d %r" % (code, err))
    code, out, _ = cli(build, d, "-netinfo")
    check(code == 0 and "total" in out and "in " in out, "cli -netinfo: %r" % out)
    code, out, _ = cli(build, d, "-netinfo", "4")
    check(code == 0 and "<->" in out and "127.0.0." in out, "cli -netinfo 4: %r" % out)
    code, out, err = cli(build, d, "-rpcpassword=wrong", "-rpcuser=x", "uptime")
    check(code == 1 and "Incorrect rpcuser or rpcpassword" in err, "cli bad auth: %d %r" % (code, err))


def main():
    build = sys.argv[1]
    a = b = load = evil = None
    try:
        a = Daemon(build, "rpc-a", ["-rpcservertimeout=2", "-pinginterval=1", "-maxconnections=64"])
        b = Daemon(build, "rpc-b", ["-listen=1"])
        mode = stat.S_IMODE(os.stat(a.cookie).st_mode)
        check(mode == 0o600, "cookie mode %o" % mode)
        rpc = Client(a.rpcport, cookie=a.cookie)
        load = subprocess.Popen([os.path.join(build, "bench", "connring-load"), "--connect",
                                 "127.0.0.1:%d" % a.port, "--peers", "6", "--transport", "mix",
                                 "--msg-rate", "1", "--duration", "25", "--chain", "regtest"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        check(rpc.call("addnode", "127.0.0.1:%d" % b.port, "onetry") is None, "addnode onetry")
        evil = evil_peer(a.port)
        deadline = time.time() + 15
        while time.time() < deadline and len(rpc.call("getpeerinfo")) < 8:
            time.sleep(0.2)
        time.sleep(1.5)  # a ping round (-pinginterval=1) for minping
        peers = check_peers(rpc)
        check_methods(rpc, a)
        check_errors(rpc, a)
        check_stalled(rpc, a)
        check_cli(build, a)
        # The hand-made peer: sanitized in getpeerinfo, escaped in the statsfile.
        ev = [p for p in peers if p["startingheight"] == 7]
        # The engine keeps a user agent's bytes >= 0x80 as '?'; Core's
        # cleanSubVer then drops the quote.
        check(len(ev) == 1 and ev[0]["subver"] == "/evil???:1/", "evil subver %r" % [p["subver"] for p in ev])
        snap = a.snapshot()  # json.load inside: the file must parse
        uas = [p["user_agent"] for p in snap["peers"]]
        check('/evil"???:1/' in uas, "statsfile user agents %r" % uas)
        cmds = [c for p in snap["peers"] for c in p["cmds"]]
        check('a"b' in cmds, "statsfile commands %r" % cmds)
        # disconnectnode by id and by address
        n = rpc.call("getconnectioncount")
        check(rpc.call("disconnectnode", "", ev[0]["id"]) is None, "disconnect by id")
        victim = [p for p in peers if p["inbound"] and p["startingheight"] != 7][0]
        check(rpc.call("disconnectnode", victim["addr"]) is None, "disconnect by address")
        deadline = time.time() + 5
        while time.time() < deadline and rpc.call("getconnectioncount") > n - 2:
            time.sleep(0.1)
        check(rpc.call("getconnectioncount") <= n - 2, "two peers gone")
        check(rpc.call("stop") == "connringd stopping", "stop")
        a.proc.wait(15)
        check(a.proc.returncode == 0, "exit after stop: %s" % a.proc.returncode)
        check(not os.path.exists(a.cookie), "cookie removed at stop")
        rpc.close()
    except (Failure, RPCError, OSError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
        print("FAIL: %s" % e)
        if a:
            print(a.text()[-3000:])
        return 1
    finally:
        if evil:
            evil.close()
        if load and load.poll() is None:
            load.terminate()
            load.wait(10)
        for d in (a, b):
            if d:
                d.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

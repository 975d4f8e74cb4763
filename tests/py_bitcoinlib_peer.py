"""python3-bitcoinlib, an independent implementation of Bitcoin's V1 wire
format, as a peer of connringd: it completes the version/verack handshake
and a ping/pong with a fresh nonce; connringd logs the connect (with the
peer's user agent) and, when the socket closes, the disconnect with its
reason. Run against -v2transport=1 (the responder must detect V1 from the
first bytes) and -v2transport=0. Loopback only, bounded (~5 s per run).

usage: py_bitcoinlib_peer.py BUILD_DIR"""
import os
import random
import socket
import sys
import time

import bitcoin
from bitcoin.messages import MsgSerializable, msg_ping, msg_pong, msg_verack, msg_version
from bitcoin.net import CAddress

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402

bitcoin.SelectParams("regtest")  # connringd runs -chain=regtest: magic fabfb5da


def read_until(f, want, deadline, sock):
    """Reads messages until one of type want; answers pings on the way.
    Returns (message, commands seen before it)."""
    seen = []
    while time.time() < deadline:
        msg = MsgSerializable.stream_deserialize(f)  # checks magic and checksum
        if msg is None:  # a command bitcoinlib has no class for (wtxidrelay, sendaddrv2)
            seen.append("?")
            continue
        seen.append(msg.command.decode())
        if isinstance(msg, want):
            return msg, seen
        if isinstance(msg, msg_ping):
            sock.sendall(msg_pong(nonce=msg.nonce).to_bytes())
    raise Failure("no %s before the deadline (saw %s)" % (want.command, seen))


def run(build, v2):
    d = Daemon(build, "bitcoinlib-v2t%d" % v2, ["-v2transport=%d" % v2, "-debug=net"])  # per-peer lines
    try:
        sock = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        f = sock.makefile("rb")
        deadline = time.time() + 15
        ver = msg_version(protover=70016)
        ver.nVersion = 70016
        ver.nServices = 0
        ver.addrTo = CAddress()
        ver.addrTo.ip = "127.0.0.1"
        ver.addrTo.port = d.port
        ver.strSubVer = b"/python-bitcoinlib-test:1/"
        ver.nStartingHeight = 0
        sock.sendall(ver.to_bytes())

        theirs, seen = read_until(f, msg_version, deadline, sock)
        check(theirs.nVersion == 70016, "connringd's version is %d" % theirs.nVersion)
        check(theirs.strSubVer.startswith(b"/connring:"), "user agent %r" % theirs.strSubVer)
        check(theirs.nNonce != 0 and theirs.nNonce != ver.nNonce, "version nonce")
        sock.sendall(msg_verack().to_bytes())
        _, seen2 = read_until(f, msg_verack, deadline, sock)

        nonce = random.getrandbits(64)
        sock.sendall(msg_ping(nonce=nonce).to_bytes())
        while True:
            pong, _ = read_until(f, msg_pong, deadline, sock)
            if pong.nonce == nonce:
                break
        d.wait_log('ua="/python-bitcoinlib-test:1/"', 5)
        f.close()  # the file object holds the socket open too
        sock.close()
        d.wait_log("disconnect: peer=", 10)
        text = d.text()
        check(" inbound " in text, "connect logged as inbound")
        print("v2transport=%d: ok: handshake (%s), ping/pong nonce %016x" %
              (v2, ",".join(seen + seen2), nonce))
    finally:
        code = d.stop()
    check(code == 0, "connringd exit code %d" % code)
    check("reason=" in d.text(), "disconnect reason logged")


def main():
    try:
        run(sys.argv[1], 1)
        run(sys.argv[1], 0)
    except (Failure, OSError, ValueError) as e:
        print("FAIL: %s" % e)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The simulated network tool (bench/simnet) on its own: a raw V1 client
completes version/verack with a fake node and gets a getaddr answer of
other fake nodes (never the node itself, once per connection); a node on
the unreachable list refuses connections; "block" makes a connected node
announce a block; and dnsmasq serves the seed name from simnet's hosts
file. Bounded: about 5 s."""
import hashlib
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simnet as sn  # noqa: E402

MAGIC = bytes.fromhex("fabfb5da")  # regtest


def msg(cmd, payload=b""):
    h = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return MAGIC + cmd.encode().ljust(12, b"\0") + struct.pack("<I", len(payload)) + h + payload


def read_msg(s):
    hdr = b""
    while len(hdr) < 24:
        chunk = s.recv(24 - len(hdr))
        if not chunk:
            raise EOFError
        hdr += chunk
    n = struct.unpack("<I", hdr[16:20])[0]
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return hdr[4:16].rstrip(b"\0").decode(), body


def version():
    p = struct.pack("<iQq", 70016, 0, int(time.time()))
    p += b"\0" * 26 * 2 + struct.pack("<Q", 12345) + b"\x00" + struct.pack("<i", 0) + b"\x01"
    return msg("version", p)


def handshake(addr):
    s = socket.create_connection((addr, 18444), timeout=5)
    s.sendall(version())
    seen = set()
    while "verack" not in seen:
        cmd, _ = read_msg(s)
        seen.add(cmd)
    assert "version" in seen, seen
    s.sendall(msg("verack"))
    return s


def main():
    build = sys.argv[1]
    net = sn.Simnet(build, ["--nodes", "60", "--groups", "30", "--unreachable", "0.3",
                            "--duration", "30"], seed_name="seed.simnet.test")
    dns = None
    try:
        lines = open(net.hosts).read().split()
        ips = [w for w in lines if w.startswith("127.")]
        assert len(ips) == 25, ips
        # getaddr: 25 other fake nodes, all in 127.20-49.x.1, not itself
        first = ips[0]  # the hosts file starts with listening nodes
        s = handshake(first)
        s.sendall(msg("getaddr"))
        while True:
            cmd, body = read_msg(s)
            if cmd == "addr":
                break
        count = body[0]
        assert count == 25, count
        for i in range(count):
            e = body[1 + 30 * i:1 + 30 * (i + 1)]
            ip = socket.inet_ntoa(e[24:28])
            port = struct.unpack(">H", e[28:30])[0]
            assert ip.startswith("127.") and 20 <= int(ip.split(".")[1]) < 50, ip
            assert ip != first and port == 18444, (ip, port)
        # a second getaddr is ignored (Core answers once per connection)
        s.sendall(msg("getaddr"))
        s.sendall(msg("ping", struct.pack("<Q", 7)))
        while True:
            cmd, body = read_msg(s)
            assert cmd != "addr", "second getaddr answered"
            if cmd == "pong":
                assert struct.unpack("<Q", body)[0] == 7
                break
        # block announcement on command
        net.command("block 1")
        while True:
            cmd, body = read_msg(s)
            if cmd == "inv":
                assert body[0] == 1 and struct.unpack("<I", body[1:5])[0] == 2
                break
        s.close()
        # some nodes are not listening: refused
        refused = 0
        for g in range(20, 50):
            for b in range(2):
                try:
                    socket.create_connection(("127.%d.%d.1" % (g, b), 18444), timeout=1).close()
                except ConnectionRefusedError:
                    refused += 1
        assert 5 <= refused <= 35, refused
        # dnsmasq serves the seed name from the hosts file
        try:
            dns = sn.Dnsmasq(net.hosts)
        except FileNotFoundError as e:
            print("skip: %s" % e)
            sys.exit(sn.SKIP)
        got = sn.query_a("127.0.0.1", dns.port, "x9.seed.simnet.test")
        assert sorted(got) == sorted(ips), (got, ips)
        print("py_simnet: ok (%d refused, %d seed addresses)" % (refused, len(got)))
    finally:
        if dns:
            dns.stop()
        net.stop()


if __name__ == "__main__":
    main()

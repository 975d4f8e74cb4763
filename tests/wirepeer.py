"""A blocking V1 peer for the daemon tests of addresses and seeds: the
framing (regtest magic), a version with chosen services, the handshake
from either side, and addr/addrv2 decoding. Written out here so the peer
shares no code with the node it tests. Not a test itself (ctest globs
py_*.py only)."""
import hashlib
import os
import socket
import struct
import time

MAGIC = bytes.fromhex("fabfb5da")  # regtest
NODE_NETWORK, NODE_WITNESS, NODE_P2P_V2 = 1, 8, 1 << 11


def frame(cmd, payload=b""):
    h = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return MAGIC + cmd.encode().ljust(12, b"\0") + struct.pack("<I", len(payload)) + h + payload


def read_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("peer closed")
        out += chunk
    return out


def read_msg(s):
    """(command, payload); EOFError when the node closed."""
    head = read_exact(s, 24)
    if head[:4] != MAGIC:
        raise ValueError("bad magic %r" % head[:4])
    (n,) = struct.unpack("<I", head[16:20])
    return head[4:16].rstrip(b"\0").decode(), read_exact(s, n)


def version(services=NODE_NETWORK | NODE_WITNESS, height=0):
    p = struct.pack("<iQq", 70016, services, int(time.time()))
    p += b"\0" * 26 * 2 + os.urandom(8) + bytes([8]) + b"/wirepe/" + struct.pack("<i", height) + b"\x01"
    return frame("version", p)


def parse_version(p):
    """(version, services, addr_from services, relay) of a version payload."""
    ver, services = struct.unpack("<iQ", p[:12])
    from_services = struct.unpack("<Q", p[46:54])[0]
    return ver, services, from_services, p[-1] if len(p) > 80 else None


def handshake(s, services=NODE_NETWORK | NODE_WITNESS, addrv2=False, first=True):
    """Our side of a V1 handshake; first: we send our version before
    reading theirs (inbound to the node). Returns the node's version
    payload."""
    if first:
        s.sendall(version(services))
    theirs = None
    seen_verack = False
    while theirs is None or not seen_verack:
        cmd, p = read_msg(s)
        if cmd == "version":
            theirs = p
            if not first:
                s.sendall(version(services))
            if addrv2:
                s.sendall(frame("sendaddrv2"))
            s.sendall(frame("verack"))
        elif cmd == "verack":
            seen_verack = True
    return theirs


def compact_size(p, off):
    b = p[off]
    if b < 253:
        return b, off + 1
    if b == 253:
        return struct.unpack("<H", p[off + 1:off + 3])[0], off + 3
    if b == 254:
        return struct.unpack("<I", p[off + 1:off + 5])[0], off + 5
    return struct.unpack("<Q", p[off + 1:off + 9])[0], off + 9


def parse_addrs(cmd, p):
    """[(ip text, port, services, time)] of an addr or addrv2 payload
    (IPv4 and IPv6 only; other networks are skipped)."""
    n, off = compact_size(p, 0)
    out = []
    for _ in range(n):
        if cmd == "addr":
            t, services = struct.unpack("<IQ", p[off:off + 12])
            raw = p[off + 12:off + 28]
            port = struct.unpack(">H", p[off + 28:off + 30])[0]
            off += 30
            if raw[:12] == b"\0" * 10 + b"\xff\xff":
                ip = socket.inet_ntop(socket.AF_INET, raw[12:])
            else:
                ip = socket.inet_ntop(socket.AF_INET6, raw)
        else:
            (t,) = struct.unpack("<I", p[off:off + 4])
            services, off = compact_size(p, off + 4)
            net, ln = p[off], p[off + 1]
            raw = p[off + 2:off + 2 + ln]
            port = struct.unpack(">H", p[off + 2 + ln:off + 4 + ln])[0]
            off += 4 + ln
            if net == 1:
                ip = socket.inet_ntop(socket.AF_INET, raw)
            elif net == 2:
                ip = socket.inet_ntop(socket.AF_INET6, raw)
            else:
                continue
        out.append((ip, port, services, t))
    return out

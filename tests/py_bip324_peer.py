"""An independent BIP324 initiator, written in Python from the BIP text
(secp256k1 and ElligatorSwift in plain integers; ChaCha20 and
ChaCha20-Poly1305 from python3-cryptography; HKDF from hmac/hashlib), as a
peer of connringd. It first checks itself against the official vectors
(ellswift_decode_test_vectors.csv, packet_encoding_test_vectors.csv), then
connects to connringd -v2transport=1 on loopback: ElligatorSwift key and
random garbage, terminator, a decoy authenticating the garbage, the version
packet, then version/verack and a ping/pong with a fresh nonce in encrypted
packets (long 13-byte types and 1-byte short ids), with decoys mixed in.
connringd must log the peer as transport v2 and report the same session
id in its statsfile. Then the roles swap: connringd -connect reaches our
responder, which answers its key with its own key, garbage and version
packet. Bounded (~20 s).

usage: py_bip324_peer.py BUILD_DIR"""
import csv
import hashlib
import hmac
import io
import os
import random
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

import bitcoin
from bitcoin.messages import msg_ping, msg_verack, msg_version
from bitcoin.net import CAddress

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors")
REGTEST_MAGIC = bytes.fromhex("fabfb5da")

# ---- secp256k1 over the integers ----
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8
# BIP324: the square root of -3 that is itself a square.
C = 0xA2D2BA93507F1DF233770C2A797962CC61F6D15DA14ECD47D8D27AE1CD5F852


def inv(a):
    return pow(a % P, P - 2, P)


def sqrt(a):
    """The square root that is a square, or None."""
    r = pow(a % P, (P + 1) // 4, P)
    return r if r * r % P == a % P else None


def lift_x(x):
    y = sqrt(x * x * x + 7)
    return None if y is None else (x % P, y)


def jac_double(p):
    x, y, z = p
    if y == 0:
        return (0, 0, 0)
    s = 4 * x * y * y % P
    m = 3 * x * x % P
    x2 = (m * m - 2 * s) % P
    return (x2, (m * (s - x2) - 8 * pow(y, 4, P)) % P, 2 * y * z % P)


def jac_add(p, q):
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    z1s, z2s = p[2] * p[2] % P, q[2] * q[2] % P
    u1, u2 = p[0] * z2s % P, q[0] * z1s % P
    s1, s2 = p[1] * z2s * q[2] % P, q[1] * z1s * p[2] % P
    if u1 == u2:
        return jac_double(p) if s1 == s2 else (0, 0, 0)
    h, r = (u2 - u1) % P, (s2 - s1) % P
    h2 = h * h % P
    h3 = h * h2 % P
    x3 = (r * r - h3 - 2 * u1 * h2) % P
    return (x3, (r * (u1 * h2 - x3) - s1 * h3) % P, h * p[2] * q[2] % P)


def mul_x(k, pt):
    """x coordinate of k * pt (affine in, affine x out)."""
    acc, add = (0, 0, 0), (pt[0], pt[1], 1)
    while k:
        if k & 1:
            acc = jac_add(acc, add)
        add = jac_double(add)
        k >>= 1
    check(acc[2] != 0, "point at infinity")
    return acc[0] * inv(acc[2] * acc[2]) % P


# ---- ElligatorSwift (BIP324 "ElligatorSwift encoding of curve X coordinates") ----
def xswiftec(u, t):
    u, t = u % P, t % P
    if u == 0:
        u = 1
    if t == 0:
        t = 1
    if (u ** 3 + t * t + 7) % P == 0:
        t = 2 * t % P
    X = (u ** 3 + 7 - t * t) * inv(2 * t) % P
    Y = (X + t) * inv(C * u) % P
    for x in (u + 4 * Y * Y, (-X * inv(Y) - u) * inv(2), (X * inv(Y) - u) * inv(2)):
        if lift_x(x % P):
            return x % P
    raise Failure("xswiftec found no x")


def xswiftec_inv(x, u, case):
    if case & 2 == 0:
        if lift_x(-x - u):
            return None
        v = x
        s = -(u ** 3 + 7) * inv(u * u + u * v + v * v) % P
    else:
        s = (x - u) % P
        if s == 0:
            return None
        r = sqrt(-s * (4 * (u ** 3 + 7) + 3 * u * u * s))
        if r is None or (case & 1 and r == 0):
            return None
        v = (r * inv(s) - u) * inv(2) % P
    w = sqrt(s)
    if w is None:
        return None
    branch = case & 5
    if branch == 0:
        return -w * (u * (1 - C) * inv(2) + v) % P
    if branch == 1:
        return w * (u * (1 + C) * inv(2) + v) % P
    if branch == 4:
        return w * (u * (1 - C) * inv(2) + v) % P
    return -w * (u * (1 + C) * inv(2) + v) % P


def ellswift_create(rng):
    priv = rng.randrange(1, N)
    x = mul_x(priv, (GX, GY))
    while True:
        u, case = rng.randrange(1, P), rng.randrange(8)
        t = xswiftec_inv(x, u, case)
        if t is not None:
            return priv, u.to_bytes(32, "big") + t.to_bytes(32, "big")


def ellswift_decode(e):
    return xswiftec(int.from_bytes(e[:32], "big"), int.from_bytes(e[32:], "big"))


def tagged(tag, msg):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + msg).digest()


def v2_ecdh(priv, theirs, ours, initiating):
    x = mul_x(priv, lift_x(ellswift_decode(theirs))).to_bytes(32, "big")
    pair = ours + theirs if initiating else theirs + ours
    return tagged("bip324_ellswift_xonly_ecdh", pair + x)


# ---- the cipher suite ----
REKEY = 224


def hkdf_expand32(prk, info):
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def chacha20_keystream(key, nonce, counter, n):
    c = Cipher(algorithms.ChaCha20(key, struct.pack("<I", counter) + nonce), mode=None)
    return c.encryptor().update(bytes(n))


class FSChaCha20:
    def __init__(self, key):
        self.key, self.chunks, self.block, self.ks = key, 0, 0, b""

    def crypt(self, chunk):
        while len(self.ks) < len(chunk) + 32:
            nonce = bytes(4) + struct.pack("<Q", self.chunks // REKEY)
            self.ks += chacha20_keystream(self.key, nonce, self.block, 64)
            self.block += 1
        out = bytes(a ^ b for a, b in zip(chunk, self.ks))
        self.ks = self.ks[len(chunk):]
        if (self.chunks + 1) % REKEY == 0:
            self.key, self.ks, self.block = self.ks[:32], self.ks[32:], 0
            self.ks = b""  # the next epoch starts a fresh stream
        self.chunks += 1
        return out


class FSChaCha20Poly1305:
    def __init__(self, key):
        self.key, self.packets = key, 0

    def crypt(self, aad, data, decrypt):
        epoch = struct.pack("<Q", self.packets // REKEY)
        nonce = struct.pack("<I", self.packets % REKEY) + epoch
        aead = ChaCha20Poly1305(self.key)
        try:
            out = aead.decrypt(nonce, data, aad) if decrypt else aead.encrypt(nonce, data, aad)
        except Exception:
            out = None
        if (self.packets + 1) % REKEY == 0:
            self.key = aead.encrypt(b"\xff\xff\xff\xff" + epoch, bytes(32), b"")[:32]
        self.packets += 1
        return out


class Session:
    def __init__(self, secret, magic, initiating):
        prk = hmac.new(b"bitcoin_v2_shared_secret" + magic, secret, hashlib.sha256).digest()
        k = {i: hkdf_expand32(prk, i.encode()) for i in
             ("initiator_L", "initiator_P", "responder_L", "responder_P", "garbage_terminators",
              "session_id")}
        ours, theirs = ("initiator", "responder") if initiating else ("responder", "initiator")
        self.session_id = k["session_id"]
        terms = k["garbage_terminators"]
        self.send_term, self.recv_term = (terms[:16], terms[16:]) if initiating else (terms[16:], terms[:16])
        self.send_l, self.send_p = FSChaCha20(k[ours + "_L"]), FSChaCha20Poly1305(k[ours + "_P"])
        self.recv_l, self.recv_p = FSChaCha20(k[theirs + "_L"]), FSChaCha20Poly1305(k[theirs + "_P"])

    def encrypt(self, contents, aad=b"", ignore=False):
        ct = self.send_p.crypt(aad, bytes([0x80 if ignore else 0]) + contents, False)
        return self.send_l.crypt(struct.pack("<I", len(contents))[:3]) + ct


# ---- self-check against the official vectors ----
def check_vectors():
    with open(os.path.join(VECTORS, "ellswift_decode_test_vectors.csv")) as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        x = ellswift_decode(bytes.fromhex(row["ellswift"]))
        check(x.to_bytes(32, "big").hex() == row["x"], "ellswift decode vector")
    with open(os.path.join(VECTORS, "packet_encoding_test_vectors.csv")) as f:
        packets = list(csv.DictReader(f))
    for row in packets:
        init = row["in_initiating"] == "1"
        secret = v2_ecdh(int(row["in_priv_ours"], 16), bytes.fromhex(row["in_ellswift_theirs"]),
                         bytes.fromhex(row["in_ellswift_ours"]), init)
        check(secret.hex() == row["mid_shared_secret"], "shared secret vector")
        s = Session(secret, bytes.fromhex("f9beb4d9"), init)
        check(s.session_id.hex() == row["out_session_id"], "session id vector")
        for _ in range(int(row["in_idx"])):
            s.encrypt(b"")
        ct = s.encrypt(bytes.fromhex(row["in_contents"]) * int(row["in_multiply"]),
                       bytes.fromhex(row["in_aad"]), row["in_ignore"] == "1").hex()
        check(ct == row["out_ciphertext"] if row["out_ciphertext"] else
              ct.endswith(row["out_ciphertext_endswith"]), "ciphertext vector")
    # The encoder round-trips through the decoder.
    rng = random.Random(1)
    for _ in range(3):
        priv, ell = ellswift_create(rng)
        check(ellswift_decode(ell) == mul_x(priv, (GX, GY)), "ellswift encode")
    print("vectors: %d decode rows, %d packet rows: ok" % (len(rows), len(packets)))


# ---- the peer ----
SHORT_IDS = ["", "addr", "block", "blocktxn", "cmpctblock", "feefilter", "filteradd",
             "filterclear", "filterload", "getblocks", "getblocktxn", "getdata", "getheaders",
             "headers", "inv", "mempool", "merkleblock", "notfound", "ping", "pong", "sendcmpct",
             "tx", "getcfilters", "cfilter", "getcfheaders", "cfheaders", "getcfcheckpt",
             "cfcheckpt", "addrv2"]


class Peer:
    def __init__(self, sock, deadline):
        self.sock, self.deadline, self.buf = sock, deadline, b""

    def recv(self, n):
        while len(self.buf) < n:
            if time.time() > self.deadline:
                raise Failure("deadline while waiting for %d bytes" % n)
            data = self.sock.recv(65536)
            if not data:
                raise Failure("connringd closed the connection")
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def packet(self, s, aad=b""):
        """The next packet that is not a decoy: its contents."""
        while True:
            length = int.from_bytes(s.recv_l.crypt(self.recv(3)), "little")
            pt = s.recv_p.crypt(aad, self.recv(1 + length + 16), True)
            check(pt is not None, "a packet from connringd failed authentication")
            aad = b""
            if not pt[0] & 0x80:
                return pt[1:]

    def message(self, s):
        c = self.packet(s)
        if c[0] == 0:
            return c[1:13].rstrip(b"\0").decode(), c[13:]
        return SHORT_IDS[c[0]], c[1:]


def ser(msg):
    f = io.BytesIO()
    msg.msg_ser(f)
    return f.getvalue()


def send_msg(sock, s, cmd, payload, rng):
    if rng.random() < 0.5:
        sock.sendall(s.encrypt(bytes(rng.randrange(30)), ignore=True))
    if cmd in SHORT_IDS:
        head = bytes([SHORT_IDS.index(cmd)])
    else:
        head = b"\0" + cmd.encode().ljust(12, b"\0")
    sock.sendall(s.encrypt(head + payload))


def handshake(sock, peer, rng):
    priv, ours = ellswift_create(rng)
    garbage = bytes(rng.getrandbits(8) for _ in range(rng.randrange(4096)))
    sock.sendall(ours + garbage)
    theirs = peer.recv(64)
    s = Session(v2_ecdh(priv, theirs, ours, True), REGTEST_MAGIC, True)
    # terminator, a decoy carrying the garbage as AAD, then the version packet
    sock.sendall(s.send_term + s.encrypt(bytes(17), garbage, True) + s.encrypt(b""))
    seen = b""
    while not seen.endswith(s.recv_term):
        check(len(seen) < 4096 + 16, "no garbage terminator from connringd")
        seen += peer.recv(1)
    peer.packet(s, seen[:-16])  # version packet, authenticating its garbage
    return s, len(garbage), len(seen) - 16


def respond(sock, peer, rng):
    """The responder's half: key after the initiator's, our own garbage and
    version packet (authenticating our garbage), then its garbage."""
    theirs = peer.recv(64)
    check(theirs[:4] != REGTEST_MAGIC, "connringd opened like V1")
    priv, ours = ellswift_create(rng)
    garbage = bytes(rng.getrandbits(8) for _ in range(rng.randrange(4096)))
    s = Session(v2_ecdh(priv, theirs, ours, False), REGTEST_MAGIC, False)
    sock.sendall(ours + garbage + s.send_term + s.encrypt(b"", garbage))
    seen = b""
    while not seen.endswith(s.recv_term):
        check(len(seen) < 4096 + 16, "no garbage terminator from connringd")
        seen += peer.recv(1)
    peer.packet(s, seen[:-16])
    return s, len(garbage), len(seen) - 16


def run_responder(build, rng):
    """connringd -connect: its V2 initiator against our responder."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(10)
    port = lsock.getsockname()[1]
    d = Daemon(build, "bip324-resp", ["-v2transport=1", "-debug=net", "-connect=127.0.0.1:%d" % port])
    try:
        sock, _ = lsock.accept()
        sock.settimeout(10)
        peer = Peer(sock, time.time() + 15)
        s, gl_ours, gl_theirs = respond(sock, peer, rng)
        cmd, payload = peer.message(s)
        check(cmd == "version", "connringd's first message is %s" % cmd)
        ver = msg_version(protover=70016)
        ver.nVersion, ver.nServices, ver.nStartingHeight = 70016, 0, 0
        ver.strSubVer = b"/bip324-python-responder:1/"
        send_msg(sock, s, "version", ser(ver), rng)
        send_msg(sock, s, "verack", b"", rng)
        seen = ["version"]
        while "verack" not in seen:
            cmd, payload = peer.message(s)
            seen.append(cmd)
        d.wait_log('ua="/bip324-python-responder:1/"', 5)
        snap = d.snapshot()
        sids = [p.get("session_id") for p in snap.get("peers", [])]
        check(s.session_id.hex() in sids, "session id not in connringd's %s" % sids)
        sock.close()
        print("ok: connringd as initiator (garbage %d/%d bytes), %s, session %s" %
              (gl_ours, gl_theirs, ",".join(seen), s.session_id.hex()[:16]))
    finally:
        lsock.close()
        code = d.stop()
    check(code == 0, "connringd exit code %d" % code)


def run(build, rng):
    d = Daemon(build, "bip324-peer", ["-v2transport=1", "-debug=net"])  # per-peer lines
    try:
        sock = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        peer = Peer(sock, time.time() + 15)
        s, gl_ours, gl_theirs = handshake(sock, peer, rng)
        ver = msg_version(protover=70016)
        ver.nVersion, ver.nServices, ver.nStartingHeight = 70016, 0, 0
        ver.addrTo = CAddress()
        ver.addrTo.ip, ver.addrTo.port = "127.0.0.1", d.port
        ver.strSubVer = b"/bip324-python-test:1/"
        send_msg(sock, s, "version", ser(ver), rng)
        seen = []
        while True:
            cmd, payload = peer.message(s)
            seen.append(cmd)
            if cmd == "version":
                theirs = msg_version.msg_deser(io.BytesIO(payload))
                check(theirs.strSubVer.startswith(b"/connring:"), "user agent")
                send_msg(sock, s, "verack", b"", rng)
            if cmd == "verack":
                break
        nonce = rng.getrandbits(64)
        send_msg(sock, s, "ping", ser(msg_ping(nonce=nonce)), rng)
        while True:
            cmd, payload = peer.message(s)
            seen.append(cmd)
            if cmd == "ping":
                send_msg(sock, s, "pong", payload, rng)
            if cmd == "pong" and payload == struct.pack("<Q", nonce):
                break
        d.wait_log('ua="/bip324-python-test:1/"', 5)
        check(" v2 " in d.text(), "connringd logged the peer as transport v2")
        snap = d.snapshot()
        sids = [p.get("session_id") for p in snap.get("peers", [])]
        check(s.session_id.hex() in sids, "session id %s not in connringd's %s" %
              (s.session_id.hex(), sids))
        sock.close()
        d.wait_log("disconnect: peer=", 10)
        print("ok: v2 handshake (garbage %d/%d bytes), %s, ping/pong %016x, session %s" %
              (gl_ours, gl_theirs, ",".join(seen), nonce, s.session_id.hex()[:16]))
    finally:
        code = d.stop()
    check(code == 0, "connringd exit code %d" % code)


def main():
    build = sys.argv[1]
    seed = random.randrange(2**32)
    print("seed %d" % seed)
    bitcoin.SelectParams("regtest")
    check_vectors()
    rng = random.Random(seed)
    run(build, rng)
    run_responder(build, rng)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print("FAIL: %s" % e)
        sys.exit(1)

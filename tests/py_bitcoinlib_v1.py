"""Cross-check of connring's V1 framing and codecs against python3-bitcoinlib.

bitcoinlib (an independent implementation, Debian's python3-bitcoinlib)
encodes version, verack, ping, pong, addr and getaddr messages; connring's
decoder (through tests/msgtool) must yield the same fields. Then connring
encodes the same messages and bitcoinlib must decode them to the same
fields. Also: a stream of several bitcoinlib messages fed one byte at a
time, and a bitcoinlib message whose checksum or magic is broken.

Usage: py_bitcoinlib_v1.py BUILD_DIR (ctest passes it)."""
import json
import random
import socket
import subprocess
import sys

import bitcoin
import bitcoin.messages as bm
import bitcoin.net as bn

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what)


def msgtool(*args):
    out = subprocess.run([TOOL, *args], check=True, capture_output=True, text=True).stdout
    return out


def decode(raw, chain="main", chunk=0):
    out = msgtool("-chain", chain, "-chunk", str(chunk), "decode", raw.hex())
    return [json.loads(line) for line in out.splitlines()]


def encode(chain, cmd, **kv):
    args = []
    for k, v in kv.items():
        for item in v if isinstance(v, list) else [v]:
            args.append("%s=%s" % (k, item))
    return bytes.fromhex(msgtool("-chain", chain, "encode", cmd, *args).strip())


def ip16(text):
    """bitcoinlib's textual IP as the 16 bytes on the wire."""
    if ":" in text:
        return socket.inet_pton(socket.AF_INET6, text)
    return bn.IPV4_COMPAT + socket.inet_aton(text)


def our_addr(text):
    """A textual IP as connring's (net, addr hex) for addr entries."""
    if ":" in text:
        raw = socket.inet_pton(socket.AF_INET6, text)
        if raw[:12] == bn.IPV4_COMPAT:
            return 1, raw[12:].hex()
        return 2, raw.hex()
    return 1, socket.inet_aton(text).hex()


def caddress(rng, with_time=True):
    a = bn.CAddress()
    a.nTime = rng.getrandbits(32) if with_time else 0
    a.nServices = rng.getrandbits(64)
    if rng.random() < 0.5:
        a.ip = socket.inet_ntoa(rng.getrandbits(32).to_bytes(4, "big"))
    else:
        raw = b"\x20\x01" + rng.getrandbits(112).to_bytes(14, "big")
        a.ip = socket.inet_ntop(socket.AF_INET6, raw)
    a.port = rng.getrandbits(16)
    return a


def make_version(rng):
    v = bm.msg_version()
    v.nVersion = rng.choice([70016, 70015, 70001, 2 ** 31 - 1])
    v.nServices = rng.getrandbits(64)
    v.nTime = rng.getrandbits(63)
    v.addrTo = caddress(rng, False)
    v.addrFrom = caddress(rng, False)
    v.nNonce = rng.getrandbits(64)
    v.strSubVer = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 257)))
    v.nStartingHeight = rng.randrange(-2 ** 31, 2 ** 31)
    v.fRelay = rng.choice([True, False])
    return v


def check_version_fields(got, v, what):
    check(got.get("version") == v.nVersion, what + ": version")
    check(got.get("services") == v.nServices, what + ": services")
    check(got.get("time") == v.nTime, what + ": time")
    check(got.get("recv_services") == v.addrTo.nServices, what + ": recv services")
    check(got.get("recv_ip") == ip16(v.addrTo.ip).hex(), what + ": recv ip")
    check(got.get("recv_port") == v.addrTo.port, what + ": recv port")
    check(got.get("from_services") == v.addrFrom.nServices, what + ": from services")
    check(got.get("from_ip") == ip16(v.addrFrom.ip).hex(), what + ": from ip")
    check(got.get("from_port") == v.addrFrom.port, what + ": from port")
    check(got.get("nonce") == v.nNonce, what + ": nonce")
    check(got.get("ua") == v.strSubVer.hex(), what + ": user agent")
    check(got.get("height") == v.nStartingHeight, what + ": start height")
    check(got.get("relay") == bool(v.fRelay), what + ": relay")
    check(got.get("omitted") == 0, what + ": omitted")


def check_addr_fields(got, addrs, what):
    entries = got.get("entries", [])
    check(len(entries) == len(addrs), what + ": count %d vs %d" % (len(entries), len(addrs)))
    for e, a in zip(entries, addrs):
        net, raw = our_addr(a.ip)
        check(e["time"] == a.nTime and e["services"] == a.nServices and e["port"] == a.port,
              what + ": entry scalars")
        check(e["net"] == net and e["addr"] == raw, what + ": entry address %s" % a.ip)


def bitcoinlib_to_connring(rng, chain):
    """bitcoinlib encodes; connring decodes the same fields."""
    msgs = []
    for _ in range(20):
        v = make_version(rng)
        got = decode(v.to_bytes(), chain)
        check(len(got) == 1 and got[0]["command"] == "version" and got[0]["reject"] == 0,
              "version framing")
        check("error" not in got[0], "version decodes: %s" % got[0].get("reason"))
        check_version_fields(got[0], v, "bitcoinlib version")
        msgs.append(v)
    for cls in (bm.msg_verack, bm.msg_getaddr):
        m = cls()
        got = decode(m.to_bytes(), chain)
        check(len(got) == 1 and got[0]["command"] == m.command.decode() and got[0]["len"] == 0
              and got[0]["reject"] == 0 and "error" not in got[0], "%s decodes" % m.command)
        msgs.append(m)
    for cls in (bm.msg_ping, bm.msg_pong):
        for nonce in (0, 1, 2 ** 64 - 1, rng.getrandbits(64)):
            m = cls(nonce=nonce)
            got = decode(m.to_bytes(), chain)
            check(len(got) == 1 and got[0]["command"] == m.command.decode()
                  and got[0].get("nonce") == nonce, "%s nonce %d" % (m.command, nonce))
            msgs.append(m)
    for n in (0, 1, 7, 1000):
        m = bm.msg_addr()
        m.addrs = [caddress(rng) for _ in range(n)]
        got = decode(m.to_bytes(), chain)
        check(len(got) == 1 and got[0]["command"] == "addr" and "error" not in got[0],
              "addr of %d decodes" % n)
        check_addr_fields(got[0], m.addrs, "bitcoinlib addr of %d" % n)
        msgs.append(m)
    # 1001 entries: framed fine, the codec refuses the count.
    m = bm.msg_addr()
    m.addrs = [caddress(rng) for _ in range(1001)]
    got = decode(m.to_bytes(), chain)
    check(len(got) == 1 and got[0].get("error") == -1201, "addr of 1001 refused")

    # The whole stream, one byte at a time and in odd chunks: same messages.
    stream = b"".join(m.to_bytes() for m in msgs)
    whole = decode(stream, chain)
    check(len(whole) == len(msgs), "stream yields every message")
    check([g["command"] for g in whole] == [m.command.decode() for m in msgs], "stream order")
    check(decode(stream, chain, 1) == whole, "one byte at a time == whole")
    check(decode(stream, chain, 977) == whole, "977-byte chunks == whole")


def connring_to_bitcoinlib(rng, chain):
    """connring encodes; bitcoinlib decodes the same fields."""
    for _ in range(20):
        v = make_version(rng)
        raw = encode(chain, "version", version=v.nVersion, services=v.nServices, time=v.nTime,
                     recv_services=v.addrTo.nServices, recv_ip=v.addrTo.ip, recv_port=v.addrTo.port,
                     from_services=v.addrFrom.nServices, from_ip=v.addrFrom.ip,
                     from_port=v.addrFrom.port, nonce=v.nNonce, ua=v.strSubVer.hex(),
                     height=v.nStartingHeight & 0xffffffff, relay=int(v.fRelay))
        check(raw == v.to_bytes(), "version bytes equal bitcoinlib's")
        got = bm.MsgSerializable.from_bytes(raw)
        check(isinstance(got, bm.msg_version), "bitcoinlib reads a version")
        for f in ("nVersion", "nServices", "nTime", "nNonce", "strSubVer", "nStartingHeight"):
            check(getattr(got, f) == getattr(v, f), "connring version: " + f)
        check(bool(got.fRelay) == bool(v.fRelay), "connring version: relay")
        for side in ("addrTo", "addrFrom"):
            a, b = getattr(got, side), getattr(v, side)
            check(ip16(a.ip) == ip16(b.ip) and a.port == b.port and a.nServices == b.nServices,
                  "connring version: " + side)
    for cmd, cls in (("verack", bm.msg_verack), ("getaddr", bm.msg_getaddr)):
        got = bm.MsgSerializable.from_bytes(encode(chain, cmd))
        check(isinstance(got, cls), "bitcoinlib reads connring's " + cmd)
    for cmd, cls in (("ping", bm.msg_ping), ("pong", bm.msg_pong)):
        nonce = rng.getrandbits(64)
        got = bm.MsgSerializable.from_bytes(encode(chain, cmd, nonce=nonce))
        check(isinstance(got, cls) and got.nonce == nonce, "bitcoinlib reads connring's " + cmd)
    for n in (0, 1, 9, 1000):
        addrs = [caddress(rng) for _ in range(n)]
        raw = encode(chain, "addr", entry=["%d,%d,%s,%d" % (a.nTime, a.nServices, a.ip, a.port)
                                           for a in addrs])
        got = bm.MsgSerializable.from_bytes(raw)
        check(isinstance(got, bm.msg_addr) and len(got.addrs) == n, "bitcoinlib reads addr of %d" % n)
        for x, a in zip(got.addrs, addrs):
            check(x.nTime == a.nTime and x.nServices == a.nServices and x.port == a.port
                  and ip16(x.ip) == ip16(a.ip), "connring addr entry %s" % a.ip)


def broken_frames(chain):
    """A bad checksum drops the message (the next one still arrives); a
    foreign magic is fatal."""
    good = bm.msg_ping(nonce=7).to_bytes()
    bad = bytearray(good)
    bad[20] ^= 1
    got = decode(bytes(bad) + good, chain)
    check(len(got) == 2 and got[0]["reject"] == -1103 and got[1]["reject"] == 0
          and got[1].get("nonce") == 7, "bad checksum dropped, stream goes on")
    other = "regtest" if chain != "regtest" else "main"
    got = decode(good, other)
    check(len(got) == 1 and got[0].get("fatal") == -1100, "foreign magic is fatal")


def main():
    global TOOL
    TOOL = sys.argv[1] + "/tests/msgtool"
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else random.randrange(2 ** 32)
    print("seed", seed)
    rng = random.Random(seed)
    for lib_name, our_name in (("mainnet", "main"), ("testnet", "test"), ("regtest", "regtest")):
        bitcoin.SelectParams(lib_name)
        bitcoinlib_to_connring(rng, our_name)
        connring_to_bitcoinlib(rng, our_name)
        broken_frames(our_name)
    print("%d checks, %d failed" % (checks, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

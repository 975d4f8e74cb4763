"""Many small V1 peers on asyncio for the eviction and ban system tests: each
connects from its own source address (any 127.a.b.c works on Linux
loopback), completes the version/verack handshake, answers pings after a
chosen delay (so the node measures the ping we want) and records when it
connected, when the handshake finished, what the node sent and when and why
the connection ended. Not a test itself (ctest globs py_*.py only).

Plain V1 framing is written out here (magic, command, length, SHA256d
checksum) so these peers share no code with the node they test."""
import asyncio
import hashlib
import os
import struct
import time

MAGIC = {"regtest": bytes.fromhex("fabfb5da"), "main": bytes.fromhex("f9beb4d9")}


def frame(magic, command, payload=b""):
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return magic + command.encode().ljust(12, b"\0") + struct.pack("<I", len(payload)) + check + payload


def version_payload(dst_ip, dst_port, start_height=0):
    ip16 = b"\0" * 10 + b"\xff\xff" + bytes(int(x) for x in dst_ip.split("."))
    ua = b"/v1peers/"
    return (struct.pack("<iQq", 70016, 0, int(time.time())) +
            struct.pack("<Q", 0) + ip16 + struct.pack(">H", dst_port) +
            struct.pack("<Q", 0) + b"\0" * 16 + struct.pack(">H", 0) +
            os.urandom(8) + bytes([len(ua)]) + ua + struct.pack("<i", start_height) + b"\x01")


class Peer:
    """One inbound peer of the node under test."""

    def __init__(self, src, host, port, chain="regtest", pong_delay=0.0, send_version=True):
        self.src, self.host, self.port = src, host, port
        self.magic = MAGIC[chain]
        self.pong_delay = pong_delay
        self.send_version = send_version
        self.commands = []           # commands received, in order
        self.connected_at = None
        self.ready_at = None         # verack received after our version
        self.closed_at = None
        self.close_reason = None
        self.writer = None
        self.task = None

    @property
    def alive(self):
        return self.connected_at is not None and self.closed_at is None

    async def _read_loop(self, reader):
        buf = b""
        while True:
            data = await reader.read(65536)
            if not data:
                return "eof"
            buf += data
            while len(buf) >= 24:
                if buf[:4] != self.magic:
                    return "bad magic from node"
                length = struct.unpack("<I", buf[16:20])[0]
                if len(buf) < 24 + length:
                    break
                cmd = buf[4:16].rstrip(b"\0").decode(errors="replace")
                payload = buf[24:24 + length]
                buf = buf[24 + length:]
                self.commands.append(cmd)
                if cmd == "verack" and self.ready_at is None:
                    self.ready_at = time.time()
                elif cmd == "ping":
                    asyncio.get_running_loop().call_later(self.pong_delay, self._pong, payload)

    def _pong(self, payload):
        if self.alive and self.writer is not None:
            try:
                self.writer.write(frame(self.magic, "pong", payload))
            except (ConnectionError, RuntimeError):
                pass

    async def run(self):
        try:
            reader, self.writer = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.src, 0))
        except OSError as e:
            self.closed_at = time.time()
            self.close_reason = "connect: %s" % e
            return
        self.connected_at = time.time()
        if self.send_version:
            self.writer.write(frame(self.magic, "version", version_payload(self.host, self.port)))
            self.writer.write(frame(self.magic, "verack"))
        try:
            self.close_reason = await self._read_loop(reader)
        except (ConnectionError, OSError) as e:
            self.close_reason = str(e) or type(e).__name__
        except asyncio.CancelledError:
            self.close_reason = "cancelled"
        self.closed_at = time.time()
        try:
            self.writer.close()
        except RuntimeError:
            pass

    def start(self):
        self.task = asyncio.ensure_future(self.run())
        return self

    def stop(self):
        if self.task is not None and not self.task.done():
            self.task.cancel()


async def wait_until(cond, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        await asyncio.sleep(step)
    return cond()

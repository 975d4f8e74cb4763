"""With -proxy no DNS seed is resolved by a local DNS query (Core's
ThreadDNSAddressSeed: with a name proxy, AddAddrFetch(seed) instead of a
lookup): connringd -chain=regtest with the test-only seed name
"localhost" and DNS server a dnsmasq on loopback that logs every query
(--log-queries), and -proxy a real SOCKS5 server from Debian (microsocks)
started here. A fake node listens on 127.0.0.1:18444 (regtest's port,
where "localhost" points through microsocks' /etc/hosts lookup).

- control, no -proxy: dnsmasq sees the seed query (x9.localhost), so its
  log is watched for real;
- with -proxy: dnsmasq sees no query at all, connringd opens an addr-fetch
  connection to "localhost:18444" by name through microsocks, and the fake
  node gets that connection and our getaddr after the handshake.

-v2transport=0 keeps the fake node V1-only. Bounded: about 15 s.
usage: py_proxy_seed.py BUILD_DIR"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simnet as sn  # noqa: E402
import wirepeer as wp  # noqa: E402
from crdaemon import Daemon, Failure, check, free_port  # noqa: E402

SEED = "localhost"
PORT = 18444


class Dnsmasq:
    """dnsmasq in the foreground on 127.0.0.1, no upstream, logging queries."""

    def __init__(self):
        exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not os.path.exists(exe):
            raise FileNotFoundError("dnsmasq is not installed")
        self.port = sn.free_udp_port()
        self.dir = tempfile.mkdtemp(prefix="cr-dnsq-")
        self.log = os.path.join(self.dir, "dnsmasq.log")
        argv = [exe, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--listen-address=127.0.0.1", "--bind-interfaces", "--port=%d" % self.port,
                "--cache-size=0", "--log-queries", "--log-facility=-",
                "--pid-file=" + os.path.join(self.dir, "pid")]
        if os.geteuid() == 0:
            argv.append("--user=root")
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT)
        end = time.time() + 10
        while True:
            try:
                sn.query_a("127.0.0.1", self.port, "probe.invalid", timeout=0.2)
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > end:
                    raise RuntimeError("dnsmasq did not start: " + open(self.log).read())

    def queries(self):
        """Names asked, besides our own probe."""
        self.logf.flush()
        out = []
        for line in open(self.log).read().splitlines():
            if "query[" in line and "probe.invalid" not in line:
                out.append(line.split("query[", 1)[1])
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def listen_seed_port():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    end = time.time() + 10
    while True:
        try:
            s.bind(("127.0.0.1", PORT))
            break
        except OSError:
            if time.time() > end:
                raise Failure("127.0.0.1:%d stays in use: the fake seed node cannot listen" % PORT)
            time.sleep(0.2)
    s.listen(8)
    return s


def fake_node(lsock, timeout):
    """Accepts connringd's connection, handshakes (we answer its version),
    and waits for getaddr. Returns the commands seen."""
    lsock.settimeout(timeout)
    c, _ = lsock.accept()
    seen = []
    try:
        c.settimeout(timeout)
        wp.handshake(c, first=False)
        end = time.time() + timeout
        while time.time() < end and "getaddr" not in seen:
            cmd, p = wp.read_msg(c)
            seen.append(cmd)
            if cmd == "ping":
                c.sendall(wp.frame("pong", p))
    finally:
        c.close()
    return seen


def main():
    build = sys.argv[1]
    exe = shutil.which("microsocks")
    if not exe:
        print("FAIL: microsocks is not installed (scripts/bootstrap installs it)")
        return 1
    dns = socks = d = lsock = None
    try:
        try:
            dns = Dnsmasq()
        except FileNotFoundError as e:
            print("skip: %s" % e)
            return sn.SKIP
        base = ["-v2transport=0", "-dnsseedname=" + SEED, "-dnsserver=127.0.0.1:%d" % dns.port,
                "-fixedseeds=0", "-debug=net,proxy", "-listen=0"]
        # control: without a proxy the seed is asked of dnsmasq
        d = Daemon(build, "seed-local", base)
        end = time.time() + 10
        while not dns.queries() and time.time() < end:
            time.sleep(0.1)
        asked = dns.queries()
        check(any("x9." + SEED in q for q in asked), "control: dnsmasq saw %s, not x9.%s" % (asked, SEED))
        check(d.stop() == 0, "clean stop")
        d = None
        time.sleep(0.3)
        n_control = len(dns.queries())  # the control's retries included
        print("control without -proxy: dnsmasq saw %s" % asked)

        sport = free_port()
        socks = subprocess.Popen([exe, "-i", "127.0.0.1", "-p", str(sport)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.2)
        check(socks.poll() is None, "microsocks exited at start")
        lsock = listen_seed_port()
        d = Daemon(build, "seed-proxy", base + ["-proxy=127.0.0.1:%d" % sport])
        seen = fake_node(lsock, 10)
        check("getaddr" in seen, "the seed node saw %s, no getaddr" % seen)
        d.wait_log("opening addr-fetch connection to %s:%d" % (SEED, PORT), 5)
        d.wait_log("outbound to %s:%d via proxy" % (SEED, PORT), 5)
        time.sleep(0.5)  # anything that would have been asked locally by now is in dnsmasq's log
        asked = dns.queries()[n_control:]
        check(not asked, "with -proxy dnsmasq saw local queries: %s" % asked)
        print("with -proxy: addr-fetch to %s:%d by name through microsocks, getaddr received, "
              "dnsmasq saw 0 queries" % (SEED, PORT))
        check(d.stop() == 0, "clean stop")
        d = None
    except Failure as e:
        print("FAIL: %s" % e)
        if d:
            print(d.text()[-2000:])
        return 1
    finally:
        if d:
            d.stop()
        if lsock:
            lsock.close()
        if socks:
            socks.terminate()
            socks.wait(10)
        if dns:
            dns.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

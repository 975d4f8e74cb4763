"""connringd's -proxy end to end, through a real SOCKS5 server from Debian
(danted, started here on loopback with a generated config): daemon a
reaches daemon b only through the proxy, over V2 and V1, and the statistics
of both sides match as in py_two_daemons. Then a -connect to a closed port
through the proxy is refused by danted, and a logs the disconnect with the
proxy's reason. Everything started here is stopped by pid; ~20 s at most.

usage: py_proxy_daemons.py BUILD_DIR"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check, free_port  # noqa: E402
from py_two_daemons import run  # noqa: E402

DANTED = "/usr/sbin/danted"


def start_danted():
    d = tempfile.mkdtemp(prefix="cr-danted-")
    port = free_port()
    conf = os.path.join(d, "danted.conf")
    with open(conf, "w") as f:
        f.write("logoutput: %s/danted.log\n"
                "internal: 127.0.0.1 port = %d\n"
                "external: lo\n"
                "clientmethod: none\n"
                "socksmethod: none\n"
                "client pass { from: 127.0.0.0/8 to: 0/0 }\n"
                "socks pass { from: 127.0.0.0/8 to: 0/0 log: connect disconnect }\n" % (d, port))
    proc = subprocess.Popen([DANTED, "-f", conf, "-N", "1", "-p", os.path.join(d, "pid")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port, d


def main():
    build = sys.argv[1]
    if not os.access(DANTED, os.X_OK):
        print("FAIL: %s is not installed (scripts/bootstrap installs dante-server)" % DANTED)
        return 1
    proc, port, d = start_danted()
    try:
        proxy = "-proxy=127.0.0.1:%d" % port
        # The engine counts the SOCKS5 exchange in a's wire bytes: a sent
        # the greeting (3) and an IPv4 CONNECT (10), and received the method
        # choice (2) and danted's IPv4 reply (10), which b never saw.
        socks = (3 + 10, 2 + 10)
        run(build, 1, [proxy], socks)
        run(build, 0, [proxy], socks)
        with open(os.path.join(d, "danted.log")) as f:
            relayed = f.read().count("pass(1): tcp/connect")
        check(relayed >= 2, "danted relayed %d connections, expected 2" % relayed)
        closed = free_port()
        a = Daemon(build, "a-refused", ["-listen=0", "-debug=net", proxy, "-connect=127.0.0.1:%d" % closed])
        try:
            a.wait_log("disconnect: peer=", 15)
            text = a.text()
            check("reason=proxy failed" in text, "disconnect reason is not the proxy's:\n" + text[-2000:])
        finally:
            code = a.stop()
        check(code == 0, "exit code %d" % code)
        print("refused through proxy: ok: " +
              [l for l in text.splitlines() if "disconnect: peer=" in l][0].split(" ", 1)[1])
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

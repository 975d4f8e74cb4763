"""The load tools against the real thing, in every build variant (so under
ASan/UBSan in the sanitizer build): bench/ceiling echoes 200 peers speaking
raw blocks, V1 and V2 (its echo read back through the same framing and
BIP324 ciphers), in one process and as a separate --serve process on two
ports measured through --pid; connring-load drives a connringd listening on
two ports with 200 peers over V1, V2 and a mix (spread over both ports and
over the --src addresses it is given), then inv and 1 MiB blob traffic.
Every run must establish every peer with no error, the measured server's
RSS and CPU are read through --pid, and connringd must stop cleanly (exit 0:
no leak report) with peers closing under it. Both tools must refuse a
non-loopback target or source, and a plan with too few 4-tuples. Bounded: 1
s of traffic per run.

usage: py_load_tools.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check, free_port  # noqa: E402

BLOB = 1 << 20  # LOAD_BLOB_SIZE in bench/load/load_client.h


def run_json(argv, what):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    try:
        r = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Failure("%s: no JSON summary (exit %d): %s" % (what, p.returncode, p.stdout + p.stderr))
    check(p.returncode == 0, "%s: exit %d: %s" % (what, p.returncode, p.stdout + p.stderr))
    check(r["peers_established"] == r["peers_requested"], "%s: %s" % (what, r))
    check(r["errors"] == 0, "%s: errors: %s" % (what, r))
    return r


def serve_split(ceiling):
    """ceiling --serve on two ports, the client apart with --pid."""
    srv = subprocess.Popen([ceiling, "--serve", "--ports", "2", "--duration", "60"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        line = srv.stdout.readline()
        check("listening on" in line, "ceiling --serve: %r" % line)
        targets = [w for w in line.split() if w.startswith("127.0.0.1:")]
        check(len(targets) == 2, "ceiling --serve did not bind two ports: %r" % line)
        argv = [ceiling, "--peers", "200", "--duration", "1", "--transport", "v1", "--pid", str(srv.pid), "--json"]
        for t in targets:
            argv += ["--connect", t]
        r = run_json(argv, "ceiling --connect")
        check(r["msgs_recv"] > 0 and r["rss_kib"] > 0 and r["cpu_s"] > 0, "split ceiling: %s" % r)
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            out = srv.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            srv.kill()
            out = srv.communicate()[0]
    check(srv.returncode == 0 and "served 200 connections" in out, "ceiling --serve stop: %d %r" %
          (srv.returncode, out))


def main():
    build = sys.argv[1]
    load = os.path.join(build, "bench", "connring-load")
    ceiling = os.path.join(build, "bench", "ceiling")
    d = None
    try:
        for tool in (load, ceiling):
            check(os.access(tool, os.X_OK), "%s is not built" % tool)
        for t in ("raw", "v1", "v2"):
            r = run_json([ceiling, "--peers", "200", "--duration", "1", "--transport", t, "--json"],
                         "ceiling " + t)
            check(r["msgs_recv"] > 0 and r["rtt_p50_us"] > 0, "ceiling echoed nothing over %s: %s" % (t, r))
        serve_split(ceiling)
        p = subprocess.run([load, "--connect", "10.1.2.3:8333", "--peers", "1"], capture_output=True,
                           text=True, timeout=10)
        check(p.returncode == 2 and "loopback" in p.stderr, "non-loopback target: %r" % p.stderr)
        p = subprocess.run([load, "--connect", "127.0.0.1:1", "--peers", "1", "--src", "10.0.0.1"],
                           capture_output=True, text=True, timeout=10)
        check(p.returncode == 2 and "127." in p.stderr, "non-loopback source: %r" % p.stderr)
        p = subprocess.run([load, "--connect", "127.0.0.1:1", "--peers", "100000", "--src", "127.0.0.9"],
                           capture_output=True, text=True, timeout=10)
        check(p.returncode == 1 and "ports per pair" in p.stderr, "4-tuples not checked: %r" % p.stderr)

        port2 = free_port()
        d = Daemon(build, "load", ["-maxconnections=1000", "-bind=127.0.0.1:%d" % port2])
        base = [load, "--connect", "127.0.0.1:%d" % d.port, "--connect", "127.0.0.1:%d" % port2,
                "--src", "127.0.0.20-127.0.0.23", "--peers", "200", "--duration", "1",
                "--chain", "regtest", "--json"]
        for t in ("v1", "v2", "mix"):
            r = run_json(base + ["--transport", t, "--pid", str(d.proc.pid)], "ping " + t)
            check(r["msgs_recv"] > 0 and r["rtt_p50_us"] > 0, "no pongs over %s: %s" % (t, r))
            check(r["rss_kib"] > 0 and r["cpu_s"] >= 0, "no RSS or CPU read: %s" % r)
            print("%s: %d peers, %d pongs/s, handshake p50 %.1f ms" %
                  (t, r["peers_established"], r["msgs_per_s"], r["handshake_p50_ms"]))
        r = run_json(base + ["--transport", "mix", "--msg", "inv", "--msg-rate", "20"], "inv")
        check(r["msgs_sent"] > 0, "no inv sent: %s" % r)
        # The change in connringd's received bytes over the blob run only
        # (the total already holds the ping and inv runs before it).
        before = d.snapshot()["totals"]["bytes_recv"]
        i = base.index("--peers") + 1
        r = run_json(base[:i] + ["8"] + base[i + 1:] + ["--transport", "mix", "--msg", "blob", "--msg-rate", "2"],
                     "blob")
        check(r["msgs_sent"] > 0, "no blob sent: %s" % r)
        got = d.snapshot()["totals"]["bytes_recv"] - before
        print("blob: %d sent, connringd received %d bytes more" % (r["msgs_sent"], got))
        # msgs_sent counts blobs queued in the window; each of the 8 peers
        # may still hold one unwritten when the tool stops.
        want = max(1, r["msgs_sent"] - 8) * BLOB
        check(got >= want, "connringd received %d bytes during the blob run, less than %d "
              "(%d blobs queued): %s" % (got, want, r["msgs_sent"], r))
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        if d:
            d.stop()
        return 1
    code = d.stop()
    if code != 0 or "connringd stopped" not in d.text():
        print("FAIL: connringd exit %d:\n%s" % (code, d.text()[-3000:]))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The load tools against the real thing, in every build variant (so under
ASan/UBSan in the sanitizer build): bench/ceiling echoes 200 raw peers, and
connring-load drives a connringd with 200 peers over V1, V2 and a mix, then
inv and 1 MiB blob traffic. Every run must establish every peer with no
error, connringd's RSS is read through --pid, and connringd must stop
cleanly (exit 0: no leak report) with peers closing under it. connring-load
must refuse a non-loopback target. Bounded: 1 s of traffic per run.

usage: py_load_tools.py BUILD_DIR"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402

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


def main():
    build = sys.argv[1]
    load = os.path.join(build, "bench", "connring-load")
    ceiling = os.path.join(build, "bench", "ceiling")
    d = None
    try:
        for tool in (load, ceiling):
            check(os.access(tool, os.X_OK), "%s is not built" % tool)
        r = run_json([ceiling, "--peers", "200", "--duration", "1", "--json"], "ceiling")
        check(r["msgs_recv"] > 0 and r["rtt_p50_us"] > 0, "ceiling echoed nothing: %s" % r)
        p = subprocess.run([load, "--connect", "10.1.2.3:8333", "--peers", "1"], capture_output=True,
                           text=True, timeout=10)
        check(p.returncode == 2 and "loopback" in p.stderr, "non-loopback target: %r" % p.stderr)

        d = Daemon(build, "load", ["-maxconnections=1000"])
        base = [load, "--connect", "127.0.0.1:%d" % d.port, "--peers", "200", "--duration", "1",
                "--chain", "regtest", "--json"]
        for t in ("v1", "v2", "mix"):
            r = run_json(base + ["--transport", t, "--pid", str(d.proc.pid)], "ping " + t)
            check(r["msgs_recv"] > 0 and r["rtt_p50_us"] > 0, "no pongs over %s: %s" % (t, r))
            check(r["rss_kib"] > 0, "no RSS read: %s" % r)
            print("%s: %d peers, %d pongs/s, handshake p50 %.1f ms" %
                  (t, r["peers_established"], r["msgs_per_s"], r["handshake_p50_ms"]))
        r = run_json(base + ["--transport", "mix", "--msg", "inv", "--msg-rate", "20"], "inv")
        check(r["msgs_sent"] > 0, "no inv sent: %s" % r)
        # The change in connringd's received bytes over the blob run only
        # (the total already holds the ping and inv runs before it).
        before = d.snapshot()["totals"]["bytes_recv"]
        r = run_json(base[:4] + ["8"] + base[5:] + ["--transport", "mix", "--msg", "blob", "--msg-rate", "2"],
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

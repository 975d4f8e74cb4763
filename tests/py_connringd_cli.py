"""connringd's command line and config file as a user meets them: -help
lists every option and exits 0; a bad option, a bad config line (named with
its line number), a missing -conf file and a missing -datadir each give a
clear error on stderr and exit 1 without starting anything; a good config
in -datadir is used (its port shows in the start line).

usage: py_connringd_cli.py BUILD_DIR"""
import os
import shutil
import signal
import subprocess
import sys
import select
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Failure, check, free_port  # noqa: E402


def run(binary, args, timeout=10):
    p = subprocess.run([binary] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def main():
    binary = os.path.join(sys.argv[1], "cmd", "connringd")
    d = tempfile.mkdtemp(prefix="cr-cli-")
    try:
        code, out = run(binary, ["-help"])
        check(code == 0, "-help exit %d" % code)
        for opt in ("-chain", "-bind", "-port", "-listen", "-connect", "-addnode", "-maxconnections",
                    "-workers", "-v2transport", "-proxy", "-datadir", "-conf", "-debug", "-logfile"):
            check(opt + "=" in out or opt + "[" in out or opt + " " in out, "-help lacks %s" % opt)
        cases = [
            (["-port=70000"], "-port=70000: expected a whole number in 1..65535"),
            (["-chain=bitcoin"], "expected main, test, testnet4, signet or regtest"),
            (["-bogus"], "unknown option -bogus"),
            (["-conf=" + os.path.join(d, "missing.conf")], "cannot read config file"),
            (["-datadir=" + os.path.join(d, "missing")], "not a directory"),
        ]
        with open(os.path.join(d, "bad.conf"), "w") as f:
            f.write("# comment\nregtest=1\n\nmaxconnections=lots\n")
        cases.append((["-conf=" + os.path.join(d, "bad.conf")],
                      "bad.conf: line 4: -maxconnections=lots: expected a whole number"))
        # Two ways of naming the chain are refused as bitcoind does, also
        # when one is on the command line and the other in the file.
        with open(os.path.join(d, "regtest.conf"), "w") as f:
            f.write("regtest=1\n")
        cases += [
            (["-chain=main", "-conf=" + os.path.join(d, "regtest.conf")],
             "-chain=main and -regtest: invalid combination"),
            (["-regtest", "-chain=main"], "can use at most one"),
            (["-workers=65"], "-workers=65: expected a whole number in 0..64"),
            (["-maxconnections=0"], "-maxconnections=0: expected a whole number in 1..1000000"),
        ]
        for args, want in cases:
            code, out = run(binary, args)
            check(code == 1, "%s: exit %d, wanted 1" % (args, code))
            check(want in out, "%s: %r lacks %r" % (args, out, want))
            check("started:" not in out, "%s: it started anyway" % args)
        port = free_port()
        with open(os.path.join(d, "connring.conf"), "w") as f:
            f.write("chain=regtest\n[regtest]\nbind=127.0.0.1\nport=%d\nrpcport=%d\n" % (port, free_port()))
        p = subprocess.Popen([binary, "-datadir=" + d], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        seen, deadline = b"", time.time() + 15
        while b"started:" not in seen and time.time() < deadline:
            if select.select([p.stdout], [], [], 0.5)[0]:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
        p.send_signal(signal.SIGTERM)
        rest, _ = p.communicate(timeout=15)
        rest = rest.decode()
        line = [x for x in seen.decode().splitlines() if "started:" in x] or [""]
        line = line[0]
        check("chain=regtest" in line and "port=%d" % port in line, "start line %r" % line)
        check(p.returncode == 0 and "connringd stopped" in rest, "clean stop: %d %r" % (p.returncode, rest))
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

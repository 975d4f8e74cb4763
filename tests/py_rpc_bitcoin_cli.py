"""The real bitcoin-cli against connringd, unchanged: it finds the cookie
through -regtest -datadir (bitcoind's layout), and getconnectioncount,
getpeerinfo, getnetworkinfo, help and -netinfo work; an unknown method
gives Core's error. Skips (exit 77) where no bitcoin-cli is on PATH
(Debian 12 packages none). Bounded: a few seconds.
usage: py_rpc_bitcoin_cli.py BUILD_DIR"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402


def main():
    exe = shutil.which("bitcoin-cli")
    if not exe:
        print("SKIP: no bitcoin-cli on PATH (Debian 12 has no package for it); "
              "py_rpc_daemon.py covers the same calls with a client written from its documented behaviour")
        return 77
    d = None
    try:
        d = Daemon(sys.argv[1], "bitcoin-cli", [])

        def run(*args):
            return subprocess.run([exe, "-regtest", "-datadir=" + d.dir, "-rpcport=%d" % d.rpcport] +
                                  list(args), capture_output=True, text=True, timeout=30)
        p = run("getconnectioncount")
        check(p.returncode == 0 and p.stdout.strip() == "0", "getconnectioncount: %r %r" % (p.stdout, p.stderr))
        p = run("getpeerinfo")
        check(p.returncode == 0 and json.loads(p.stdout) == [], "getpeerinfo: %r" % p.stdout)
        p = run("getnetworkinfo")
        check(p.returncode == 0 and json.loads(p.stdout)["protocolversion"] == 70016, "getnetworkinfo")
        p = run("help")
        check(p.returncode == 0 and "getpeerinfo" in p.stdout, "help")
        p = run("-netinfo")
        check(p.returncode == 0, "-netinfo: %r" % p.stderr)
        p = run("nosuch")
        check(p.returncode != 0 and "error code: -32601" in p.stderr, "unknown method: %r" % p.stderr)
    except (Failure, subprocess.TimeoutExpired, ValueError) as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        if d:
            d.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""connring-top under tmux, as a person over ssh would use it: a connringd
holds 2,000 peers from connring-load (half V1, half V2); connring-top runs
in an 80x24 tmux pane (its own tmux server socket). The screen shows the
totals and peer rows; 's' changes the sort key shown; '/v2' + Enter leaves
only V2 rows; 'd' asks to confirm and 'n' declines; 'q' quits cleanly.
Everything started is stopped (tmux server by its socket, the rest by pid).
Skips (exit 77) without tmux. Bounded: about 30 s.
usage: py_rpc_top.py BUILD_DIR"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check  # noqa: E402

PEERS = 2000


def main():
    build = sys.argv[1]
    tmux = shutil.which("tmux")
    if not tmux:
        print("SKIP: tmux missing (Debian package tmux; scripts/bootstrap installs it)")
        return 77
    sock = "crtop-%d" % os.getpid()

    def t(*args):
        return subprocess.run([tmux, "-L", sock] + list(args), capture_output=True, text=True, timeout=10)

    def screen():
        return t("capture-pane", "-p", "-t", "top").stdout

    def wait_screen(pred, what, timeout=15):
        end, s = time.time() + timeout, ""
        while time.time() < end:
            s = screen()
            if pred(s):
                return s
            time.sleep(0.3)
        raise Failure("%s; screen:\n%s" % (what, s))

    d = load = None
    started = False
    try:
        d = Daemon(build, "top", ["-maxconnections=%d" % (PEERS + 100)])
        load = subprocess.Popen([os.path.join(build, "bench", "connring-load"), "--connect",
                                 "127.0.0.1:%d" % d.port, "--peers", str(PEERS), "--transport", "mix",
                                 "--rate", "2000", "--msg-rate", "0.5", "--duration", "40", "--chain", "regtest"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        top = "%s -regtest -datadir=%s -rpcport=%d -refresh=500" % (
            os.path.join(build, "cmd", "connring-top"), d.dir, d.rpcport)
        r = t("new-session", "-d", "-s", "top", "-x", "80", "-y", "24", "env TERM=screen " + top)
        check(r.returncode == 0, "tmux new-session: %s" % r.stderr)
        started = True
        s = wait_screen(lambda s: ("peers %d" % PEERS) in s and "127.0.0.2:" in s,
                        "no totals or peer rows for %d peers" % PEERS, 30)
        check("ADDRESS" in s and "sort: bytes" in s, "table header and sort key:\n" + s)
        check(all(len(line) <= 80 for line in s.splitlines()), "wider than 80 columns")
        t("send-keys", "-t", "top", "s")
        wait_screen(lambda s: "sort: rate" in s, "'s' did not change the sort key")
        t("send-keys", "-t", "top", "s", "s", "s")
        wait_screen(lambda s: "sort: age" in s, "three more 's' did not reach age")
        t("send-keys", "-t", "top", "/", "v", "2", "Enter")
        s = wait_screen(lambda s: 'filter: "v2"' in s, "the filter was not applied")
        rows = [line for line in s.splitlines() if line.startswith("127.0.0.")]
        check(rows and all(" v2 " in line for line in rows), "non-V2 rows under the filter:\n" + s)
        v2 = re.search(r" v2 (\d+)", s)
        shown = re.search(r" of (\d+) \(", s)
        check(v2 and shown and v2.group(1) == shown.group(1),
              "the filter should leave the V2 peers the header counts:\n" + s)
        t("send-keys", "-t", "top", "d")
        wait_screen(lambda s: "? y/n" in s, "'d' asked nothing")
        t("send-keys", "-t", "top", "n")
        wait_screen(lambda s: "not disconnected" in s, "'n' did not decline")
        t("send-keys", "-t", "top", "q")
        end = time.time() + 10
        while time.time() < end and t("has-session", "-t", "top").returncode == 0:
            time.sleep(0.2)
        check(t("has-session", "-t", "top").returncode != 0, "connring-top did not quit on 'q'")
        started = False
        print("ok: %d peers shown, sort, filter, confirm and quit work" % PEERS)
    except (Failure, OSError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        if started:
            t("kill-server")
        if load and load.poll() is None:
            load.terminate()
            load.wait(15)
        if d:
            d.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Datadir and resource faults against a real connringd (issue 10): a clear
error or the bad file set aside, never a crash (death by a signal), never a
stored file corrupted.

  corrupt      banlist.dat and peers.dat of random bytes, truncated by one
               byte, and with a valid envelope around a body that does not
               decode: the node starts, says "not loaded", moves the file
               aside with its bytes intact (NAME.bad-N), and a new file
               then saves and loads again after a restart
  importpeers  -importpeers= a corrupt peers.dat: the start stops with the
               reason; the file is left as it was
  full         the datadir on a full filesystem (a 1 MiB tmpfs when we may
               mount one, else RLIMIT_FSIZE in the daemon with SIGXFSZ
               ignored, which fails writes past the size with EFBIG as a
               full disk fails them with ENOSPC): setban's save fails, the
               error is logged, setban answers -20 (Core only logs it; the
               ban holds in memory), banlist.dat keeps its old bytes, no
               temporary is left, the node keeps answering; with room again
               the next ban saves; full again at the stop, peers.dat's save
               fails the same way
  readonly     the datadir read-only (a tmpfs remounted ro when we may
               mount, else mode 0555, which root ignores: then skipped with
               the reason): with the cookie the start stops with a clear
               error; with -rpcuser/-rpcpassword it starts, a ban's save
               fails with the error logged, setban answering -20 and
               banlist.dat unchanged
  nofile       RLIMIT_NOFILE 32: a start-up warning naming it; 7: the start
               stops with an error naming RLIMIT_NOFILE

CR_FAULTS_NO_MOUNT=1 takes the paths without a tmpfs even where one can be
mounted.

Bounded: each daemon waits at most 15 s to start and 15 s to stop; about
20 s in all. Usage: py_faults.py BUILD_DIR [case ...]."""
import glob
import hashlib
import os
import random
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Failure, check, free_port  # noqa: E402
from rpcclient import Client, RPCError  # noqa: E402

BANLIST_MAGIC = 0x6e627263  # addr/banlist.h "crbn"
USER, PASSWORD = "faults", "faults-pw"
SKIPPED = []  # cases that cannot run here, with the reason


class Node:
    """connringd on 127.0.0.1 with a given datadir; output kept through a
    pipe (not a file: a file would share the datadir's limits)."""

    def __init__(self, build, datadir, extra=(), preexec=None, expect_start=True):
        self.datadir = datadir
        if not os.path.isdir(datadir):
            os.makedirs(datadir)  # -datadir must exist, as bitcoind's
        self.port, self.rpcport = free_port(), free_port()
        argv = [os.path.join(build, "cmd", "connringd"), "-chain=regtest", "-bind=127.0.0.1",
                "-port=%d" % self.port, "-datadir=" + datadir, "-rpcport=%d" % self.rpcport,
                "-statsinterval=3600", "-workers=1", "-debug=net"] + list(extra)
        self.out = []
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        end = time.time() + 15
        while time.time() < end:
            if "started:" in self.text() or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.proc.poll() is not None:
            self.reader.join(5)
        started = "started:" in self.text() and self.proc.poll() is None
        if expect_start:
            check(started, "connringd did not start:\n%s" % self.text()[-3000:])
        self.started = started

    def _read(self):
        for line in self.proc.stdout:
            self.out.append(line.decode(errors="replace"))

    def text(self):
        return "".join(self.out)

    def rpc(self):
        cookie = os.path.join(self.datadir, "regtest", ".cookie")
        if os.path.exists(cookie):
            return Client(self.rpcport, cookie=cookie, timeout=15)
        return Client(self.rpcport, USER, PASSWORD, timeout=15)

    def exit_code(self, timeout=15):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("connringd did not exit within %s s:\n%s" % (timeout, self.text()[-2000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.exit_code()
        self.reader.join(5)
        check(rc >= 0, "connringd died by signal %d:\n%s" % (-rc, self.text()[-2000:]))
        return rc


def version_answered(port):
    """A V1 peer's version is answered (the node still serves peers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        payload = (struct.pack("<iQq", 70016, 0, int(time.time())) + bytes(26) + bytes(26) +
                   os.urandom(8) + b"\x00" + struct.pack("<i", 0) + b"\x01")
        ck = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
        s.sendall(bytes.fromhex("fabfb5da") + b"version".ljust(12, b"\0") +
                  struct.pack("<I", len(payload)) + ck + payload)
        try:
            return len(s.recv(24)) > 0
        except OSError:
            return False


def read(path):
    with open(path, "rb") as f:
        return f.read()


def netdir(datadir):
    d = os.path.join(datadir, "regtest")
    os.makedirs(d, exist_ok=True)
    return d


def store_image(magic, version, body):
    head = struct.pack("<IIQ", magic, version, len(body)) + body
    return head + hashlib.sha256(hashlib.sha256(head).digest()).digest()


def valid_banlist(build, datadir, bans=("127.0.0.9",)):
    """Makes datadir/regtest/banlist.dat with these bans by a run of the
    node itself; returns its bytes."""
    n = Node(build, datadir)
    try:
        rpc = n.rpc()
        for b in bans:
            rpc.call("setban", b, "add", 100000)
        rpc.close()
    finally:
        n.stop()
    return read(os.path.join(datadir, "regtest", "banlist.dat"))


def corrupt_variants(good):
    """Bad images of a store file: random bytes, truncated by a byte, and a
    valid envelope (magic, version, checksum) around a body that does not
    decode."""
    magic, version = struct.unpack("<II", good[:8])
    body = good[16:-32]  # its last field cut short, checksum made right
    return [("random bytes", os.urandom(300)), ("truncated by a byte", good[:-1]),
            ("a body that does not decode", store_image(magic, version, body[:-1]))]


def case_corrupt(build):
    base = tempfile.mkdtemp(prefix="cr-faults-")
    try:
        gooddir = os.path.join(base, "good")
        good = {"banlist.dat": valid_banlist(build, gooddir)}
        check(good["banlist.dat"][:4] == struct.pack("<I", BANLIST_MAGIC),
              "banlist.dat does not start with its magic")
        good["peers.dat"] = read(os.path.join(gooddir, "regtest", "peers.dat"))  # saved at stop
        # after a restart: the new ban made below loads; the address file
        # saved fresh at the stop loads
        loads = {"banlist.dat": "loaded 1 bans", "peers.dat": "loaded 0 addresses"}
        for name in ("banlist.dat", "peers.dat"):
            for what, img in corrupt_variants(good[name]):
                dd = os.path.join(base, "%s_%s" % (name, what.replace(" ", "_")))
                path = os.path.join(netdir(dd), name)
                with open(path, "wb") as f:
                    f.write(img)
                n = Node(build, dd)
                try:
                    t = n.text()
                    check("not loaded" in t and "moved aside" in t,
                          "corrupt %s (%s): no clear message:\n%s" % (name, what, t[-2000:]))
                    aside = glob.glob(path + ".bad-*")
                    check(len(aside) == 1 and read(aside[0]) == img,
                          "corrupt %s (%s): not set aside with its bytes intact: %s" % (name, what, aside))
                    check(version_answered(n.port), "corrupt %s (%s): node does not answer" % (name, what))
                    rpc = n.rpc()
                    rpc.call("setban", "127.0.0.7", "add", 100000)
                    rpc.close()
                finally:
                    n.stop()
                n = Node(build, dd)
                try:
                    check(loads[name] in n.text(), "corrupt %s (%s): the new file did not load after a "
                          "restart:\n%s" % (name, what, n.text()[-2000:]))
                    check(read(aside[0]) == img, "the set-aside file changed")
                finally:
                    n.stop()
                print("corrupt: %s of %s: set aside as %s, a new one saved and loaded" %
                      (name, what, os.path.basename(aside[0])))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def case_importpeers(build):
    base = tempfile.mkdtemp(prefix="cr-faults-")
    try:
        peers = os.path.join(base, "peers.dat")
        img = os.urandom(200)
        with open(peers, "wb") as f:
            f.write(img)
        n = Node(build, os.path.join(base, "dd"), ["-importpeers=" + peers], expect_start=False)
        rc = n.exit_code()
        check(rc == 1, "corrupt -importpeers: exit %d, not 1:\n%s" % (rc, n.text()[-2000:]))
        check("peers.dat" in n.text(), "corrupt -importpeers: the error does not name the file:\n%s" %
              n.text()[-2000:])
        check(read(peers) == img, "corrupt -importpeers: the file was changed")
        print("importpeers: a corrupt peers.dat stops the start: %s" % n.text().strip().splitlines()[-1])
    finally:
        shutil.rmtree(base, ignore_errors=True)


def can_mount():
    if os.environ.get("CR_FAULTS_NO_MOUNT"):  # to run the fallbacks where mount works
        return False
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    d = tempfile.mkdtemp(prefix="cr-faults-mnt-")
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                        capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", d])
    os.rmdir(d)
    return ok


class Tmpfs:
    def __init__(self, size="1m"):
        self.dir = tempfile.mkdtemp(prefix="cr-faults-tmpfs-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", self.dir],
                           capture_output=True, text=True)
        check(r.returncode == 0, "mount tmpfs: %s" % r.stderr)

    def remount(self, opt):
        r = subprocess.run(["mount", "-o", "remount,%s" % opt, self.dir], capture_output=True, text=True)
        check(r.returncode == 0, "remount %s: %s" % (opt, r.stderr))

    def close(self):
        subprocess.run(["umount", "-l", self.dir])
        os.rmdir(self.dir)


def fill(path):
    """Writes a file until the filesystem is full; returns its size."""
    n = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            n += os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return n


def check_save_failed(n, path, old, what):
    end = time.time() + 10  # the log line comes through a pipe and a thread
    while "saving bans to" not in n.text() and time.time() < end:
        time.sleep(0.05)
    t = n.text()
    check("saving bans to" in t, "%s: the failed save was not logged:\n%s" % (what, t[-2000:]))
    check(read(path) == old, "%s: banlist.dat changed after a failed save" % what)
    left = glob.glob(path + ".new*")
    check(not left, "%s: temporaries left: %s" % (what, left))
    check(version_answered(n.port), "%s: the node no longer answers" % what)


def setban_result(rpc, addr):
    try:
        rpc.call("setban", addr, "add", 100000)
        return "ok"
    except RPCError as e:
        return "error %s: %s" % (e.error.get("code"), e.error.get("message"))


def case_full(build):
    if can_mount():
        fs = Tmpfs("1m")
        try:
            dd = os.path.join(fs.dir, "dd")
            old = valid_banlist(build, dd)
            path = os.path.join(dd, "regtest", "banlist.dat")
            n = Node(build, dd)
            try:
                filler = os.path.join(fs.dir, "filler")
                size = fill(filler)
                rpc = n.rpc()
                res = setban_result(rpc, "10.0.0.0/8")
                check(res.startswith("error -20:"), "full: setban did not report the failed save: %s" % res)
                check_save_failed(n, path, old, "full tmpfs")
                line = [x for x in n.text().splitlines() if "saving bans to" in x][-1]
                print("full: tmpfs filled with %d bytes; setban: %s; node: %s" % (size, res, line))
                os.unlink(filler)
                res = setban_result(rpc, "10.1.0.0/16")
                check(res == "ok", "full: with room again setban answered %s" % res)
                check(read(path) != old, "full: with room again the next ban did not save (%s)" % res)
                rpc.close()
            finally:
                n.stop()
            # full at the stop: the address file's save fails (a password,
            # not the cookie, whose removal at stop would free a page)
            n = Node(build, dd, ["-rpcuser=" + USER, "-rpcpassword=" + PASSWORD])
            peers = os.path.join(dd, "regtest", "peers.dat")
            old_peers = read(peers)
            try:
                fill(filler)
            finally:
                n.stop()
            t = n.text()
            check("saving addresses to" in t, "full: the failed peers.dat save at stop was not logged:\n%s" %
                  t[-2000:])
            check(read(peers) == old_peers and not glob.glob(peers + ".new*"),
                  "full: peers.dat changed or a temporary was left by a failed save")
            print("full: at stop: %s" % [x for x in t.splitlines() if "saving addresses to" in x][-1])
            os.unlink(filler)
            n = Node(build, dd)
            try:
                check("loaded" in n.text() and "bans from" in n.text(),
                      "full: banlist.dat does not load after the disk had room again:\n%s" % n.text()[-2000:])
            finally:
                n.stop()
            # a start on a full disk: a clear error or a start, never a crash
            filler = os.path.join(fs.dir, "filler")
            fill(filler)
            n = Node(build, dd, expect_start=False)
            rc = n.stop()
            first_error = [x for x in n.text().splitlines() if "error" in x][:1]
            print("full: start on a full tmpfs: exit %d %s" % (rc, first_error))
            check(rc == 0 or first_error, "full: start failed without an error line:\n%s" % n.text())
        finally:
            fs.close()
        return
    # no mount: RLIMIT_FSIZE in the daemon, SIGXFSZ ignored (EFBIG)
    base = tempfile.mkdtemp(prefix="cr-faults-")
    try:
        dd = os.path.join(base, "dd")
        old = valid_banlist(build, dd)
        path = os.path.join(dd, "regtest", "banlist.dat")
        limit = len(old) + 8  # a ban more does not fit

        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        n = Node(build, dd, ["-rpcuser=" + USER, "-rpcpassword=" + PASSWORD], preexec=small_files)
        try:
            rpc = n.rpc()
            res = setban_result(rpc, "10.0.0.0/8")
            check(res.startswith("error -20:"), "RLIMIT_FSIZE: setban did not report the failed save: %s" %
                  res)
            check_save_failed(n, path, old, "RLIMIT_FSIZE")
            print("full (RLIMIT_FSIZE=%d, no tmpfs here): setban: %s" % (limit, res))
            rpc.close()
        finally:
            n.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def case_readonly(build):
    fs = None
    base = None
    if can_mount():
        fs = Tmpfs("4m")
        dd = os.path.join(fs.dir, "dd")
    elif os.geteuid() != 0:
        base = tempfile.mkdtemp(prefix="cr-faults-")
        dd = os.path.join(base, "dd")
    else:
        SKIPPED.append("readonly: root ignores mode 0555 and no tmpfs can be mounted here")
        return
    try:
        old = valid_banlist(build, dd)
        path = os.path.join(dd, "regtest", "banlist.dat")
        if fs:
            fs.remount("ro")
        else:
            os.chmod(os.path.join(dd, "regtest"), 0o555)
            os.chmod(dd, 0o555)
        # with the cookie: it cannot be written; a clear error, exit 1
        n = Node(build, dd, expect_start=False)
        rc = n.stop()
        errs = [x for x in n.text().splitlines() if "error" in x]
        check(rc == 1 and errs, "readonly: with the cookie: exit %d without a clear error:\n%s" %
              (rc, n.text()[-2000:]))
        print("readonly: start with the cookie: exit %d: %s" % (rc, errs[0]))
        check(read(path) == old, "readonly: banlist.dat changed")
        # with a password: starts; a ban's save fails, logged, file kept
        n = Node(build, dd, ["-rpcuser=" + USER, "-rpcpassword=" + PASSWORD], expect_start=False)
        if n.started:
            try:
                check("loaded 1 bans" in n.text(), "readonly: the bans were not loaded:\n%s" % n.text())
                rpc = n.rpc()
                res = setban_result(rpc, "10.0.0.0/8")
                check(res.startswith("error -20:"), "readonly: setban did not report the failed save: %s" % res)
                check_save_failed(n, path, old, "read-only datadir")
                print("readonly: with -rpcpassword it runs; setban: %s; node: %s" %
                      (res, [x for x in n.text().splitlines() if "saving bans to" in x][-1]))
                rpc.close()
            finally:
                n.stop()
        else:
            rc = n.stop()
            errs = [x for x in n.text().splitlines() if "error" in x]
            check(rc == 1 and errs, "readonly: with a password: exit %d without a clear error" % rc)
            print("readonly: with -rpcpassword: exit %d: %s" % (rc, errs[0]))
        check(read(path) == old, "readonly: banlist.dat changed")
    finally:
        if fs:
            fs.close()
        if base:
            for d in (os.path.join(base, "dd", "regtest"), os.path.join(base, "dd")):
                if os.path.isdir(d):
                    os.chmod(d, 0o700)
            shutil.rmtree(base, ignore_errors=True)


def case_nofile(build):
    base = tempfile.mkdtemp(prefix="cr-faults-")
    try:
        for lim, must_start in ((32, True), (7, False)):
            def low(lim=lim):
                resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
            n = Node(build, os.path.join(base, "dd%d" % lim), preexec=low, expect_start=must_start)
            if must_start:
                check(version_answered(n.port), "nofile %d: the node does not answer" % lim)
            rc = n.stop()
            lines = [x for x in n.text().splitlines() if "RLIMIT_NOFILE is %d" % lim in x]
            print("nofile %d: exit %d; %s" % (lim, rc, lines[:2]))
            check(any("warning" in x for x in lines), "nofile %d: no start-up warning naming RLIMIT_NOFILE:\n%s"
                  % (lim, n.text()[-2000:]))
            if not must_start:
                check(rc == 1 and any("error" in x for x in lines),
                      "nofile %d: exit %d without an error naming RLIMIT_NOFILE:\n%s" % (lim, rc, n.text()))
    finally:
        shutil.rmtree(base, ignore_errors=True)


CASES = [("corrupt", case_corrupt), ("importpeers", case_importpeers), ("full", case_full),
         ("readonly", case_readonly), ("nofile", case_nofile)]

if __name__ == "__main__":
    random.seed()
    want = sys.argv[2:]
    failed = []
    for name, fn in CASES:
        if want and name not in want:
            continue
        t0 = time.time()
        try:
            fn(sys.argv[1])
            print("ok   %s (%.1f s)" % (name, time.time() - t0))
        except Failure as f:
            print("FAIL %s: %s" % (name, f))
            failed.append(name)
    for why in SKIPPED:
        print("SKIP", why)
    # 77: ctest's SKIP_RETURN_CODE, so a case that could not run shows
    sys.exit(1 if failed else 77 if SKIPPED else 0)

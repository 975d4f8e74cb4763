"""libconnring as an embedder gets it: `cmake --install` into a temporary
prefix, then examples/echo_relay.c compiled against that tree with
`pkg-config --cflags --libs connring` (shared, and --static against
libconnring.a), run, and spoken to over loopback by a V1 peer
(python-bitcoinlib for the handshake): a message sent to the relay comes
back byte for byte. Also checks that libconnring.so exports exactly the
functions the installed header marks CR_API, all cr_, and that the man
pages and connring.pc are installed. Bounded (~20 s); every process it
starts is stopped by its pid.

usage: py_install.py BUILD_DIR"""
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import bitcoin
from bitcoin.messages import MsgSerializable, msg_verack, msg_version
from bitcoin.net import CAddress

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Failure, check  # noqa: E402

SKIP = 77
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAGIC = bytes.fromhex("fabfb5da")  # regtest
bitcoin.SelectParams("regtest")


def run(argv, env=None):
    r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise Failure("%s failed (%d):\n%s" % (" ".join(argv), r.returncode, r.stdout[-3000:]))
    return r.stdout


def frame(command, payload):
    check_sum = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return MAGIC + command.encode().ljust(12, b"\0") + struct.pack("<I", len(payload)) + check_sum + payload


def read_msg(f):
    hdr = f.read(24)
    check(len(hdr) == 24 and hdr[:4] == MAGIC, "bad or short header %r" % hdr)
    length = struct.unpack("<I", hdr[16:20])[0]
    payload = f.read(length)
    check(len(payload) == length, "short payload")
    check(hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == hdr[20:24], "checksum")
    return hdr[4:16].rstrip(b"\0").decode(), payload


def exports(lib):
    out = run(["nm", "-D", "--defined-only", lib])
    return sorted(line.split()[-1] for line in out.splitlines() if line.strip())


def declared(header):
    text = open(header).read()
    return sorted(set(re.findall(r"^CR_API [^(]*?\b(cr_\w+)\(", text, re.M)))


def echo_once(exe, env):
    proc = subprocess.Popen([exe, "0", "20"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        check(m, "echo_relay did not start: %r" % line)
        sock = socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=10)
        f = sock.makefile("rb")
        ver = msg_version(protover=70016)
        ver.addrTo = CAddress()
        ver.strSubVer = b"/py_install:1/"
        sock.sendall(ver.to_bytes())
        sock.sendall(msg_verack().to_bytes())
        want = os.urandom(1000)
        sent = False
        deadline = time.time() + 15
        while time.time() < deadline:
            command, payload = read_msg(f)
            if command == "verack" and not sent:
                sock.sendall(frame("echo", want))  # the relay's peer is ready now
                sent = True
            elif command == "ping":
                sock.sendall(frame("pong", payload))
            elif command == "echo":
                check(payload == want, "echo payload differs")
                break
        else:
            raise Failure("no echo within 15 s")
        f.close()
        sock.close()
        check(proc.poll() is None, "echo_relay exited early")
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    check(proc.returncode == 0, "echo_relay exit code %s:\n%s" % (proc.returncode, out))
    check("ready: " in out and "/py_install:1/" in out, "no ready line for our peer:\n%s" % out)


def man_names(man3):
    """The function names the man pages in man3 document: each page's file
    name and the names of its NAME line (a trailing * matches a prefix)."""
    exact, prefixes = set(), []
    for page in os.listdir(man3):
        exact.add(page[:-2] if page.endswith(".3") else page)
        lines = open(os.path.join(man3, page)).read().splitlines()
        for i, line in enumerate(lines[:-1]):
            if line.strip() == ".SH NAME":
                names = lines[i + 1].split("\\-")[0]
                for n in re.split(r"[,\s]+", names):
                    if n.endswith("*"):
                        prefixes.append(n[:-1])
                    elif n:
                        exact.add(n)

    class Names:
        def __contains__(self, f):
            return f in exact or any(f.startswith(p) for p in prefixes)
    return Names()


def main():
    build = os.path.abspath(sys.argv[1])
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    kind = re.search(r"^CMAKE_BUILD_TYPE:STRING=(\w*)", cache, re.M)
    if kind and kind.group(1) in ("Sanitize", "TSan", "Coverage"):
        print("SKIP: %s build: its libconnring.so needs the instrumentation runtime loaded "
              "first; the release build's ctest runs this test" % kind.group(1))
        return SKIP
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not shutil.which("pkg-config"):
        print("SKIP: no C compiler or pkg-config on PATH")
        return SKIP
    prefix = tempfile.mkdtemp(prefix="cr-install-")
    try:
        run(["cmake", "--install", build, "--prefix", prefix])
        libdir = os.path.join(prefix, "lib")
        if not os.path.isdir(libdir):
            libdir = os.path.join(prefix, "lib64")
        header = os.path.join(prefix, "include", "connring", "connring.h")
        for p in (header, os.path.join(prefix, "include", "connring", "version.h"),
                  os.path.join(libdir, "libconnring.a"), os.path.join(libdir, "pkgconfig", "connring.pc"),
                  os.path.join(prefix, "share", "man", "man3", "cr_engine_new.3")):
            check(os.path.exists(p), "not installed: %s" % p)
        # exactly the CR_API functions are exported, and only cr_ names
        got, want = exports(os.path.join(libdir, "libconnring.so")), declared(header)
        check(all(s.startswith("cr_") for s in got), "non-cr_ exports: %s" %
              [s for s in got if not s.startswith("cr_")])
        check(got == want, "exports differ from the header: extra %s, missing %s" %
              (sorted(set(got) - set(want)), sorted(set(want) - set(got))))
        # every exported function has an installed man page: a page of its
        # own name (an .so alias counts) or a NAME line listing it, where
        # "cr_config_set_*" stands for all the setters
        man3 = os.path.join(prefix, "share", "man", "man3")
        undocumented = [f for f in want if f not in man_names(man3)]
        check(not undocumented, "no man page for: %s" % undocumented)
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
        flags = run(["pkg-config", "--cflags", "--libs", "connring"], env).split()
        static = run(["pkg-config", "--static", "--cflags", "--libs", "connring"], env).split()
        src = os.path.join(SRC, "examples", "echo_relay.c")
        shared_exe = os.path.join(prefix, "echo_relay")
        static_exe = os.path.join(prefix, "echo_relay_static")
        run([cc, "-std=c17", "-Wall", "-Wextra", "-Werror", src, "-o", shared_exe] + flags)
        run([cc, "-std=c17", "-Wall", "-Wextra", "-Werror", src, "-o", static_exe,
             "-Wl,-Bstatic", "-lconnring", "-Wl,-Bdynamic"] + [a for a in static if a != "-lconnring"])
        ldd = run(["ldd", static_exe])
        check("libconnring" not in ldd, "the static build links libconnring.so:\n" + ldd)
        echo_once(shared_exe, dict(env, LD_LIBRARY_PATH=libdir))
        echo_once(static_exe, env)
        print("ok: installed to %s; %d exported cr_ symbols; echo via the shared and the static library" %
              (prefix, len(got)))
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Failure, OSError, ValueError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        sys.exit(1)

"""connringd's -metricsbind against the real Prometheus tools from Debian:
`promtool check metrics` passes on what /metrics serves, and a Prometheus
server started here (loopback, temporary storage, 1 s scrapes) scrapes
connringd and answers a query for the peer count, which must equal the
peers connring-load holds. Everything started is stopped by pid.

Skips (exit 77) when Debian's prometheus package is not installed
(scripts/bootstrap installs it). Bounded: about 15 s.
usage: py_rpc_prometheus.py BUILD_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdaemon import Daemon, Failure, check, free_port  # noqa: E402

PEERS = 5


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def main():
    build = sys.argv[1]
    if not (os.access("/usr/bin/promtool", os.X_OK) and os.access("/usr/bin/prometheus", os.X_OK)):
        print("SKIP: /usr/bin/prometheus and /usr/bin/promtool missing (Debian package prometheus; "
              "scripts/bootstrap installs it)")
        return 77
    mport = free_port()
    d = load = prom = None
    work = tempfile.mkdtemp(prefix="cr-prom-")
    try:
        d = Daemon(build, "metrics", ["-metricsbind=127.0.0.1:%d" % mport])
        load = subprocess.Popen([os.path.join(build, "bench", "connring-load"), "--connect",
                                 "127.0.0.1:%d" % d.port, "--peers", str(PEERS), "--transport", "mix",
                                 "--msg-rate", "1", "--duration", "30", "--chain", "regtest"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = "http://127.0.0.1:%d/metrics" % mport
        deadline = time.time() + 10
        text = ""
        while time.time() < deadline:
            status, text = get(url)
            if 'connring_peers{direction="inbound"} %d' % PEERS in text:
                break
            time.sleep(0.2)
        check('connring_peers{direction="inbound"} %d' % PEERS in text, "metrics lack the peers:\n" + text[:2000])
        p = subprocess.run(["/usr/bin/promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=20)
        check(p.returncode == 0, "promtool check metrics: %s %s" % (p.stdout, p.stderr))
        try:
            status, _ = get("http://127.0.0.1:%d/other" % mport)
        except urllib.error.HTTPError as e:
            status = e.code
        check(status == 404, "a path other than /metrics: %s" % status)

        pport = free_port()
        cfg = os.path.join(work, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                    "  - job_name: connringd\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % mport)
        prom = subprocess.Popen(["/usr/bin/prometheus", "--config.file=" + cfg,
                                 "--storage.tsdb.path=" + os.path.join(work, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prom.log"), "w"))
        query = "http://127.0.0.1:%d/api/v1/query?query=sum(connring_peers)" % pport
        deadline, value = time.time() + 30, None
        while time.time() < deadline:
            try:
                status, body = get(query)
                res = json.loads(body)["data"]["result"]
                if res:
                    value = float(res[0]["value"][1])
                    if value == PEERS:
                        break
            except (OSError, ValueError, KeyError):
                pass
            if prom.poll() is not None:
                break
            time.sleep(0.5)
        with open(os.path.join(work, "prom.log")) as f:
            plog = f.read()[-1500:]
        check(value == PEERS, "Prometheus answered sum(connring_peers) = %s, wanted %d; log:\n%s" %
              (value, PEERS, plog))
        print("ok: promtool passes; Prometheus scraped connringd: sum(connring_peers) = %d" % value)
    except (Failure, OSError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        if d:
            print(d.text()[-2000:])
        return 1
    finally:
        for proc in (prom, load):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if d:
            d.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

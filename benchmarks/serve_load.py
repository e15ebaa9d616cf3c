"""Load test of `policy serve`: evaluate requests against a uvicorn on localhost.

    python benchmarks/serve_load.py [-n 5000] [-c 8] [--set fushun] [--workers 1]

Starts `policy serve` (the documented command, JSON access log on) on a free port, sends
-n POST /v1/sets/{set}/evaluate requests from -c threads, each with its own keep-alive
connection, cycling through the example cases in examples/, and checks each response is
200 with the body the same evaluation gives in-process (what `policy eval --format json` prints). It prints
p50 / p90 / p99 / max latency, the error count and requests/s, and, as the baseline run
in the same process, the in-process evaluate + to_json per case, with the ratio of the
HTTP p50 to it. Client and server share the machine, so latency includes the client's cost.
A benchmark, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy_dsl import load  # noqa: E402
from policy_dsl.serve.app import evaluation_json  # noqa: E402


def cases() -> list[dict]:
    out = []
    for path in sorted((ROOT / "examples").glob("unit-*.yaml")):
        out.append(json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str)))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "policy_dsl", "serve", "--policies", str(ROOT / "policies"), "--port", str(port),
           "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("policy serve did not start")


def percentile(sorted_ns: list[int], p: int) -> int:
    """Nearest-rank percentile (p in whole percent)."""
    rank = max(1, -(-p * len(sorted_ns) // 100))
    return sorted_ns[rank - 1]


def ms(ns: int) -> str:
    return f"{ns // 1000 / 1000:.3f} ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("-c", type=int, default=8)
    ap.add_argument("--set", default="fushun")
    ap.add_argument("--workers", type=int, default=1, help="policy serve --workers")
    args = ap.parse_args()

    bodies = cases()
    engine = load(ROOT / "policies" / args.set)
    expected = [evaluation_json(engine.evaluate(b)) for b in bodies]
    payloads = [json.dumps(b).encode() for b in bodies]

    # baseline in the same run: the in-process call the service wraps
    rounds = 2000
    t0 = time.perf_counter_ns()
    for i in range(rounds):
        evaluation_json(engine.evaluate(bodies[i % len(bodies)]))
    baseline = (time.perf_counter_ns() - t0) // rounds

    port = free_port()
    proc = start_server(port, args.workers)
    latencies: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(args.n))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[int] = []
        bad: list[str] = []
        for i in counter:  # the shared iterator hands out request numbers (next() on it is atomic in CPython)
            k = i % len(payloads)
            start = time.perf_counter_ns()
            try:
                conn.request("POST", f"/v1/sets/{args.set}/evaluate", body=payloads[k],
                             headers={"content-type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                mine.append(time.perf_counter_ns() - start)
                if resp.status != 200 or json.loads(data) != expected[k]:
                    bad.append(f"{resp.status}: {data[:200]!r}")
            except (OSError, http.client.HTTPException) as exc:
                bad.append(repr(exc))
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    try:
        for _ in range(50):  # warm-up, not measured
            c = http.client.HTTPConnection("127.0.0.1", port)
            c.request("POST", f"/v1/sets/{args.set}/evaluate", body=payloads[0])
            c.getresponse().read()
        threads = [threading.Thread(target=worker) for _ in range(args.c)]
        t0 = time.perf_counter_ns()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter_ns() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    lat = sorted(latencies)
    print(f"policy serve · POST /v1/sets/{args.set}/evaluate · {args.n} requests · {args.c} concurrent · "
          f"{len(bodies)} cases · {args.workers} worker(s) · {os.cpu_count()} CPUs · load average {os.getloadavg()[0]:.1f}")
    print(f"  p50 {ms(percentile(lat, 50))}   p90 {ms(percentile(lat, 90))}   p99 {ms(percentile(lat, 99))}   "
          f"max {ms(lat[-1])}")
    print(f"  errors {len(errors)}   throughput {args.n * 1_000_000_000 // wall} requests/s")
    print(f"  baseline: in-process evaluate + to_json {ms(baseline)} per case; "
          f"HTTP p50 / baseline = {percentile(lat, 50) * 10 // baseline / 10}x")
    for e in errors[:5]:
        print("  error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/python3
"""P7: broker round trip for a no-op service (build/bench/mdp_noop worker + client through the
system's broker) beside a bare libzmq DEALER/ROUTER ping-pong over the same transport
(tcp on 127.0.0.1; Debian ships no local_lat/remote_lat, so build/bench/zmq_pingpong is their
equivalent). Clients pinned to the load-generator core; worker and echo unpinned."""
import os, re, socket, subprocess, sys, time
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import *  # noqa

N_LAT = int(os.environ.get("P7_LAT_N", "20000"))
N_THR = int(os.environ.get("P7_THR_N", "200000"))
# As many no-op workers as the system runs by default (WORKERS=2), each announcing this
# credit (proto/README.md): it may hold that many requests at once, so two hold all 64 in
# flight. With P7_CREDIT=1 (plain 7/MDP workers, one request each) it takes P7_WORKERS=8
# or more to keep requests in flight at all.
NOOP_WORKERS = int(os.environ.get("P7_WORKERS", "2"))
NOOP_CREDIT = int(os.environ.get("P7_CREDIT", "64"))
INFLIGHT = int(os.environ.get("P7_INFLIGHT", "64"))


def parse(out):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", out)}


def run(cmd):
    return parse(subprocess.run(["taskset", "-c", CPU] + cmd, capture_output=True, text=True,
                                timeout=300).stdout)


def main():
    ep = os.environ["BROKER_ENDPOINT"]
    noop = os.path.join(BUILD, "bench/mdp_noop")
    pp = os.path.join(BUILD, "bench/zmq_pingpong")
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    echo_ep = f"tcp://127.0.0.1:{port}"
    w = subprocess.Popen([noop, "worker", ep, str(NOOP_WORKERS), str(NOOP_CREDIT)])
    e = subprocess.Popen([pp, "echo", echo_ep])
    time.sleep(0.5)
    mdp_lat, zmq_lat, mdp_thr, zmq_thr = [], [], [], []
    try:
        for r in range(RUNS):
            m = run([noop, "client", ep, str(N_LAT), "1"])
            z = run([pp, "ping", echo_ep, str(N_LAT), "1", "32"])
            mt = run([noop, "client", ep, str(N_THR), str(INFLIGHT)])
            zt = run([pp, "ping", echo_ep, str(N_THR), str(INFLIGHT), "32"])
            mdp_lat.append(m["p50_us"]); zmq_lat.append(z["p50_us"])
            mdp_thr.append(mt["rps"]); zmq_thr.append(zt["rps"])
            print(f"  run {r + 1}: MDP rtt p50 {m['p50_us']:.0f} us p99 {m['p99_us']:.0f} us, {mt['rps']:.0f} req/s;"
                  f" zmq rtt p50 {z['p50_us']:.0f} us p99 {z['p99_us']:.0f} us, {zt['rps']:.0f} msg/s", flush=True)
    finally:
        w.terminate(); e.terminate(); w.wait(); e.wait()
    ml, zl, mt, zt = median(mdp_lat), median(zmq_lat), median(mdp_thr), median(zmq_thr)
    result("P7", "broker round trip, no-op service (p50) / req/s with 64 in flight",
           f"{ml:.0f} us; {mt:.0f} req/s", f"zmq ping-pong {zl:.0f} us; {zt:.0f} msg/s",
           f"{ml / zl:.2f}x", "<= 3x; >= 50k req/s", ml / zl <= 3 and mt >= 50000,
           f"median of {RUNS}; MDP is two hops (client-broker-worker), the floor one;"
           f" {NOOP_WORKERS} no-op workers of credit {NOOP_CREDIT} (each may hold {NOOP_CREDIT} requests at once)",
           [f"build/bench/mdp_noop worker EP {NOOP_WORKERS} {NOOP_CREDIT}; build/bench/mdp_noop client EP {N_LAT} 1 | {N_THR} {INFLIGHT}",
            f"build/bench/zmq_pingpong echo EP; build/bench/zmq_pingpong ping EP {N_LAT} 1 32 | {N_THR} {INFLIGHT} 32"])


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The progress-hub's "done when" check: N sockets (default 1000) watching one job all see
it complete, while one socket that never reads is dropped (4009) and the hub's memory stays
bounded. Runs against a hub that is already up (./manage.sh up) with its broker: the hub
asks auth.me about every socket's user, so WATCHER_ID and FLOODER_ID must be ids of users
that exist (e.g. the seeded agent's and admin's: SELECT id FROM users):

    JWT_SECRET=... WS_PORT=3002 HUB_PUB_ENDPOINT=tcp://127.0.0.1:5556 HUB_PID=<pid> \
        WATCHER_ID=<uuid> FLOODER_ID=<uuid> /usr/bin/python3 tests/bench/hub_fanout.py [N]
"""
import base64, hashlib, hmac, json, os, resource, socket, sys, time, uuid
import websocket, zmq

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
SECRET = os.environ["JWT_SECRET"].encode()
PORT = int(os.environ.get("WS_PORT", "3002"))
PUB = os.environ.get("HUB_PUB_ENDPOINT", "tcp://127.0.0.1:5556")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, N + 256)), hard))


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(sub, role="agent"):
    now = int(time.time())
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64(json.dumps({"sub": sub, "role": role, "iat": now, "exp": now + 3600}).encode())
    return f"{h}.{p}.{b64(hmac.new(SECRET, f'{h}.{p}'.encode(), hashlib.sha256).digest())}"


def event(pub, name, job, owner, processed, total):
    data = {"id": job, "status": name, "processed": processed, "total": total, "createdBy": owner}
    pub.send_multipart([f"jobs.{name}.{job}".encode(),
                        json.dumps({"event": f"jobs:{name}", "data": data}).encode()])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int([l for l in f if l.startswith("VmRSS")][0].split()[1])


watcher, flooder = os.environ["WATCHER_ID"], os.environ["FLOODER_ID"]
url = f"ws://127.0.0.1:{PORT}/ws?token="
t0 = time.time()
socks = [websocket.create_connection(url + token(watcher), timeout=30, suppress_origin=True)
         for _ in range(N)]
stuck = websocket.create_connection(url + token(flooder), timeout=30, suppress_origin=True,
                                    sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
print(f"{N} sockets open in {time.time() - t0:.1f} s")
pub = zmq.Context.instance().socket(zmq.PUB)
pub.setsockopt(zmq.SNDHWM, 1000000)
pub.connect(PUB)
time.sleep(0.5)
job = str(uuid.uuid4())
event(pub, "created", job, watcher, 0, 100)
for i in range(1, 101):
    event(pub, "progress", job, watcher, i, 100)
    time.sleep(0.01)
event(pub, "completed", job, watcher, 100, 100)
t0 = time.time()
missing = 0
for ws in socks:
    while True:
        try:
            e = json.loads(ws.recv())
        except websocket.WebSocketTimeoutException:
            missing += 1
            break
        if e["data"]["id"] == job and e["event"] == "jobs:completed":
            break
print(f"completed seen by {N - missing}/{N} sockets ({time.time() - t0:.1f} s to read)")
pid = os.environ.get("HUB_PID")
before = rss_kb(pid) if pid else None
for _ in range(50000):
    event(pub, "completed", str(uuid.uuid4()), flooder, 1, 1)
time.sleep(3)
if pid:
    print(f"hub RSS {before} kB before the flood, {rss_kb(pid)} kB after 50000 events to a never-reader")
stuck.settimeout(3)
try:
    while True:
        op, frame = stuck.recv_data_frame(True)
        if op == websocket.ABNF.OPCODE_CLOSE:
            print("never-reader closed with", int.from_bytes(frame.data[:2], "big"), frame.data[2:].decode())
            break
except Exception as e:
    print("never-reader cut off:", type(e).__name__)
sys.exit(1 if missing else 0)

#!/usr/bin/python3
"""Hostile and plain ttrpc calls against a shim socket, for the shim tests.

    ttrpc-probe.py ADDRESS hostile      each bad input in turn; prints one
                                        "case: code" line per answer
    ttrpc-probe.py ADDRESS flood SECONDS
                                        a stream of malformed frames on one
                                        connection and a half frame held open
                                        on another, while a good client calls
                                        Connect; prints the counts
    ttrpc-probe.py ADDRESS call METHOD [FIELD=VALUE...]
                                        one Task call with string fields
                                        (1=id, 2=exec_id...), prints the code
    ttrpc-probe.py ADDRESS update ID JSON
                                        Update with LinuxResources JSON
    ttrpc-probe.py any TYPE_URL [HEX]   a serialized google.protobuf.Any on stdout

Protobuf is written by hand (varints and length-delimited fields): the probe
must be able to send what no generated encoder would.
"""
import os
import random
import socket
import struct
import sys

TASK = "containerd.task.v2.Task"


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, n):
    return varint(num << 3) + varint(n)


def request(service, method, payload=b""):
    return field_bytes(1, service.encode()) + field_bytes(2, method.encode()) + field_bytes(3, payload)


def read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def fields(buf):
    """Top-level fields of a message: {num: [values]} (bytes or ints)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


class Conn:
    def __init__(self, address):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(address.replace("unix://", ""))
        self.stream = 1

    def send_frame(self, payload, length=None, ftype=1, stream=None):
        sid = self.stream if stream is None else stream
        self.stream += 2
        n = len(payload) if length is None else length
        self.s.sendall(struct.pack(">IIBB", n, sid, ftype, 0) + payload)
        return sid

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf

    def response(self):
        n, sid, ftype, _ = struct.unpack(">IIBB", self.recv_exact(10))
        f = fields(self.recv_exact(n))
        status = fields(f[1][0]) if 1 in f else {}
        code = status.get(1, [0])[0]
        msg = status.get(2, [b""])[0].decode(errors="replace")
        return code, msg, f.get(2, [b""])[0]

    def call(self, method, payload=b"", service=TASK):
        self.send_frame(request(service, method, payload))
        return self.response()


def hostile(address):
    c = Conn(address)
    results = []
    # an oversized frame: answered, its bytes discarded, the stream kept in step
    c.send_frame(b"\0" * (5 << 20))
    results.append(("oversized", c.response()[0]))
    results.append(("unknown-service", c.call("Create", service="containerd.task.v9.Nope")[0]))
    results.append(("unknown-method", c.call("Explode")[0]))
    results.append(("garbage-request", (c.send_frame(b"\xff\xff\xff\xff"), c.response())[1][0]))
    results.append(("garbage-payload", c.call("Create", b"\x0a\xff\xff\xff\xff\x0f")[0]))
    results.append(("wrong-wire-type", c.call("State", b"\x09" + b"\0" * 8)[0]))
    results.append(("data-frame", (c.send_frame(b"x", ftype=3), c.response())[1][0]))
    results.append(("checkpoint", c.call("Checkpoint", field_bytes(1, b"nope"))[0]))
    results.append(("state-unknown-task", c.call("State", field_bytes(1, b"nope"))[0]))
    results.append(("create-bad-id", c.call("Create", field_bytes(1, b"../../etc") + field_bytes(2, b"/tmp"))[0]))
    results.append(("exec-bad-id", c.call("Exec", field_bytes(1, b"nope") + field_bytes(2, b"../x"))[0]))
    # random frames on throwaway connections: no answer is owed, no crash allowed
    rnd = random.Random(1234)
    for _ in range(200):
        t = Conn(address)
        body = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 64)))
        try:
            t.send_frame(request(TASK, rnd.choice(["Create", "State", "Kill", "Exec", "Wait", "Update"]), body))
            t.s.settimeout(2)
            t.response()
        except (EOFError, socket.timeout, ValueError, IndexError):
            pass
        t.s.close()
    # a header and half a payload, then the connection goes away
    t = Conn(address)
    t.s.sendall(struct.pack(">IIBB", 100, 1, 1, 0) + b"abc")
    t.s.close()
    code, _, payload = Conn(address).call("Connect", field_bytes(1, b"x"))
    results.append(("connect-after", code))
    shim_pid = fields(payload).get(1, [0])[0]
    results.append(("shim-pid", shim_pid))
    for name, code in results:
        print("%s: %s" % (name, code))


def flood(address, seconds):
    import threading
    import time
    end = time.time() + seconds
    bad = {"sent": 0, "answers": 0, "reconnects": 0}
    rnd = random.Random(4321)

    def reader(c):
        try:
            while True:
                c.response()
                bad["answers"] += 1
        except (EOFError, OSError, ValueError, IndexError, struct.error):
            pass

    def attacker():
        c = Conn(address)
        threading.Thread(target=reader, args=(c,), daemon=True).start()
        while time.time() < end:
            kind = rnd.randrange(6)
            try:
                if kind == 0:
                    c.send_frame(b"\xff\xff\xff\xff")
                elif kind == 1:
                    c.send_frame(request(TASK, "Create", b"\x0a\xff\xff\xff\xff\x0f"))
                elif kind == 2:
                    c.send_frame(b"x", ftype=3)
                elif kind == 3:
                    c.send_frame(request("containerd.task.v9.Nope", "Create"))
                elif kind == 4 and rnd.randrange(20) == 0:
                    c.send_frame(b"\0" * (5 << 20))
                else:
                    body = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 64)))
                    c.send_frame(request(TASK, rnd.choice(["State", "Kill", "Exec", "Update"]), body))
                bad["sent"] += 1
            except OSError:
                bad["reconnects"] += 1
                c = Conn(address)
                threading.Thread(target=reader, args=(c,), daemon=True).start()

    # a half frame held open the whole time (a slow or stuck client)
    held = Conn(address)
    held.s.sendall(struct.pack(">IIBB", 100, 1, 1, 0) + b"abc")
    t = threading.Thread(target=attacker, daemon=True)
    t.start()
    good = Conn(address)
    calls = ok = 0
    while time.time() < end:
        calls += 1
        if good.call("Connect", field_bytes(1, b"x"))[0] == 0:
            ok += 1
    t.join()
    print("good: %d calls, %d ok" % (calls, ok))
    print("bad: %d frames, %d answers, %d reconnects" % (bad["sent"], bad["answers"], bad["reconnects"]))


def main():
    if sys.argv[1] == "any":
        value = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b""
        sys.stdout.buffer.write(field_bytes(1, sys.argv[2].encode()) + field_bytes(2, value))
        return 0
    address, cmd = sys.argv[1], sys.argv[2]
    if cmd == "hostile":
        hostile(address)
    elif cmd == "flood":
        flood(address, float(sys.argv[3]))
    elif cmd == "update":
        any_ = field_bytes(1, b"types.containerd.io/opencontainers/runtime-spec/1/LinuxResources") + \
            field_bytes(2, sys.argv[4].encode())
        code, msg, _ = Conn(address).call("Update", field_bytes(1, sys.argv[3].encode()) + field_bytes(2, any_))
        print("%d %s" % (code, msg))
    elif cmd == "call":
        payload = b""
        for kv in sys.argv[4:]:
            k, v = kv.split("=", 1)
            payload += field_varint(int(k[1:]), int(v)) if k.startswith("n") else field_bytes(int(k), v.encode())
        code, msg, _ = Conn(address).call(sys.argv[3], payload)
        print("%d %s" % (code, msg))
    return 0


if __name__ == "__main__":
    sys.exit(main())

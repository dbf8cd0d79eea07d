#!/usr/bin/env python3
"""An independent Stratum v1 mining client: Python's hashlib, no p2share code.

It subscribes, authorizes, asks for a tiny difficulty, builds each header from the notify
fields the way devices do (coinbase = coinb1 + en1 + en2 + coinb2, merkle branch folded in
internal byte order, prevhash words swapped back, big-endian fields written little-endian),
grinds nonces, and submits every share that meets the difficulty until `--shares` are accepted.

    stratum_client.py HOST PORT USER [--shares N] [--difficulty D] [--timeout SECS]

Prints one JSON line per submit and exits 0 when enough shares were accepted.
"""
import hashlib
import json
import socket
import struct
import sys
import time


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def target_of(difficulty):
    return int(0xFFFF * 2**208 / difficulty)


class Client:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""
        self.next_id = 1
        self.job = None
        self.difficulty = 1.0
        self.pending = {}

    def send(self, method, params):
        i = self.next_id
        self.next_id += 1
        line = json.dumps({"id": i, "method": method, "params": params}) + "\n"
        self.sock.sendall(line.encode())
        self.pending[i] = method
        return i

    def read_line(self, block=True):
        self.sock.setblocking(block)
        try:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buf += chunk
        except BlockingIOError:
            return None
        finally:
            self.sock.setblocking(True)
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def handle(self, msg):
        """Applies a notification; returns (id, result, error) for replies."""
        method = msg.get("method")
        if method == "mining.set_difficulty":
            self.difficulty = float(msg["params"][0])
        elif method == "mining.notify":
            self.job = msg["params"]
        elif "id" in msg and msg.get("id") is not None:
            return msg["id"], msg.get("result"), msg.get("error")
        return None

    def wait_reply(self, want_id):
        while True:
            msg = self.read_line()
            r = self.handle(msg)
            if r and r[0] == want_id:
                return r


def header_parts(job, en1, en2):
    job_id, prevhash, coinb1, coinb2, branch, version, nbits, ntime, _clean = job
    coinbase = bytes.fromhex(coinb1) + en1 + en2 + bytes.fromhex(coinb2)
    root = sha256d(coinbase)
    for node in branch:
        root = sha256d(root + bytes.fromhex(node))
    prev = bytes.fromhex(prevhash)
    # Each 4-byte word of the notify prevhash is byte-swapped back to internal order.
    prev = b"".join(prev[i : i + 4][::-1] for i in range(0, 32, 4))
    head = (
        struct.pack("<I", int(version, 16))
        + prev
        + root
        + struct.pack("<I", int(ntime, 16))
        + struct.pack("<I", int(nbits, 16))
    )
    return job_id, head, ntime


def main():
    args = sys.argv[1:]
    host, port, user = args[0], int(args[1]), args[2]
    opts = dict(zip(args[3::2], args[4::2]))
    want = int(opts.get("--shares", "5"))
    suggest = float(opts.get("--difficulty", "0.000001"))
    deadline = time.time() + float(opts.get("--timeout", "120"))

    c = Client(host, port)
    sub = c.send("mining.subscribe", ["p2share-test-client/1.0"])
    _, result, error = c.wait_reply(sub)
    assert error is None, error
    en1 = bytes.fromhex(result[1])
    en2_size = int(result[2])
    auth = c.send("mining.authorize", [user, "x"])
    _, ok, error = c.wait_reply(auth)
    if not ok:
        print(json.dumps({"authorize": False, "error": error}), flush=True)
        sys.exit(2)
    c.send("mining.suggest_difficulty", [suggest])
    # The suggestion is applied at the next notify: read until work at that difficulty.
    while c.job is None or c.difficulty > suggest * 1.0001:
        c.handle(c.read_line())
    accepted = 0
    en2_counter = 0
    while accepted < want:
        if time.time() > deadline:
            print(json.dumps({"timeout": True, "accepted": accepted}), flush=True)
            sys.exit(1)
        en2_counter += 1
        en2 = en2_counter.to_bytes(en2_size, "big")
        job_id, head, ntime = header_parts(c.job, en1, en2)
        target = target_of(c.difficulty)
        found = None
        for nonce in range(0, 1 << 24):
            h = sha256d(head + struct.pack("<I", nonce))
            if int.from_bytes(h, "little") <= target:
                found = (nonce, h)
                break
            if nonce & 0x3FFF == 0:
                msg = c.read_line(block=False)
                if msg is not None:
                    c.handle(msg)
                    if msg.get("method") == "mining.notify" and msg["params"][8]:
                        break
        if found is None:
            continue
        nonce, h = found
        sid = c.send("mining.submit", [user, job_id, en2.hex(), ntime, "%08x" % nonce])
        _, ok, error = c.wait_reply(sid)
        accepted += 1 if ok else 0
        print(
            json.dumps(
                {
                    "job": job_id,
                    "nonce": nonce,
                    "hash": h[::-1].hex(),
                    "accepted": bool(ok),
                    "error": error,
                }
            ),
            flush=True,
        )
    print(json.dumps({"done": True, "accepted": accepted}), flush=True)


if __name__ == "__main__":
    main()

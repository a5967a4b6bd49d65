#!/usr/bin/env python3
"""Soak client for `syndrop run --app echo` (issue 10): COUNT connections over CONCURRENCY
threads; each sends a random payload of MIN..MAX bytes (seeded per connection), half-closes,
reads the echo to EOF and compares it byte for byte. Prints one JSON line:
{"connections", "ok", "mismatches", "errors", "stuck", "bytes", "seconds", "firstErrors"}.
Stdlib only; run it with `ip netns exec NS /usr/bin/python3 soak_client.py ...`."""
import json, random, socket, sys, threading, time

def main():
    host, port, count, concurrency, seed, lo, hi, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "mismatches": 0, "errors": 0, "stuck": 0, "bytes": 0, "firstErrors": []}

    def one(index):
        rnd = random.Random(seed * 1_000_003 + index)
        payload = rnd.randbytes(rnd.randint(lo, hi))
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.settimeout(timeout)
            failure = []
            def sender():
                try:
                    sock.sendall(payload)
                    sock.shutdown(socket.SHUT_WR)
                except OSError as e:
                    failure.append(e)
            t = threading.Thread(target=sender, daemon=True)
            t.start()
            received = bytearray()
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            t.join(timeout)
            if failure:
                raise failure[0]
            return "ok" if bytes(received) == payload else "mismatch", len(payload)
        finally:
            sock.close()

    def worker():
        while True:
            with lock:
                index = state["next"]
                if index >= count:
                    return
                state["next"] += 1
            try:
                outcome, size = one(index)
            except socket.timeout as e:
                outcome, size = "stuck", 0
                err = f"{index}: timeout {e}"
            except OSError as e:
                outcome, size = "errors", 0
                err = f"{index}: {e}"
            with lock:
                if outcome == "ok":
                    state["ok"] += 1
                    state["bytes"] += size
                elif outcome == "mismatch":
                    state["mismatches"] += 1
                    state["firstErrors"].append(f"{index}: echo differs")
                else:
                    state[outcome] += 1
                    if len(state["firstErrors"]) < 5:
                        state["firstErrors"].append(err)

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - start
    print(json.dumps({"connections": count, "ok": state["ok"], "mismatches": state["mismatches"], "errors": state["errors"],
                      "stuck": state["stuck"], "bytes": state["bytes"], "seconds": round(seconds, 3),
                      "firstErrors": state["firstErrors"][:5]}))

if __name__ == "__main__":
    main()

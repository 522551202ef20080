"""Deadlock driver for loadtest/compare's `deadlock` scenario.

While wrk loads the server, a DeadlockDriver thread sends four `deadlock`
tasks at once (fresh connections, kept open: their answers never come while
the tasks are stuck) `at_s` seconds into the run, then polls /stats every
50 ms until the run ends and records:
  - found_s: when /stats first listed a cycle (server.shared.deadlocks) and
    the observer's own detect_ms (cycle closed -> found);
  - replaced_s: under --processes, when a worker process was reported gone
    as "deadlocked: SIGKILL" and when its replacement was ready;
  - stuck threads at the end (one process: the cycle stays).
Talks to 127.0.0.1 only.
"""

import socket
import threading
import time

import tlload as T

PATH = "/task?steps=deadlock"


class DeadlockDriver(threading.Thread):
    def __init__(self, port, admin, at_s, duration_s, n=4):
        super().__init__(daemon=True)
        self.port, self.admin = port, admin
        self.at_s, self.duration_s, self.n = at_s, duration_s, n
        self.out = {"sent_at_s": None, "found_s": None, "detect_ms": None,
                    "cycle": None, "killed": [], "replaced_s": None,
                    "new_worker_ready_ms": None, "deadlocks_at_end": None}
        self.socks = []
        self.stop_ev = threading.Event()

    def run(self):
        t0 = time.monotonic()
        if self.stop_ev.wait(self.at_s):
            return
        before = T.get_json(self.admin, "/stats", timeout=1.0) or {}
        pids0 = {p.get("pid") for p in before.get("processes") or []
                 if p.get("role") == "worker"}
        for _ in range(self.n):
            try:
                s = socket.create_connection((T.HOST, self.port), timeout=2)
                s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % PATH).encode())
                self.socks.append(s)
            except OSError:
                pass
        sent = time.monotonic()
        self.out["sent_at_s"] = round(sent - t0, 3)
        st = None
        while not self.stop_ev.is_set() and \
                time.monotonic() - t0 < self.duration_s:
            st = T.get_json(self.admin, "/stats", timeout=1.0)
            now = time.monotonic() - sent
            dl = ((st or {}).get("server") or {}).get("shared") or {}
            dl = dl.get("deadlocks") or []
            if dl and self.out["found_s"] is None:
                self.out["found_s"] = round(now, 3)
                self.out["detect_ms"] = dl[0].get("detect_ms")
                self.out["cycle"] = dl[0].get("threads")
            for p in (st or {}).get("processes") or []:
                le = p.get("last_exit") or {}
                if (le.get("how") or "").startswith("deadlocked") and \
                        le.get("pid") in pids0 and le["pid"] not in self.out["killed"]:
                    self.out["killed"].append(le["pid"])
                if self.out["killed"] and self.out["replaced_s"] is None and \
                        p.get("role") == "worker" and p.get("pid") not in pids0 \
                        and p.get("state") == "ready":
                    self.out["replaced_s"] = round(now, 3)
                    self.out["new_worker_ready_ms"] = p.get("ready_ms")
            time.sleep(0.05)
        if st:
            sh = (st.get("server") or {}).get("shared") or {}
            self.out["deadlocks_at_end"] = len(sh.get("deadlocks") or [])

    def finish(self):
        self.stop_ev.set()
        self.join(3.0)
        for s in self.socks:
            s.close()
        return self.out

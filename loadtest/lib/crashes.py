"""Crash driver for loadtest/compare's `isolation` scenario.

While wrk loads the server, a CrashDriver thread sends one `crash` task
every `every_s` seconds on a fresh connection, then probes with fresh
connections (GET /io?ms=0, which names its process in X-Pid) until:
  - any process answers again (the service is back), and
  - a process that was not serving before the crash answers (the
    supervisor's replacement worker is serving).
It stops crashing once the server process itself has exited (one process:
the crash took every thread and connection with it). Each worker death the
supervisor recorded (/stats processes[].last_exit, keyed by the dead pid) is
collected after each crash, so none is missed when a slot dies twice between
two polls of the compare poller. Talks to 127.0.0.1 only.
"""

import http.client
import threading
import time

import tlload as T

PROBE_PATH = "/io?ms=0"
CRASH_PATH = "/task?steps=crash"


def num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _ask(port, path, timeout=1.0):
    """(status, X-Pid) of one request on a fresh connection; (None, None)
    when the connection is refused or reset."""
    try:
        c = http.client.HTTPConnection(T.HOST, port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        pid = r.getheader("X-Pid")
        c.close()
        return r.status, int(pid) if pid and pid.isdigit() else None
    except (OSError, http.client.HTTPException, ValueError):
        return None, None


def _serving(stats):
    """The processes that serve the workload (workers, or the one server
    process): their pids and their open connections summed (scoreboard)."""
    procs = [p for p in (stats or {}).get("processes") or []
             if p.get("role") in ("worker", "server") and p.get("pid")]
    return ({p["pid"] for p in procs},
            sum(p.get("connections_open") or 0 for p in procs))


class CrashDriver(threading.Thread):
    def __init__(self, port, admin, proc, every_s, duration_s,
                 probe_limit_s=3.0):
        super().__init__(daemon=True)
        self.port, self.admin, self.proc = port, admin, proc
        self.every_s, self.duration_s = every_s, duration_s
        self.probe_limit_s = probe_limit_s
        self.crashes = []       # one dict per crash sent
        self.deaths = {}        # dead pid -> last_exit as /stats gave it
        self.workers = {}       # worker pid -> its slot as /stats gave it
        self.server_died_s = None
        self.stop_ev = threading.Event()

    def _collect_deaths(self):
        st = T.get_json(self.admin, "/stats", timeout=1.0)
        for p in (st or {}).get("processes") or []:
            if p.get("role") == "worker" and p.get("pid"):
                self.workers[p["pid"]] = p
            le = p.get("last_exit")
            if le and le.get("pid"):
                self.deaths.setdefault(le["pid"], dict(le, index=p.get("index")))
        return st

    def run(self):
        t0 = time.monotonic()
        k = 1
        while not self.stop_ev.is_set():
            # the next crash at t0 + k*every_s, while the run lasts
            due = t0 + k * self.every_s
            if due > t0 + self.duration_s - 0.2:
                break
            if self.stop_ev.wait(max(0.0, due - time.monotonic())):
                break
            k += 1
            if self.proc.poll() is not None:
                break
            before, conns = _serving(self._collect_deaths())
            c = {"at_s": round(time.monotonic() - t0, 3),
                 "serving_before": sorted(before),
                 "connections_open_before": conns}
            tc = time.monotonic()
            st, _ = _ask(self.port, CRASH_PATH)
            c["crash_status"] = st  # None: the connection died with its process
            first_any = new_worker = None
            while time.monotonic() - tc < self.probe_limit_s:
                if self.proc.poll() is not None:
                    break
                st, pid = _ask(self.port, PROBE_PATH, timeout=0.5)
                dt = (time.monotonic() - tc) * 1e3
                if st == 200:
                    if first_any is None:
                        first_any = dt
                    if pid is not None and pid not in before:
                        new_worker = dt
                        c["new_pid"] = pid
                        break
                time.sleep(0.005)
            c["first_answer_ms"] = first_any
            c["new_worker_serving_ms"] = new_worker
            if self.proc.poll() is not None:
                # one process: its connections all died with it
                c["server_exited"] = True
                c["connections_lost"] = conns
                self.server_died_s = round(time.monotonic() - t0, 3)
                self.crashes.append(c)
                break
            self._collect_deaths()
            self.crashes.append(c)

    def finish(self):
        self.stop_ev.set()
        self.join(self.probe_limit_s + 3.0)
        if self.proc.poll() is None:
            self._collect_deaths()  # the last replacement's ready_ms
        return self.result()

    def _supervisor_view(self):
        """The supervisor's account of each replacement (/stats
        processes[], the latest seen): death -> fork (its restart delay)
        and fork -> listening (ready_ms)."""
        for c in self.crashes:
            w = self.workers.get(c.get("new_pid")) or {}
            le = w.get("last_exit") or {}
            if le and num(le.get("ago_s")) and num(w.get("uptime_s")):
                c["server_death_to_fork_ms"] = round(
                    max(0.0, le["ago_s"] - w["uptime_s"]) * 1e3, 1)
            c["server_fork_to_ready_ms"] = w.get("ready_ms")

    def result(self):
        self._supervisor_view()
        new = [c["new_worker_serving_ms"] for c in self.crashes
               if c.get("new_worker_serving_ms") is not None]
        return {
            "crashes_sent": len(self.crashes),
            "crashes": self.crashes,
            "deaths": sorted(self.deaths.values(), key=lambda d: -d.get("ago_s", 0)),
            "deaths_seen": len(self.deaths),
            "connections_lost": sum(d.get("connections_lost") or 0
                                    for d in self.deaths.values()) +
            sum(c.get("connections_lost") or 0 for c in self.crashes),
            "tasks_lost": sum(d.get("tasks_lost") or 0
                              for d in self.deaths.values()),
            "new_worker_serving_ms": {
                "count": len(new), "median": T.median(new),
                "max": max(new) if new else None},
            "server_death_to_fork_ms_median": T.median(
                [c.get("server_death_to_fork_ms") for c in self.crashes]),
            "server_fork_to_ready_ms_median": T.median(
                [c.get("server_fork_to_ready_ms") for c in self.crashes]),
            "server_died_at_s": self.server_died_s,
        }

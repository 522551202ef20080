"""Shared helpers for loadtest/compare and loadtest/bench-core.

Python 3 standard library plus Debian's python3-prometheus-client (its
/metrics text parser); run with /usr/bin/python3. Everything here talks to 127.0.0.1 only and
every process it starts is recorded so that it can be stopped by its pid,
also when the caller is interrupted (see Procs.stop_all, registered with
atexit and on SIGINT/SIGTERM by install_cleanup()).
"""

import atexit
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from prometheus_client.parser import text_string_to_metric_families

HOST = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
LOADTEST = os.path.dirname(HERE)
REPO = os.path.dirname(LOADTEST)
SCRIPTS = os.path.join(LOADTEST, "scripts")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ---------------------------------------------------------------- processes

class Procs:
    """Every child we start, so that each is stopped by its own pid."""

    live = {}  # pid -> (Popen, name)
    lock = threading.Lock()

    @classmethod
    def start(cls, name, argv, logpath=None, preexec=None, env=None):
        out = open(logpath, "ab") if logpath else subprocess.DEVNULL
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT
                             if logpath else subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, preexec_fn=preexec,
                             start_new_session=True, env=env)
        if logpath:
            out.close()
        with cls.lock:
            cls.live[p.pid] = (p, name)
        return p

    @classmethod
    def forget(cls, p):
        with cls.lock:
            cls.live.pop(p.pid, None)

    @classmethod
    def stop(cls, p, grace=3.0, sig=signal.SIGTERM):
        """Stop one child by pid: sig, wait up to grace s, then SIGKILL.
        Returns (exit status, killed?, seconds it took)."""
        t0 = time.monotonic()
        killed = False
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                killed = True
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        cls.forget(p)
        return p.returncode, killed, time.monotonic() - t0

    @classmethod
    def stop_all(cls):
        with cls.lock:
            items = list(cls.live.values())
        for p, _name in items:
            cls.stop(p, grace=1.0)


def install_cleanup():
    atexit.register(Procs.stop_all)

    def on_signal(signum, _frame):
        Procs.stop_all()
        sys.stderr.write("interrupted\n")
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def raise_nofile(n=65536):
    """Raise RLIMIT_NOFILE (wrk at -c1000 and the server need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n if hard == resource.RLIM_INFINITY else min(n, hard)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound together, then freed)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_listen(port, proc=None, timeout=8.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.03)
    return False


def http_get(port, path, timeout=3.0, method="GET"):
    """(status, body bytes) or (None, error text)."""
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=timeout)
        c.request(method, path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


def get_json(port, path, timeout=3.0):
    st, body = http_get(port, path, timeout)
    if st != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def warm_requests(port, path, n=50, timeout=3.0):
    """A few keep-alive requests: connection set up, pages faulted in."""
    ok = 0
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=timeout)
        for _ in range(n):
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            ok += 200 <= r.status < 300
        c.close()
    except (OSError, http.client.HTTPException):
        pass
    return ok


# --------------------------------------------------------------- /proc reads

def proc_cpu_ticks(pid):
    """utime+stime of the whole process (all threads, dead ones too), in
    clock ticks, from /proc/PID/stat (fields 14 and 15)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); utime is field 14, stime field 15
    return int(rest[11]), int(rest[12])


def proc_children_cpu_ticks(pid):
    """cutime+cstime from /proc/PID/stat (fields 16 and 17): the CPU of
    the children pid has waited for (dead, reaped worker processes)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[13]), int(rest[14])


def proc_ctx(pid):
    """(voluntary, involuntary) context switches summed over live threads.
    /proc/PID/status alone only counts the main thread."""
    vol = inv = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        inv += int(line.split()[1])
        except OSError:
            pass
    return vol, inv


def proc_sample(pid):
    cpu = proc_cpu_ticks(pid)
    ctx = proc_ctx(pid)
    return {
        "t": time.monotonic(),
        "utime_s": cpu[0] / CLK_TCK if cpu else None,
        "stime_s": cpu[1] / CLK_TCK if cpu else None,
        "ctx_vol": ctx[0] if ctx else None,
        "ctx_invol": ctx[1] if ctx else None,
    }


def proc_delta(a, b):
    out = {}
    for k in ("utime_s", "stime_s", "ctx_vol", "ctx_invol"):
        out[k] = (b[k] - a[k]) if a.get(k) is not None and \
            b.get(k) is not None else None
    out["wall_s"] = b["t"] - a["t"]
    return out


# -------------------------------------------------------------------- wrk

WRK_SUMMARY = {
    "rps": re.compile(r"Requests/sec:\s*([\d.]+)"),
    "non2xx": re.compile(r"Non-2xx or 3xx responses:\s*(\d+)"),
    "sockerr": re.compile(r"Socket errors: connect (\d+), read (\d+), "
                          r"write (\d+), timeout (\d+)"),
}


def wrk_argv(url, path, script, threads, conns, duration_s, timeout="5s",
             taskset=None, extra=()):
    argv = []
    if taskset is not None:
        argv += ["taskset", "-c", str(taskset)]
    argv += ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration_s,
             "--timeout", timeout]
    if script:
        argv += ["-s", os.path.join(SCRIPTS, script)]
    argv += list(extra)
    argv.append(url.rstrip("/") + path)
    return argv


def parse_wrk(text):
    """Merge the TLWRK JSON line with wrk's printed summary."""
    res = {"raw_tail": text[-1500:]}
    for line in text.splitlines():
        if line.startswith("TLWRK "):
            try:
                res.update(json.loads(line[6:]))
            except ValueError:
                pass
    m = WRK_SUMMARY["non2xx"].search(text)
    res["non2xx_or_3xx_summary"] = int(m.group(1)) if m else 0
    m = WRK_SUMMARY["sockerr"].search(text)
    if m and "errors" not in res:
        res["errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                 map(int, m.groups())))
    if "rps" not in res:
        m = WRK_SUMMARY["rps"].search(text)
        res["rps"] = float(m.group(1)) if m else None
    # Lua has no null: the script writes false for "not measured".
    for k in ("status", "non2xx"):
        if res.get(k) is False:
            res[k] = None
    lat = res.get("latency_us") or {}
    for k, v in list(lat.items()):
        if v is False or not res.get("requests"):
            lat[k] = None  # unknown, or no response at all
    # non-2xx: from response() counting when the script did it, else wrk's
    # summary line (which counts status >= 300).
    if res.get("non2xx") is None:
        res["non2xx_source"] = "wrk summary (status >= 300)"
        res["non2xx"] = res["non2xx_or_3xx_summary"]
    else:
        res["non2xx_source"] = "response() status count"
    e = res.get("errors") or {}
    res["socket_errors"] = sum(e.get(k, 0) or 0 for k in
                               ("connect", "read", "write", "timeout"))
    req = res.get("requests") or 0
    dur = (res.get("duration_us") or 0) / 1e6
    ok = max(0, req - (res.get("non2xx") or 0))
    res["ok_rps"] = ok / dur if dur > 0 else None
    return res


class WrkJob:
    """One wrk process running in the background; output kept in memory."""

    def __init__(self, name, argv, env=None):
        self.name = name
        self.argv = argv
        self.out = b""
        self.proc = None
        self.thread = None
        self.env = env

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=lambda: raise_nofile(),
                                     start_new_session=True, env=self.env)
        with Procs.lock:
            Procs.live[self.proc.pid] = (self.proc, "wrk")
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()
        return self

    def _drain(self):
        self.out = self.proc.stdout.read()

    def wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            Procs.stop(self.proc, grace=1.0, sig=signal.SIGINT)
        self.thread.join(2.0)
        Procs.forget(self.proc)
        text = self.out.decode("utf-8", "replace")
        r = parse_wrk(text)
        r["argv"] = self.argv
        r["exit"] = self.proc.returncode
        return r


def run_wrk(name, argv, duration_s):
    return WrkJob(name, argv).start().wait(duration_s + 15)


# ------------------------------------------------------ Prometheus histogram

def parse_prom(text):
    """(sample name, labels, value) rows of a /metrics text, parsed by
    prometheus_client's own text parser (Debian's python3-prometheus-client),
    so the tools read the exposition format exactly as Prometheus defines it.
    Raises ValueError on text that is not the exposition format."""
    return [(s.name, s.labels, s.value)
            for fam in text_string_to_metric_families(text or "")
            for s in fam.samples]


def thread_cpu_seconds(rows):
    """{tid: {"role", "user", "system"}} from the per-thread CPU series.
    Accepts both namings: node_exporter's one family with a mode label,
    threadlab_thread_cpu_seconds_total{mode="user|system"}, and the older
    threadlab_thread_cpu_user_seconds_total / _system_seconds_total."""
    out = {}
    for name, labels, val in rows:
        if name == "threadlab_thread_cpu_seconds_total":
            mode = labels.get("mode")
        elif name == "threadlab_thread_cpu_user_seconds_total":
            mode = "user"
        elif name == "threadlab_thread_cpu_system_seconds_total":
            mode = "system"
        else:
            continue
        if mode not in ("user", "system") or "tid" not in labels:
            continue
        t = out.setdefault(labels["tid"], {"role": labels.get("role"),
                                           "user": None, "system": None})
        t[mode] = val
    return out


def latency_buckets(rows, route=None):
    """Cumulative latency buckets {le: count} of the request-latency
    histogram from /metrics: the family whose name has 'request' and
    'duration' or 'latency' and ends in _bucket. Uses the series for
    `route` when there is a route label, else sums the series."""
    fams = {}
    for name, labels, val in rows:
        if not name.endswith("_bucket") or "le" not in labels:
            continue
        n = name.lower()
        if "request" not in n or not ("duration" in n or "latency" in n):
            continue
        fams.setdefault(name, []).append((labels, val))
    def routed(name):
        return any("route" in l for l, _ in fams[name])
    # with a route: the per-route family first; without: the overall one
    order = sorted(fams, key=lambda n: (routed(n) != (route is not None), n))
    for name in order:
        series = fams[name]
        has_route = routed(name)
        out = {}
        for labels, val in series:
            if has_route and route is not None and labels.get("route") != route:
                continue
            le = labels["le"]
            le = float("inf") if le in ("+Inf", "Inf") else float(le)
            out[le] = out.get(le, 0) + val
        if out:
            return name, out
    return None, None


def bucket_delta_summary(before, after, unit_scale=1e3):
    """Percentiles (ms) of the requests between two cumulative bucket sets
    (seconds as Prometheus wants them), interpolating inside a bucket."""
    if not after:
        return None
    les = sorted(after)
    cum = [after[le] - (before or {}).get(le, 0) for le in les]
    total = cum[-1] if cum else 0
    if total <= 0:
        return {"count": 0}

    def pct(p):
        rank = p / 100.0 * total
        prev_le, prev_c = 0.0, 0.0
        for le, c in zip(les, cum):
            if c >= rank:
                if le == float("inf"):
                    return prev_le * unit_scale
                span = c - prev_c
                frac = (rank - prev_c) / span if span > 0 else 1.0
                return (prev_le + frac * (le - prev_le)) * unit_scale
            prev_le, prev_c = le, c
        return prev_le * unit_scale

    return {"count": int(total), "p50": pct(50), "p90": pct(90),
            "p99": pct(99), "p999": pct(99.9),
            "resolution": "bucket bounds, interpolated"}


# ------------------------------------------------------------------- misc

def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def threadlab_binary():
    b = os.environ.get("THREADLAB") or os.environ.get("THREADLAB_BIN") \
        or os.path.join(REPO, "threadlab")
    return os.path.abspath(b)


def cmd_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=5)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return None


def system_info():
    u = os.uname()
    return {
        "kernel": "%s %s %s" % (u.sysname, u.release, u.machine),
        "hostname_cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "wrk": cmd_version(["wrk", "--version"]),
        "nginx": cmd_version(["/usr/sbin/nginx", "-v"]),
        "node": cmd_version(["node", "--version"]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg": open("/proc/loadavg").read().split()[:3],
    }


NGINX_CONF = """\
worker_processes {workers};
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
worker_rlimit_nofile 65536;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /plaintext {{
      default_type text/plain;
      return 200 "Hello, World!";
    }}
  }}
}}
"""


def nginx_argv(tmpdir, port, workers):
    """Write an nginx config in tmpdir; return the command to run it."""
    os.makedirs(tmpdir, exist_ok=True)
    conf = os.path.join(tmpdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(workers=workers, dir=tmpdir, port=port))
    return ["/usr/sbin/nginx", "-p", tmpdir, "-c", conf]


def have(cmd):
    return shutil.which(cmd) is not None

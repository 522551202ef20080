"""loadtest/compare --lab: the experiments of loadtest/experiments.json (the
same file the observer's GET /lab serves), run one after another by one
threadlab through its own observer (POST /lab/run), so that the prediction, the wrk
load, the verdict and the kernel's evidence come from the one
implementation. An experiment that needs a restart (--processes,
--allow-crash) is reported as not measured, with its command line: its
idea is measured by loadtest/bench-processes.
Writes lab.json and lab.md (predicted, measured, ratio, verdict) in out,
and lab.html: the observer's own GET /lab/report of the same runs."""

import json
import os
import re
import time
import urllib.error
import urllib.request

import tlload as T


def load_book(path=None):
    path = path or os.path.join(T.LOADTEST, "experiments.json")
    with open(path) as f:
        return json.load(f)["experiments"]


def _req(admin, path, method="GET"):
    r = urllib.request.Request("http://%s:%d%s" % (T.HOST, admin, path),
                               method=method, headers={"X-Threadlab": "1"})
    try:
        with urllib.request.urlopen(r, timeout=10) as f:
            return f.status, json.load(f)
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.load(e)
        except ValueError:
            return e.code, {"error": str(e)}


def _start(binary, extra, logpath):
    port, admin = T.free_ports(2)
    argv = [binary, "--host", T.HOST, "--port", str(port), "--admin-port",
            str(admin), "--sample-ms", "250"] + extra
    p = T.Procs.start("threadlab-lab", argv, logpath)
    if not T.wait_listen(admin, p):
        T.Procs.stop(p)
        return None, None, argv
    return p, admin, argv


def _stop(p):
    T.Procs.stop(p, grace=15.0)


def run_one(admin, exp):
    """Runs exp on the server whose observer is at admin; returns the
    observer's result (or an entry saying why it was not measured)."""
    restart = exp.get("needs_restart")
    if restart:
        return {"id": exp["id"], "status": "not measured",
                "reason": "needs a restart (%s); see loadtest/bench-processes"
                % restart, "command": restart}
    if True:
        st, body = _req(admin, "/lab/run?id=%s" % exp["id"], "POST")
        if st != 202:
            return {"id": exp["id"], "status": "not measured",
                    "reason": "%s %s" % (st, body.get("error", "")),
                    "command": body.get("command")}
        load_s = (exp.get("load") or {}).get("duration_s", 0)
        deadline = time.monotonic() + load_s * len(exp.get("variants") or [1]) + 30
        while time.monotonic() < deadline:
            time.sleep(0.5)
            st, runs = _req(admin, "/lab/runs")
            if st == 200 and runs["running"] is None and runs["runs"]:
                return runs["runs"][-1]
        _req(admin, "/lab/cancel", "POST")
        return {"id": exp["id"], "status": "failed", "reason": "no result in time"}


def _f(x, nd=3):
    if isinstance(x, (int, float)):
        return "%.*g" % (nd, x)
    return "n/a"


def report(results, out):
    with open(os.path.join(out, "lab.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = ["# Lab: the model's prediction beside the measurement", "",
             "From loadtest/experiments.json; run one after another by one "
             "threadlab's observer (POST /lab/run); lab.html is its GET /lab/report.", "",
             "| experiment | predicted | measured | ratio | within | verdict |",
             "|---|---|---|---|---|---|"]
    for r in results:
        within = {True: "yes", False: "no"}.get(r.get("within"), "n/a")
        verdict = r.get("verdict")
        if isinstance(verdict, dict):
            verdict = verdict.get("text")
        verdict = verdict or "%s: %s" % (r.get("status"), r.get("reason"))
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["id"], _f(r.get("predicted")), _f(r.get("measured")),
            _f(r.get("ratio")), within, re.sub(r"\|", "/", verdict)))
    with open(os.path.join(out, "lab.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return os.path.join(out, "lab.md")


def run_lab(binary, out, ids=None):
    book = load_book()
    if ids:
        known = {e["id"] for e in book}
        bad = [i for i in ids if i not in known]
        if bad:
            raise SystemExit("compare --lab: unknown experiment(s) %s; known: %s"
                             % (",".join(bad), ",".join(sorted(known))))
        book = [e for e in book if e["id"] in ids]
    # One server runs them all (each variant restores the settings after
    # it), so that its GET /lab/report is the same page the dashboard
    # offers: written as lab.html.
    p, admin, argv = _start(binary, [], os.path.join(out, "lab-server.log"))
    if p is None:
        raise SystemExit("compare --lab: threadlab did not start: %s" % " ".join(argv))
    results = []
    try:
        # The server measures its costs once at start (process-costs reads
        # them): wait for them rather than report them missing.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st, stats = _req(admin, "/stats")
            if st == 200 and (stats.get("costs") or {}).get("measured"):
                break
            time.sleep(0.5)
        for exp in book:
            T.log("lab: %s" % exp["id"])
            results.append(run_one(admin, exp))
        r = urllib.request.Request("http://%s:%d/lab/report" % (T.HOST, admin))
        with urllib.request.urlopen(r, timeout=10) as f:
            page = f.read()
        with open(os.path.join(out, "lab.html"), "wb") as f:
            f.write(page)
    finally:
        _stop(p)
    return report(results, out)

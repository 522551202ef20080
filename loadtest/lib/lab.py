"""loadtest/compare --lab: the experiments of loadtest/experiments.json (the
same file the observer's GET /lab serves), each run by a fresh threadlab
through its own observer (POST /lab/run), so that the prediction, the wrk
load, the verdict and the kernel's evidence come from the one
implementation. An experiment that needs a restart (--processes,
--allow-crash) is reported as not measured, with its command line: its
idea is measured by loadtest/bench-processes.
Writes lab.json and lab.md (predicted, measured, ratio, verdict) in out."""

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


def run_one(binary, exp, out):
    """Runs exp on a fresh server; returns the observer's result (or an
    entry saying why it was not measured)."""
    restart = exp.get("needs_restart")
    if restart:
        return {"id": exp["id"], "status": "not measured",
                "reason": "needs a restart (%s); see loadtest/bench-processes"
                % restart, "command": restart}
    log = os.path.join(out, "lab-%s.log" % exp["id"])
    p, admin, argv = _start(binary, [], log)
    if p is None:
        return {"id": exp["id"], "status": "failed",
                "reason": "threadlab did not start: %s" % " ".join(argv)}
    try:
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
    finally:
        _stop(p)


def _f(x, nd=3):
    if isinstance(x, (int, float)):
        return "%.*g" % (nd, x)
    return "n/a"


def report(results, out):
    with open(os.path.join(out, "lab.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = ["# Lab: the model's prediction beside the measurement", "",
             "From loadtest/experiments.json; each run by a fresh threadlab's "
             "observer (POST /lab/run).", "",
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
    results = []
    for exp in book:
        T.log("lab: %s" % exp["id"])
        results.append(run_one(binary, exp, out))
    return report(results, out)

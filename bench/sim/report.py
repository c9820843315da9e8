#!/usr/bin/python3
"""Writes the city simulator's section of bench/RESULTS.md and its PNG plots.

    report.py --day-optimal A.json --day-greedy B.json [--load C.json]
              --results bench/RESULTS.md --plots-dir bench/results/sim
              --header-file H.md [--title "## City simulator: a district day and its load"]

A.json and B.json are sim_driver results for the same district day, A run with the
optimal batch policy and B with the greedy one. C.json is sim_driver's load run (phases
of open-loop submits at fixed rates, then a closed-loop ceiling). H.md is written by the
caller (machine, commands, date) and copied into the section verbatim.

The section runs from the line equal to the title up to, not including, the next line
starting with "## "; it is appended when absent. Every other section is kept byte for
byte. RESULTS.md is read again just before it is written, so that sections other scripts
wrote while the plots were drawn survive.

Latencies in the day results are real milliseconds after submit; the simulated day runs
`speedup` times faster than real time, so an event of a request happens on the simulated
day at submit_sim_ms + real_after_ms * speedup.

Fields a newer sim_driver adds (policy, batch_interval_ms, rpc[*].hist, redis_round_trips,
fairness, points, mobilization, totals.total_distance_m) may be absent: their cells read
"–", their targets read "not measured in this run" and their plots are skipped.

Prints the path of every file it writes. Exits 1 with a message naming the file when an
input is missing or is not what it should be.
"""

import argparse
import collections
import json
import math
import os
import re
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

DEFAULT_TITLE = "## City simulator: a district day and its load"
URGENCIES = ("CRISIS", "URGENT", "ROUTINE")
SERVED = ("COMPLETED", "RATED")
ENDED = SERVED + ("CANCELLED", "ESCALATED")
DASH = "–"
DPI = 110

# Targets.
TARGET_RATE = 500  # submits/s
TARGET_SUSTAINED = 0.98  # achieved / offered
TARGET_SUBMIT_P99_MS = 5
TARGET_CRISIS_P99_MS = 50
TARGET_ROUTINE_SLACK_MS = 100  # over the batch interval
TARGET_TRAVEL_SAVING = 0.15
# Totals of travel are compared only when the two runs assigned about as many requests;
# otherwise the per-assignment mean is.
SIMILAR_ASSIGNED = 0.05

URGENCY_COLORS = {"CRISIS": "tab:red", "URGENT": "tab:orange", "ROUTINE": "tab:blue"}
POLICY_STYLES = {"optimal": "-", "greedy": "--"}

GRPC_CODES = {
    1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND", 6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED",
    13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED",
}


class InputError(Exception):
    """An input file is missing or malformed; the message names it."""


# ---- reading ----

def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{what} {path}: {e}")
    except json.JSONDecodeError as e:
        raise InputError(f"{what} {path}: not JSON: {e}")
    if not isinstance(data, dict):
        raise InputError(f"{what} {path}: expected a JSON object, found {type(data).__name__}")
    return data


def read_day(path, what):
    day = read_json(path, what)
    requests = day.get("requests")
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise InputError(f"{what} {path}: no 'requests' list of objects "
                         "(not a sim_driver day result?)")
    if "totals" in day and not isinstance(day["totals"], dict):
        raise InputError(f"{what} {path}: 'totals' is not an object")
    return day


def read_load(path):
    load = read_json(path, "--load")
    phases = load.get("phases")
    if not isinstance(phases, list) or not all(isinstance(p, dict) for p in phases):
        raise InputError(f"--load {path}: no 'phases' list of objects "
                         "(not a sim_driver load result?)")
    return load


def read_text(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{what} {path}: {e}")


# ---- figures from a day ----

def pct(values, q):
    """Nearest-rank percentile, as sim_driver computes it; None for no values."""
    if not values:
        return None
    v = sorted(values)
    i = math.ceil(q * len(v))
    return v[min(len(v) - 1, max(i - 1, 0))]


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class Day:
    """The figures the report needs from one day result."""

    def __init__(self, data, label):
        self.data = data
        self.label = label
        self.requests = data["requests"]
        self.totals = data.get("totals") or {}
        self.speedup = data.get("speedup") if is_num(data.get("speedup")) else None
        self.policy = data.get("policy")
        self.batch_interval_ms = data.get("batch_interval_ms")
        self.fairness = data.get("fairness") if isinstance(data.get("fairness"), dict) else None
        self.points = data.get("points") if isinstance(data.get("points"), dict) else None
        self.mobilization = (data.get("mobilization")
                             if isinstance(data.get("mobilization"), dict) else None)
        self.rpc = data.get("rpc") if isinstance(data.get("rpc"), dict) else {}
        self.round_trips = (data.get("redis_round_trips")
                            if isinstance(data.get("redis_round_trips"), dict) else {})

        n = self.totals.get("requests")
        self.n = n if isinstance(n, int) else len(self.requests)
        states = collections.Counter(r.get("final_state") for r in self.requests)
        self.served = sum(states[s] for s in SERVED)
        self.cancelled = states["CANCELLED"]
        self.escalated = states["ESCALATED"]
        self.escalation_reasons = collections.Counter(
            r.get("escalation_reason") or "unknown"
            for r in self.requests if r.get("final_state") == "ESCALATED")
        # Lost or stuck: any request not in an end state, and any the file does not list.
        self.stuck_states = collections.Counter(
            {s: c for s, c in states.items() if s not in ENDED})
        missing = self.n - len(self.requests)
        if missing > 0:
            self.stuck_states["not in the file"] += missing
        self.stuck = sum(self.stuck_states.values())

        self.first_offer = {u: [] for u in URGENCIES}
        self.assignment = {u: [] for u in URGENCIES}
        self.urgency_n = collections.Counter()
        for r in self.requests:
            u = r.get("urgency")
            if u not in self.first_offer:
                continue
            self.urgency_n[u] += 1
            if is_num(r.get("first_offer_after_ms")):
                self.first_offer[u].append(r["first_offer_after_ms"])
            if is_num(r.get("assigned_after_ms")):
                self.assignment[u].append(r["assigned_after_ms"])

        self.distances = [r["distance_m"] for r in self.requests if is_num(r.get("distance_m"))]
        self.assigned = len(self.distances)
        mean = self.totals.get("mean_distance_m")
        if not is_num(mean):
            mean = sum(self.distances) / len(self.distances) if self.distances else None
        self.mean_distance_m = mean
        total = self.totals.get("total_distance_m")
        if not is_num(total):
            total = mean * self.assigned if mean is not None else None
        self.total_distance_m = total

    def scenario(self):
        return (self.data.get("seed"), self.data.get("volunteers"), self.n)


def travel_saving(opt, greedy):
    """(saving as a fraction, basis) or (None, why not)."""
    if opt.scenario() != greedy.scenario():
        return None, "the two runs are not the same day: " + scenario_diff(opt, greedy)
    if not opt.assigned or not greedy.assigned:
        return None, "a run has no assignment with a distance"
    bigger = max(opt.assigned, greedy.assigned)
    similar = abs(opt.assigned - greedy.assigned) <= SIMILAR_ASSIGNED * bigger
    if similar and opt.total_distance_m is not None and greedy.total_distance_m:
        return 1 - opt.total_distance_m / greedy.total_distance_m, "total"
    if opt.mean_distance_m is not None and greedy.mean_distance_m:
        return 1 - opt.mean_distance_m / greedy.mean_distance_m, "mean"
    return None, "no distances recorded"


def scenario_diff(a, b):
    parts = []
    for name, x, y in zip(("seed", "volunteers", "requests"), a.scenario(), b.scenario()):
        if x != y:
            parts.append(f"{name} {fmt(x)} vs {fmt(y)}")
    return ", ".join(parts)


# ---- formatting ----

def fmt(v, decimals=0):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if decimals == 0 and v.is_integer():
            return str(int(v))
        return f"{v:.{decimals}f}"
    return str(v)


def fmt_pct(fraction, decimals=1):
    return DASH if fraction is None else f"{100 * fraction:.{decimals}f}%"


def less_or_more(saving, what="travel"):
    """ "12.3% less travel" for a saving, "0.1% more travel" for a loss."""
    if saving is None:
        return f"{DASH} less {what}"
    return f"{fmt_pct(abs(saving))} {'less' if saving >= 0 else 'more'} {what}"


def ratio(a, b):
    """b ÷ a, as "1.23×"."""
    if not is_num(a) or not is_num(b) or a == 0:
        return DASH
    return f"{b / a:.2f}×"


def counts(counter):
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def table(header, aligns, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if a == "r" else "---" for a in aligns) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def error_cell(r):
    errors = r.get("errors")
    if not isinstance(errors, int):
        return DASH
    by_code = r.get("errors_by_code") or {}
    if not errors or not by_code:
        return str(errors)
    names = collections.Counter()
    for code, n in by_code.items():
        try:
            names[GRPC_CODES.get(int(code), f"code {code}")] += n
        except (TypeError, ValueError):
            names[str(code)] += n
    return f"{errors} ({counts(names)})"


def us_to_ms(v):
    return v / 1000 if is_num(v) else None


# ---- the section ----

def day_table(opt, greedy):
    rows = []

    def row(measure, a, b, r=DASH):
        rows.append([measure, a, b, r])

    row("policy", fmt(opt.policy), fmt(greedy.policy))
    row("batch interval ms", fmt(opt.batch_interval_ms), fmt(greedy.batch_interval_ms))
    row("seed / volunteers / speedup",
        *(f"{fmt(d.data.get('seed'))} / {fmt(d.data.get('volunteers'))} / {fmt(d.speedup)}×"
          for d in (opt, greedy)))
    row("requests", fmt(opt.n), fmt(greedy.n))
    row("served (COMPLETED or RATED)",
        *(f"{d.served} ({fmt_pct(d.served / d.n if d.n else None)})" for d in (opt, greedy)))
    row("escalated", *(f"{d.escalated} ({counts(d.escalation_reasons)})" if d.escalated
                       else "0" for d in (opt, greedy)))
    row("cancelled", str(opt.cancelled), str(greedy.cancelled))
    row("**lost or stuck** (must be 0)",
        *(f"**{d.stuck}**" + (f" ({counts(d.stuck_states)})" if d.stuck else "")
          for d in (opt, greedy)))
    for what, attr in (("first offer", "first_offer"), ("assignment (accepted)", "assignment")):
        for u in URGENCIES:
            for q, qn in ((0.5, "p50"), (0.99, "p99")):
                a = pct(getattr(opt, attr)[u], q)
                b = pct(getattr(greedy, attr)[u], q)
                row(f"{u} {what} {qn} ms", fmt(a), fmt(b), ratio(a, b))
    row("assignments with a distance", str(opt.assigned), str(greedy.assigned))
    row("mean travel per assignment m", fmt(opt.mean_distance_m, 1),
        fmt(greedy.mean_distance_m, 1), ratio(opt.mean_distance_m, greedy.mean_distance_m))
    km = [d.total_distance_m / 1000 if d.total_distance_m is not None else None
          for d in (opt, greedy)]
    row("total travel km", fmt(km[0], 1), fmt(km[1], 1), ratio(*km))

    def fair(d, key):
        return d.fairness.get(key) if d.fairness else None

    def share_cell(d):
        s = fair(d, "share_with_work")
        if not is_num(s):
            return DASH
        return (f"{fmt_pct(s)} ({fmt(fair(d, 'volunteers_with_work'))} of "
                f"{fmt(fair(d, 'on_duty_volunteers'))})")

    row("on-duty volunteers with work", share_cell(opt), share_cell(greedy),
        ratio(fair(opt, "share_with_work"), fair(greedy, "share_with_work")))
    row("Gini of assignments per volunteer", fmt(fair(opt, "gini"), 3),
        fmt(fair(greedy, "gini"), 3), ratio(fair(opt, "gini"), fair(greedy, "gini")))
    row("most assignments of one volunteer", fmt(fair(opt, "max_assignments")),
        fmt(fair(greedy, "max_assignments")))

    def pts(d, key):
        return d.points.get(key) if d.points else None

    row("points earned (entries)",
        *(f"{fmt(pts(d, 'earned'))} ({fmt(pts(d, 'earn_entries'))})" if d.points else DASH
          for d in (opt, greedy)),
        ratio(pts(opt, "earned"), pts(greedy, "earned")))
    row("points redeemed (redemptions)",
        *(f"{fmt(pts(d, 'redeemed'))} ({fmt(pts(d, 'redemptions'))})" if d.points else DASH
          for d in (opt, greedy)))
    row("redemptions refused",
        *((counts(pts(d, "redeem_refusals")) or "0")
          if isinstance(pts(d, "redeem_refusals"), dict) else DASH for d in (opt, greedy)))
    row("points invariants", *(invariants_cell(d) for d in (opt, greedy)))

    def mob(d):
        m = d.mobilization
        if not m:
            return DASH
        return (f"{fmt(m.get('volunteers_reached'))} / {fmt(m.get('accepted'))} / "
                f"{fmt(m.get('needed'))}")

    row("mobilization reached / accepted / needed", mob(opt), mob(greedy))
    return table(["measure", "optimal", "greedy", "greedy ÷ optimal"], "lrrr", rows)


def invariants_cell(d):
    if not d.points or not isinstance(d.points.get("invariants_ok"), bool):
        return DASH
    checked = d.points.get("accounts_checked")
    suffix = f", {checked} accounts" if isinstance(checked, int) else ""
    if d.points["invariants_ok"]:
        return f"hold{suffix}"
    errors = d.points.get("audit_errors") or []
    first = f": {str(errors[0])[:80]}" if errors else ""
    return f"**broken**{suffix}, {len(errors)} audit errors{first}"


def split_rpc_name(name):
    """("IntakeService", "SubmitRequest") from a driver name or a gRPC path; None if neither."""
    name = re.sub(r"\(.*\)$", "", name.strip())
    m = re.fullmatch(r"/?(?:[\w.]*\.)?(\w+)/(\w+)", name)  # /yiyuan.v1.IntakeService/SubmitRequest
    if m:
        return m.group(1), m.group(2)
    m = re.fullmatch(r"(?:[\w.]*\.)?(\w+)\.(\w+)", name)  # IntakeService.SubmitRequest
    if m:
        return m.group(1), m.group(2)
    return None


def round_trip_index(round_trips):
    index = {}
    for path, v in round_trips.items():
        key = split_rpc_name(path)
        if key and isinstance(v, dict):
            index[key] = (path, v)
    return index


def per_call(v):
    p = v.get("per_call")
    if is_num(p):
        return p
    calls, trips = v.get("calls"), v.get("round_trips")
    return trips / calls if is_num(calls) and is_num(trips) and calls else None


def rpc_table(day):
    index = round_trip_index(day.round_trips)
    matched = set()
    rows = []
    for name in sorted(day.rpc):
        r = day.rpc[name] if isinstance(day.rpc[name], dict) else {}
        key = split_rpc_name(name)
        trips = DASH
        if key in index:
            matched.add(key)
            trips = fmt(per_call(index[key][1]), 2)
        rows.append([name, fmt(r.get("count")), error_cell(r), fmt(us_to_ms(r.get("p50_us")), 2),
                     fmt(us_to_ms(r.get("p99_us")), 2), trips])
    lines = table(["method (driver's view)", "calls", "errors", "p50 ms", "p99 ms",
                   "Redis round trips per call"], "lrrrrr", rows)
    extra = [(path, v) for key, (path, v) in sorted(index.items()) if key not in matched]
    if extra:
        lines += ["", "Methods dispatchd counted that the driver does not time:", ""]
        lines += table(["method", "calls", "Redis round trips per call"], "lrr",
                       [[f"`{path}`", fmt(v.get("calls")), fmt(per_call(v), 2)]
                        for path, v in extra])
    return lines


def find_phase(load, rate):
    if not load:
        return None
    for p in load["phases"]:
        if is_num(p.get("offered_rate")) and abs(p["offered_rate"] - rate) < 1e-6:
            return p
    return None


def load_table(load):
    rows = []
    for p in load["phases"]:
        row = [fmt(p.get("offered_rate")), fmt(p.get("achieved_rate"), 1), fmt(p.get("submitted")),
               fmt(p.get("submit_errors")), fmt(p.get("submit_p50_ms"), 2),
               fmt(p.get("submit_p99_ms"), 2)]
        for u in ("crisis", "urgent", "routine"):
            row.append(f"{fmt(p.get(f'{u}_first_offer_p99_ms'))} ({fmt(p.get(f'{u}_n'))})")
        rows.append(row)
    c = load.get("ceiling")
    if isinstance(c, dict):
        rows.append([f"ceiling: {fmt(c.get('clients'))} closed-loop clients, "
                     f"{fmt(c.get('seconds'))} s",
                     fmt(c.get("achieved_rate"), 1), fmt(c.get("submitted")),
                     fmt(c.get("submit_errors")), fmt(c.get("submit_p50_ms"), 2),
                     fmt(c.get("submit_p99_ms"), 2), DASH, DASH, DASH])
    return table(["offered /s", "achieved /s", "submits", "submit errors", "SubmitRequest p50 ms",
                  "SubmitRequest p99 ms", "CRISIS first offer p99 ms (n)",
                  "URGENT first offer p99 ms (n)", "ROUTINE first offer p99 ms (n)"],
                 "rrrrrrrrr", rows)


MET, NOT_MET, NOT_MEASURED = "**met**", "**not met**", "not measured in this run"


def verdict(ok):
    return MET if ok else NOT_MET


def targets(opt, greedy, load):
    out = []

    def bullet(name, result, detail):
        out.append(f"- {name}: {result} — {detail}." if result != NOT_MEASURED
                   else f"- {name}: {result} ({detail}).")

    phase = find_phase(load, TARGET_RATE)
    at = f"at {TARGET_RATE}/s offered"

    name = (f"(a) {TARGET_RATE} submits/s sustained (≥ {TARGET_SUSTAINED:.0%} achieved) with "
            f"SubmitRequest p99 ≤ {TARGET_SUBMIT_P99_MS} ms")
    if phase and is_num(phase.get("achieved_rate")) and is_num(phase.get("submit_p99_ms")):
        rate, p99 = phase["achieved_rate"], phase["submit_p99_ms"]
        ok = rate >= TARGET_SUSTAINED * TARGET_RATE and p99 <= TARGET_SUBMIT_P99_MS
        errors = phase.get("submit_errors")
        err = f", {errors} submit errors" if isinstance(errors, int) and errors else ""
        bullet(name, verdict(ok), f"{fmt(rate, 1)}/s achieved, p99 {fmt(p99, 2)} ms{err}")
    else:
        bullet(name, NOT_MEASURED, f"no {TARGET_RATE}/s load phase")

    name = f"(b) CRISIS submit → first offer p99 ≤ {TARGET_CRISIS_P99_MS} ms {at}"
    if phase and is_num(phase.get("crisis_first_offer_p99_ms")) and phase.get("crisis_n", 1):
        v = phase["crisis_first_offer_p99_ms"]
        bullet(name, verdict(v <= TARGET_CRISIS_P99_MS),
               f"p99 {fmt(v, 2)} ms over {fmt(phase.get('crisis_n'))} CRISIS requests")
    else:
        bullet(name, NOT_MEASURED, f"no {TARGET_RATE}/s load phase" if not phase
               else f"no CRISIS requests in the {TARGET_RATE}/s load phase")

    name = ("(c) ROUTINE submit → first (batch) offer p99 ≤ batch interval + "
            f"{TARGET_ROUTINE_SLACK_MS} ms")
    interval = load.get("batch_interval_ms") if load else None
    if phase and is_num(phase.get("routine_first_offer_p99_ms")) and is_num(interval):
        v, limit = phase["routine_first_offer_p99_ms"], interval + TARGET_ROUTINE_SLACK_MS
        bullet(f"{name}, {at}", verdict(v <= limit), f"p99 {fmt(v, 2)} ms against {fmt(limit)} ms")
    else:
        bullet(f"{name}, {at}", NOT_MEASURED,
               f"no {TARGET_RATE}/s load phase with ROUTINE requests and a batch interval")
    v = pct(opt.first_offer["ROUTINE"], 0.99)
    if v is not None and is_num(opt.batch_interval_ms):
        limit = opt.batch_interval_ms + TARGET_ROUTINE_SLACK_MS
        bullet(f"{name}, on the optimal day", verdict(v <= limit),
               f"p99 {fmt(v)} ms against {fmt(limit)} ms")
    else:
        bullet(f"{name}, on the optimal day", NOT_MEASURED,
               "no ROUTINE offer" if v is None
               else f"p99 {fmt(v)} ms, but the batch interval is not recorded")

    name = f"(d) ≥ {TARGET_TRAVEL_SAVING:.0%} less travel than greedy on the same day"
    saving, basis = travel_saving(opt, greedy)
    if saving is None:
        bullet(name, NOT_MEASURED, basis)
    elif basis == "total":
        bullet(name, verdict(saving >= TARGET_TRAVEL_SAVING),
               f"{less_or_more(saving)} than greedy "
               f"({fmt(opt.total_distance_m / 1000, 1)} km over {opt.assigned} assignments "
               f"against {fmt(greedy.total_distance_m / 1000, 1)} km over {greedy.assigned})")
    else:
        bullet(name, verdict(saving >= TARGET_TRAVEL_SAVING),
               f"{less_or_more(saving)} per assignment than greedy "
               f"({fmt(opt.mean_distance_m, 1)} m against {fmt(greedy.mean_distance_m, 1)} m; "
               f"totals not compared: {opt.assigned} against {greedy.assigned} assignments)")

    name = ("(e) none lost or stuck: every request COMPLETED/RATED, CANCELLED or ESCALATED "
            "in both runs")
    detail = "; ".join(f"{d.label} {d.stuck} of {d.n}"
                       + (f" ({counts(d.stuck_states)})" if d.stuck else "")
                       for d in (opt, greedy))
    bullet(name, verdict(opt.stuck == 0 and greedy.stuck == 0), f"lost or stuck: {detail}")

    name = "(f) points invariants hold in both runs"
    oks = {d.label: d.points.get("invariants_ok") if d.points else None for d in (opt, greedy)}
    broken = [k for k, v in oks.items() if v is False]
    missing = [k for k, v in oks.items() if not isinstance(v, bool)]
    if broken:
        runs = "both runs" if len(broken) == 2 else f"the {broken[0]} run"
        cells = "; ".join(invariants_cell(d) for d in (opt, greedy) if d.label in broken)
        bullet(name, NOT_MET, f"broken in {runs} ({cells})")
    elif missing:
        runs = "either run" if len(missing) == 2 else f"the {missing[0]} run"
        bullet(name, NOT_MEASURED, f"no points audit in {runs}")
    else:
        bullet(name, MET, "; ".join(f"{d.label} {invariants_cell(d)}" for d in (opt, greedy)))
    return out


def section(title, header, opt, greedy, load, images):
    if header and not header.endswith("\n"):
        header += "\n"
    out = ["", "### A district day: optimal against greedy batch policy", ""]
    speed = (f"{fmt(opt.speedup)}×" if opt.speedup == greedy.speedup else
             f"{fmt(opt.speedup)}× in the optimal run, {fmt(greedy.speedup)}× in the greedy one")
    out += [f"Latencies are real milliseconds after submit (the day runs {speed} faster than "
            "real time); percentiles are nearest-rank over the requests that reached the "
            "event.", ""]
    if opt.scenario() != greedy.scenario():
        out += [f"**The two runs are not the same day** ({scenario_diff(opt, greedy)}): "
                "the greedy ÷ optimal column does not compare like with like.", ""]
    out += day_table(opt, greedy)
    saving, basis = travel_saving(opt, greedy)
    if saving is not None:
        mean_saving = (1 - opt.mean_distance_m / greedy.mean_distance_m
                       if opt.mean_distance_m is not None and greedy.mean_distance_m else None)
        what = "in total" if basis == "total" else "per assignment (totals not compared)"
        out += ["", f"Travel: **{less_or_more(saving)} than greedy** {what}; "
                f"per assignment {less_or_more(mean_saving)}."]
    if opt.rpc:
        out += ["", "### Per-RPC latency (optimal day, as the driver timed each call)", ""]
        out += ["Redis round trips per call are dispatchd's own count for the method "
                "(`redis_round_trips`), shared by the driver's variants of one method.", ""]
        out += rpc_table(opt)
    if load:
        out += ["", "### Load: open-loop submits at fixed rates, then the closed-loop ceiling", ""]
        out += [f"{fmt(load.get('volunteers'))} volunteers, batch interval "
                f"{fmt(load.get('batch_interval_ms'))} ms. First-offer columns: p99 ms after "
                "submit (requests of that urgency in the phase).", ""]
        out += load_table(load)
    out += ["", "### Targets", ""]
    out += targets(opt, greedy, load)
    if images:
        out += ["", "### Plots", ""]
        for alt, path in images:
            out += [f"![{alt}]({path})", ""]
        out.pop()
    return f"{title}\n\n{header}" + "\n".join(out) + "\n"


def replace_section(text, title, new):
    """`text` with the section titled `title` replaced by `new` (appended when absent)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip("\r\n") == title), None)
    if start is None:
        if text and not text.endswith("\n"):
            text += "\n"
        if text and not text.endswith("\n\n"):
            text += "\n"
        return text + new
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    # A section followed by another keeps a blank line before the next title.
    tail = "\n" if end < len(lines) else ""
    return "".join(lines[:start]) + new + tail + "".join(lines[end:])


def write_results(path, title, new):
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Benchmark results\n"
    out = replace_section(text, title, new)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".RESULTS.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(out)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ---- plots ----

def save(fig, path):
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def plain_log_labels(axis, minor=False):
    """Labels a log axis 0.1, 1, 10 (and 2, 5, 20, ... when `minor`) instead of 10^n."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    if minor:
        def label(v, _):
            lead = round(v / 10 ** math.floor(math.log10(v))) if v > 0 else 0
            return f"{v:g}" if lead in (2, 5) else ""
        axis.set_minor_formatter(FuncFormatter(label))


def policy_legend(ax, urgencies=True, **kw):
    handles = []
    if urgencies:
        handles += [Line2D([], [], color=URGENCY_COLORS[u], label=u) for u in URGENCIES]
    handles += [Line2D([], [], color="black", linestyle=POLICY_STYLES[p], label=p)
                for p in ("optimal", "greedy")]
    ax.legend(handles=handles, **kw)


def plot_latency_by_urgency(opt, greedy, path):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    floor = 0.5
    for ax, attr, what in ((axes[0], "first_offer", "submit → first offer"),
                           (axes[1], "assignment", "submit → assignment (accepted)")):
        for d in (opt, greedy):
            for u in URGENCIES:
                v = sorted(max(x, floor) for x in getattr(d, attr)[u])
                if not v:
                    continue
                n = d.urgency_n[u]
                ax.step(v, [(i + 1) / n for i in range(len(v))], where="post",
                        color=URGENCY_COLORS[u], linestyle=POLICY_STYLES[d.label], linewidth=1.4)
        interval = opt.batch_interval_ms if is_num(opt.batch_interval_ms) else None
        if interval:
            ax.axvline(interval, color="grey", linestyle=":", linewidth=1)
            ax.text(interval, 0.02, " batch interval", color="grey", fontsize=8, rotation=90,
                    va="bottom", ha="right")
        ax.set_xscale("log")
        plain_log_labels(ax.xaxis)
        ax.set_xlim(left=floor)
        ax.set_ylim(0, 1.02)
        ax.set_title(what)
        ax.set_xlabel(f"real ms after submit (log; 0 ms drawn at {floor})")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("share of the urgency's requests")
    policy_legend(axes[1], loc="center left", fontsize=8)
    fig.suptitle("Time to first offer and to assignment by urgency "
                 "(a curve ending below 1: requests that never got there)", fontsize=11)
    fig.tight_layout()
    return save(fig, path)


def hist_buckets(hist):
    """[(lower_us, upper_us, count)] from [[upper_us, count], ...]; [] if malformed."""
    pairs = []
    for b in hist if isinstance(hist, list) else []:
        if (isinstance(b, (list, tuple)) and len(b) == 2 and is_num(b[1])
                and (is_num(b[0]) or b[0] is None or b[0] == "inf")):
            pairs.append((b[0] if is_num(b[0]) else math.inf, b[1]))
    pairs.sort()
    finite = [u for u, _ in pairs if math.isfinite(u) and u > 0]
    if len(finite) < 1:
        return []
    step = finite[1] / finite[0] if len(finite) > 1 and finite[0] > 0 else 2.0
    out, lower = [], finite[0] / step
    for upper, count in pairs:
        if upper <= 0:
            continue
        if not math.isfinite(upper):
            upper = lower * step
        out.append((lower, upper, count))
        lower = upper
    return out


def plot_rpc_latency(day, path):
    names = sorted(n for n in day.rpc if isinstance(day.rpc[n], dict))
    if not names:
        return None
    with_hist = {n: hist_buckets(day.rpc[n].get("hist")) for n in names}
    fig, ax = plt.subplots(figsize=(12, max(3.2, 0.5 * len(names) + 1.6)))
    if any(with_hist.values()):
        for i, n in enumerate(names):
            y = len(names) - 1 - i
            used = [i for i, x in enumerate(with_hist[n]) if x[2] > 0]
            if used:
                b = with_hist[n][used[0]:used[-1] + 1]
                top = max(c for _, _, c in b)
                xs, ys = [], []
                for lo, hi, c in b:
                    xs += [lo / 1000, hi / 1000]
                    ys += [y + 0.8 * c / top] * 2
                ax.fill_between(xs, y, ys, color="tab:blue", alpha=0.35, linewidth=0)
                ax.plot(xs, ys, color="tab:blue", linewidth=0.8)
            r = day.rpc[n]
            for key, marker, color in (("p50_us", "|", "black"), ("p99_us", "|", "tab:red")):
                if is_num(r.get(key)) and r[key] > 0:
                    ax.plot([r[key] / 1000] * 2, [y, y + 0.9], color=color, linewidth=1.6)
        ax.legend(handles=[Line2D([], [], color="tab:blue", linewidth=6, alpha=0.35,
                                  label="calls per bucket (scaled per row)"),
                           Line2D([], [], color="black", label="p50"),
                           Line2D([], [], color="tab:red", label="p99")],
                  loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        ax.set_yticks([len(names) - 1 - i + 0.4 for i in range(len(names))])
        ax.set_ylim(-0.2, len(names))
        ax.set_title(f"Per-RPC latency distribution ({day.label} day, driver's view)")
    else:
        ys = range(len(names) - 1, -1, -1)
        for key, off, color, label in (("p50_us", 0.2, "tab:blue", "p50"),
                                       ("p99_us", -0.2, "tab:red", "p99")):
            vals = [us_to_ms(day.rpc[n].get(key)) or 0 for n in names]
            ax.barh([y + off for y in ys], vals, height=0.38, color=color, label=label)
        ax.set_yticks(list(ys))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        ax.set_title(f"Per-RPC latency p50 and p99 ({day.label} day, driver's view)")
    ax.set_yticklabels([f"{n}  (n={fmt(day.rpc[n].get('count'))})" for n in names], fontsize=8)
    ax.set_xscale("log")
    plain_log_labels(ax.xaxis, minor=True)
    ax.set_xlabel("ms per call (log)")
    ax.grid(True, axis="x", which="major", alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def open_curve(day):
    """(hours, open requests) over the simulated day, as a step curve."""
    if day.speedup is None:
        return [], []
    events = []
    for r in day.requests:
        t0 = r.get("submit_sim_ms")
        if not is_num(t0) or r.get("final_state") == "NOT_SUBMITTED":
            continue
        events.append((t0, 1))
        done = r.get("completed_after_ms")
        if is_num(done):
            events.append((t0 + done * day.speedup, -1))
        elif r.get("final_state") in ENDED:
            events.append((t0, -1))
    # At equal times ends come first, so a request ended at its submit never counts as open.
    events.sort(key=lambda e: (e[0], e[1]))
    xs, ys, n = [0.0], [0], 0
    for t, d in events:
        n += d
        xs.append(t / 3.6e6)
        ys.append(n)
    return xs, ys


def plot_day_load(opt, greedy, path):
    reqs = [r for r in opt.requests if is_num(r.get("submit_sim_ms"))]
    if not reqs:
        return None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7.5), sharex=True,
                                      gridspec_kw={"height_ratios": [1, 1]})
    by_channel = collections.defaultdict(lambda: [0] * 24)
    surge = [0] * 24
    for r in reqs:
        h = min(23, max(0, int(r["submit_sim_ms"] // 3.6e6)))
        by_channel[r.get("channel") or "unknown"][h] += 1
        if r.get("surge"):
            surge[h] += 1
    hours = [h + 0.5 for h in range(24)]
    bottom_stack = [0] * 24
    order = sorted(by_channel, key=lambda c: -sum(by_channel[c]))
    for i, c in enumerate(order):
        top.bar(hours, by_channel[c], width=0.9, bottom=bottom_stack, label=c,
                color=plt.cm.tab10(i % 10))
        bottom_stack = [a + b for a, b in zip(bottom_stack, by_channel[c])]
    if any(surge):
        top.bar(hours, surge, width=0.9, fill=False, hatch="///", edgecolor="black",
                linewidth=0.6, label="of which surge")
    top.set_ylabel("requests submitted per hour")
    top.set_title(f"The simulated day: submissions by channel ({opt.label} run; "
                  f"{len(reqs)} requests)")
    top.legend(fontsize=8, ncol=2, loc="upper left")
    top.grid(True, axis="y", alpha=0.3)

    last = 24.0
    for d in (opt, greedy):
        xs, ys = open_curve(d)
        if xs:
            bottom.step(xs, ys, where="post", linestyle=POLICY_STYLES[d.label], color="tab:blue",
                        linewidth=1.3, label=f"open requests, {d.label}")
            last = max(last, xs[-1])
    surge_h = [r["submit_sim_ms"] / 3.6e6 for r in reqs if r.get("surge")]
    if surge_h:
        bottom.plot(surge_h, [0] * len(surge_h), linestyle="none", marker="|", markersize=14,
                    color="tab:red", label="surge requests (submit time)")
    bottom.set_ylabel("open requests (submitted, not ended)")
    bottom.set_xlabel("hour of the simulated day (events after submit placed at "
                      "real delay × speedup)")
    bottom.set_title("Open requests over the day")
    bottom.legend(fontsize=8, loc="upper left")
    bottom.grid(True, alpha=0.3)
    bottom.set_xlim(0, math.ceil(last))
    bottom.set_xticks(range(0, math.ceil(last) + 1, 2))
    bottom.set_ylim(bottom=-0.5)
    fig.tight_layout()
    return save(fig, path)


def plot_load_phases(load, path):
    phases = sorted((p for p in load["phases"] if is_num(p.get("offered_rate"))),
                    key=lambda p: p["offered_rate"])
    if not phases:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    x = [p["offered_rate"] for p in phases]

    def series(ax, key, label, style):
        pts = [(xi, p.get(key)) for xi, p in zip(x, phases) if is_num(p.get(key))]
        if pts:
            ax.plot([a for a, _ in pts], [b for _, b in pts], style, label=label)
        return pts

    series(left, "submit_p50_ms", "SubmitRequest p50", "o-")
    p99 = series(left, "submit_p99_ms", "SubmitRequest p99", "s-")
    for (xi, yi), p in zip(p99, [p for p in phases if is_num(p.get("submit_p99_ms"))]):
        if is_num(p.get("achieved_rate")):
            left.annotate(f"{p['achieved_rate']:.0f}/s", (xi, yi), textcoords="offset points",
                          xytext=(0, 7), ha="center", fontsize=7)
    left.axhline(TARGET_SUBMIT_P99_MS, color="tab:red", linestyle="--", linewidth=1,
                 label=f"target p99 ≤ {TARGET_SUBMIT_P99_MS} ms at {TARGET_RATE}/s")
    left.set_title("SubmitRequest latency (labels: achieved rate)")
    series(right, "crisis_first_offer_p50_ms", "CRISIS first offer p50", "o-")
    series(right, "crisis_first_offer_p99_ms", "CRISIS first offer p99", "s-")
    right.axhline(TARGET_CRISIS_P99_MS, color="tab:red", linestyle="--", linewidth=1,
                  label=f"target p99 ≤ {TARGET_CRISIS_P99_MS} ms at {TARGET_RATE}/s")
    right.set_title("CRISIS submit → first offer")
    for ax in (left, right):
        ax.axvline(TARGET_RATE, color="grey", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        plain_log_labels(ax.yaxis, minor=True)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo / 1.3, hi * 1.6)  # room for the rate labels and the legend
        ax.set_xlabel("offered submits/s (open loop)")
        ax.set_ylabel("ms (log)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Load phases ({fmt(load.get('volunteers'))} volunteers, batch interval "
                 f"{fmt(load.get('batch_interval_ms'))} ms)", fontsize=11)
    fig.tight_layout()
    return save(fig, path)


def plot_travel(opt, greedy, path):
    runs = [d for d in (opt, greedy) if d.distances]
    if not runs:
        return None
    hi = max(max(d.distances) for d in runs)
    bins = [hi * i / 40 for i in range(41)] if hi > 0 else [0, 1]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    colors = {"optimal": "tab:blue", "greedy": "tab:orange"}
    for d in runs:
        ax.hist(d.distances, bins=bins, weights=[1 / len(d.distances)] * len(d.distances),
                histtype="step", linewidth=1.6, color=colors[d.label],
                linestyle=POLICY_STYLES[d.label],
                label=f"{d.label}: {len(d.distances)} assignments, mean {d.mean_distance_m:.1f} m")
        ax.axvline(d.mean_distance_m, color=colors[d.label], linestyle=":", linewidth=1)
    ax.set_xlabel("volunteer's distance to the request at assignment, m")
    ax.set_ylabel("share of the run's assignments")
    ax.set_title("Travel per assignment: optimal against greedy (dotted: means)")
    ax.legend(fontsize=9)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


# ---- main ----

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--day-optimal", required=True, help="sim_driver day result, optimal policy")
    ap.add_argument("--day-greedy", required=True, help="sim_driver day result, greedy policy")
    ap.add_argument("--load", help="sim_driver load result (optional)")
    ap.add_argument("--results", required=True, help="RESULTS.md to update")
    ap.add_argument("--plots-dir", required=True, help="where the PNGs go")
    ap.add_argument("--header-file", required=True, help="markdown put under the title verbatim")
    ap.add_argument("--title", default=DEFAULT_TITLE)
    args = ap.parse_args(argv)
    prog = os.path.basename(sys.argv[0]) or "report.py"
    if not args.title.startswith("## "):
        print(f"{prog}: --title must start with '## ': {args.title!r}", file=sys.stderr)
        return 2
    try:
        opt = Day(read_day(args.day_optimal, "--day-optimal"), "optimal")
        greedy = Day(read_day(args.day_greedy, "--day-greedy"), "greedy")
        load = read_load(args.load) if args.load else None
        header = read_text(args.header_file, "--header-file")
    except InputError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    results_dir = os.path.dirname(os.path.abspath(args.results))
    if not os.path.isdir(results_dir):
        print(f"{prog}: --results {args.results}: directory {results_dir} does not exist",
              file=sys.stderr)
        return 1

    os.makedirs(args.plots_dir, exist_ok=True)
    plots = [
        ("latency_by_urgency.png", "Time to first offer and to assignment by urgency",
         lambda p: plot_latency_by_urgency(opt, greedy, p)),
        ("rpc_latency.png", "Per-RPC latency", lambda p: plot_rpc_latency(opt, p)),
        ("day_load.png", "Submissions per hour and open requests over the simulated day",
         lambda p: plot_day_load(opt, greedy, p)),
        ("load_phases.png", "SubmitRequest and CRISIS first-offer latency against offered rate",
         (lambda p: plot_load_phases(load, p)) if load else None),
        ("travel.png", "Travel per assignment, optimal against greedy",
         lambda p: plot_travel(opt, greedy, p)),
    ]
    images = []
    for name, alt, draw in plots:
        path = os.path.join(args.plots_dir, name)
        if draw and draw(path):
            print(path)
            rel = os.path.relpath(os.path.abspath(path), results_dir).replace(os.sep, "/")
            images.append((alt, rel))

    write_results(args.results, args.title,
                  section(args.title, header, opt, greedy, load, images))
    print(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Tests for report.py on small day and load results built here.

    /usr/bin/python3 bench/sim/report_test.py
"""

import contextlib
import copy
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import report  # noqa: E402

TITLE = report.DEFAULT_TITLE
BEFORE = ("# Benchmark results\n\nIntro paragraph.\n\n## Intake (SubmitRequest)\n\n"
          "| a | b |\n|---|---:|\n| x | 1 |\n\n")
OLD = f"{TITLE}\n\nAn old run.\n\n### Targets\n\n- stale\n\n"
AFTER = "## Points: Redeem throughput and latency\n\nKept as it is.  \nTrailing spaces too.\n"
URGENCIES = ("CRISIS", "URGENT", "ROUTINE")
CHANNELS = ("APP", "HOTLINE", "WECHAT", "STATION", "SWEEP")


def read(path):
    with open(path) as f:
        return f.read()


def make_day(policy, n=90, distance_m=50.0, stuck=0, invariants_ok=True, new_keys=True,
             routine_offer_ms=4000, seed=7):
    """A day result like sim_driver's: n requests, every assigned one `distance_m` away."""
    rng = random.Random(seed)
    requests = []
    for i in range(n):
        u = URGENCIES[i % 3]
        r = {"request_id": f"sim-q{i:06d}", "id": f"d-{i}", "urgency": u,
             "channel": CHANNELS[i % 5], "category": "SHOPPING", "headcount": 1,
             "surge": 14 <= (i * 24) // n < 18, "submit_sim_ms": int(i * 86_400_000 / n) + 1000,
             "submit_lag_ms": 0, "submit_ms": 1_795_451_000_000 + i * 100, "offers": 1,
             "declined": 0}
        if i % 10 == 9:  # escalated without an offer
            r.update(first_offer_after_ms=None, assigned_after_ms=None, completed_after_ms=None,
                     final_state="ESCALATED", escalation_reason="NO_CANDIDATE", assignee="",
                     distance_m=None, offers=0)
        else:
            offer = rng.randint(1, 8) if u != "ROUTINE" else routine_offer_ms + rng.randint(0, 50)
            r.update(first_offer_after_ms=offer, assigned_after_ms=offer + 40,
                     completed_after_ms=offer + 2000, final_state="COMPLETED",
                     assignee=f"v{i}", distance_m=distance_m)
        requests.append(r)
    for r in requests[:stuck]:
        r.update(final_state="ASSIGNED", completed_after_ms=None)
    assigned = [r for r in requests if r["distance_m"] is not None]
    served = sum(r["final_state"] == "COMPLETED" for r in requests)
    day = {
        "seed": 1, "speedup": 600.0, "volunteers": 200,
        "totals": {"requests": n, "not_submitted": 0, "served": served,
                   "served_pct": 100.0 * served / n, "escalated": n // 10,
                   "escalation_reasons": {"NO_CANDIDATE": n // 10}, "cancelled": 0,
                   "stuck": stuck, "stuck_states": {"ASSIGNED": stuck} if stuck else {},
                   "mean_distance_m": distance_m},
        "by_urgency": {},
        "rpc": {
            "IntakeService.SubmitRequest": {"count": n, "errors": 0, "errors_by_code": {},
                                            "p50_us": 1400, "p90_us": 2400, "p99_us": 4100,
                                            "max_us": 9000},
            "VolunteerService.ReportProgress(PROGRESS_COMPLETED)": {
                "count": served, "errors": 2, "errors_by_code": {"9": 2}, "p50_us": 1900,
                "p90_us": 3000, "p99_us": 6800, "max_us": 20000},
        },
        "requests": requests,
    }
    if new_keys:
        day["policy"] = policy
        day["batch_interval_ms"] = 5000
        day["totals"]["total_distance_m"] = distance_m * len(assigned)
        for r in day["rpc"].values():
            r["hist"] = [[int(100 * 2 ** (k / 2)), max(0, 30 - abs(k - 14) * 3)] for k in range(30)]
        day["redis_round_trips"] = {
            "/yiyuan.v1.IntakeService/SubmitRequest": {"calls": n, "round_trips": n,
                                                       "per_call": 1.0},
            "/yiyuan.v1.VolunteerService/ReportProgress": {"calls": 3 * served,
                                                           "round_trips": 6 * served,
                                                           "per_call": 2.0},
            "/yiyuan.v1.OfferService/WatchOffers": {"calls": 200, "round_trips": 800,
                                                    "per_call": 4.0},
        }
        day["fairness"] = {"on_duty_volunteers": 200, "volunteers_with_work": len(assigned),
                           "share_with_work": len(assigned) / 200, "gini": 0.41,
                           "max_assignments": 3, "unit_assignments": 4}
        day["points"] = {"fund_topped_up": 100000, "earned": 10 * served, "earn_entries": served,
                         "redeemed": 300, "redemptions": 6,
                         "redeem_refusals": {"INSUFFICIENT_POINTS": 2}, "pending": 0,
                         "accounts_checked": 200, "invariants_ok": invariants_ok,
                         "audit_errors": [] if invariants_ok else ["account v3: balance -5 < 0"]}
        day["mobilization"] = {"mobilization_id": "m-1", "volunteers_reached": 150,
                               "accepted": 40, "needed": 30}
    return day


def make_load(submit_p99_ms=3.9, achieved_rate=498.7, crisis_p99_ms=12, routine_p99_ms=5050):
    def phase(rate, p99, achieved, crisis, routine):
        return {"offered_rate": rate, "seconds": 20, "submitted": rate * 20,
                "achieved_rate": achieved, "submit_p50_ms": 1.1, "submit_p99_ms": p99,
                "submit_errors": 0, "crisis_n": 40, "crisis_first_offer_p50_ms": 3,
                "crisis_first_offer_p99_ms": crisis, "urgent_n": 400,
                "urgent_first_offer_p50_ms": 4, "urgent_first_offer_p99_ms": 30,
                "routine_n": 3000, "routine_first_offer_p50_ms": 2600,
                "routine_first_offer_p99_ms": routine,
                "submit_hist": [[1000, rate], [2000, rate // 2], [4000, 10]]}
    return {"mode": "load", "batch_interval_ms": 5000, "volunteers": 10000,
            "phases": [phase(100, 2.0, 99.9, 5, 5010),
                       phase(500, submit_p99_ms, achieved_rate, crisis_p99_ms, routine_p99_ms),
                       phase(1000, 14.0, 930.0, 80, 5600)],
            "ceiling": {"clients": 16, "seconds": 10, "achieved_rate": 4100.0,
                        "submit_p50_ms": 3.2, "submit_p99_ms": 9.5},
            "rpc": {}, "redis_round_trips": {}}


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.results = os.path.join(self.dir, "bench", "RESULTS.md")
        self.plots = os.path.join(self.dir, "bench", "results", "sim")
        os.makedirs(os.path.dirname(self.results))
        with open(self.results, "w") as f:
            f.write(BEFORE + OLD + AFTER)
        self.header = self.write("header.md", "Measured on a test machine.\n")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, content):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def run_report(self, opt=None, greedy=None, load="default"):
        """Runs report.main in-process; returns the RESULTS.md text."""
        opt = opt or make_day("optimal")
        greedy = greedy or make_day("greedy", distance_m=100.0)
        argv = ["--day-optimal", self.write("opt.json", opt),
                "--day-greedy", self.write("greedy.json", greedy),
                "--results", self.results, "--plots-dir", self.plots,
                "--header-file", self.header]
        if load == "default":
            load = make_load()
        if load is not None:
            argv += ["--load", self.write("load.json", load)]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(report.main(argv), 0)
        self.printed = out.getvalue().split()
        return read(self.results)

    def target(self, text, tag):
        lines = [l for l in text.splitlines() if l.startswith(f"- ({tag})")]
        self.assertTrue(lines, f"no target line ({tag}) in:\n{text}")
        return lines

    def assert_met(self, text, tag, met=True):
        for line in self.target(text, tag):
            want, other = ("**met**", "**not met**") if met else ("**not met**", "**met**")
            self.assertIn(want, line)
            self.assertNotIn(other, line)

    def test_other_sections_kept_and_section_replaced_once(self):
        text = self.run_report()
        self.assertTrue(text.startswith(BEFORE + TITLE + "\n\nMeasured on a test machine.\n"))
        self.assertTrue(text.endswith("\n\n" + AFTER), text[-300:])
        self.assertNotIn("An old run.", text)
        self.assertEqual(text.count(TITLE), 1)
        again = self.run_report()
        self.assertEqual(again, text)

    def test_section_appended_when_absent(self):
        with open(self.results, "w") as f:
            f.write(BEFORE + AFTER)
        text = self.run_report()
        self.assertTrue(text.startswith(BEFORE + AFTER + "\n" + TITLE + "\n"))
        self.assertEqual(self.run_report(), text)

    def test_targets_met(self):
        text = self.run_report()
        for tag in "abcdef":
            self.assert_met(text, tag)
        self.assertIn("50.0% less travel than greedy", text)
        self.assertEqual(len(self.target(text, "c")), 2)  # load phase and optimal day

    def test_submit_p99_not_met(self):
        text = self.run_report(load=make_load(submit_p99_ms=6.2))
        self.assert_met(text, "a", met=False)
        self.assert_met(text, "b")

    def test_rate_not_sustained(self):
        self.assert_met(self.run_report(load=make_load(achieved_rate=450.0)), "a", met=False)

    def test_crisis_and_routine_not_met(self):
        text = self.run_report(load=make_load(crisis_p99_ms=80, routine_p99_ms=5200),
                               opt=make_day("optimal", routine_offer_ms=5200))
        self.assert_met(text, "b", met=False)
        self.assert_met(text, "c", met=False)

    def test_travel_not_met(self):
        # 10% less travel than greedy: short of 15%.
        text = self.run_report(greedy=make_day("greedy", distance_m=50.0 / 0.9))
        self.assert_met(text, "d", met=False)
        self.assertIn("10.0% less travel than greedy", text)

    def test_travel_from_mean_when_total_absent(self):
        opt, greedy = make_day("optimal"), make_day("greedy", distance_m=100.0)
        del opt["totals"]["total_distance_m"], greedy["totals"]["total_distance_m"]
        text = self.run_report(opt=opt, greedy=greedy)
        self.assert_met(text, "d")
        self.assertIn("50.0% less travel than greedy", text)

    def test_travel_not_measured_on_different_days(self):
        text = self.run_report(greedy=make_day("greedy", n=60, distance_m=100.0))
        line = self.target(text, "d")[0]
        self.assertIn("not measured in this run", line)
        self.assertIn("**The two runs are not the same day**", text)

    def test_stuck_not_met(self):
        text = self.run_report(greedy=make_day("greedy", distance_m=100.0, stuck=1))
        self.assert_met(text, "e", met=False)
        self.assertIn("greedy 1 of 90 (ASSIGNED 1)", self.target(text, "e")[0])

    def test_invariants_not_met(self):
        text = self.run_report(opt=make_day("optimal", invariants_ok=False))
        self.assert_met(text, "f", met=False)

    def test_old_driver_output(self):
        opt = make_day("optimal", new_keys=False)
        greedy = make_day("greedy", distance_m=100.0, new_keys=False)
        text = self.run_report(opt=opt, greedy=greedy, load=None)
        for tag in "abf":
            self.assertIn("not measured in this run", self.target(text, tag)[0])
        self.assert_met(text, "d")  # from mean_distance_m × assignments
        self.assert_met(text, "e")
        self.assertIn("| points invariants | – | – | – |", text)
        self.assertFalse(os.path.exists(os.path.join(self.plots, "load_phases.png")))
        self.assertGreater(os.path.getsize(os.path.join(self.plots, "rpc_latency.png")), 0)

    def test_round_trips_matched_by_service_and_method(self):
        text = self.run_report()
        self.assertIn("| IntakeService.SubmitRequest | 90 | 0 | 1.40 | 4.10 | 1.00 |", text)
        self.assertIn("| VolunteerService.ReportProgress(PROGRESS_COMPLETED) | 81 | "
                      "2 (FAILED_PRECONDITION 2) | 1.90 | 6.80 | 2.00 |", text)
        self.assertIn("| `/yiyuan.v1.OfferService/WatchOffers` | 200 | 4.00 |", text)

    def test_pngs_written_and_linked(self):
        self.run_report()
        for name in ("latency_by_urgency", "rpc_latency", "day_load", "load_phases", "travel"):
            path = os.path.join(self.plots, name + ".png")
            self.assertIn(path, self.printed)
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            self.assertGreater(os.path.getsize(path), 1000)
            self.assertIn(f"](results/sim/{name}.png)", read(self.results))

    def test_bad_input_exits_non_zero(self):
        good = self.write("opt.json", make_day("optimal"))
        bad = self.write("bad.json", "{not json")
        no_requests = self.write("empty.json", {"totals": {}})
        before = read(self.results)
        for opt, load in ((os.path.join(self.dir, "missing.json"), None), (bad, None),
                          (no_requests, None), (good, os.path.join(self.dir, "missing-load.json"))):
            argv = [sys.executable, os.path.join(HERE, "report.py"), "--day-optimal", opt,
                    "--day-greedy", good, "--results", self.results, "--plots-dir", self.plots,
                    "--header-file", self.header] + (["--load", load] if load else [])
            p = subprocess.run(argv, capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0, p.stderr)
            self.assertIn(os.path.basename(load or opt), p.stderr)
        self.assertEqual(read(self.results), before)

    def test_replace_section_keeps_crlf_and_missing_final_newline(self):
        text = "# R\r\n\r\n## Other\r\nx\r\n"
        new = f"{TITLE}\n\nbody\n"
        self.assertEqual(report.replace_section(text, TITLE, new), text + "\n" + new)
        self.assertEqual(report.replace_section("# R", TITLE, new), "# R\n\n" + new)
        replaced = report.replace_section(text + "\n" + new, TITLE, copy.copy(new))
        self.assertEqual(replaced, text + "\n" + new)


if __name__ == "__main__":
    unittest.main()

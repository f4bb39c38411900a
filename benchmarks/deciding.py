"""Decision cost: CPU time of routing a stream, outside the day plan's solve, per source tree.

    python -m benchmarks.deciding WORK [--tree PATH ...] [--policy adaptive] [--runs 5]

WORK is a directory with roster.yaml, taxonomy.yaml, stream.jsonl and model.skops (as the
pipeline benchmark builds them). Each tree (a checkout of this repository; default: this one)
routes the whole stream in its own process, trees alternating, and the medians of CPU seconds
are printed with a digest of every decision (repr and decision-log record) to show that the
trees decide alike. With the adaptive policy the day plan's solutions are recorded once (by
the first tree) and replayed in every run: they depend only on the decisions, which the digest
checks, so what is timed is the rest of a decision.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Run inside one tree: sys.argv = [tree, work, policy, plan mode, plan file].
_WORKER = r"""
import hashlib, json, pickle, sys, time
from pathlib import Path
tree, work, policy, mode, plan_file = sys.argv[1:]
sys.path.insert(0, tree)
from connectors.files import read_stream
from routing.models import Mention
from routing.options import RouterOptions
from routing.router import Router
from workers import app
from workers.decisionlog import encode_decision
work = Path(work)
world = app.load_world(work / "roster.yaml", work / "taxonomy.yaml")
mentions = [r.result for r in read_stream(work / "stream.jsonl") if isinstance(r.result, Mention)]
cache = work / "classified.pkl"
if not cache.exists():
    tagger = app.build_tagger(work / "model.skops", world)
    tags = [c for i in range(0, len(mentions), 512) for c in tagger.tag(mentions[i : i + 512])]
    cache.write_bytes(pickle.dumps(tags))
classified = pickle.loads(cache.read_bytes())
router = Router(world.roster, world.taxonomy, RouterOptions(policy=policy))
plan = type(router.plan)
solve, solutions, replayed = plan.solve, [], None
if mode == "replay":
    replayed = iter(pickle.loads(Path(plan_file).read_bytes()))
def solved(self, now):
    begins = self.epoch_of(now)
    if begins == self._solved:
        return
    if replayed is None:
        solve(self, now)
        solutions.append((self._prices, self._picks))
        return
    self._solved = begins
    self._span = (begins.timestamp(), (begins + self.epoch).timestamp())
    self._forget(now.timestamp())
    self._prices, self._picks = next(replayed)
plan.solve = solved
out = []
start = time.process_time()
for m, c in zip(mentions, classified, strict=True):
    out.extend(router.route(m, c, m.created_at))
cpu = time.process_time() - start
if mode == "record":
    Path(plan_file).write_bytes(pickle.dumps(solutions))
digest = hashlib.sha256()
for d in out:
    digest.update(repr(d).encode() + encode_decision(d))
print(json.dumps({"cpu": cpu, "decisions": len(out), "digest": digest.hexdigest()[:16]}))
"""


def _run(tree: Path, work: Path, policy: str, mode: str) -> dict[str, float | str]:
    plan_file = work / f"plan-{policy}.pkl"
    args = [sys.executable, "-c", _WORKER, str(tree), str(work), policy, mode, str(plan_file)]
    done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=3600)
    result: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("work", type=Path)
    parser.add_argument("--tree", type=Path, action="append", help="a source tree (repeatable)")
    parser.add_argument("--policy", default="adaptive")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    trees = args.tree or [REPO]
    mode = "replay" if args.policy == "adaptive" else "none"
    if mode == "replay":
        print("recording the plan:", _run(trees[0], args.work, args.policy, "record"))
    runs: dict[Path, list[dict[str, float | str]]] = {tree: [] for tree in trees}
    for _ in range(args.runs):
        for tree in trees:
            runs[tree].append(_run(tree, args.work, args.policy, mode))
    for tree, results in runs.items():
        cpu = [float(r["cpu"]) for r in results]
        digests = sorted({f"{r['digest']} ({r['decisions']} decisions)" for r in results})
        print(f"{tree}: median {statistics.median(cpu):.2f} s CPU, runs {cpu}, {digests}")


if __name__ == "__main__":
    main()

"""Day plan cost: CPU time of routing a stream, of re-solving the day plan, and of HiGHS in it.

    python -m benchmarks.planning WORK [--tree PATH ...] [--runs 3]

WORK is a directory with roster.yaml, taxonomy.yaml, stream.jsonl and model.skops (as the
pipeline benchmark builds them). Each tree (a checkout of this repository; default: this one)
routes the whole stream with the default router in its own process, trees alternating. Per
run it measures the CPU seconds of the whole replay, of ``DayPlan.solve`` and of HiGHS's run
inside it (``solve_packing``), and of the garbage collector's pauses; the medians are printed
with the part of the solve outside HiGHS (building the program and reading the answer) less
the collector's pauses that fell inside the solve (a full collection of the replay's heap
takes a few hundred milliseconds, and lands in whatever allocates when it is due), and a digest
of every outcome to show that the trees decide alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Run inside one tree: sys.argv = [tree, work].
_WORKER = r"""
import hashlib, json, pickle, sys, time
from pathlib import Path
tree, work = sys.argv[1:]
sys.path.insert(0, tree)
from connectors.files import read_stream
from routing import plan, planlp
from routing.models import Mention
from workers import app
work = Path(work)
world = app.load_world(work / "roster.yaml", work / "taxonomy.yaml")
mentions = [r.result for r in read_stream(work / "stream.jsonl") if isinstance(r.result, Mention)]
cache = work / "classified.pkl"
if not cache.exists():
    tagger = app.build_tagger(work / "model.skops", world)
    tags = [c for i in range(0, len(mentions), 512) for c in tagger.tag(mentions[i : i + 512])]
    cache.write_bytes(pickle.dumps(tags))
classified = pickle.loads(cache.read_bytes())
router = app.build_router(world)
import gc
spent = {"solve": 0.0, "packing": 0.0, "gc": 0.0, "gc in solve": 0.0}
inside, began = [0], [0.0]
def timed(name, function):
    def call(*args):
        start = time.process_time()
        inside[0] += name == "solve"
        try:
            return function(*args)
        finally:
            inside[0] -= name == "solve"
            spent[name] += time.process_time() - start
    return call
def collected(phase, info):
    if phase == "start":
        began[0] = time.process_time()
        return
    spent["gc"] += time.process_time() - began[0]
    if inside[0]:
        spent["gc in solve"] += time.process_time() - began[0]
gc.callbacks.append(collected)
plan.DayPlan.solve = timed("solve", plan.DayPlan.solve)
planlp.solve_packing = timed("packing", planlp.solve_packing)
out = []
start = time.process_time()
for m, c in zip(mentions, classified, strict=True):
    out.extend(router.route(m, c, m.created_at))
cpu = time.process_time() - start
digest = hashlib.sha256()
for d in out:
    digest.update(repr(d.outcome).encode())
print(json.dumps({"cpu": cpu, **spent, "decisions": len(out), "digest": digest.hexdigest()[:16]}))
"""


def _run(tree: Path, work: Path) -> dict[str, float | str]:
    args = [sys.executable, "-c", _WORKER, str(tree), str(work)]
    done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=3600)
    result: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _report(tree: Path, results: list[dict[str, float | str]]) -> dict[str, float]:
    def median(key: str) -> float:
        return statistics.median(float(r[key]) for r in results)

    def outside(r: dict[str, float | str]) -> float:
        """The solve outside HiGHS, less the collector's pauses that fell inside it."""
        return float(r["solve"]) - float(r["packing"]) - float(r["gc in solve"])

    share = statistics.median(
        outside(r) / (float(r["solve"]) - float(r["gc in solve"])) for r in results
    )
    digests = sorted({f"{r['digest']} ({r['decisions']} decisions)" for r in results})
    print(
        f"{tree}: median CPU {median('cpu'):.2f} s, DayPlan.solve {median('solve'):.2f} s, "
        f"HiGHS {median('packing'):.2f} s, garbage collection {median('gc'):.2f} s "
        f"({median('gc in solve'):.2f} s of it inside the solve), solve outside HiGHS and the "
        f"collector {statistics.median(map(outside, results)):.2f} s ({100 * share:.0f} % of "
        f"the solve); runs {[round(float(r['cpu']), 2) for r in results]}, {digests}"
    )
    return {"cpu": median("cpu"), "outside": statistics.median(map(outside, results))}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("work", type=Path)
    parser.add_argument("--tree", type=Path, action="append", help="a source tree (repeatable)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    trees = args.tree or [REPO]
    runs: dict[Path, list[dict[str, float | str]]] = {tree: [] for tree in trees}
    for _ in range(args.runs):
        for tree in trees:
            runs[tree].append(_run(tree, args.work))
    medians = {tree: _report(tree, results) for tree, results in runs.items()}
    first = medians[trees[0]]
    for tree in trees[1:]:
        cpu, outside = medians[tree]["cpu"], medians[tree]["outside"]
        print(
            f"{tree} against {trees[0]}: CPU x{cpu / first['cpu']:.2f}, "
            f"solve outside HiGHS x{outside / first['outside']:.2f}"
        )


if __name__ == "__main__":
    main()

"""The classifier report: quality on public labeled data next to a plain baseline, and speed.

    python -m benchmarks.classifier [--quick] [--json FILE] [--markdown FILE]

Everything runs pinned to one core. Quality: per dataset and head, accuracy and macro-F1 of
mention-router's classifier (word + character n-grams, linear SVMs with C chosen by
cross-validation on the training data only, temperature-calibrated) next to a plain baseline
(TF-IDF word 1-2-grams + logistic regression), measured in the same run on the same splits:

- airline tweets: sentiment and topic on a time split (deduplicated by tweet_id; trained on the
  days before the last day in the file, tested on the last day);
- BANKING77: topic (77 intents), 5-fold stratified cross-validation;
- complaint severity (X-CI): severity (5 levels) and urgency mapped from it, 5-fold CV;
- customer-support threads (twcs, Ericsson labels): topic of single-label inbound tweets, 5-fold.

Also: language detection on a mixed English/Dutch set, the urgency policy on the demo stream,
and throughput (documents per second at batch 1, 32 and 1,024) of the bare classifier and of
``Tagger.tag`` (language detection and urgency policy included), as medians of repeated runs.
The datasets live beside the repository (``../shared/data``) and are never copied into it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from benchmarks import one_core

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
DEMO = REPO / "config" / "demo"
RESULTS = REPO / "benchmarks" / "results" / "classifier.json"
MARKDOWN = REPO / "benchmarks" / "CLASSIFIER.md"
COMMAND = "make bench-classifier   # python -m benchmarks.classifier"
SEVERITY_URGENCY = {
    "non_complaint": "low",
    "no_explicit_reproach": "normal",
    "disapproval": "normal",
    "accusation": "high",
    "blame": "critical",
}

Labels = dict[str, list[str]]
Row = dict[str, Any]


def _read(relative: str) -> list[dict[str, str]]:
    path = DATA / relative
    if not path.exists():
        sys.exit(f"benchmark needs {path} (the public datasets beside the repository)")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower().replace("'", "")).strip("_")


# --- models ------------------------------------------------------------------------------


def ours(train: Sequence[str], labels: Labels) -> Any:
    from routing.classifier import MentionClassifier

    return MentionClassifier.fit(list(train), labels)


def predict(clf: Any, texts: Sequence[str]) -> dict[str, list[str]]:
    predicted = clf.classify_batch(list(texts))
    return {head: [p[head][0] for p in predicted] for head in clf.heads}


def baseline(train: Sequence[str], labels: Labels, test: Sequence[str]) -> dict[str, list[str]]:
    """The plain baseline: TF-IDF word 1-2-grams and a logistic regression, one per head."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train, x_test = vectorizer.fit_transform(train), vectorizer.transform(test)
    with warnings.catch_warnings():
        # lbfgs near its optimum after 300 rounds: more changes no prediction, costs minutes
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            head: LogisticRegression(max_iter=300).fit(x_train, y).predict(x_test).tolist()
            for head, y in labels.items()
        }


def _scores(truth: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    return (
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, average="macro", zero_division=0.0)),
    )


def compare(
    dataset: str, split: str, train: list[str], labels: Labels, test: list[str], truth: Labels
) -> tuple[list[Row], Any]:
    """Our model and the baseline on one split; returns the rows and our fitted model."""
    rows = []
    started = time.perf_counter()
    clf = ours(train, labels)
    mine = predict(clf, test)
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plain = baseline(train, labels, test)
    base_seconds = time.perf_counter() - started
    for head in labels:
        acc, f1 = _scores(truth[head], mine[head])
        base_acc, base_f1 = _scores(truth[head], plain[head])
        rows.append(
            {
                "dataset": dataset, "head": head, "split": split, "train": len(train),
                "test": len(test), "classes": len(set(labels[head])), "accuracy": acc,
                "macro_f1": f1, "baseline_accuracy": base_acc, "baseline_macro_f1": base_f1,
                "fit_seconds": ours_seconds, "baseline_fit_seconds": base_seconds,
                "selection": clf.params["heads"][head],
            }
        )  # fmt: skip
    return rows, clf


def cross_validate(dataset: str, texts: list[str], labels: Labels, folds: int = 5) -> list[Row]:
    """Stratified k-fold on the first head; every head's figures are means over the folds."""
    first = next(iter(labels))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    per_fold: list[list[Row]] = []
    x = np.array(texts, dtype=object)
    for k, (train, test) in enumerate(splitter.split(x, labels[first]), start=1):
        fold_labels = {h: [v[i] for i in train] for h, v in labels.items()}
        truth = {h: [v[i] for i in test] for h, v in labels.items()}
        rows, _ = compare(
            dataset, f"{folds}-fold CV", x[train].tolist(), fold_labels, x[test].tolist(), truth
        )
        per_fold.append(rows)
        print(f"  {dataset}: fold {k}/{folds} done", file=sys.stderr, flush=True)
    rows = []
    for i, row in enumerate(per_fold[0]):
        merged = {k: v for k, v in row.items() if k != "selection"}
        merged["selection"] = [fold[i]["selection"] for fold in per_fold]
        for key in ("accuracy", "macro_f1", "baseline_accuracy", "baseline_macro_f1"):
            values = [fold[i][key] for fold in per_fold]
            merged[key] = statistics.mean(values)
            merged[f"{key}_std"] = statistics.stdev(values)
        for key in ("train", "test", "fit_seconds", "baseline_fit_seconds"):
            merged[key] = statistics.mean(fold[i][key] for fold in per_fold)
        rows.append(merged)
    return rows


# --- datasets ----------------------------------------------------------------------------


def airline_split() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    unique: dict[str, dict[str, str]] = {}
    for row in _read("airline_sentiment/Tweets.csv"):
        unique.setdefault(row["tweet_id"], row)  # the first of a repeated tweet counts
    rows = sorted(unique.values(), key=lambda r: (r["tweet_created"], r["tweet_id"]))
    last_day = rows[-1]["tweet_created"][:10]
    train = [r for r in rows if r["tweet_created"][:10] < last_day]
    test = [r for r in rows if r["tweet_created"][:10] == last_day]
    return train, test


def airline_topic(row: dict[str, str]) -> str:
    sentiment = row["airline_sentiment"]
    return (_slug(row["negativereason"]) or "unknown") if sentiment == "negative" else sentiment


def airline() -> tuple[list[Row], dict[str, Any]]:
    train, test = airline_split()

    def heads(rows: list[dict[str, str]]) -> Labels:
        return {
            "sentiment": [r["airline_sentiment"] for r in rows],
            "topic": [airline_topic(r) for r in rows],
        }

    split = f"time: train {train[0]['tweet_created'][:10]}..{train[-1]['tweet_created'][:10]}, "
    split += f"test {test[0]['tweet_created'][:10]}"
    texts, tests = [r["text"] for r in train], [r["text"] for r in test]
    rows, clf = compare("airline tweets", split, texts, heads(train), tests, heads(test))
    return rows, calibration(clf, tests, heads(test))


def calibration(clf: Any, texts: list[str], truth: Labels) -> dict[str, Any]:
    """Expected calibration error per head, and what the unknown threshold does to topics."""
    from routing.tagger import DEFAULT_UNKNOWN_THRESHOLD

    predicted = clf.classify_batch(texts)
    report: dict[str, Any] = {}
    for head, values in truth.items():
        conf = np.array([p[head][1] for p in predicted])
        right = np.array([p[head][0] == t for p, t in zip(predicted, values, strict=True)])
        bins = np.minimum((conf * 10).astype(int), 9)
        ece = sum(
            abs(conf[bins == b].mean() - right[bins == b].mean()) * (bins == b).mean()
            for b in range(10)
            if (bins == b).any()
        )
        report[head] = {
            "mean_confidence": float(conf.mean()), "accuracy": float(right.mean()),
            "ece": float(ece), "temperature": clf.temperatures[head],
        }  # fmt: skip
        if head == "topic":
            report[head]["unknown"] = [
                {"threshold": t, "coverage": float((conf >= t).mean()),
                 "accuracy_of_covered": float(right[conf >= t].mean()),
                 "default": t == DEFAULT_UNKNOWN_THRESHOLD}
                for t in (0.2, 0.3, DEFAULT_UNKNOWN_THRESHOLD, 0.5, 0.7)
            ]  # fmt: skip
    return report


def banking77() -> list[Row]:
    rows = _read("banking77/train.csv")
    return cross_validate(
        "BANKING77", [r["text"] for r in rows], {"topic": [r["category"] for r in rows]}
    )


def complaint_severity() -> list[Row]:
    rows = _read("complaint_severity/xci_complaint_severity.csv")
    labels = {
        "severity": [r["severity_name"] for r in rows],
        "urgency": [SEVERITY_URGENCY[r["severity_name"]] for r in rows],
    }
    return cross_validate("complaint severity (X-CI)", [r["text"] for r in rows], labels)


def twcs_topics() -> list[Row]:
    texts, topics = [], []
    for name in ("AmazonHelp", "AppleSupport", "SpotifyCares"):
        rows = _read(f"twcs/ericsson_labeled/twcs-{name}-200-inbound.csv")
        first = list(rows[0]).index("company") + 1
        for row in rows:
            found = [c for c in list(row)[first:] if (row[c] or "").strip() in {"1", "1.0"}]
            if len(found) == 1:
                texts.append(row["text"])
                topics.append(_slug(found[0]))
    common = {t for t, n in Counter(topics).items() if n >= 5}
    keep = [i for i, t in enumerate(topics) if t in common]
    return cross_validate(
        "twcs inbound (Ericsson labels)",
        [texts[i] for i in keep],
        {"topic": [topics[i] for i in keep]},
    )


# --- language ------------------------------------------------------------------------------


def language_set() -> list[tuple[str, str, str]]:
    """(source, true language, text): demo seed and stream, airline tweets, Dutch reviews."""
    items: list[tuple[str, str, str]] = []
    with (DEMO / "seed_mentions.csv").open(newline="", encoding="utf-8") as handle:
        items += [("demo seed", r["lang"], r["text"]) for r in csv.DictReader(handle)]
    for line in (DEMO / "stream.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("lang"):
            items.append(("demo stream", record["lang"], record["text"]))
    airline_rows = airline_split()[1][:1000]
    items += [("airline tweets", "en", r["text"]) for r in airline_rows]
    sentences = dict.fromkeys(
        r["text"] for r in _read("dutch/semeval2016_absa_nl_restaurants_train.csv")
    )
    items += [("Dutch restaurant reviews", "nl", t) for t in list(sentences)[:1000]]
    return items


def language() -> dict[str, Any]:
    from routing.language import detect_language

    items = language_set()
    by_source: dict[str, Any] = {}
    for source in dict.fromkeys(s for s, _, _ in items):
        chosen = [(lang, detect_language(text)[0]) for s, lang, text in items if s == source]
        by_source[source] = {
            "texts": len(chosen),
            "accuracy": sum(t == p for t, p in chosen) / len(chosen),
            "undetermined": sum(p == "und" for _, p in chosen) / len(chosen),
        }
    for lang in ("en", "nl"):
        chosen = [(lang, detect_language(text)[0]) for _, t, text in items if t == lang]
        by_source[f"all {lang}"] = {
            "texts": len(chosen),
            "accuracy": sum(t == p for t, p in chosen) / len(chosen),
            "undetermined": sum(p == "und" for _, p in chosen) / len(chosen),
        }
    every = [(t, detect_language(text)[0]) for _, t, text in items]
    by_source["all"] = {
        "texts": len(every),
        "accuracy": sum(t == p for t, p in every) / len(every),
        "undetermined": sum(p == "und" for _, p in every) / len(every),
    }
    return by_source


# --- urgency policy on the demo ----------------------------------------------------------


def urgency_policy() -> dict[str, Any]:
    from connectors.codec import decode_mention
    from routing.classifier import MentionClassifier
    from routing.tagger import Tagger
    from routing.urgency import UrgencyPolicy

    with (DEMO / "seed_mentions.csv").open(newline="", encoding="utf-8") as handle:
        seed = list(csv.DictReader(handle))
    clf = MentionClassifier.fit(
        [r["text"] for r in seed],
        {h: [r[h] for r in seed] for h in ("topic", "urgency", "sentiment")},
    )
    stream = [decode_mention(line) for line in (DEMO / "stream.jsonl").read_bytes().splitlines()]
    taxonomy = _taxonomy(clf.heads["topic"])
    truth = [m.labels["urgency"] for m in stream]
    result: dict[str, Any] = {"mentions": len(stream)}
    for name, policy in (("model alone", None), ("model + policy", UrgencyPolicy())):
        tagged = Tagger(clf, taxonomy, policy=policy).tag(stream)
        predicted = [c.urgency.value for c in tagged]
        acc, f1 = _scores(truth, predicted)
        order = ["low", "normal", "high", "critical"]
        under = sum(order.index(p) < order.index(t) for p, t in zip(predicted, truth, strict=True))
        reasons = Counter(r.split(":")[0] for c in tagged for r in c.urgency_reasons)
        result[name] = {"accuracy": acc, "macro_f1": f1, "under_rated": under / len(stream),
                        "reasons": dict(reasons.most_common())}  # fmt: skip
    return result


def _taxonomy(topics: Sequence[str]) -> Any:
    from routing.models import Taxonomy, Urgency

    return Taxonomy.model_validate(
        {
            "topics": {t: {"handling_minutes": 5} for t in [*topics, "unknown"]},
            "urgency": {u.value: {"sla_minutes": 60, "weight": 1} for u in Urgency},
        }
    )


# --- speed ---------------------------------------------------------------------------------


def speed(repeat: int) -> dict[str, Any]:
    from routing.classifier import MentionClassifier
    from routing.models import Author, Mention
    from routing.tagger import Tagger
    from routing.urgency import UrgencyPolicy

    train, test = airline_split()
    labels = {
        "topic": [airline_topic(r) for r in train],
        "sentiment": [r["airline_sentiment"] for r in train],
    }
    clf = MentionClassifier.fit([r["text"] for r in train], labels)
    taxonomy = _taxonomy(clf.heads["topic"])
    texts = [r["text"] for r in test][:2048]
    start = datetime(2026, 3, 2, tzinfo=UTC)
    mentions = [
        Mention(
            id=f"x:{i}",
            platform="x",
            text=text,
            created_at=start + timedelta(seconds=i),
            author=Author(id=f"u{i % 700}", followers=(i * 37) % 20_000),
        )
        for i, text in enumerate(texts)
    ]  # fmt: skip  (no `lang`: every mention goes through language detection)
    result: dict[str, Any] = {
        "texts": len(texts),
        "repeat": repeat,
        "model_version": clf.version,
        "load_average_before": os.getloadavg()[0],
    }
    # Runs interleave (bare, tagger, each batch size, round after round), so that the load of
    # a shared machine falls on every figure alike; each figure is the median of its runs.
    bare: dict[int, list[float]] = {1: [], 32: [], 1024: []}
    tagged: dict[int, list[float]] = {1: [], 32: [], 1024: []}
    for _ in range(repeat):
        for batch in bare:
            count = 512 if batch == 1 else len(texts)
            bare[batch].append(_rate(partial(_classify, clf, texts), count, batch))
            # A fresh tagger per run: the repeat-complaint memory starts empty each time.
            tagger = Tagger(clf, taxonomy, policy=UrgencyPolicy())
            tagged[batch].append(_rate(partial(_tag, tagger, mentions), count, batch))
    for batch in bare:
        rate = statistics.median(tagged[batch])
        result[f"batch {batch}"] = {
            "classifier_docs_per_second": statistics.median(bare[batch]),
            "tagger_docs_per_second": rate,
            "tagger_ms_per_mention": 1000.0 / rate,
        }
    result["load_average_after"] = os.getloadavg()[0]
    return result


def _tag(tagger: Any, mentions: list[Any], lo: int, hi: int) -> object:
    return tagger.tag(mentions[lo:hi])


def _classify(clf: Any, texts: list[str], lo: int, hi: int) -> object:
    return clf.classify_batch(texts[lo:hi])


def _rate(work: Callable[[int, int], object], count: int, batch: int) -> float:
    """Documents per second over one pass of ``count`` documents in batches of ``batch``."""
    started = time.perf_counter()
    for lo in range(0, count, batch):
        work(lo, min(lo + batch, count))
    return count / (time.perf_counter() - started)


# --- report --------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    lines = [
        "# Classifier report",
        "",
        f"Produced by `{COMMAND}` on {report['machine']} (one core), "
        f"scikit-learn {report['scikit_learn']}, in {report['seconds']:.0f} s.",
        "",
        "## Quality (ours vs plain baseline, same split, same run)",
        "",
        "Ours: word 1-2-grams + char 3-5-grams (TF-IDF), one-vs-rest linear SVM per head, C chosen "
        "by 3-fold CV on the training data (macro-F1), softmax temperature fitted on out-of-fold "
        "scores. Baseline: TF-IDF word 1-2-grams + logistic regression (scikit-learn defaults).",
        "",
        "| dataset | head | split | train | test | classes | accuracy | macro-F1 "
        "| baseline acc | baseline macro-F1 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["quality"]:
        spread = f" ± {r['accuracy_std']:.3f}" if "accuracy_std" in r else ""
        lines.append(
            f"| {r['dataset']} | {r['head']} | {r['split']} | {r['train']:.0f} | {r['test']:.0f} | "
            f"{r['classes']} | {r['accuracy']:.3f}{spread} | {r['macro_f1']:.3f} | "
            f"{r['baseline_accuracy']:.3f} | {r['baseline_macro_f1']:.3f} |"
        )
    lines += ["", "## Goals", "", "| goal | target | reached | met |", "|---|---:|---:|---|"]
    for goal in report["goals"]:
        met = "yes" if goal["met"] else "**no**"
        lines.append(f"| {goal['goal']} | {goal['target']} | {goal['reached']:.3f} | {met} |")
    lines += ["", "What a pretrained sentence encoder would add to the quality, and cost in speed: "
              "`ENCODER.md` (`make bench-encoder`)."]  # fmt: skip
    cal = report["calibration"]
    lines += [
        "",
        "## Calibration and the unknown topic (airline test day)",
        "",
        "| head | temperature | mean confidence | accuracy | ECE |",
        "|---|---:|---:|---:|---:|",
    ]
    for head, c in cal.items():
        lines.append(
            f"| {head} | {c['temperature']:.3f} | {c['mean_confidence']:.3f} | "
            f"{c['accuracy']:.3f} | {c['ece']:.3f} |"
        )
    lines += ["", "| topic threshold | coverage (not `unknown`) | accuracy of covered |",
              "|---:|---:|---:|"]  # fmt: skip
    for u in cal["topic"]["unknown"]:
        mark = " (default)" if u["default"] else ""
        lines.append(
            f"| {u['threshold']}{mark} | {u['coverage']:.3f} | {u['accuracy_of_covered']:.3f} |"
        )
    lines += ["", "## Language detection (mixed English/Dutch set)", "",
              "| set | texts | accuracy | undetermined |", "|---|---:|---:|---:|"]  # fmt: skip
    for source, s in report["language"].items():
        lines.append(f"| {source} | {s['texts']} | {s['accuracy']:.3f} | {s['undetermined']:.3f} |")
    pol = report["urgency_policy"]
    lines += ["", f"## Urgency policy on the demo stream ({pol['mentions']} mentions, "
              "model trained on the demo seed set)", "",
              "| urgency from | accuracy | macro-F1 | rated below the label | reasons fired |",
              "|---|---:|---:|---:|---|"]  # fmt: skip
    for name in ("model alone", "model + policy"):
        p = pol[name]
        fired = ", ".join(f"{k} {v}" for k, v in p["reasons"].items()) or "-"
        lines.append(
            f"| {name} | {p['accuracy']:.3f} | {p['macro_f1']:.3f} | "
            f"{p['under_rated']:.3f} | {fired} |"
        )
    sp = report["speed"]
    lines += ["", f"## Speed (one core, medians of {sp['repeat']} runs, airline tweets)", "",
              "| batch | classifier docs/s | Tagger.tag docs/s | Tagger.tag ms per mention |",
              "|---:|---:|---:|---:|"]  # fmt: skip
    for batch in (1, 32, 1024):
        s = sp[f"batch {batch}"]
        lines.append(
            f"| {batch} | {s['classifier_docs_per_second']:,.0f} | "
            f"{s['tagger_docs_per_second']:,.0f} | {s['tagger_ms_per_mention']:.3f} |"
        )
    lines += [
        "",
        "`Tagger.tag` includes language detection (no mention carries `lang`) and the urgency "
        "policy with its repeat-complaint memory. The machine is shared: its 1-minute load "
        f"average was {sp['load_average_before']:.1f} before and {sp['load_average_after']:.1f} "
        f"after the speed runs ({os.cpu_count()} cores), so these are lower bounds.",
        "",
    ]
    return "\n".join(lines)


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    def row(dataset: str, head: str) -> Row:
        return next(
            r for r in report["quality"] if r["dataset"].startswith(dataset) and r["head"] == head
        )

    sp = report["speed"]
    banking, airline_sentiment, airline_topic = (
        row("BANKING77", "topic")["accuracy"],
        row("airline", "sentiment")["accuracy"],
        row("airline", "topic")["macro_f1"],
    )
    found = [
        ("BANKING77 5-fold CV accuracy", 0.93, banking, True),
        ("airline sentiment accuracy (time split)", 0.83, airline_sentiment, True),
        ("airline topic macro-F1 (time split)", 0.58, airline_topic, True),
        ("Tagger.tag mentions/s at batch 1,024", 5000, _speed(sp, 1024, "docs"), True),
        ("Tagger.tag ms per mention at batch 1", 2.0, _speed(sp, 1, "ms"), False),
    ]
    return [
        {"goal": g, "target": t, "reached": v, "met": v >= t if higher else v < t}
        for g, t, v, higher in found
    ]


def _speed(speed: dict[str, Any], batch: int, unit: str) -> float:
    figures = speed[f"batch {batch}"]
    return float(
        figures["tagger_docs_per_second"] if unit == "docs" else figures["tagger_ms_per_mention"]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip BANKING77 and use 3 speed runs")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default {RESULTS}")
    parser.add_argument("--markdown", type=Path, default=MARKDOWN, help=f"default {MARKDOWN}")
    args = parser.parse_args(argv)
    core = one_core()
    started = time.perf_counter()
    report: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}, core {core}",
        "scikit_learn": sklearn.__version__,
        "python": platform.python_version(),
    }
    step = _stepper()
    airline_rows, report["calibration"] = step("airline tweets", airline)
    quality = list(airline_rows)
    if not args.quick:
        quality += step("BANKING77", banking77)
    quality += step("complaint severity", complaint_severity)
    quality += step("twcs topics", twcs_topics)
    report["quality"] = quality
    report["language"] = step("language detection", language)
    report["urgency_policy"] = step("urgency policy", urgency_policy)
    report["speed"] = step("speed", lambda: speed(3 if args.quick else 7))
    if args.quick:  # the BANKING77 goal needs the full run
        report["quality"].append({"dataset": "BANKING77 (skipped: --quick)", "head": "topic",
                                  "accuracy": float("nan"), "macro_f1": float("nan")})  # fmt: skip
    report["seconds"] = time.perf_counter() - started
    report["goals"] = goals(report)
    markdown = render({**report, "quality": [r for r in quality if "split" in r]})
    print(markdown)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    args.markdown.write_text(markdown, encoding="utf-8")
    print(f"\nwrote {args.json} and {args.markdown}", file=sys.stderr)
    return 0


def _stepper() -> Callable[[str, Callable[[], Any]], Any]:
    def step(name: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        print(f"{name} ...", file=sys.stderr, flush=True)
        result = work()
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        return result

    return step


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())

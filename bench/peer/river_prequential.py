#!/usr/bin/env python3
"""Peer comparison: River (online learning in Python) on the same UserFeatures stream as our trainer.

Reads the JSONL the pipeline benchmark exported during the same run, one line per UserFeatures
message in stream order: {"user_id", "as_of", "x": [feature vector from @app/model featureVector],
"y": {"<target>": "<class>", ...}} (attributes known for the user, and purchase_24h when the stream
reveals it). For each target and model it runs prequential (test-then-train) evaluation: every
sample is first predicted, scored, then learnt from. Prints one JSON object on stdout.
"""
import argparse
import json
import sys
import time

from river import ensemble, forest, linear_model, metrics, multiclass, preprocessing, tree, utils


def make_models(n_models: int):
    """The strongest suitable River models for small tabular streams, each behind a scaler."""
    return {
        "logistic_regression": lambda binary: preprocessing.StandardScaler()
        | (linear_model.LogisticRegression() if binary else multiclass.OneVsRestClassifier(linear_model.LogisticRegression())),
        "hoeffding_adaptive_tree": lambda binary: preprocessing.StandardScaler() | tree.HoeffdingAdaptiveTreeClassifier(seed=1),
        "adaptive_random_forest": lambda binary: preprocessing.StandardScaler() | forest.ARFClassifier(n_models=n_models, seed=1),
        "bagging_hoeffding": lambda binary: preprocessing.StandardScaler()
        | ensemble.BaggingClassifier(model=tree.HoeffdingTreeClassifier(), n_models=n_models, seed=1),
    }


def load(path: str, limit: int):
    samples = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            s = json.loads(line)
            samples.append(({f"f{i}": float(v) for i, v in enumerate(s["x"])}, s["y"]))
            if limit and len(samples) >= limit:
                break
    return samples


def evaluate(samples, target: str, build, binary: bool, window: int, budget_s: float):
    model = build(binary)
    acc, f1 = metrics.Accuracy(), metrics.MacroF1()
    racc, rf1 = utils.Rolling(metrics.Accuracy, window_size=window), utils.Rolling(metrics.MacroF1, window_size=window)
    counts = {}
    n = 0
    t0 = time.perf_counter()
    for x, y in samples:
        if target not in y:
            continue
        # Binary targets ("0"/"1") as booleans: River's binary classifiers predict True/False.
        label = (y[target] == "1") if binary else y[target]
        pred = model.predict_one(x)
        if pred is not None:
            acc.update(label, pred)
            f1.update(label, pred)
            racc.update(label, pred)
            rf1.update(label, pred)
        model.learn_one(x, label)
        counts[label] = counts.get(label, 0) + 1
        n += 1
        if budget_s and time.perf_counter() - t0 > budget_s:
            break
    seconds = time.perf_counter() - t0
    majority = max(counts.values()) / n if n else None
    return {
        "n": n,
        "accuracy": acc.get() if n else None,
        "macro_f1": f1.get() if n else None,
        "window_accuracy": racc.get() if n else None,
        "window_macro_f1": rf1.get() if n else None,
        "majority_accuracy": majority,
        "classes": sorted(str(int(c)) if isinstance(c, bool) else c for c in counts),
        "seconds": seconds,
        "samples_per_s": n / seconds if seconds > 0 else None,
        "truncated_by_budget": bool(budget_s and seconds > budget_s),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True)
    ap.add_argument("--limit", type=int, default=0, help="most samples to read (0 = all)")
    ap.add_argument("--window", type=int, default=1000, help="sliding window of the window_* metrics")
    ap.add_argument("--n-models", type=int, default=5, help="ensemble size")
    ap.add_argument("--budget-s", type=float, default=60.0, help="time budget per model and target (0 = none)")
    ap.add_argument("--models", default="", help="comma-separated subset of models")
    args = ap.parse_args()

    samples = load(args.samples, args.limit)
    targets = sorted({t for _, y in samples for t in y})
    models = make_models(args.n_models)
    if args.models:
        models = {k: v for k, v in models.items() if k in args.models.split(",")}
    import river

    out = {"library": "river", "version": river.__version__, "python": sys.version.split()[0], "samples": len(samples),
           "window": args.window, "n_models": args.n_models, "targets": {}}
    for target in targets:
        out["targets"][target] = {}
        for name, build in models.items():
            binary = all(y.get(target) in (None, "0", "1") for _, y in samples)
            out["targets"][target][name] = evaluate(samples, target, build, binary, args.window, args.budget_s)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Offline ceiling for JData attribute prediction: how much do the sample's actions say about age, sex, user_lv_cd?

What it is
    `npm run eval` predicts JData users' attributes with our online model and compares its macro-F1
    on held-out users with the majority-class baseline. This script asks the question behind that
    number offline: with *everything* a user did in the sample, summarised per user, can a plain,
    well-regularised classifier beat the majority baseline at all? If not, the data carries too
    little signal and the online model cannot be blamed for failing to do so.

    Features (actions only; never user_reg_tm or any label column): log1p counts per action type and
    in total, distinct skus/brands/categories/model_ids, share of actions per category, share of the
    30 most frequent brands (frequency over all action rows, label-free) and "other", hour-of-day
    histogram shares (times are China local time), active days, months seen, activity span,
    purchase/view, cart/view, click/view ratios, share of empty model_id. Exact duplicate action rows
    are dropped (the ingestor deduplicates too); `--keep-duplicates` keeps them. Features are
    standardised with the training fold's mean and std.

    Protocol (like the eval): labelled users = users with actions and at least one known attribute
    (age "-1", sex "2" and empty cells are unknown); per attribute only users with a known value.
    Repeated seeded stratified 5-fold cross-validation (default 5 repeats, seeds 1..5 -> 25 folds).
    Macro-F1 is over the classes present in the test truth or the training labels (as
    tools/eval/metrics.ts). Models, all multinomial logistic regression in numpy/scipy (L-BFGS, L2,
    unpenalised intercept; L2 strength picked from a grid by inner 3-fold log-loss on the training
    folds only):
      lr_argmax     plain argmax of the predicted probabilities
      lr_balanced   class-balanced sample weights (n / (K * n_class)), argmax
      lr_offsets    the plain model plus per-class decision offsets on the log-probabilities, tuned
                    for macro-F1 on the inner out-of-fold predictions of the training folds (never
                    on the test fold)
    Baselines: majority class of the training fold (macro-F1 and accuracy per fold), and a
    label-permutation control: each model trained on the training fold with its labels shuffled,
    scored on the true test labels -- the macro-F1 a model reaches with no signal at all (this
    matters: any rule that predicts minority classes at their base rate already beats the
    majority baseline's macro-F1 slightly, so "beats majority" alone is a weak bar).

How to run (from the repository root; the venv is the one `npm run bench:peer` creates via
bench/peer/river.ts, .cache/venv-river with river pinned -- it brings numpy and scipy):
    .cache/venv-river/bin/python bench/peer/ceiling-jdata.py --data ../shared/data/jdata-2017-sample --out reports/jdata-ceiling.json
    Options: --repeats 5 --folds 5 --top-brands 30 --keep-duplicates. Single-threaded; about 100 s on a busy 2-core machine (--no-permuted-control halves it).

How to read it
    stdout: a Markdown table per attribute and model: mean +- std over the folds of macro-F1 and
    accuracy, the majority baseline beside it, the permuted-label control, n users and class counts,
    and a verdict line: "beats majority" when the best model's mean macro-F1 exceeds the majority
    baseline's by more than one std of the best model's fold scores. Also the paired per-fold gain
    over majority and over the permuted control (mean +- std). The best model is picked by mean
    test macro-F1 over three candidates (slightly optimistic). The JSON (--out) holds the config,
    features, class counts, every fold's scores and the summaries.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # stay single-threaded: the machine is shared

import argparse
import csv
import json
import sys
import time
from collections import Counter, defaultdict

import numpy as np
from scipy.optimize import minimize

ATTRIBUTES = ("age", "sex", "user_lv_cd")
UNKNOWN = {"age": {"-1", ""}, "sex": {"2", ""}, "user_lv_cd": {"-1", ""}}
ACTION_FILES = ("JData_Action_201602.csv", "JData_Action_201603.csv", "JData_Action_201604.csv")
TYPES = (1, 2, 3, 4, 5, 6)
TYPE_NAMES = {1: "view", 2: "cart_add", 3: "cart_remove", 4: "purchase", 5: "favorite", 6: "click"}
LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0)
MODELS = ("lr_argmax", "lr_balanced", "lr_offsets")


def norm_id(s: str) -> str:
    s = s.strip()
    return s[:-2] if s.endswith(".0") else s


# ---------------------------------------------------------------- data and features
def load_actions(data_dir: str, keep_duplicates: bool):
    rows, seen, dups = [], set(), 0
    for name in ACTION_FILES:
        with open(os.path.join(data_dir, name), newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                key = (r["user_id"], r["sku_id"], r["time"], r["model_id"], r["type"], r["cate"], r["brand"])
                if not keep_duplicates:
                    if key in seen:
                        dups += 1
                        continue
                    seen.add(key)
                uid = norm_id(r["user_id"])
                if not uid:
                    continue
                rows.append((uid, r["sku_id"].strip(), r["time"].strip(), r["model_id"].strip(), int(r["type"]), r["cate"].strip(), r["brand"].strip(), name[12:18]))
    return rows, dups


def load_users(data_dir: str):
    with open(os.path.join(data_dir, "JData_User.csv"), newline="", encoding="utf-8") as f:
        return {norm_id(r["user_id"]): {a: r[a].strip() for a in ATTRIBUTES} for r in csv.DictReader(f)}


def build_features(rows, top_brands: int):
    by_user = defaultdict(list)
    for r in rows:
        by_user[r[0]].append(r)
    cates = sorted({r[5] for r in rows}, key=lambda c: (len(c), c))
    brand_freq = Counter(r[6] for r in rows)  # label-free: frequency over all action rows
    brands = [b for b, _ in sorted(brand_freq.items(), key=lambda kv: (-kv[1], kv[0]))[:top_brands]]
    months = sorted({r[7] for r in rows})
    names = [f"log1p_n_{TYPE_NAMES[t]}" for t in TYPES] + ["log1p_n_total"]
    names += ["log1p_distinct_sku", "log1p_distinct_brand", "log1p_distinct_cate", "log1p_distinct_model_id"]
    names += [f"share_type_{TYPE_NAMES[t]}" for t in TYPES]
    names += [f"share_cate_{c}" for c in cates]
    names += [f"share_brand_{b}" for b in brands] + ["share_brand_other"]
    names += [f"share_hour_{h:02d}" for h in range(24)]
    names += ["active_days", f"n_months_of_{len(months)}"] + [f"in_month_{m}" for m in months]
    names += ["log1p_span_minutes", "purchase_per_view", "cart_add_per_view", "click_per_view", "share_empty_model_id"]
    cate_ix = {c: i for i, c in enumerate(cates)}
    brand_ix = {b: i for i, b in enumerate(brands)}
    month_ix = {m: i for i, m in enumerate(months)}
    users = sorted(by_user)
    X = np.zeros((len(users), len(names)))
    for ui, u in enumerate(users):
        rs = by_user[u]
        n = len(rs)
        tc = Counter(r[4] for r in rs)
        v = [np.log1p(tc.get(t, 0)) for t in TYPES] + [np.log1p(n)]
        v += [np.log1p(len({r[i] for r in rs})) for i in (1, 6, 5)] + [np.log1p(len({r[3] for r in rs if r[3]}))]
        v += [tc.get(t, 0) / n for t in TYPES]
        cs = np.zeros(len(cates))
        bs = np.zeros(len(brands) + 1)
        hs = np.zeros(24)
        ms = np.zeros(len(months))
        for r in rs:
            cs[cate_ix[r[5]]] += 1
            bs[brand_ix.get(r[6], len(brands))] += 1
            hs[int(r[2][11:13])] += 1
            ms[month_ix[r[7]]] = 1
        v += list(cs / n) + list(bs / n) + list(hs / n)
        days = {r[2][:10] for r in rs}
        ts = sorted(np.datetime64(r[2].replace(" ", "T")) for r in rs)
        span = (ts[-1] - ts[0]) / np.timedelta64(1, "m")
        views = tc.get(1, 0)
        v += [len(days), ms.sum()] + list(ms)
        v += [np.log1p(span), tc.get(4, 0) / (views + 1), tc.get(2, 0) / (views + 1), tc.get(6, 0) / (views + 1), sum(1 for r in rs if not r[3]) / n]
        X[ui] = v
    return users, X, names, {"categories": cates, "top_brands": brands, "months": months}


# ---------------------------------------------------------------- model
def logsumexp(Z, axis=1):
    m = Z.max(axis=axis)
    return m + np.log(np.exp(Z - np.expand_dims(m, axis)).sum(axis=axis))


def fit_lr(X, y, K, lam, w=None, init=None):
    """Multinomial logistic regression, mean (weighted) log-loss + lam/2 * ||W||^2 (intercept free).
    `init` (a previous fit) warm-starts the optimiser; the optimum does not depend on it (convex)."""
    n, d = X.shape
    w = np.ones(n) if w is None else w
    w = w / w.sum()
    Y = np.zeros((n, K))
    Y[np.arange(n), y] = 1.0

    def f(theta):
        W = theta[: d * K].reshape(d, K)
        b = theta[d * K:]
        Z = X @ W + b
        lse = logsumexp(Z, axis=1)
        loss = np.dot(w, lse - Z[np.arange(n), y]) + 0.5 * lam * np.sum(W * W)
        P = np.exp(Z - lse[:, None])
        G = (P - Y) * w[:, None]
        return loss, np.concatenate([(X.T @ G + lam * W).ravel(), G.sum(0)])

    x0 = np.zeros(d * K + K) if init is None else np.concatenate([init[0].ravel(), init[1]])
    res = minimize(f, x0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[: d * K].reshape(d, K), res.x[d * K:]


def log_proba(model, X):
    W, b = model
    Z = X @ W + b
    return Z - logsumexp(Z, axis=1)[:, None]


def standardize(Xtr, Xte):
    mu = Xtr.mean(0)
    sd = Xtr.std(0)
    sd[sd < 1e-12] = 1.0
    return (Xtr - mu) / sd, (Xte - mu) / sd


def balanced_weights(y, K):
    cnt = np.bincount(y, minlength=K).astype(float)
    present = (cnt > 0).sum()
    return len(y) / (present * cnt[y])


def macro_f1(truth, pred, classes):
    if len(classes) == 0:
        return 0.0
    s = 0.0
    for c in classes:
        tp = np.sum((pred == c) & (truth == c))
        fp = np.sum((pred == c) & (truth != c))
        fn = np.sum((pred != c) & (truth == c))
        s += 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return s / len(classes)


def stratified_folds(y, k, rng):
    fold = np.empty(len(y), dtype=int)
    start = 0
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        fold[idx] = (start + np.arange(len(idx))) % k
        start = (start + len(idx)) % k  # spread remainders of small classes over folds
    return fold


def tune_offsets(logp, y, classes, grid=np.arange(-5.0, 5.01, 0.25), passes=3):
    """Per-class offsets on log-probabilities maximising macro-F1 (coordinate ascent, ties keep 0)."""
    K = logp.shape[1]
    off = np.zeros(K)
    best = macro_f1(y, np.argmax(logp + off, 1), classes)
    for _ in range(passes):
        improved = False
        for k in range(1, K) if K > 1 else []:
            for g in grid:
                trial = off.copy()
                trial[k] = g
                s = macro_f1(y, np.argmax(logp + trial, 1), classes)
                if s > best + 1e-12 or (abs(s - best) <= 1e-12 and abs(g) < abs(off[k])):
                    best, off, improved = s, trial, improved or s > best + 1e-12
        if not improved:
            break
    return off


def fit_all(Xtr, ytr, K, rng):
    """Pick L2 strengths by inner 3-fold log-loss, tune offsets on inner OOF; return the three models."""
    inner = stratified_folds(ytr, 3, rng)
    oof = {lam: np.zeros((len(ytr), K)) for lam in LAMBDAS}
    oof_b = {lam: np.zeros((len(ytr), K)) for lam in LAMBDAS}
    for f in range(3):
        tr, va = inner != f, inner == f
        A, B = standardize(Xtr[tr], Xtr[va])
        wb = balanced_weights(ytr[tr], K)
        ma = mb = None
        for lam in sorted(LAMBDAS, reverse=True):  # strong to weak penalty, each warm-started from the last
            ma = fit_lr(A, ytr[tr], K, lam, init=ma)
            mb = fit_lr(A, ytr[tr], K, lam, wb, init=mb)
            oof[lam][va] = log_proba(ma, B)
            oof_b[lam][va] = log_proba(mb, B)
    idx = np.arange(len(ytr))
    wfull = balanced_weights(ytr, K)
    lam_a = min(LAMBDAS, key=lambda l: -np.mean(oof[l][idx, ytr]))
    lam_b = min(LAMBDAS, key=lambda l: -np.average(oof_b[l][idx, ytr], weights=wfull))
    inner_classes = np.unique(ytr)
    offsets = tune_offsets(oof[lam_a], ytr, inner_classes)
    return lam_a, lam_b, offsets


def evaluate_attribute(X, y_str, repeats, k, permute):
    classes_str = sorted(set(y_str))
    cix = {c: i for i, c in enumerate(classes_str)}
    y = np.array([cix[c] for c in y_str])
    K = len(classes_str)
    folds = []
    for seed in range(1, repeats + 1):
        rng = np.random.default_rng(seed)
        fold = stratified_folds(y, k, rng)
        for f in range(k):
            tr, te = fold != f, fold == f
            ytr, yte = y[tr], y[te]
            classes = np.array(sorted(set(yte) | set(ytr)))
            cnt = np.bincount(ytr, minlength=K)
            maj = int(np.argmax(cnt))  # ties -> lowest class name, as majorityClass in tools/eval
            rec = {"seed": seed, "fold": f, "n_test": int(te.sum()), "majority_class": classes_str[maj],
                   "majority": {"macro_f1": macro_f1(yte, np.full(len(yte), maj), classes), "accuracy": float(np.mean(yte == maj))}}
            variants = [("", ytr)]
            if permute:
                variants.append(("permuted_", np.random.default_rng(10_000 + 100 * seed + f).permutation(ytr)))
            for prefix, yfit in variants:
                Xtr = X[tr]
                lam_a, lam_b, off = fit_all(Xtr, yfit, K, np.random.default_rng(1_000 + 100 * seed + f))
                A, B = standardize(Xtr, X[te])
                lp_a = log_proba(fit_lr(A, yfit, K, lam_a), B)
                lp_b = log_proba(fit_lr(A, yfit, K, lam_b, balanced_weights(yfit, K)), B)
                preds = {"lr_argmax": np.argmax(lp_a, 1), "lr_balanced": np.argmax(lp_b, 1), "lr_offsets": np.argmax(lp_a + off, 1)}
                for m, p in preds.items():
                    rec[prefix + m] = {"macro_f1": macro_f1(yte, p, classes), "accuracy": float(np.mean(yte == p))}
                if not prefix:
                    rec["params"] = {"lambda_argmax": lam_a, "lambda_balanced": lam_b, "offsets": [round(float(o), 2) for o in off]}
            folds.append(rec)
    return classes_str, folds


def summarise(folds, permute):
    keys = ["majority"] + list(MODELS) + ([f"permuted_{m}" for m in MODELS] if permute else [])
    out = {}
    for key in keys:
        out[key] = {}
        for metric in ("macro_f1", "accuracy"):
            v = np.array([r[key][metric] for r in folds])
            out[key][metric] = {"mean": float(v.mean()), "std": float(v.std(ddof=1))}
    best = max(MODELS, key=lambda m: out[m]["macro_f1"]["mean"])
    b = np.array([r[best]["macro_f1"] for r in folds])
    maj = np.array([r["majority"]["macro_f1"] for r in folds])
    gain = b - maj
    verdict = {"best_model": best,
               "best_macro_f1": out[best]["macro_f1"],
               "majority_macro_f1": out["majority"]["macro_f1"],
               "gain_over_majority": {"mean": float(gain.mean()), "std": float(gain.std(ddof=1)), "folds_won": int((gain > 0).sum()), "folds": len(gain)},
               "beats_majority_by_more_than_one_std": bool(out[best]["macro_f1"]["mean"] - out["majority"]["macro_f1"]["mean"] > out[best]["macro_f1"]["std"])}
    if permute:
        pm = np.array([r[f"permuted_{best}"]["macro_f1"] for r in folds])
        g2 = b - pm
        verdict["gain_over_permuted_control"] = {"mean": float(g2.mean()), "std": float(g2.std(ddof=1)), "folds_won": int((g2 > 0).sum()), "folds": len(g2)}
    return out, verdict


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data", "jdata-2017-sample"))
    ap.add_argument("--out", default=os.path.join("reports", "jdata-ceiling.json"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--top-brands", type=int, default=30)
    ap.add_argument("--keep-duplicates", action="store_true")
    ap.add_argument("--no-permuted-control", action="store_true")
    a = ap.parse_args()
    t0 = time.time()
    permute = not a.no_permuted_control

    rows, dups = load_actions(a.data, a.keep_duplicates)
    labels = load_users(a.data)
    users, X, names, vocab = build_features(rows, a.top_brands)
    known = lambda u, at: u in labels and labels[u][at] not in UNKNOWN[at]
    labelled = [i for i, u in enumerate(users) if any(known(u, at) for at in ATTRIBUTES)]

    report = {"what": "offline ceiling: L2 multinomial logistic regression on per-user action features, repeated stratified k-fold CV vs majority baseline",
              "command": "python " + " ".join(sys.argv),
              "config": {"data": a.data, "repeats": a.repeats, "folds": a.folds, "seeds": list(range(1, a.repeats + 1)), "top_brands": a.top_brands,
                         "drop_exact_duplicate_rows": not a.keep_duplicates, "lambda_grid": list(LAMBDAS), "inner_folds": 3, "permuted_control": permute},
              "data": {"action_rows_used": len(rows), "duplicate_rows_dropped": dups, "users_with_actions": len(users), "labelled_users": len(labelled)},
              "features": names, "vocab": vocab, "attributes": {}}
    md = [f"JData ceiling: {len(rows)} action rows ({dups} exact duplicates dropped), {len(users)} users with actions, {len(labelled)} labelled; "
          f"{a.repeats}x{a.folds}-fold stratified CV (seeds 1..{a.repeats}), {len(names)} features.", ""]
    f = lambda s: f"{s['mean']:.3f} ± {s['std']:.3f}"
    for at in ATTRIBUTES:
        idx = [i for i in labelled if known(users[i], at)]
        y_str = [labels[users[i]][at] for i in idx]
        classes, folds = evaluate_attribute(X[idx], y_str, a.repeats, a.folds, permute)
        summ, verdict = summarise(folds, permute)
        counts = dict(sorted(Counter(y_str).items()))
        report["attributes"][at] = {"n": len(idx), "class_counts": counts, "summary": summ, "verdict": verdict, "folds": folds}
        md.append(f"### {at} — n={len(idx)}, classes {json.dumps(counts, ensure_ascii=False)}")
        md.append("")
        md.append("| model | macro-F1 | accuracy | permuted-label control macro-F1 |")
        md.append("|---|---|---|---|")
        md.append(f"| majority (train fold) | {f(summ['majority']['macro_f1'])} | {f(summ['majority']['accuracy'])} | |")
        for m in MODELS:
            pc = f(summ[f'permuted_{m}']['macro_f1']) if permute else ""
            md.append(f"| {m} | {f(summ[m]['macro_f1'])} | {f(summ[m]['accuracy'])} | {pc} |")
        g = verdict["gain_over_majority"]
        line = (f"Verdict: best {verdict['best_model']} {f(verdict['best_macro_f1'])} vs majority {verdict['majority_macro_f1']['mean']:.3f} → "
                f"{'BEATS' if verdict['beats_majority_by_more_than_one_std'] else 'does NOT beat'} majority by more than one std "
                f"(paired gain {g['mean']:+.3f} ± {g['std']:.3f}, won {g['folds_won']}/{g['folds']} folds")
        if permute:
            g2 = verdict["gain_over_permuted_control"]
            line += f"; vs permuted control {g2['mean']:+.3f} ± {g2['std']:.3f}, won {g2['folds_won']}/{g2['folds']}"
        md += ["", line + ").", ""]
    report["runtime_s"] = round(time.time() - t0, 1)
    md.append(f"runtime {report['runtime_s']} s")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as fh:
        json.dump(report, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()

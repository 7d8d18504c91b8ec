#!/usr/bin/env python3
"""SciPy's side of bench/drift.ts: the same drift statistics on the same data.

    python3 bench/drift_scipy.py <dir>

<dir> holds meta.json ({"features", "reference_rows", "current_rows", "bins"}) and the
columns as raw little-endian float64, one feature after another: reference.f64 and
current.f64 (written by bench/drift.ts). For every feature it computes, and times
separately: scipy.stats.ks_2samp (method='auto', asymptotic at these sizes),
scipy.stats.wasserstein_distance, PSI with NumPy on quantile bins of the reference, and
scipy.stats.chisquare of the current counts in those bins against the reference shares.
Prints one JSON object: seconds per statistic and the values per feature.
"""
import json
import os
import sys
import time

import numpy as np
import scipy
from scipy import stats

PSI_FLOOR = 1e-4


def psi_bins(ref, cur, bins):
    qs = np.quantile(ref, np.arange(1, bins) / bins)
    cuts = []
    for q in qs:
        if not cuts or q > cuts[-1]:
            cuts.append(q)
    cuts = np.asarray(cuts)
    rc = np.bincount(np.searchsorted(cuts, ref, side="right"), minlength=len(cuts) + 1)
    cc = np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=len(cuts) + 1)
    r = rc / rc.sum()
    c = cc / cc.sum()
    rf = np.where(r == 0, PSI_FLOOR, r)
    cf = np.where(c == 0, PSI_FLOOR, c)
    return float(np.sum((cf - rf) * np.log(cf / rf))), rc, cc


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "meta.json")) as fh:
        meta = json.load(fh)
    k, n_ref, n_cur, bins = meta["features"], meta["reference_rows"], meta["current_rows"], meta["bins"]
    ref_all = np.fromfile(os.path.join(folder, "reference.f64"), dtype="<f8").reshape(k, n_ref)
    cur_all = np.fromfile(os.path.join(folder, "current.f64"), dtype="<f8").reshape(k, n_cur)

    seconds = {"ks": 0.0, "wasserstein": 0.0, "psi": 0.0, "chisquare": 0.0}
    columns = []
    for j in range(k):
        ref, cur = ref_all[j], cur_all[j]
        t = time.perf_counter()
        ks = stats.ks_2samp(ref, cur)
        seconds["ks"] += time.perf_counter() - t

        t = time.perf_counter()
        wd = stats.wasserstein_distance(ref, cur)
        seconds["wasserstein"] += time.perf_counter() - t

        t = time.perf_counter()
        psi, rc, cc = psi_bins(ref, cur, bins)
        seconds["psi"] += time.perf_counter() - t

        t = time.perf_counter()
        keep = rc > 0  # bins the reference never filled would need the unseen rule; none here
        chi = stats.chisquare(cc[keep], rc[keep] / rc[keep].sum() * cc[keep].sum())
        seconds["chisquare"] += time.perf_counter() - t

        columns.append({
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "wasserstein": float(wd),
            "psi": psi,
            "chisquare_statistic": float(chi.statistic),
            "chisquare_pvalue": float(chi.pvalue),
            "all_bins_filled": bool(keep.all()),
        })

    print(json.dumps({
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__},
        "seconds": seconds,
        "total": sum(seconds.values()),
        "columns": columns,
    }))


if __name__ == "__main__":
    main()

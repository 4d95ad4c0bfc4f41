"""Test data and expected values for sluice's `distribution` check, from scipy.stats.

Writes the CSV files next to this script and prints what scipy (and the PSI formula
sluice documents) give on them; the numbers are copied into
crates/sluice-engine/tests/distribution.rs. Run with scipy, numpy (PyPI):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install scipy numpy
    /tmp/venv/bin/python tests/data/distribution/expected.py

Numeric: values rounded to 2 decimals (so there are ties). KS: scipy's ks_2samp D, and
the asymptotic p-value sluice reports, kstwobign.sf(sqrt(n*m/(n+m)) * D) (ks_2samp's
own 'asymp' method uses kstwo.sf(D, round(en)) instead: printed for comparison). PSI:
10 bins cut at the reference's quantiles (numpy's default linear interpolation, like
DataFusion's percentile_cont), bins (-inf, e1], (e1, e2], ..., (e9, inf), shares
floored at 1e-4, sum of (p - q) * ln(p / q).

Categorical: PSI over the values, and chi2_contingency(correction=False) on the
2 x k table (the test of homogeneity).
"""

import os

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
FLOOR = 1e-4


def write(name, header, values):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(header + "\n")
        for v in values:
            f.write(f"{v}\n")


def psi(a_counts, b_counts):
    a = np.asarray(a_counts, float) / sum(a_counts)
    b = np.asarray(b_counts, float) / sum(b_counts)
    a = np.maximum(a, FLOOR)
    b = np.maximum(b, FLOOR)
    return float(np.sum((a - b) * np.log(a / b)))


def bin_counts(x, edges):
    # (-inf, e1], (e1, e2], ..., (e_last, inf)
    idx = np.searchsorted(edges, x, side="left")
    return np.bincount(idx, minlength=len(edges) + 1)


def numeric(name, new, ref):
    d = stats.ks_2samp(new, ref, method="asymp")
    n, m = len(new), len(ref)
    en = n * m / (n + m)
    p_limit = stats.kstwobign.sf(np.sqrt(en) * d.statistic)
    edges = np.unique(np.quantile(ref, [i / 10 for i in range(1, 10)]))
    value = psi(bin_counts(new, edges), bin_counts(ref, edges))
    print(f"{name}: ks_d={float(d.statistic)!r} ks_p={float(p_limit)!r} (ks_2samp asymp p={float(d.pvalue)!r}) psi={value!r}")


def categorical(name, new, ref):
    cats = sorted(set(new) | set(ref))
    a = [new.count(c) for c in cats]
    b = [ref.count(c) for c in cats]
    chi2, p, dof, _ = stats.chi2_contingency([a, b], correction=False)
    print(f"{name}: psi={psi(a, b)!r} chi2={float(chi2)!r} dof={dof} chi2_p={float(p)!r}")


rng = np.random.default_rng(20261130)
ref = np.round(rng.normal(100, 15, 2000), 2)
same = np.round(rng.normal(100, 15, 1500), 2)
shifted = np.round(rng.normal(106, 15, 1500), 2)
write("reference.csv", "units", ref)
write("same.csv", "p50", same)
write("shifted.csv", "p50", shifted)
numeric("same", same, ref)
numeric("shifted", shifted, ref)

levels = ["north", "south", "east", "west"]
ref_c = list(rng.choice(levels, 3000, p=[0.4, 0.3, 0.2, 0.1]))
same_c = list(rng.choice(levels, 2000, p=[0.4, 0.3, 0.2, 0.1]))
shifted_c = list(rng.choice(levels, 2000, p=[0.3, 0.3, 0.2, 0.2]))
write("reference_regions.csv", "region", ref_c)
write("same_regions.csv", "region", same_c)
write("shifted_regions.csv", "region", shifted_c)
categorical("same_regions", same_c, ref_c)
categorical("shifted_regions", shifted_c, ref_c)

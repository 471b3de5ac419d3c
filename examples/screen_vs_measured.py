"""Do `ionmd screen`'s descriptors rank your structures as their measured conductivities do?

Reads OUT/screen.json (one `ionmd screen` folder) and a CSV of measured room-temperature
conductivities, matches rows by name (the screen names a row by its file's stem), and
prints, for MPE, Xi, FV_LM(0.5) and FV_E(0.5):

  * the Spearman rank correlation with log10(sigma) and its p-value (scipy.stats.spearmanr);
    MPE should correlate negatively, the free volumes and Xi positively;
  * the seed's good/poor split (Maevskiy et al. sec. II B, experimental data: good above
    5e-5 S/cm, poor below 1e-5 S/cm, the ones in between left out) as the area under the ROC
    curve: the chance that a random good conductor ranks above a random poor one (0.5 =
    no better than chance).

A structure screened without a percolating path (MPE empty) ranks last by MPE. Rows with a
narrow-cell note (`ionmd screen`'s "periodic images lie in planes ... apart") are counted
also apart, since their barriers are not a single ion's (docs/screen.md).

usage: python examples/screen_vs_measured.py OUT/screen.json measured.csv
           [--name-column ID] [--sigma-column "Ionic conductivity (S cm-1)"]

The defaults read OBELiX's all.csv (github.com/NRC-Mila/OBELiX, data/downloads/all.csv:
its CIFs are named by the ID column); entries such as "<1E-10" are skipped.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys

GOOD, POOR = 5e-5, 1e-5            # S/cm: the seed's thresholds for experimental data
DESCRIPTORS = (("mpe_eV", "MPE", -1), ("xi", "Xi", +1),
               ("fv_connected_0.5eV", "FV_LM(0.5)", +1), ("fv_disconnected_0.5eV", "FV_E(0.5)", +1))


def measured(path: str, name_column: str, sigma_column: str) -> dict[str, float]:
    """name -> sigma (S/cm) for the rows whose conductivity is a positive number."""
    out = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = {name_column, sigma_column} - set(reader.fieldnames or ())
        if missing:
            sys.exit(f"{path}: no column {', '.join(sorted(missing))} (columns: "
                     f"{', '.join(reader.fieldnames or ())}); name them with --name-column "
                     "and --sigma-column")
        for row in reader:
            try:
                sigma = float(row[sigma_column])
            except ValueError:          # "<1E-10", empty: not a measured value
                continue
            if sigma > 0:
                out[row[name_column]] = sigma
    return out


def value(row: dict, key: str) -> float:
    """A descriptor as a number; no percolating path (MPE empty) is +inf, ranked last."""
    v = row.get(key)
    return math.inf if v is None and key == "mpe_eV" else float(v)


def auc(scores_good: list[float], scores_poor: list[float]) -> float:
    """P(a good conductor's score > a poor one's), ties counting half: the Mann-Whitney U
    of the good scores over the number of pairs (scipy.stats.mannwhitneyu)."""
    from scipy.stats import mannwhitneyu

    if not scores_good or not scores_poor:
        return math.nan
    u = mannwhitneyu(scores_good, scores_poor).statistic
    return float(u) / (len(scores_good) * len(scores_poor))


def report(rows: list[dict], sigma: dict[str, float]) -> list[dict]:
    """One line per descriptor: n, Spearman rho and p, ROC AUC of the good/poor split."""
    from scipy.stats import spearmanr

    lg = [math.log10(sigma[r["name"]]) for r in rows]
    out = []
    for key, label, sign in DESCRIPTORS:
        x = [value(r, key) for r in rows]
        rho, p = spearmanr(x, lg) if len(rows) > 2 else (math.nan, math.nan)
        good = [sign * v for v, r in zip(x, rows) if sigma[r["name"]] > GOOD]
        poor = [sign * v for v, r in zip(x, rows) if sigma[r["name"]] < POOR]
        out.append({"descriptor": label, "n": len(rows), "rho": float(rho), "p": float(p),
                    "n_good": len(good), "n_poor": len(poor), "auc": auc(good, poor)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("screen_json", help="OUT/screen.json of `ionmd screen`")
    ap.add_argument("measured_csv", help="CSV with a name and a conductivity (S/cm) column")
    ap.add_argument("--name-column", default="ID", help="column of row names (ID)")
    ap.add_argument("--sigma-column", default="Ionic conductivity (S cm-1)",
                    help="column of conductivities, S/cm")
    args = ap.parse_args(argv)
    sigma = measured(args.measured_csv, args.name_column, args.sigma_column)
    rows = json.loads(open(args.screen_json).read())
    ok = [r for r in rows if r.get("status") == "ok"]
    matched = [r for r in ok if r["name"] in sigma]
    print(f"{len(rows)} rows, {len(ok)} screened, {len(matched)} with a measured sigma; "
          f"good > {GOOD:g} S/cm, poor < {POOR:g} S/cm")
    if not matched:
        sys.exit("no screened row's name is in the CSV's name column: check --name-column")
    wide = [r for r in matched if not r.get("note")]
    for label, subset in (("all", matched), ("cells >= 5 A wide (no note)", wide)):
        if not subset:
            print(f"-- {label}: none (every matched row has a narrow-cell note)")
            continue
        print(f"-- {label}")
        for line in report(subset, sigma):
            print(f"   {line['descriptor']:11s} n={line['n']:3d}  {spearman_text(line)}   "
                  f"{auc_text(line)}")
    return 0


def spearman_text(line: dict) -> str:
    """rho and p, or why there is none (a rank correlation of fewer than 3 rows, or of
    values all equal, is undefined: scipy gives nan)."""
    if line["n"] < 3:
        return f"Spearman rho: none ({line['n']} row(s), at least 3 needed)"
    if math.isnan(line["rho"]):
        return "Spearman rho: none (the descriptor or sigma is the same in every row)"
    return f"Spearman rho={line['rho']:+.3f} p={line['p']:.2g}"


def auc_text(line: dict) -> str:
    """AUC, or none where the group lacks good or poor conductors."""
    counts = f"{line['n_good']} good, {line['n_poor']} poor"
    if math.isnan(line["auc"]):
        return f"AUC: none ({counts}: needs both)"
    return f"AUC={line['auc']:.2f} ({counts})"


if __name__ == "__main__":
    raise SystemExit(main())

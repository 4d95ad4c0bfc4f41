//! The few distributions the comparison checks need for p-values, written out rather than
//! pulled in as a dependency: the Kolmogorov distribution (the limit of the two-sample
//! Kolmogorov–Smirnov statistic) and the chi-square survival function (through the
//! regularized incomplete gamma function); plus PSI and the chi-square test of
//! homogeneity. Accuracy: about 1e-12 relative against scipy.stats (see the tests).

/// `P(K > λ)` for the Kolmogorov distribution (scipy's `kstwobign.sf`).
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda.is_nan() {
        return f64::NAN;
    }
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.18 {
        // P(K <= λ) = sqrt(2π)/λ Σ exp(−(2k−1)²π²/(8λ²)), fast for small λ.
        let c = -std::f64::consts::PI.powi(2) / (8.0 * lambda * lambda);
        let mut sum = 0.0;
        for k in 1..=100 {
            let j = (2 * k - 1) as f64;
            let term = (c * j * j).exp();
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
        }
        (1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * sum).clamp(0.0, 1.0)
    } else {
        // P(K > λ) = 2 Σ (−1)^(k−1) exp(−2k²λ²), fast for large λ.
        let mut sum = 0.0;
        for k in 1..=100 {
            let kf = k as f64;
            let term = (-2.0 * kf * kf * lambda * lambda).exp();
            sum += if k % 2 == 1 { term } else { -term };
            if term < 1e-17 * sum.abs() {
                break;
            }
        }
        (2.0 * sum).clamp(0.0, 1.0)
    }
}

/// The asymptotic p-value of a two-sample KS statistic `d` between samples of `n` and `m`
/// values: `kolmogorov_sf(sqrt(n·m/(n+m)) · d)`.
pub fn ks_pvalue(d: f64, n: u64, m: u64) -> f64 {
    if n == 0 || m == 0 {
        return f64::NAN;
    }
    let (n, m) = (n as f64, m as f64);
    kolmogorov_sf((n * m / (n + m)).sqrt() * d)
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized upper incomplete gamma function `Q(a, x) = Γ(a, x) / Γ(a)`: a series
/// for `x < a + 1`, a continued fraction (modified Lentz) beyond.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x.is_nan() || a <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // P(a, x) = e^−x x^a / Γ(a+1) Σ x^n / ((a+1)...(a+n)).
        let (mut ap, mut term) = (a, 1.0 / a);
        let mut sum = term;
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (1.0 - sum * ln_front.exp()).clamp(0.0, 1.0)
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (ln_front.exp() * h).clamp(0.0, 1.0)
    }
}

/// `P(X > x)` for a chi-square variable with `dof` degrees of freedom (scipy's `chi2.sf`).
pub fn chi2_sf(x: f64, dof: f64) -> f64 {
    gamma_q(dof / 2.0, x / 2.0)
}

/// Shares of 0 count as this in PSI (so a bin empty on one side adds a large, finite term).
pub const PSI_FLOOR: f64 = 1e-4;

/// The population stability index of `actual` against `expected` counts, bin by bin:
/// `Σ (a_i − e_i) · ln(a_i / e_i)` over the shares, each share floored at [`PSI_FLOOR`].
/// Returns the total and each bin's term.
pub fn psi(actual: &[u64], expected: &[u64]) -> (f64, Vec<f64>) {
    let (na, ne) = (
        actual.iter().sum::<u64>() as f64,
        expected.iter().sum::<u64>() as f64,
    );
    let terms: Vec<f64> = actual
        .iter()
        .zip(expected)
        .map(|(&a, &e)| {
            let pa = share(a, na).max(PSI_FLOOR);
            let pe = share(e, ne).max(PSI_FLOOR);
            (pa - pe) * (pa / pe).ln()
        })
        .collect();
    (terms.iter().sum(), terms)
}

/// `part / whole`, 0 when `whole` is 0.
pub fn share(part: u64, whole: f64) -> f64 {
    if whole == 0.0 {
        0.0
    } else {
        part as f64 / whole
    }
}

/// The chi-square test of homogeneity of two samples' counts over the same categories
/// (a 2 × k contingency table, no continuity correction; scipy's
/// `chi2_contingency(..., correction=False)`). Categories empty on both sides are left
/// out. Returns the statistic, the degrees of freedom (k − 1) and the p-value; `None`
/// with fewer than two categories or an empty sample.
pub fn chi2_homogeneity(a: &[u64], b: &[u64]) -> Option<(f64, u64, f64)> {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    let cells: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| **x + **y > 0)
        .map(|(x, y)| (*x as f64, *y as f64))
        .collect();
    if cells.len() < 2 || na == 0.0 || nb == 0.0 {
        return None;
    }
    let total = na + nb;
    let stat: f64 = cells
        .iter()
        .map(|(x, y)| {
            let col = x + y;
            let (ea, eb) = (col * na / total, col * nb / total);
            (x - ea).powi(2) / ea + (y - eb).powi(2) / eb
        })
        .sum();
    let dof = (cells.len() - 1) as u64;
    Some((stat, dof, chi2_sf(stat, dof as f64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) {
        assert!(
            (a - b).abs() <= rel * b.abs().max(1e-300),
            "{a} is not within {rel} (relative) of {b}"
        );
    }

    /// Values from scipy 1.17 (`scipy.stats.kstwobign.sf`, `chi2.sf`, `math.lgamma`).
    #[test]
    fn kolmogorov_matches_scipy() {
        for (l, want) in [
            (0.2, 0.999999999999495),
            (0.5, 0.9639452436648751),
            (1.0, 0.26999967167735456),
            (1.1799, 0.12351204971188676),
            (1.36, 0.049485876755377876),
            (2.0, 0.0006709252557796953),
            (3.0, 3.045995948942526e-08),
        ] {
            close(kolmogorov_sf(l), want, 1e-10);
        }
        assert_eq!(kolmogorov_sf(0.0), 1.0);
    }

    #[test]
    fn chi_square_matches_scipy() {
        for (x, k, want) in [
            (3.84, 1.0, 0.05004352124870519),
            (10.0, 5.0, 0.07523524614651217),
            (100.0, 50.0, 3.454931382984871e-05),
            (0.5, 3.0, 0.9188914116546758),
            (1e-3, 2.0, 0.9995001249791693),
            (250.0, 200.0, 0.009379131668826098),
            (30.0, 1.0, 4.3204630578274955e-08),
        ] {
            close(chi2_sf(x, k), want, 1e-10);
        }
        close(ln_gamma(0.5), 0.5723649429247004, 1e-13);
        close(ln_gamma(10.3), 13.48203678613836, 1e-13);
        close(ln_gamma(200.5), 860.5822035097825, 1e-13);
    }

    #[test]
    fn psi_and_homogeneity() {
        // Identical shares: 0; a bin empty on one side is floored, not infinite.
        assert_eq!(psi(&[10, 20, 30], &[20, 40, 60]).0, 0.0);
        let (p, terms) = psi(&[0, 50, 50], &[50, 50, 0]);
        assert!(p.is_finite() && p > 5.0);
        assert_eq!(terms.len(), 3);
        // 2 × 2 table [[10, 20], [20, 10]]: chi2 = 6.6667, dof 1.
        let (stat, dof, p) = chi2_homogeneity(&[10, 20], &[20, 10]).unwrap();
        close(stat, 20.0 / 3.0, 1e-12);
        assert_eq!(dof, 1);
        close(p, chi2_sf(20.0 / 3.0, 1.0), 1e-12);
        assert!(chi2_homogeneity(&[5], &[6]).is_none());
        assert!(chi2_homogeneity(&[5, 0], &[0, 0]).is_none());
    }
}

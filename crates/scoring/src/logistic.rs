//! L2-regularised logistic regression by Newton's method.
//!
//! Rows come grouped as patterns (identical feature vectors with a row count
//! and an event count), which is exact for the log-likelihood and much
//! smaller than the rows when features are binned.
//!
//! The objective is `Σ log-loss + λ/2 · Σ β_j²` (the intercept is not
//! penalised). Each step solves `H d = g` by Cholesky and backtracks until
//! the objective falls by the Armijo condition. The fit stops when the
//! Newton decrement `gᵀH⁻¹g / 2` — the decrease a further full step would
//! bring — is below `1e-15` per row, or after 100 steps.

use rayon::prelude::*;

const TOLERANCE_PER_ROW: f64 = 1e-15;
const MAX_STEPS: usize = 100;

/// Rows grouped into distinct feature vectors.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    /// Number of features per pattern.
    pub width: usize,
    /// Pattern-major feature values, `width` per pattern.
    pub values: Vec<f64>,
    pub rows: Vec<f64>,
    pub events: Vec<f64>,
}

impl Patterns {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn total_rows(&self) -> f64 {
        self.rows.iter().sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    pub steps: usize,
    pub converged: bool,
    /// Mean log-loss per row at the solution (without the penalty).
    pub log_loss: f64,
}

/// Loss, gradient and Hessian (packed lower triangle) at `beta`, where
/// `beta[0]` is the intercept.
struct Evaluation {
    objective: f64,
    loss: f64,
    gradient: Vec<f64>,
    hessian: Vec<f64>,
}

fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn evaluate(patterns: &Patterns, beta: &[f64], l2: f64) -> Evaluation {
    let dim = patterns.width + 1;
    let packed = dim * (dim + 1) / 2;
    let zero = || (0.0, vec![0.0; dim], vec![0.0; packed]);
    let chunk = 4096;
    let (loss, mut gradient, mut hessian) = (0..patterns.len().div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let (mut loss, mut gradient, mut hessian) = zero();
            let mut x = vec![1.0; dim];
            let end = ((c + 1) * chunk).min(patterns.len());
            for p in c * chunk..end {
                x[1..].copy_from_slice(
                    &patterns.values[p * patterns.width..(p + 1) * patterns.width],
                );
                let eta = x.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>();
                let (rows, events) = (patterns.rows[p], patterns.events[p]);
                loss += rows * softplus(eta) - events * eta;
                let probability = sigmoid(eta);
                let residual = rows * probability - events;
                let weight = rows * probability * (1.0 - probability);
                let mut k = 0;
                for i in 0..dim {
                    gradient[i] += residual * x[i];
                    let wx = weight * x[i];
                    for xj in &x[..=i] {
                        hessian[k] += wx * xj;
                        k += 1;
                    }
                }
            }
            (loss, gradient, hessian)
        })
        .reduce(zero, |mut a, b| {
            a.0 += b.0;
            a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y);
            a.2.iter_mut().zip(&b.2).for_each(|(x, y)| *x += y);
            a
        });
    let mut penalty = 0.0;
    for i in 1..dim {
        penalty += 0.5 * l2 * beta[i] * beta[i];
        gradient[i] += l2 * beta[i];
        hessian[i * (i + 1) / 2 + i] += l2;
    }
    Evaluation {
        objective: loss + penalty,
        loss,
        gradient,
        hessian,
    }
}

/// Solves `A x = b` for a symmetric positive definite `A` given as a packed
/// lower triangle; a tiny ridge keeps a singular `A` solvable.
fn cholesky_solve(packed: &[f64], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let at = |i: usize, j: usize| packed[i * (i + 1) / 2 + j];
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = at(i, j);
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                l[i * n + i] = s.max(1e-12).sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let s = (0..i).fold(b[i], |s, k| s - l[i * n + k] * y[k]);
        y[i] = s / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s = (i + 1..n).fold(y[i], |s, k| s - l[k * n + i] * x[k]);
        x[i] = s / l[i * n + i];
    }
    x
}

/// Fits the regression; `l2` is λ above (1.0 matches scikit-learn's C = 1).
pub fn fit(patterns: &Patterns, l2: f64) -> Fit {
    let dim = patterns.width + 1;
    let rows = patterns.total_rows().max(1.0);
    let events: f64 = patterns.events.iter().sum();
    let mut beta = vec![0.0; dim];
    beta[0] = ((events + 0.5) / (rows - events + 0.5)).ln();
    let mut current = evaluate(patterns, &beta, l2);
    let mut steps = 0;
    let mut converged = false;
    while steps < MAX_STEPS {
        let direction = cholesky_solve(&current.hessian, &current.gradient);
        let decrement: f64 = direction
            .iter()
            .zip(&current.gradient)
            .map(|(d, g)| d * g)
            .sum();
        if decrement / 2.0 <= TOLERANCE_PER_ROW * rows {
            converged = true;
            break;
        }
        steps += 1;
        let mut t = 1.0;
        let accepted = loop {
            let candidate: Vec<f64> = beta
                .iter()
                .zip(&direction)
                .map(|(b, d)| b - t * d)
                .collect();
            let next = evaluate(patterns, &candidate, l2);
            if next.objective <= current.objective - 1e-4 * t * decrement {
                break Some((candidate, next));
            }
            t /= 2.0;
            if t < 1e-10 {
                break None;
            }
        };
        let Some((candidate, next)) = accepted else {
            // No step decreases the objective: we are at the optimum to
            // floating-point precision.
            converged = true;
            break;
        };
        beta = candidate;
        current = next;
    }
    Fit {
        intercept: beta[0],
        coefficients: beta[1..].to_vec(),
        steps,
        converged,
        log_loss: current.loss / rows,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn recovers_known_coefficients_on_exact_frequencies() {
        // Two binary features with event probabilities exactly
        // sigmoid(-1 + 0.5 a - 0.8 b): the unpenalised fit must recover them.
        let mut patterns = Patterns {
            width: 2,
            ..Patterns::default()
        };
        for (a, b) in [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)] {
            let p = sigmoid(-1.0 + 0.5 * a - 0.8 * b);
            patterns.values.extend([a, b]);
            patterns.rows.push(1e6);
            patterns.events.push(1e6 * p);
        }
        let fit = fit(&patterns, 0.0);
        assert!(fit.converged);
        assert!((fit.intercept + 1.0).abs() < 1e-6, "{fit:?}");
        assert!((fit.coefficients[0] - 0.5).abs() < 1e-6, "{fit:?}");
        assert!((fit.coefficients[1] + 0.8).abs() < 1e-6, "{fit:?}");
    }

    #[test]
    fn penalty_shrinks_towards_zero() {
        let mut patterns = Patterns {
            width: 1,
            ..Patterns::default()
        };
        for (x, events) in [(0.0, 10.0), (1.0, 30.0)] {
            patterns.values.push(x);
            patterns.rows.push(100.0);
            patterns.events.push(events);
        }
        let free = fit(&patterns, 0.0);
        let shrunk = fit(&patterns, 50.0);
        assert!(shrunk.coefficients[0].abs() < free.coefficients[0].abs());
        // The gradient of the penalised objective is zero at the solution.
        let beta = [shrunk.intercept, shrunk.coefficients[0]];
        let e = evaluate(&patterns, &beta, 50.0);
        assert!(
            e.gradient.iter().all(|g| g.abs() < 1e-6),
            "{:?}",
            e.gradient
        );
    }
}

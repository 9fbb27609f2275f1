//! Space-time clusters: Kulldorff's prospective space-time permutation scan
//! statistic (Kulldorff et al. 2005, as SaTScan computes it).
//!
//! The data are complaint counts per zone (a town) and day over a study
//! period ending on the analysis day. The model needs no population: the
//! expected count of a zone on a day is its share of the zone's total times
//! the day's total, `μ_zd = C_z · C_d / C`, so a town that always has many
//! complaints, or a busy week across the city, is not a cluster; a town
//! whose share rises in the last days is. Candidate clusters are cylinders:
//! a circle of towns (a centre and its nearest towns by their points, up to
//! `max_zones` within `max_radius_km`, connected through neighbouring
//! towns) times a window of the last `w` days, `w ≤ max_days` (prospective:
//! every window ends on the analysis day, so a cluster that has ended is no
//! longer reported). Each is scored by the Poisson generalised likelihood
//! ratio
//!
//! ```text
//! LLR = c·ln(c/μ) + (C − c)·ln((C − c)/(C − μ))   when c > μ, else 0
//! ```
//!
//! The most likely cluster has the largest LLR. Its p-value is found by
//! Monte Carlo: the days of the study period's complaints are permuted
//! among them (keeping every zone's and every day's total) and the largest
//! LLR of each permuted data set is compared with the observed one, `p =
//! (1 + #{replicates ≥ observed}) / (1 + replications)`; 999 replications
//! by default, from a seed the caller gives, so a scan can be rerun and
//! checked. Like SaTScan's early termination (Besag and Clifford's
//! sequential test), the replications stop once enough of them reach the
//! observed value that the p-value can no longer fall below the alarm
//! level. The recurrence interval of daily analyses is `1/p` days.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// A zone: a code and its point (latitude, longitude in degrees).
#[derive(Debug, Clone)]
pub struct Zone {
    pub code: String,
    pub point: (f64, f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Days in the study period, the analysis day last.
    pub study_days: usize,
    /// The longest window a cluster may last, in days.
    pub max_days: usize,
    /// The most zones a circle may hold.
    pub max_zones: usize,
    /// The largest radius of a circle, in kilometres.
    pub max_radius_km: f64,
    /// Monte Carlo replications.
    pub replications: u32,
    /// A cluster is signalled at or below this p-value.
    pub alpha: f64,
    /// The fewest complaints a cluster may hold.
    pub min_cases: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            study_days: 90,
            max_days: 14,
            max_zones: 8,
            max_radius_km: 20.0,
            replications: 999,
            alpha: 0.01,
            min_cases: 3,
        }
    }
}

/// The most likely cluster of one analysis, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    /// Indices of the zones, the centre first.
    pub zones: Vec<usize>,
    /// The window's length in days, ending on the analysis day.
    pub days: usize,
    pub observed: u32,
    pub expected: f64,
    /// (c/μ) / ((C − c)/(C − μ)).
    pub relative_risk: f64,
    pub llr: f64,
    pub p_value: f64,
    /// Replications run (fewer than asked when stopped early).
    pub replications: u32,
    /// Complaints in the study period.
    pub total: u32,
    /// Whether `p_value ≤ alpha`.
    pub signal: bool,
    /// Each zone's complaints in the window and what was expected.
    pub by_zone: Vec<(usize, u32, f64)>,
}

impl Cluster {
    /// How many days of daily analyses would pass, on average, before a
    /// cluster as unlikely as this one arose by chance.
    pub fn recurrence_days(&self) -> f64 {
        1.0 / self.p_value
    }
}

/// The circles of a set of zones, computed once and scanned every day.
pub struct Scanner {
    /// Per centre, the zones by distance, as far as a circle may reach.
    circles: Vec<Vec<usize>>,
    zones: usize,
    options: Options,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScanError {
    #[error("counts have {got} zones, the scanner {want}")]
    Zones { got: usize, want: usize },
    #[error("zone {zone} has {got} days, the study period {want}")]
    Days {
        zone: usize,
        got: usize,
        want: usize,
    },
    #[error("the window ({max_days} days) must be shorter than the study period ({study_days})")]
    Window { max_days: usize, study_days: usize },
}

impl Scanner {
    /// Circles grow from each centre by distance, up to `max_zones` within
    /// `max_radius_km`, and stop at the first town not adjacent to one
    /// already in (a cluster does not jump a gap).
    pub fn new(
        zones: &[Zone],
        adjacent: impl Fn(usize, usize) -> bool,
        options: Options,
    ) -> Scanner {
        let mut circles = Vec::with_capacity(zones.len());
        for (centre, zone) in zones.iter().enumerate() {
            let mut by_distance: Vec<(f64, usize)> = zones
                .iter()
                .enumerate()
                .map(|(i, z)| (domain::division::distance_km(zone.point, z.point), i))
                .collect();
            by_distance.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut circle = vec![centre];
            for &(distance, i) in &by_distance {
                if i == centre {
                    continue;
                }
                if circle.len() >= options.max_zones || distance > options.max_radius_km {
                    break;
                }
                if !circle.iter().any(|&j| adjacent(i, j)) {
                    break;
                }
                circle.push(i);
            }
            circles.push(circle);
        }
        Scanner {
            circles,
            zones: zones.len(),
            options,
        }
    }

    /// Scans counts per zone and day (`counts[zone][day]`, the analysis day
    /// last). `None` when the period holds no complaint or no window reaches
    /// `min_cases`.
    pub fn scan(&self, counts: &[Vec<u32>], seed: u64) -> Result<Option<Cluster>, ScanError> {
        let o = &self.options;
        if counts.len() != self.zones {
            return Err(ScanError::Zones {
                got: counts.len(),
                want: self.zones,
            });
        }
        if o.max_days == 0 || o.max_days >= o.study_days {
            return Err(ScanError::Window {
                max_days: o.max_days,
                study_days: o.study_days,
            });
        }
        for (zone, days) in counts.iter().enumerate() {
            if days.len() != o.study_days {
                return Err(ScanError::Days {
                    zone,
                    got: days.len(),
                    want: o.study_days,
                });
            }
        }
        let zone_totals: Vec<u32> = counts.iter().map(|d| d.iter().sum()).collect();
        let total: u32 = zone_totals.iter().sum();
        if total == 0 {
            return Ok(None);
        }
        // Day totals of the recent windows: window w holds the last w days.
        let mut window_totals = vec![0u32; o.max_days + 1];
        for w in 1..=o.max_days {
            let day = o.study_days - w;
            window_totals[w] = window_totals[w - 1] + counts.iter().map(|d| d[day]).sum::<u32>();
        }
        // recent[zone][w]: the zone's complaints in the last w days.
        let recent: Vec<Vec<u32>> = counts
            .iter()
            .map(|days| {
                let mut sums = vec![0u32; o.max_days + 1];
                for w in 1..=o.max_days {
                    sums[w] = sums[w - 1] + days[o.study_days - w];
                }
                sums
            })
            .collect();
        let Some((llr, circle, size, days)) =
            self.best(&recent, &zone_totals, &window_totals, total)
        else {
            return Ok(None);
        };

        // Permutations: the complaints of the last max_days days are a
        // random subset of all complaints, each with its zone, laid on the
        // days by the days' totals.
        let mut labels: Vec<u32> = Vec::with_capacity(total as usize);
        for (zone, &n) in zone_totals.iter().enumerate() {
            labels.extend(std::iter::repeat_n(zone as u32, n as usize));
        }
        let recent_cases = window_totals[o.max_days] as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Early stop once this many replicates reach the observed LLR: the
        // p-value is then above alpha whatever the rest would give.
        let enough = (o.alpha * f64::from(o.replications + 1)).floor() as u32 + 1;
        let mut at_least = 0u32;
        let mut run = 0u32;
        let mut permuted = vec![vec![0u32; o.max_days + 1]; self.zones];
        while run < o.replications {
            run += 1;
            for i in 0..recent_cases {
                let j = i + (rng.next_u64() % (labels.len() - i) as u64) as usize;
                labels.swap(i, j);
            }
            for row in &mut permuted {
                row.iter_mut().for_each(|v| *v = 0);
            }
            let mut w = 1;
            for (i, &zone) in labels[..recent_cases].iter().enumerate() {
                while i as u32 >= window_totals[w] {
                    w += 1;
                }
                permuted[zone as usize][w] += 1;
            }
            for row in &mut permuted {
                for w in 1..=o.max_days {
                    row[w] += row[w - 1];
                }
            }
            let replicate = self
                .best(&permuted, &zone_totals, &window_totals, total)
                .map_or(0.0, |b| b.0);
            if replicate >= llr - 1e-9 {
                at_least += 1;
                if at_least >= enough {
                    break;
                }
            }
        }
        let p_value = f64::from(at_least + 1) / f64::from(run + 1);
        let zones: Vec<usize> = self.circles[circle][..size].to_vec();
        let observed: u32 = zones.iter().map(|&z| recent[z][days]).sum();
        let zone_sum: u32 = zones.iter().map(|&z| zone_totals[z]).sum();
        let expected = expected_count(zone_sum, window_totals[days], total);
        let c = f64::from(observed);
        let n = f64::from(total);
        let relative_risk = if n - c > 0.0 {
            (c / expected) / ((n - c) / (n - expected))
        } else {
            f64::INFINITY
        };
        let by_zone = zones
            .iter()
            .map(|&z| {
                (
                    z,
                    recent[z][days],
                    expected_count(zone_totals[z], window_totals[days], total),
                )
            })
            .collect();
        Ok(Some(Cluster {
            zones,
            days,
            observed,
            expected,
            relative_risk,
            llr,
            p_value,
            replications: run,
            total,
            signal: p_value <= o.alpha,
            by_zone,
        }))
    }

    /// The cylinder with the largest LLR: (llr, centre, zones in the
    /// circle, days). Circles are nested from their centre, so their counts
    /// are running sums.
    fn best(
        &self,
        recent: &[Vec<u32>],
        zone_totals: &[u32],
        window_totals: &[u32],
        total: u32,
    ) -> Option<(f64, usize, usize, usize)> {
        let o = &self.options;
        let mut best: Option<(f64, usize, usize, usize)> = None;
        let mut observed = vec![0u32; o.max_days + 1];
        for (centre, circle) in self.circles.iter().enumerate() {
            observed.iter_mut().for_each(|v| *v = 0);
            let mut zone_sum = 0u32;
            for (size, &zone) in circle.iter().enumerate() {
                zone_sum += zone_totals[zone];
                for w in 1..=o.max_days {
                    observed[w] += recent[zone][w];
                    let c = observed[w];
                    if c < o.min_cases {
                        continue;
                    }
                    let mu = expected_count(zone_sum, window_totals[w], total);
                    let llr = log_likelihood_ratio(c, mu, total);
                    if llr > 0.0 && best.is_none_or(|b| llr > b.0) {
                        best = Some((llr, centre, size + 1, w));
                    }
                }
            }
        }
        best
    }
}

fn expected_count(zone_total: u32, window_total: u32, total: u32) -> f64 {
    f64::from(zone_total) * f64::from(window_total) / f64::from(total)
}

/// The Poisson generalised likelihood ratio's logarithm for `c` observed
/// against `mu` expected out of `total`; 0 unless `c > mu`.
pub fn log_likelihood_ratio(c: u32, mu: f64, total: u32) -> f64 {
    let c = f64::from(c);
    let n = f64::from(total);
    if c <= mu || mu <= 0.0 {
        return 0.0;
    }
    let inside = c * (c / mu).ln();
    let outside = if n - c > 0.0 {
        (n - c) * ((n - c) / (n - mu)).ln()
    } else {
        0.0
    };
    inside + outside
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 5 × 5 grid of towns 5 km apart, neighbours side by side.
    fn grid() -> (Vec<Zone>, impl Fn(usize, usize) -> bool) {
        let step = 5.0 / 111.0;
        let zones = (0..25)
            .map(|i| Zone {
                code: format!("z{i}"),
                point: (
                    23.0 + (i / 5) as f64 * step,
                    113.0 + (i % 5) as f64 * step * 1.09,
                ),
            })
            .collect();
        let adjacent = |a: usize, b: usize| {
            let (ra, ca, rb, cb) = (a / 5, a % 5, b / 5, b % 5);
            ra.abs_diff(rb) + ca.abs_diff(cb) == 1
        };
        (zones, adjacent)
    }

    /// Steady background: each town `base` complaints every day.
    fn background(base: u32, options: &Options) -> Vec<Vec<u32>> {
        vec![vec![base; options.study_days]; 25]
    }

    /// The grid scanned over 60 days with 199 replications, and its
    /// background of one complaint a town a day.
    fn small_grid() -> (Scanner, Vec<Vec<u32>>) {
        let options = Options {
            study_days: 60,
            replications: 199,
            ..Options::default()
        };
        let (zones, adjacent) = grid();
        (
            Scanner::new(&zones, adjacent, options),
            background(1, &options),
        )
    }

    #[test]
    fn the_poisson_ratio_matches_a_hand_computation() {
        // c = 10, μ = 4, C = 100: 10 ln 2.5 + 90 ln(90/96).
        let expected = 10.0 * 2.5f64.ln() + 90.0 * (90.0f64 / 96.0).ln();
        assert!((log_likelihood_ratio(10, 4.0, 100) - expected).abs() < 1e-12);
        assert_eq!(log_likelihood_ratio(3, 4.0, 100), 0.0);
    }

    #[test]
    fn a_recent_rise_in_one_town_is_found_with_its_evidence() {
        let (scanner, mut counts) = small_grid();
        counts[12][56..60].iter_mut().for_each(|c| *c += 6);
        let cluster = scanner.scan(&counts, 7).unwrap().unwrap();
        assert!(cluster.signal, "{cluster:?}");
        assert_eq!(cluster.zones, vec![12], "{cluster:?}");
        assert_eq!(cluster.days, 4, "{cluster:?}");
        assert_eq!(cluster.observed, 28);
        assert!(cluster.p_value <= 0.01);
        assert!(cluster.recurrence_days() >= 100.0);
        assert_eq!(cluster.by_zone, vec![(12, 28, cluster.expected)]);
    }

    #[test]
    fn a_rise_over_a_town_and_its_neighbours_is_one_cluster() {
        let (scanner, mut counts) = small_grid();
        for zone in [7, 11, 12, 13, 17] {
            counts[zone][53..60].iter_mut().for_each(|c| *c += 2);
        }
        let cluster = scanner.scan(&counts, 7).unwrap().unwrap();
        assert!(cluster.signal, "{cluster:?}");
        let mut found = cluster.zones.clone();
        found.sort_unstable();
        assert_eq!(found, vec![7, 11, 12, 13, 17], "{cluster:?}");
        assert_eq!(cluster.days, 7, "{cluster:?}");
    }

    #[test]
    fn a_town_that_is_always_busy_is_not_a_cluster() {
        let (scanner, mut counts) = small_grid();
        counts[12].iter_mut().for_each(|c| *c = 9);
        // A citywide busy week is not a cluster either: every town rises.
        for row in &mut counts {
            row[55..60].iter_mut().for_each(|c| *c *= 3);
        }
        let cluster = scanner.scan(&counts, 7).unwrap();
        assert!(cluster.as_ref().is_none_or(|c| !c.signal), "{cluster:?}");
    }

    #[test]
    fn an_ended_cluster_is_not_reported_prospectively() {
        let (scanner, mut counts) = small_grid();
        // A burst 30 days ago, over before any window of 14 days.
        counts[3][25..30].iter_mut().for_each(|c| *c += 8);
        let cluster = scanner.scan(&counts, 7).unwrap();
        assert!(cluster.as_ref().is_none_or(|c| !c.signal), "{cluster:?}");
    }

    #[test]
    fn circles_do_not_jump_gaps_and_respect_their_limits() {
        let (zones, adjacent) = grid();
        let options = Options {
            max_zones: 5,
            ..Options::default()
        };
        let scanner = Scanner::new(&zones, &adjacent, options);
        for circle in &scanner.circles {
            assert!(circle.len() <= 5);
            for (k, &zone) in circle.iter().enumerate().skip(1) {
                assert!(circle[..k].iter().any(|&j| adjacent(zone, j)), "{circle:?}");
            }
        }
        // No adjacency at all: every circle is its centre alone.
        let lonely = Scanner::new(&zones, |_, _| false, options);
        assert!(lonely.circles.iter().all(|c| c.len() == 1));
    }

    #[test]
    fn the_same_seed_gives_the_same_p_value_and_stopping_early_keeps_it_above_alpha() {
        let options = Options {
            study_days: 60,
            ..Options::default()
        };
        let (zones, adjacent) = grid();
        let scanner = Scanner::new(&zones, adjacent, options);
        let mut counts = background(1, &options);
        counts[7][59] += 2;
        let first = scanner.scan(&counts, 11).unwrap().unwrap();
        let again = scanner.scan(&counts, 11).unwrap().unwrap();
        assert_eq!(first, again);
        assert!(!first.signal);
        assert!(first.replications < options.replications, "{first:?}");
        assert!(first.p_value > options.alpha);
    }

    #[test]
    fn malformed_counts_are_refused() {
        let (zones, adjacent) = grid();
        let options = Options::default();
        let scanner = Scanner::new(&zones, adjacent, options);
        assert!(matches!(
            scanner.scan(&[vec![0; 90]], 1),
            Err(ScanError::Zones { got: 1, want: 25 })
        ));
        let mut counts = background(0, &options);
        counts[4].pop();
        assert!(matches!(
            scanner.scan(&counts, 1),
            Err(ScanError::Days { zone: 4, .. })
        ));
        assert_eq!(scanner.scan(&background(0, &options), 1), Ok(None));
    }
}

//! Repeat complaints about one business: a business is signalled on the day
//! its complaints within a trailing window reach a minimum count.
//!
//! The detector is prospective: on each day it sees only complaints received
//! up to that day. A business signalled once is not signalled again while
//! its window stays at or above the minimum (one continuing problem is one
//! signal); once the count falls below, the next rise is a new signal.
//! Every signal carries its evidence: the complaints in the window.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One complaint as the detector reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Complaint {
    /// The business complained about: its USCC, or its normalised name
    /// when no code was given.
    pub business: String,
    /// The day received, as a day number (e.g. days since 1970-01-01).
    pub day: i64,
    /// The caller's identifier of the complaint (its row or ticket).
    pub id: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// The trailing window: complaints received in the last this many
    /// days, the day itself included.
    pub window_days: i64,
    /// Complaints in the window that make a signal.
    pub min_count: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            window_days: 30,
            min_count: 3,
        }
    }
}

/// A business whose complaints reached the minimum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub business: String,
    /// The day the minimum was reached.
    pub day: i64,
    /// The window's first day.
    pub from_day: i64,
    /// The complaints in the window on that day, oldest first.
    pub complaints: Vec<usize>,
}

/// Every signal, ordered by day, then business.
pub fn signals(complaints: &[Complaint], options: &Options) -> Vec<Signal> {
    let mut by_business: BTreeMap<&str, Vec<&Complaint>> = BTreeMap::new();
    for c in complaints {
        by_business.entry(&c.business).or_default().push(c);
    }
    let mut out = Vec::new();
    let min_count = options.min_count.max(1);
    for (business, mut list) in by_business {
        list.sort_by_key(|c| (c.day, c.id));
        let mut start = 0;
        // The first complaint in the window that ended the day before.
        let mut start_before = 0;
        let mut today = 0;
        let mut signalled = false;
        for end in 0..list.len() {
            let day = list[end].day;
            if end == 0 || list[end - 1].day != day {
                today = end;
            }
            // Complaints of the same day arrive together: judge the day
            // once, at its last complaint.
            if list.get(end + 1).is_some_and(|next| next.day == day) {
                continue;
            }
            // Days without complaints are not judged, but the window moves
            // on them: if it held fewer than the minimum yesterday, the
            // episode signalled before has ended.
            while start_before < today && list[start_before].day < day - options.window_days {
                start_before += 1;
            }
            if today - start_before < min_count {
                signalled = false;
            }
            let from_day = day - options.window_days + 1;
            while list[start].day < from_day {
                start += 1;
            }
            let count = end + 1 - start;
            if count < min_count {
                signalled = false;
                continue;
            }
            if signalled {
                continue;
            }
            signalled = true;
            out.push(Signal {
                business: business.to_string(),
                day,
                from_day,
                complaints: list[start..=end].iter().map(|c| c.id).collect(),
            });
        }
    }
    out.sort_by(|a, b| a.day.cmp(&b.day).then_with(|| a.business.cmp(&b.business)));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {

    #[test]
    fn a_burst_after_a_quiet_spell_is_a_new_signal() {
        let options = Options {
            window_days: 14,
            min_count: 5,
        };
        // Five on day 10, nothing for a year, six on day 400.
        let complaints: Vec<Complaint> = (0..5)
            .map(|id| Complaint {
                business: "a".into(),
                day: 10,
                id,
            })
            .chain((5..11).map(|id| Complaint {
                business: "a".into(),
                day: 400,
                id,
            }))
            .collect();
        let days: Vec<i64> = signals(&complaints, &options)
            .iter()
            .map(|s| s.day)
            .collect();
        assert_eq!(days, [10, 400]);
        // A burst that goes on, a complaint every day for a month: one.
        let steady: Vec<Complaint> = (0..30)
            .map(|id| Complaint {
                business: "b".into(),
                day: 100 + id as i64,
                id,
            })
            .collect();
        assert_eq!(signals(&steady, &options).len(), 1);
    }

    use super::*;

    fn complaints(items: &[(&str, i64)]) -> Vec<Complaint> {
        items
            .iter()
            .enumerate()
            .map(|(id, &(b, day))| Complaint {
                business: b.to_string(),
                day,
                id,
            })
            .collect()
    }

    #[test]
    fn three_in_a_month_signal_once_on_the_third() {
        let c = complaints(&[("a", 1), ("a", 10), ("b", 11), ("a", 25), ("a", 26)]);
        let s = signals(&c, &Options::default());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].business, "a");
        assert_eq!(s[0].day, 25);
        assert_eq!(s[0].from_day, -4);
        assert_eq!(s[0].complaints, vec![0, 1, 3]);
    }

    #[test]
    fn spread_out_complaints_do_not_signal_and_a_new_rise_does() {
        let spread = complaints(&[("a", 1), ("a", 40), ("a", 80), ("a", 120)]);
        assert!(signals(&spread, &Options::default()).is_empty());
        // A rise, a quiet spell that empties the window, a second rise.
        let twice = complaints(&[
            ("a", 1),
            ("a", 2),
            ("a", 3),
            ("a", 4),
            ("a", 100),
            ("a", 101),
            ("a", 102),
        ]);
        let s = signals(&twice, &Options::default());
        assert_eq!(s.iter().map(|s| s.day).collect::<Vec<_>>(), vec![3, 102]);
    }

    #[test]
    fn a_day_is_judged_whole() {
        // Three on one day: one signal naming all three.
        let c = complaints(&[("a", 5), ("a", 5), ("a", 5)]);
        let s = signals(&c, &Options::default());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].complaints, vec![0, 1, 2]);
    }

    proptest::proptest! {
        /// Every signal holds at least the minimum, all of it about its
        /// business and inside its window, and no signal sees the future.
        #[test]
        fn signals_hold_their_evidence(
            items in proptest::collection::vec((0usize..4, 0i64..200), 0..60),
            window in 1i64..60,
            min_count in 1usize..6,
        ) {
            let names = ["a", "b", "c", "d"];
            let c: Vec<Complaint> = items
                .iter()
                .enumerate()
                .map(|(id, &(b, day))| Complaint { business: names[b].to_string(), day, id })
                .collect();
            let options = Options { window_days: window, min_count };
            for s in signals(&c, &options) {
                proptest::prop_assert!(s.complaints.len() >= min_count);
                proptest::prop_assert_eq!(s.from_day, s.day - window + 1);
                for &id in &s.complaints {
                    proptest::prop_assert_eq!(&c[id].business, &s.business);
                    proptest::prop_assert!(c[id].day >= s.from_day && c[id].day <= s.day);
                }
                let in_window = c
                    .iter()
                    .filter(|x| x.business == s.business && x.day >= s.from_day && x.day <= s.day)
                    .count();
                proptest::prop_assert_eq!(in_window, s.complaints.len());
            }
        }
    }
}

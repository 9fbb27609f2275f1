//! A signal's evidence as a warning carries it: the daily counts at its
//! place before and during the alarm, the complaints behind it, and a few
//! of their texts masked. Built once, when the signal is stored, so that a
//! warning drafted later shows what the detector saw, without the lake.

use chrono::{Days, NaiveDate};
use complaints::detect::{Place, Signal};
use serde::{Deserialize, Serialize};

use crate::{Complaint, date};

/// Days of counts shown before a signal's first day.
pub const DAYS_BEFORE: u64 = 28;
/// At most this many days of the alarm run are shown.
pub const MOST_DAYS_AFTER: u64 = 60;
/// Masked examples kept.
pub const EXAMPLES: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The detector's key (`complaints::detect::Detector::key`).
    pub detector: String,
    /// None for repeat complaints, which count every category.
    pub category: Option<String>,
    pub place_level: String,
    /// The place's codes: one, or a cluster's towns with its centre first.
    pub places: Vec<String>,
    pub first_day: String,
    pub last_day: String,
    pub observed: u32,
    pub expected: f64,
    pub statistic: f64,
    pub p_value: Option<f64>,
    /// Complaints per day at the place (of the category), from
    /// [`DAYS_BEFORE`] days before the first alarm day to the last.
    pub series: Vec<DayCount>,
    /// The complaints behind the signal, most recent first.
    pub tickets: Vec<String>,
    /// Some of them, their personal data masked.
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub ticket: String,
    pub received_on: String,
    pub category: String,
    /// `complaints::mask::mask` of the text.
    pub text: String,
}

impl Evidence {
    /// The signal's evidence; its complaint indices point into
    /// `complaints`, which is ordered by day (as [`crate::load`] gives it).
    pub fn of(signal: &Signal, complaints: &[Complaint]) -> Evidence {
        let first = date(signal.day).unwrap_or_default();
        let last = date(signal.last_day).unwrap_or(first);
        let start = first - Days::new(DAYS_BEFORE);
        let end = last.min(first + Days::new(MOST_DAYS_AFTER));
        let places = match &signal.place {
            Place::Business(code)
            | Place::Town(code)
            | Place::District(code)
            | Place::Industry(code) => vec![code.clone()],
            Place::Towns(codes) => codes.clone(),
        };
        let lo = complaints.partition_point(|c| c.received_on < start);
        let hi = complaints.partition_point(|c| c.received_on <= end);
        let mut counts = vec![0u32; usize::try_from((end - start).num_days() + 1).unwrap_or(0)];
        for complaint in &complaints[lo..hi.max(lo)] {
            if signal
                .category
                .as_ref()
                .is_some_and(|c| *c != complaint.category)
                || !at_place(&signal.place, complaint)
            {
                continue;
            }
            let offset = usize::try_from((complaint.received_on - start).num_days()).ok();
            if let Some(count) = offset.and_then(|i| counts.get_mut(i)) {
                *count += 1;
            }
        }
        let series = counts
            .into_iter()
            .enumerate()
            .map(|(i, count)| DayCount {
                day: (start + Days::new(i as u64)).to_string(),
                count,
            })
            .collect();
        let behind: Vec<&Complaint> = signal
            .complaints
            .iter()
            .filter_map(|&i| complaints.get(i))
            .collect();
        Evidence {
            detector: signal.detector.key().to_string(),
            category: signal.category.clone(),
            place_level: signal.place.level().to_string(),
            places,
            first_day: first.to_string(),
            last_day: last.to_string(),
            observed: signal.observed,
            expected: signal.expected,
            statistic: signal.statistic,
            p_value: signal.p_value,
            series,
            tickets: behind.iter().map(|c| c.ticket.clone()).collect(),
            examples: behind
                .iter()
                .take(EXAMPLES)
                .map(|c| Example {
                    ticket: c.ticket.clone(),
                    received_on: c.received_on.to_string(),
                    category: c.category.clone(),
                    text: complaints::mask::mask(&c.content),
                })
                .collect(),
        }
    }

    /// The place as stored: its code, or a cluster's towns joined by `,`.
    pub fn place(&self) -> String {
        self.places.join(",")
    }

    /// The signal as the store keeps it, detected at `at` (RFC 3339).
    pub fn row(&self, at: &str) -> store::SignalRow {
        store::SignalRow {
            id: 0,
            detector: self.detector.clone(),
            category: self.category.clone().unwrap_or_default(),
            place_level: self.place_level.clone(),
            place: self.place(),
            first_day: self.first_day.clone(),
            last_day: self.last_day.clone(),
            observed: i64::from(self.observed),
            expected: self.expected,
            statistic: self.statistic,
            p_value: self.p_value,
            evidence: serde_json::to_string(self).unwrap_or_default(),
            detected_at: at.to_string(),
        }
    }

    /// The first day as a date.
    pub fn first_date(&self) -> Option<NaiveDate> {
        self.first_day.parse().ok()
    }
}

/// Whether a complaint happened at the place.
fn at_place(place: &Place, complaint: &Complaint) -> bool {
    match place {
        Place::Business(code) => complaint.entity() == Some(code.as_str()),
        Place::Town(code) => complaint.division == *code,
        Place::District(code) => complaint.division.starts_with(code.as_str()),
        Place::Industry(code) => complaint.industry == *code,
        Place::Towns(codes) => codes.contains(&complaint.division),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use complaints::detect::Detector;

    fn complaint(ticket: &str, day: &str, town: &str, category: &str, text: &str) -> Complaint {
        Complaint {
            ticket: ticket.into(),
            business_name: String::new(),
            subject: None,
            category: category.into(),
            industry: "62".into(),
            division: town.into(),
            received_on: day.parse().unwrap(),
            content: text.into(),
            link: None,
        }
    }

    #[test]
    fn counts_the_place_and_category_and_masks_the_examples() {
        let complaints = vec![
            complaint(
                "T1",
                "2026-03-01",
                "440604010",
                "food_safety",
                "陈先生 13812345678 投诉",
            ),
            complaint("T2", "2026-03-20", "440604010", "food_safety", "吃坏肚子"),
            complaint("T3", "2026-03-20", "440604011", "food_safety", "别的镇"),
            complaint("T4", "2026-03-20", "440604010", "price", "别的类别"),
            complaint("T5", "2026-03-21", "440604010", "food_safety", "又吃坏了"),
        ];
        let first = crate::day("2026-03-20".parse().unwrap());
        let signal = Signal {
            detector: Detector::EarsC2,
            category: Some("food_safety".into()),
            place: Place::Town("440604010".into()),
            day: first,
            last_day: first + 1,
            observed: 1,
            expected: 0.1,
            statistic: 4.2,
            p_value: None,
            complaints: vec![4, 1, 0],
        };
        let evidence = Evidence::of(&signal, &complaints);
        assert_eq!(evidence.series.len(), 28 + 2);
        assert_eq!(evidence.series[0].day, "2026-02-20");
        let total: u32 = evidence.series.iter().map(|d| d.count).sum();
        assert_eq!(total, 3, "T1, T2 and T5: not the other town or category");
        assert_eq!(evidence.series[28].count, 1);
        assert_eq!(evidence.tickets, ["T5", "T2", "T1"]);
        let first_example = &evidence.examples[2].text;
        assert!(!first_example.contains("13812345678"), "{first_example}");
        assert!(!first_example.contains('陈'), "{first_example}");
        let row = evidence.row("2026-11-30T00:00:00Z");
        assert_eq!(row.place, "440604010");
        let back: Evidence = serde_json::from_str(&row.evidence).unwrap();
        assert_eq!(back, evidence);
    }
}

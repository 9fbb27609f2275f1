//! A bank's file of loan reports: many loans at once, one report a row.
//!
//! ```text
//! application,reported_on,state,days_past_due
//! 1042,2026-10-31,overdue,45
//! 1042,2026-11-30,repaid,
//! 977,2026-11-30,current,0
//! ```
//!
//! CSV in UTF-8 (a byte-order mark is fine: Excel writes one). The header
//! names the columns, in English as above or in Chinese (申请编号, 报告日期,
//! 贷款状态, 逾期天数), in any order; the state is its code or its Chinese
//! name (正常, 逾期, 违约, 核销, 已结清); days past due may be empty for a
//! loan that is not overdue. Rows of one loan follow each other in date
//! order, as a bank would send them.
//!
//! Parsing reads the whole file and names every problem by row and field;
//! whether each application is the sender's loan and each report may follow
//! the last is the server's check, in the transaction that stores them.

use chrono::NaiveDate;

use crate::outcome::{LoanState, Report};

/// The most rows one file may hold: a month's reports of a large bank's
/// small-business book, and a bound on what a request holds in memory.
pub const MAX_ROWS: usize = 20_000;

/// The most problems one answer lists; the rest are counted.
pub const MAX_PROBLEMS: usize = 100;

/// A row of the file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub application: i64,
    pub report: Report,
}

/// A problem with one field of one row (`line` 1 and an empty field for
/// the header or the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub field: &'static str,
    pub rule: String,
}

impl Problem {
    /// "file.csv row 3, field state: …".
    pub fn describe(&self, file: &str) -> String {
        match self.field {
            "" => format!("{file} row {}: {}", self.line, self.rule),
            field => format!("{file} row {}, field {field}: {}", self.line, self.rule),
        }
    }
}

/// The file's columns: the name a row's problem gives, and the header
/// words that mean it.
const COLUMNS: [(&str, &[&str]); 4] = [
    ("application", &["application", "申请编号"]),
    ("reported_on", &["reported_on", "报告日期"]),
    ("state", &["state", "贷款状态"]),
    ("days_past_due", &["days_past_due", "逾期天数"]),
];

/// Reads a file of reports; every problem found, or the rows.
pub fn parse(bytes: &[u8]) -> Result<Vec<FileRow>, Vec<Problem>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let whole = |rule: String| {
        vec![Problem {
            line: 1,
            field: "",
            rule,
        }]
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(whole(format!("the header is unreadable: {e}"))),
    };
    let mut at = [usize::MAX; 4];
    for (index, cell) in header.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(cell) else {
            return Err(whole(format!("header column {} is not UTF-8", index + 1)));
        };
        let name = name.trim();
        let Some(column) = COLUMNS.iter().position(|(_, words)| words.contains(&name)) else {
            return Err(whole(format!(
                "unknown column '{}' (columns: application, reported_on, state, days_past_due)",
                name.escape_debug()
            )));
        };
        if at[column] != usize::MAX {
            return Err(whole(format!("column {} appears twice", COLUMNS[column].0)));
        }
        at[column] = index;
    }
    // Days past due may be left out by a bank that reports no arrears.
    let absent: Vec<&str> = COLUMNS
        .iter()
        .zip(at)
        .filter(|((name, _), index)| *index == usize::MAX && *name != "days_past_due")
        .map(|((name, _), _)| *name)
        .collect();
    if !absent.is_empty() {
        return Err(whole(format!("missing columns: {}", absent.join(", "))));
    }

    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut record = csv::ByteRecord::new();
    // Lines are counted here: the csv crate's own count skips blank lines
    // and counts a CRLF file differently from an LF one.
    let mut line = 1u64;
    let mut counted_to = 0usize;
    let mut read = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.push(Problem {
                    line: line + 1,
                    field: "",
                    rule: format!("not CSV: {e}"),
                });
                break;
            }
        }
        // A record's position is where the reader stood after the line
        // break before it; its first byte comes after any further breaks.
        let start = record.position().map_or(counted_to, |p| p.byte() as usize);
        let first = bytes
            .get(start..)
            .and_then(|rest| rest.iter().position(|b| !matches!(b, b'\r' | b'\n')))
            .map_or(bytes.len(), |k| start + k);
        if let Some(between) = bytes.get(counted_to..first) {
            line += between.iter().filter(|b| **b == b'\n').count() as u64;
            counted_to = first;
        }
        if record
            .iter()
            .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        read += 1;
        if read > MAX_ROWS {
            problems.push(Problem {
                line,
                field: "",
                rule: format!("a file holds at most {MAX_ROWS} rows; send the rest in another"),
            });
            break;
        }
        match row(&record, &at, line) {
            Ok(r) => rows.push(r),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if rows.is_empty() && problems.is_empty() {
        return Err(whole("the file holds no reports".into()));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

fn row(record: &csv::ByteRecord, at: &[usize; 4], line: u64) -> Result<FileRow, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |field: &'static str, rule: String| {
        problems.push(Problem { line, field, rule });
    };
    let cell = |column: usize| -> Result<&str, String> {
        let Some(&index) = at.get(column) else {
            return Ok("");
        };
        match record.get(index) {
            None => Ok(""),
            Some(bytes) => std::str::from_utf8(bytes)
                .map(str::trim)
                .map_err(|_| "is not UTF-8".to_string()),
        }
    };
    let application = match cell(0) {
        Err(rule) => Err(rule),
        Ok("") => Err("is empty: give the application's number".into()),
        Ok(text) => match text.parse::<i64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => Err(format!(
                "'{}' is not an application number",
                text.escape_debug()
            )),
        },
    };
    let on = match cell(1) {
        Err(rule) => Err(rule),
        Ok(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("'{}' is not a date (YYYY-MM-DD)", text.escape_debug())),
    };
    let state = match cell(2) {
        Err(rule) => Err(rule),
        Ok(text) => state_of(text).ok_or_else(|| {
            format!(
                "no loan state '{}' (current 正常, overdue 逾期, defaulted 违约, written_off 核销, repaid 已结清)",
                text.escape_debug()
            )
        }),
    };
    let days = match cell(3) {
        Err(rule) => Err(rule),
        Ok("") => Ok(0),
        Ok(text) => text
            .parse::<u32>()
            .map_err(|_| format!("'{}' is not a whole number of days", text.escape_debug())),
    };
    let application = application
        .map_err(|rule| problem("application", rule))
        .ok();
    let on = on.map_err(|rule| problem("reported_on", rule)).ok();
    let state = state.map_err(|rule| problem("state", rule)).ok();
    let days = days.map_err(|rule| problem("days_past_due", rule)).ok();
    match (application, on, state, days) {
        (Some(application), Some(on), Some(state), Some(days_past_due)) => Ok(FileRow {
            line,
            application,
            report: Report {
                on,
                state,
                days_past_due,
            },
        }),
        _ => Err(problems),
    }
}

/// A state by its code or its Chinese name.
fn state_of(text: &str) -> Option<LoanState> {
    LoanState::parse(text).or_else(|| LoanState::ALL.into_iter().find(|s| s.name_zh() == text))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rules(bytes: &[u8]) -> Vec<String> {
        parse(bytes)
            .unwrap_err()
            .iter()
            .map(|p| p.describe("loans.csv"))
            .collect()
    }

    #[test]
    fn a_file_in_either_language() {
        let english = parse(
            b"application,reported_on,state,days_past_due\n1042,2026-10-31,overdue,45\n1042,2026-11-30,repaid,\n",
        )
        .unwrap();
        assert_eq!(english.len(), 2);
        assert_eq!(english[0].line, 2);
        assert_eq!(english[0].report.state, LoanState::Overdue);
        assert_eq!(english[0].report.days_past_due, 45);
        assert_eq!(english[1].report.days_past_due, 0);
        let chinese = parse(
            "\u{feff}贷款状态,申请编号,报告日期\r\n已结清,1042,2026-11-30\r\n\r\n逾期,977,2026-11-30\r\n"
                .as_bytes(),
        );
        // Overdue without days: read here, refused by `outcome::check`.
        let chinese = chinese.unwrap();
        assert_eq!(chinese.len(), 2);
        assert_eq!(chinese[1].line, 4, "the blank line counts");
        assert_eq!(chinese[1].application, 977);
    }

    #[test]
    fn every_problem_is_named_by_row_and_field() {
        let found = rules(
            b"application,reported_on,state,days_past_due\nx,2026-13-01,lost,-3\n5,2026-11-30,current,0\n,2026-11-30,current,\n",
        );
        assert_eq!(
            found,
            [
                "loans.csv row 2, field application: 'x' is not an application number",
                "loans.csv row 2, field reported_on: '2026-13-01' is not a date (YYYY-MM-DD)",
                "loans.csv row 2, field state: no loan state 'lost' (current 正常, overdue 逾期, defaulted 违约, written_off 核销, repaid 已结清)",
                "loans.csv row 2, field days_past_due: '-3' is not a whole number of days",
                "loans.csv row 4, field application: is empty: give the application's number",
            ]
        );
    }

    #[test]
    fn the_header_is_checked_first() {
        assert_eq!(
            rules(b"application,state\n1,current\n"),
            ["loans.csv row 1: missing columns: reported_on"]
        );
        assert_eq!(
            rules(b"application,reported_on,state,amount\n"),
            [
                "loans.csv row 1: unknown column 'amount' (columns: application, reported_on, state, days_past_due)"
            ]
        );
        assert_eq!(
            rules(b"application,reported_on,state,application\n"),
            ["loans.csv row 1: column application appears twice"]
        );
        assert_eq!(
            rules(b"application,reported_on,state\n"),
            ["loans.csv row 1: the file holds no reports"]
        );
        assert_eq!(
            rules(b""),
            ["loans.csv row 1: missing columns: application, reported_on, state"]
        );
    }

    #[test]
    fn a_file_too_long_is_refused_at_its_limit() {
        let mut text = String::from("application,reported_on,state\n");
        for k in 0..=MAX_ROWS {
            text.push_str(&format!("{},2026-11-30,current\n", k + 1));
        }
        let found = parse(text.as_bytes()).unwrap_err();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, MAX_ROWS as u64 + 2);
    }

    proptest! {
        /// Whatever the bytes, parsing answers (no panic), and every
        /// problem names a line within the file.
        #[test]
        fn any_bytes_get_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 2;
            match parse(&bytes) {
                Ok(rows) => prop_assert!(!rows.is_empty()),
                Err(problems) => {
                    prop_assert!(!problems.is_empty());
                    for p in problems {
                        prop_assert!(p.line >= 1 && p.line <= lines, "{:?}", p);
                    }
                }
            }
        }

        /// A well-formed row reads back as written.
        #[test]
        fn rows_read_back(
            application in 1i64..i64::MAX,
            days in 0u32..100_000,
            state in prop::sample::select(LoanState::ALL.to_vec()),
            chinese in any::<bool>(),
            date in 0i64..20_000,
        ) {
            let on = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Days::new(date as u64);
            let word = if chinese { state.name_zh() } else { state.as_str() };
            let text = format!("application,reported_on,state,days_past_due\n{application},{on},{word},{days}\n");
            let rows = parse(text.as_bytes()).unwrap();
            prop_assert_eq!(rows, vec![FileRow {
                line: 2,
                application,
                report: Report { on, state, days_past_due: days },
            }]);
        }
    }
}

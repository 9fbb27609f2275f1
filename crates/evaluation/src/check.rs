//! Credit checks (信用核查) for an application scenario: for each entity
//! asked about, the lists it is on, the measures that apply in the
//! scenario with their basis, and its evaluation grade — all read from the
//! latest evaluation run, so a check answers as of that run's date.

use std::collections::HashMap;

use credit::lists::{Measures, Verdict};
use credit::{Facts, Value};
use serde::Serialize;
use store::{EvaluationRunRow, Store};

use crate::EvaluationError;

/// One entity's answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckResult {
    /// As asked (trimmed); the USCC when it was one.
    pub asked: String,
    pub found: bool,
    /// Why nothing was found: not a valid code, or not registered (or
    /// closed, so not evaluated).
    pub problem: Option<String>,
    pub grade: Option<String>,
    pub score: Option<f64>,
    pub scheme: Option<String>,
    pub lists: Vec<String>,
    pub measures: Vec<String>,
    pub verdict: Option<Verdict>,
}

/// What a check found, with the run it read.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub run: Option<EvaluationRunRow>,
    pub results: Vec<CheckResult>,
}

impl Checked {
    /// The check as stored: who asked, for which department and scenario,
    /// and what it found (the id comes from the store).
    pub fn record(
        &self,
        at: &str,
        actor: &str,
        department: &str,
        scenario: &str,
    ) -> store::CreditCheckRow {
        let [barred, scrutiny, incentive, clear, not_found] = self.tally();
        store::CreditCheckRow {
            id: 0,
            checked_at: at.to_string(),
            actor: actor.to_string(),
            department: department.to_string(),
            scenario: scenario.to_string(),
            mode: if self.results.len() == 1 {
                "one"
            } else {
                "file"
            }
            .into(),
            evaluation_run: self.run.as_ref().map(|r| r.id),
            entities: self.results.len() as i64,
            not_found,
            barred,
            scrutiny,
            incentive,
            clear,
        }
    }

    /// (barred, scrutiny, incentive, clear, not found).
    pub fn tally(&self) -> [i64; 5] {
        let mut tally = [0i64; 5];
        for r in &self.results {
            let at = match r.verdict {
                Some(Verdict::Barred) => 0,
                Some(Verdict::Scrutiny) => 1,
                Some(Verdict::Incentive) => 2,
                Some(Verdict::Clear) => 3,
                None => 4,
            };
            tally[at] += 1;
        }
        tally
    }
}

/// Checks entities for a scenario (the caller checked that it exists).
pub async fn check(
    store: &Store,
    measures: &Measures,
    scenario: &str,
    asked: &[String],
) -> Result<Checked, EvaluationError> {
    let run = store.latest_evaluation_run().await?;
    let mut codes = Vec::new();
    let mut parsed: Vec<Result<String, String>> = Vec::with_capacity(asked.len());
    for text in asked {
        match domain::Uscc::parse_input(text) {
            Ok(code) => {
                codes.push(code.value.to_string());
                parsed.push(Ok(code.value.to_string()));
            }
            Err(e) => parsed.push(Err(format!("not a valid USCC: {e}"))),
        }
    }
    let mut rows = HashMap::new();
    if let Some(run) = &run {
        codes.sort();
        codes.dedup();
        for row in store.evaluations_of(run.id, &codes).await? {
            rows.insert(row.uscc.clone(), row);
        }
    }
    let mut results = Vec::with_capacity(asked.len());
    for (text, code) in asked.iter().zip(parsed) {
        let code = match code {
            Ok(code) => code,
            Err(problem) => {
                results.push(not_found(text.trim(), problem));
                continue;
            }
        };
        let Some(row) = rows.get(&code) else {
            let problem = if run.is_none() {
                "no evaluation has been run yet".to_string()
            } else {
                "not in the evaluation: not registered, or closed".to_string()
            };
            results.push(not_found(&code, problem));
            continue;
        };
        let values: Vec<Option<Value>> = serde_json::from_str(&row.facts_json)
            .map_err(|e| EvaluationError::Stored(format!("{code}: facts: {e}")))?;
        let facts = Facts(values);
        let lists = measures.lists_of(&facts);
        let applying = measures.measures_for(&lists, scenario);
        results.push(CheckResult {
            asked: code,
            found: true,
            problem: None,
            grade: Some(row.grade.clone()),
            score: Some(row.score),
            scheme: Some(row.scheme.clone()),
            lists: lists.iter().map(|l| l.id.clone()).collect(),
            measures: applying.iter().map(|m| m.id.clone()).collect(),
            verdict: Some(Verdict::of(&applying)),
        });
    }
    Ok(Checked { run, results })
}

fn not_found(asked: &str, problem: String) -> CheckResult {
    CheckResult {
        asked: asked.to_string(),
        found: false,
        problem: Some(problem),
        grade: None,
        score: None,
        scheme: None,
        lists: Vec::new(),
        measures: Vec::new(),
        verdict: None,
    }
}

/// Codes in a file: the first field of each line (comma or tab
/// separated); a first line whose first field holds no digit is a header.
pub fn codes_in(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut codes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let first = line
            .split([',', '\t'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if first.is_empty() || (n == 0 && !first.chars().any(|c| c.is_ascii_digit())) {
            continue;
        }
        codes.push(first.to_string());
    }
    codes
}

/// The columns of a check's result file.
pub const CSV_HEADER: [&str; 12] = [
    "统一社会信用代码 uscc",
    "是否找到 found",
    "评价等级 grade",
    "等级名称 grade_name",
    "评价得分 score",
    "评价标准 scheme",
    "所在名单 lists",
    "名单名称 list_names",
    "适用措施 measures",
    "措施名称 measure_names",
    "核查结论 verdict",
    "说明 problem",
];

/// The grades' names of a run's schemes, by (scheme, grade): "优 excellent".
pub fn grade_names(run: Option<&EvaluationRunRow>) -> HashMap<(String, String), String> {
    let schemes: Vec<credit::Scheme> = run
        .and_then(|r| serde_json::from_str(&r.schemes_json).ok())
        .unwrap_or_default();
    schemes
        .iter()
        .flat_map(|s| {
            s.grades.iter().map(move |g| {
                (
                    (s.id.clone(), g.id.clone()),
                    format!("{} {}", g.name_zh, g.name_en),
                )
            })
        })
        .collect()
}

/// One result as a row of the result file: codes, then their names in
/// both languages.
pub fn csv_row(
    measures: &Measures,
    grades: &HashMap<(String, String), String>,
    r: &CheckResult,
) -> Vec<String> {
    let names = |ids: &[String], name: &dyn Fn(&str) -> Option<String>| {
        ids.iter()
            .map(|id| name(id).unwrap_or_else(|| id.clone()))
            .collect::<Vec<_>>()
            .join("；")
    };
    let list_name = |id: &str| {
        measures
            .list(id)
            .map(|l| format!("{} {}", l.name_zh, l.name_en))
    };
    let measure_name = |id: &str| {
        measures
            .measures
            .iter()
            .find(|m| m.id == id)
            .map(|m| format!("{}（{}）", m.name_zh, m.basis_zh))
    };
    let grade = r.grade.clone().unwrap_or_default();
    let scheme = r.scheme.clone().unwrap_or_default();
    vec![
        r.asked.clone(),
        if r.found { "是 yes" } else { "否 no" }.to_string(),
        grade.clone(),
        grades
            .get(&(scheme.clone(), grade))
            .cloned()
            .unwrap_or_default(),
        r.score.map_or(String::new(), |s| format!("{s:.2}")),
        scheme,
        r.lists.join(";"),
        names(&r.lists, &list_name),
        r.measures.join(";"),
        names(&r.measures, &measure_name),
        r.verdict.map_or(String::new(), |v| {
            format!("{} {}", v.name_zh(), v.name_en())
        }),
        r.problem.clone().unwrap_or_default(),
    ]
}

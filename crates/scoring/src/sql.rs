//! The scorecard as SQL: `CASE` expressions that give the same points and
//! log-odds in any engine with `CASE`, `CAST`, `EXP` and double precision.

use crate::binning::{BinRule, Kind};
use crate::model::{Feature, Model};

/// A double-quoted SQL identifier.
fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A numeric literal that every engine reads as the same double.
fn number(value: f64) -> String {
    // Rust prints the shortest text that reads back as the same double, and
    // never uses an exponent, which some engines parse as an integer.
    let text = format!("{value:?}");
    if text.contains('e') {
        format!("{value}")
    } else {
        text
    }
}

/// `CASE` over a feature's bins, giving each bin's `value`: missing first,
/// then special values, then ranges or category lists.
fn case(feature: &Feature, value: impl Fn(usize) -> String) -> String {
    let column = identifier(&feature.name);
    let text = format!("CAST({column} AS VARCHAR)");
    let mut missing = Vec::new();
    let mut specials = Vec::new();
    let mut arms = Vec::new();
    let mut otherwise = String::from("0");
    for (index, bin) in feature.bins.iter().enumerate() {
        let v = value(index);
        match &bin.rule {
            BinRule::Missing => match feature.kind {
                Kind::Numeric => missing.push(format!("WHEN {column} IS NULL THEN {v}")),
                Kind::Categorical => {
                    missing.push(format!("WHEN {column} IS NULL OR {text} = '' THEN {v}"))
                }
            },
            BinRule::Special { value } => {
                specials.push(format!("WHEN {column} = {} THEN {v}", number(*value)))
            }
            BinRule::Range { hi: Some(hi), .. } => {
                arms.push(format!("WHEN {column} < {} THEN {v}", number(*hi)))
            }
            BinRule::Range { hi: None, .. } => otherwise = v,
            BinRule::Categories { values, other } => {
                if *other {
                    otherwise = v.clone();
                }
                if !values.is_empty() {
                    let list = values
                        .iter()
                        .map(|s| literal(s))
                        .collect::<Vec<_>>()
                        .join(", ");
                    arms.push(format!("WHEN {text} IN ({list}) THEN {v}"));
                }
            }
        }
    }
    missing.extend(specials);
    missing.extend(arms);
    format!("CASE {} ELSE {otherwise} END", missing.join(" "))
}

/// The score (sum of integer points) as one SQL expression.
pub fn score_expression(model: &Model) -> String {
    let terms: Vec<String> = model
        .features
        .iter()
        .map(|f| case(f, |b| f.bins[b].points.to_string()))
        .collect();
    if terms.is_empty() {
        return "0".to_string();
    }
    terms.join("\n  + ")
}

/// The log-odds of the event as one SQL expression.
pub fn log_odds_expression(model: &Model) -> String {
    let mut terms = vec![number(model.intercept)];
    terms.extend(
        model
            .features
            .iter()
            .map(|f| case(f, |b| number(f.coefficient * f.bins[b].woe))),
    );
    terms.join("\n  + ")
}

/// A query adding `probability` and `score` to every row of `table`.
pub fn select(model: &Model, table: &str) -> String {
    format!(
        "-- scorecard {name} version {version}: probability of {target} = {event}, and points\n\
         SELECT *,\n  1.0 / (1.0 + EXP(-(\n  {log_odds}\n  ))) AS probability,\n  (\n  {score}\n  ) AS score\nFROM {table}",
        name = model.name,
        version = model.version,
        target = model.target,
        event = model.event,
        log_odds = log_odds_expression(model),
        score = score_expression(model),
        table = identifier(table),
    )
}

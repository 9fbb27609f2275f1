//! Reasons in plain words, Chinese and English: a feature's bin as a
//! civil servant reads it — categories by name ("行业：餐饮业、零售业"),
//! numbers with units and readable bounds ("注册资本：5.2 万元至不足 41 万元"),
//! and what a missing value means ("未报送从业人数").
//!
//! Screening stores these words with each reason, so pages, the API, CSV
//! exports and credit reports show the same text.

use scoring::BinRule;

use crate::features::{FeatureSet, Unit};

/// A bin of a feature in words: (Chinese, English). `fallback` labels a
/// feature the set does not define (a model fitted elsewhere).
pub fn bin(set: &FeatureSet, feature: &str, fallback: &str, rule: &BinRule) -> (String, String) {
    let Some(def) = set.feature(feature) else {
        let text = format!("{fallback}: {}", rule.describe());
        return (text.clone(), text);
    };
    let (label_zh, label_en) = (bare(def.label_zh), bare(def.label_en));
    match rule {
        BinRule::Missing => missing(feature, label_zh, label_en),
        BinRule::Special { value } => (
            format!("{label_zh}：特殊值 {}", number(*value)),
            format!("{label_en}: special value {}", number(*value)),
        ),
        BinRule::Categories { values, other } => {
            let (zh, en) = categories(def.unit, values, *other);
            (format!("{label_zh}：{zh}"), format!("{label_en}: {en}"))
        }
        BinRule::Range { lo, hi } => {
            let (zh, en) = range(def.unit, *lo, *hi);
            (format!("{label_zh}：{zh}"), format!("{label_en}: {en}"))
        }
    }
}

/// A label without its unit in brackets: "注册资本（万元）" → "注册资本".
fn bare(label: &str) -> &str {
    let cut = label.find('（').or_else(|| label.find(" ("));
    cut.map_or(label, |at| &label[..at])
}

fn missing(feature: &str, label_zh: &str, label_en: &str) -> (String, String) {
    let (zh, en) = match feature {
        "employees" => ("未报送从业人数", "number of employees not reported"),
        "registered_capital" => ("未登记注册资本", "no registered capital on record"),
        "subscribed_capital" => (
            "无股东认缴出资记录",
            "no shareholder subscriptions on record",
        ),
        "tax_paid_trend" => (
            "纳税额同比：上一年无纳税记录",
            "tax paid year on year: no tax paid the year before",
        ),
        "tax_credit_rating" => ("未参加纳税信用评价", "no tax credit rating"),
        "insurance_coverage" => (
            "社保参保率：无参保或从业人数记录",
            "social-insurance coverage: no insured headcount or employees on record",
        ),
        "tax_paid_per_employee" => (
            "人均纳税额：未报送从业人数",
            "tax paid per employee: number of employees not reported",
        ),
        "headcount_trend" => (
            "参保人数同比：上一年无参保记录",
            "insured headcount year on year: no one insured the year before",
        ),
        _ => {
            return (
                format!("{label_zh}：无记录"),
                format!("{label_en}: no record"),
            );
        }
    };
    (zh.to_string(), en.to_string())
}

fn categories(unit: Unit, values: &[String], other: bool) -> (String, String) {
    const SHOWN: usize = 6;
    let named: Vec<(String, String)> = values.iter().map(|code| category(unit, code)).collect();
    let mut zh = named
        .iter()
        .take(SHOWN)
        .map(|(z, _)| z.as_str())
        .collect::<Vec<_>>()
        .join("、");
    let mut en = named
        .iter()
        .take(SHOWN)
        .map(|(_, e)| e.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if named.len() > SHOWN {
        zh.push_str(&format!("等 {} 类", named.len()));
        en.push_str(&format!(" and {} more", named.len() - SHOWN));
    }
    match (named.is_empty(), other) {
        (true, _) => ("其他".into(), "others".into()),
        (false, true) => (format!("{zh}或其他"), format!("{en}, or others")),
        (false, false) => (zh, en),
    }
}

/// A category code by its names; an unknown code stays as it is.
fn category(unit: Unit, code: &str) -> (String, String) {
    let names = match unit {
        Unit::Industry => domain::industry::division(code).map(|d| (d.name_zh, d.name_en)),
        Unit::EntityType => domain::entity_type::names(code),
        Unit::District => domain::division::lookup(code).map(|d| (d.name_zh, d.name_en)),
        Unit::Grade => return (format!("{code} 级"), format!("grade {code}")),
        Unit::EnvironmentalRating => environmental_rating(code),
        _ => None,
    };
    match names {
        Some((zh, en)) => (zh.to_string(), en.to_string()),
        None => (code.to_string(), code.to_string()),
    }
}

/// The ecology bureau's five cards (企业环境信用评价, the catalog's
/// `environmental_rating` values).
fn environmental_rating(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "green" => (
            "绿牌（环保诚信企业）",
            "green (environmentally trustworthy)",
        ),
        "blue" => ("蓝牌（环保良好企业）", "blue (environmentally good)"),
        "yellow" => ("黄牌（环保警示企业）", "yellow (environmental warning)"),
        "red" => ("红牌（环保不良企业）", "red (environmentally poor)"),
        "black" => (
            "黑牌（环保严重失信企业）",
            "black (seriously untrustworthy)",
        ),
        _ => return None,
    })
}

fn range(unit: Unit, lo: Option<f64>, hi: Option<f64>) -> (String, String) {
    match unit {
        Unit::Flag => flag(lo, hi),
        Unit::Months => whole(lo, hi, "个月", "months"),
        Unit::Count(word) => whole(lo, hi, word, ""),
        Unit::Years => continuous(lo, hi, |v| {
            (format!("{} 年", number(v)), format!("{} years", number(v)))
        }),
        Unit::People => continuous(lo, hi, |v| {
            (format!("{} 人", number(v)), format!("{} people", number(v)))
        }),
        Unit::TenThousandYuan => continuous(lo, hi, |v| {
            (
                format!("{} 万元", number(v)),
                format!("{} yuan", thousands(v * 10_000.0)),
            )
        }),
        Unit::Yuan => continuous(lo, hi, |v| {
            let zh = if v.abs() >= 10_000.0 {
                format!("{} 万元", number(v / 10_000.0))
            } else {
                format!("{} 元", number(v))
            };
            (zh, format!("{} yuan", thousands(v)))
        }),
        Unit::Ratio => {
            let (zh, en) = continuous(lo, hi, |v| {
                let percent = format!("{}%", number(v * 100.0));
                (percent.clone(), percent)
            });
            (format!("上一年的 {zh}"), format!("{en} of the year before"))
        }
        Unit::Share => continuous(lo, hi, |v| {
            let percent = format!("{}%", number(v * 100.0));
            (percent.clone(), percent)
        }),
        Unit::Points => continuous(lo, hi, |v| {
            (format!("{} 分", number(v)), format!("{} points", number(v)))
        }),
        Unit::Industry
        | Unit::EntityType
        | Unit::District
        | Unit::Grade
        | Unit::EnvironmentalRating => {
            let text = BinRule::Range { lo, hi }.describe();
            (text.clone(), text)
        }
    }
}

fn flag(lo: Option<f64>, hi: Option<f64>) -> (String, String) {
    let holds_no = lo.is_none_or(|l| l <= 0.0);
    let holds_yes = hi.is_none_or(|h| h > 1.0);
    match (holds_no, holds_yes) {
        (true, false) => ("否".into(), "no".into()),
        (false, true) => ("是".into(), "yes".into()),
        _ => ("是或否".into(), "yes or no".into()),
    }
}

/// Whole numbers: the bin `[lo, hi)` as the integers it holds.
fn whole(lo: Option<f64>, hi: Option<f64>, word_zh: &str, word_en: &str) -> (String, String) {
    let first = lo.map_or(0, |l| l.ceil().max(0.0) as i64);
    let last = hi.map(|h| h.ceil() as i64 - 1);
    let en_word = if word_en.is_empty() {
        String::new()
    } else {
        format!(" {word_en}")
    };
    match last {
        Some(last) if last <= 0 => ("无".into(), "none".into()),
        Some(last) if last == first => (format!("{first} {word_zh}"), format!("{first}{en_word}")),
        Some(last) if first == 0 => (
            format!("不超过 {last} {word_zh}"),
            format!("at most {last}{en_word}"),
        ),
        Some(last) => (
            format!("{first} 至 {last} {word_zh}"),
            format!("{first} to {last}{en_word}"),
        ),
        None if first <= 0 => ("任意".into(), "any".into()),
        None => (
            format!("{first} {word_zh}及以上"),
            format!("{first} or more{en_word}"),
        ),
    }
}

fn continuous(
    lo: Option<f64>,
    hi: Option<f64>,
    show: impl Fn(f64) -> (String, String),
) -> (String, String) {
    match (lo, hi) {
        (None, None) => ("任意".into(), "any".into()),
        (None, Some(hi)) => {
            let (zh, en) = show(hi);
            (format!("不足 {zh}"), format!("under {en}"))
        }
        (Some(lo), None) => {
            let (zh, en) = show(lo);
            (format!("{zh}及以上"), format!("{en} or more"))
        }
        (Some(lo), Some(hi)) => {
            let ((lo_zh, lo_en), (hi_zh, hi_en)) = (show(lo), show(hi));
            (
                format!("{lo_zh}至不足 {hi_zh}"),
                format!("{lo_en} to under {hi_en}"),
            )
        }
    }
}

/// A number without a needless fraction: 5.2, 41, 0.35.
fn number(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        return "0".to_string();
    }
    text.to_string()
}

/// Whole yuan with thousands separators: 52,000.
fn thousands(value: f64) -> String {
    let whole = value.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::V4;

    fn words(feature: &str, rule: BinRule) -> (String, String) {
        bin(&V4, feature, feature, &rule)
    }

    fn range(lo: Option<f64>, hi: Option<f64>) -> BinRule {
        BinRule::Range { lo, hi }
    }

    #[test]
    fn categories_by_name() {
        let rule = BinRule::Categories {
            values: vec!["62".into(), "52".into()],
            other: false,
        };
        let (zh, en) = words("industry", rule);
        assert_eq!(zh, "行业：餐饮业、零售业");
        assert!(en.starts_with("industry"), "{en}");
        assert!(!en.contains("62"), "{en}");
        let rule = BinRule::Categories {
            values: vec!["individual_business".into()],
            other: true,
        };
        assert_eq!(
            words("entity_type", rule).0,
            "市场主体类型：个体工商户或其他"
        );
    }

    #[test]
    fn numbers_with_units_and_bounds() {
        assert_eq!(
            words("registered_capital", range(Some(5.2), Some(41.0))).0,
            "注册资本：5.2 万元至不足 41 万元"
        );
        assert_eq!(
            words("registered_capital", range(Some(5.2), Some(41.0))).1,
            "registered capital: 52,000 yuan to under 410,000 yuan"
        );
        assert_eq!(
            words("tax_paid_1y", range(None, Some(35_000.0))).0,
            "近一年纳税额：不足 3.5 万元"
        );
        assert_eq!(
            words("tax_short_months_1y", range(Some(1.0), Some(3.0))).0,
            "近一年欠缴税款月数：1 至 2 个月"
        );
        assert_eq!(
            words("penalties_3y", range(None, Some(1.0))).0,
            "近三年行政处罚次数：无"
        );
        assert_eq!(
            words("penalties_3y", range(Some(2.0), None)).1,
            "administrative penalties in the last 3 years: 2 or more"
        );
        assert_eq!(
            words("abnormal_listed", range(Some(0.5), None)).0,
            "列入经营异常名录：是"
        );
        assert_eq!(
            words("tax_paid_trend", range(Some(0.8), Some(1.2))).0,
            "纳税额同比：上一年的 80%至不足 120%"
        );
    }

    #[test]
    fn version_3_words() {
        let rule = BinRule::Categories {
            values: vec!["red".into(), "black".into()],
            other: false,
        };
        let (zh, en) = words("environmental_rating", rule);
        assert_eq!(
            zh,
            "企业环境信用评价：红牌（环保不良企业）、黑牌（环保严重失信企业）"
        );
        assert!(en.contains("red (environmentally poor)"), "{en}");
        assert_eq!(
            words("tax_credit_points_3y", range(Some(2.5), Some(3.5))).0,
            "近三年纳税信用平均分：2.5 分至不足 3.5 分"
        );
        assert_eq!(
            words("revenue_per_month_2y", range(None, Some(20_000.0))).0,
            "近两年月均应税收入：不足 2 万元"
        );
        assert_eq!(
            words("annual_reports_late_3y", range(Some(1.0), None)).0,
            "近三年逾期报送年报次数：1 次及以上"
        );
    }

    #[test]
    fn missing_says_what_is_missing() {
        assert_eq!(words("employees", BinRule::Missing).0, "未报送从业人数");
        assert_eq!(
            words("complaints_1y", BinRule::Missing).0,
            "近一年投诉数：无记录"
        );
    }
}

//! The facts an evaluation scheme may read: one value per entity at a
//! date, computed from its records by the facts SQL (`evaluation` crate,
//! `facts/v1.sql`), records withdrawn by repair or correction left out.
//!
//! The list is closed: a scheme naming anything else is refused. A fact is
//! a number (counts, years, 万元, a 0/1 flag) or one of a fixed set of
//! categories (a rating), and may be missing (no rating was ever given).

/// How a fact's value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A count, an amount or a duration, in `unit`.
    Number,
    /// 1 when true, 0 when not.
    Flag,
    /// One of these categories.
    Category(&'static [&'static str]),
}

/// One fact of the closed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    pub name: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub unit_zh: &'static str,
    pub unit_en: &'static str,
    pub kind: Kind,
}

const fn number(
    name: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    unit_zh: &'static str,
    unit_en: &'static str,
) -> Fact {
    Fact {
        name,
        name_zh,
        name_en,
        unit_zh,
        unit_en,
        kind: Kind::Number,
    }
}

const fn flag(name: &'static str, name_zh: &'static str, name_en: &'static str) -> Fact {
    Fact {
        name,
        name_zh,
        name_en,
        unit_zh: "",
        unit_en: "",
        kind: Kind::Flag,
    }
}

const fn category(
    name: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    values: &'static [&'static str],
) -> Fact {
    Fact {
        name,
        name_zh,
        name_en,
        unit_zh: "",
        unit_en: "",
        kind: Kind::Category(values),
    }
}

/// Every fact, in the order of the facts SQL's columns and of a stored
/// evaluation's values. Append only: stored evaluations are read by
/// position.
pub const FACTS: [Fact; 28] = [
    number(
        "years_in_operation",
        "成立年限",
        "years in operation",
        "年",
        "years",
    ),
    number(
        "registered_capital",
        "注册资本",
        "registered capital",
        "万元",
        "10k yuan",
    ),
    number(
        "annual_reports_late_3y",
        "近三年年报逾期次数",
        "annual reports filed late in 3 years",
        "次",
        "times",
    ),
    number(
        "penalties_3y",
        "近三年行政处罚（一般及以上）",
        "penalties in 3 years (general or serious)",
        "次",
        "times",
    ),
    number(
        "serious_penalties_3y",
        "近三年严重失信行政处罚",
        "serious penalties in 3 years",
        "次",
        "times",
    ),
    number(
        "fines_3y",
        "近三年罚没金额",
        "fines and confiscations in 3 years",
        "万元",
        "10k yuan",
    ),
    flag(
        "abnormal_listed",
        "列入经营异常名录",
        "on the abnormal-operation list",
    ),
    flag(
        "serious_listed",
        "列入严重违法失信名单",
        "on the serious-violation list",
    ),
    flag(
        "safety_blacklisted",
        "安全生产失信联合惩戒对象",
        "on the work-safety dishonesty list",
    ),
    number(
        "inspection_problems_3y",
        "近三年检查发现问题",
        "inspections finding problems in 3 years",
        "次",
        "times",
    ),
    number(
        "quality_failures_3y",
        "近三年产品质量抽检不合格",
        "failed product quality checks in 3 years",
        "次",
        "times",
    ),
    number(
        "tax_short_months_1y",
        "近一年欠缴税款月数",
        "months of tax paid short in the last year",
        "月",
        "months",
    ),
    number(
        "tax_arrears_open",
        "未清欠税",
        "tax arrears not cleared",
        "笔",
        "cases",
    ),
    number(
        "insurance_arrears_open",
        "未清社保欠费",
        "social insurance arrears not cleared",
        "笔",
        "cases",
    ),
    flag(
        "wage_arrears_listed",
        "拖欠农民工工资失信联合惩戒对象",
        "on the unpaid-wages list",
    ),
    number(
        "utility_overdue_months_1y",
        "近一年水电气逾期月数",
        "months of utility bills overdue in the last year",
        "月",
        "months",
    ),
    flag(
        "housing_fund",
        "近一年缴存住房公积金",
        "paid into the housing fund in the last year",
    ),
    category(
        "tax_credit_rating",
        "纳税信用等级",
        "tax credit rating",
        &["A", "B", "M", "C", "D"],
    ),
    flag(
        "dishonest_debtor",
        "失信被执行人",
        "a dishonest judgment debtor",
    ),
    number(
        "enforcement_open",
        "未结执行案件",
        "enforcement cases not closed",
        "件",
        "cases",
    ),
    number(
        "judgments_lost_3y",
        "近三年败诉案件（被告）",
        "cases lost as defendant in 3 years",
        "件",
        "cases",
    ),
    number(
        "honours_3y",
        "近三年获得荣誉",
        "honours in 3 years",
        "项",
        "honours",
    ),
    flag(
        "high_tech",
        "高新技术企业（有效期内）",
        "a certified high-tech enterprise",
    ),
    number(
        "patents_granted",
        "授权专利",
        "patents granted",
        "件",
        "patents",
    ),
    category(
        "environmental_rating",
        "环境信用评价",
        "environmental credit rating",
        &["green", "blue", "yellow", "red", "black"],
    ),
    category(
        "customs_credit",
        "海关信用等级",
        "customs credit rating",
        &["advanced_certified", "registered", "dishonest"],
    ),
    number(
        "commitments_kept_3y",
        "近三年信用承诺履行",
        "credit commitments kept in 3 years",
        "项",
        "commitments",
    ),
    number(
        "commitments_broken_3y",
        "近三年信用承诺未履行",
        "credit commitments broken in 3 years",
        "项",
        "commitments",
    ),
];

/// A fact by name.
pub fn fact(name: &str) -> Option<&'static Fact> {
    FACTS.iter().find(|f| f.name == name)
}

/// The position of a fact in [`FACTS`].
pub fn position(name: &str) -> Option<usize> {
    FACTS.iter().position(|f| f.name == name)
}

/// One fact's value for one entity.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Category(String),
}

impl Value {
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Category(_) => None,
        }
    }
}

/// The facts of one entity, in the order of [`FACTS`]; `None` is missing.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Facts(pub Vec<Option<Value>>);

impl Facts {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(position(name)?)?.as_ref()
    }

    /// Facts with every value missing, to fill by name.
    pub fn empty() -> Facts {
        Facts(vec![None; FACTS.len()])
    }

    /// Sets a fact by name; false when there is no such fact.
    pub fn set(&mut self, name: &str, value: Option<Value>) -> bool {
        let Some(at) = position(name) else {
            return false;
        };
        if self.0.len() < FACTS.len() {
            self.0.resize(FACTS.len(), None);
        }
        self.0[at] = value;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_categories_not_empty() {
        for (i, f) in FACTS.iter().enumerate() {
            assert_eq!(position(f.name), Some(i), "{} twice", f.name);
            if let Kind::Category(values) = f.kind {
                assert!(!values.is_empty());
            }
        }
    }

    #[test]
    fn facts_are_set_and_read_by_name() {
        let mut facts = Facts::empty();
        assert!(facts.set("penalties_3y", Some(Value::Number(2.0))));
        assert!(!facts.set("no_such_fact", None));
        assert_eq!(facts.get("penalties_3y"), Some(&Value::Number(2.0)));
        assert_eq!(facts.get("honours_3y"), None);
    }
}

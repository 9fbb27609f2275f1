//! Versioned feature definitions: SQL over the lake with an as-of date, and
//! what each feature means.

use chrono::{Months, NaiveDate};
use scoring::Trend;

/// A feature the SQL produces: its column, its words, and the direction
/// regulators expect its risk to go (a monotonic constraint keeps the model
/// explainable: more arrears never lower the risk).
pub struct FeatureDef {
    pub name: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub trend: Trend,
    pub categorical: bool,
    /// How its values read in reasons.
    pub unit: Unit,
}

/// How a feature's values read in words (see [`crate::words`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Years,
    /// 万元.
    TenThousandYuan,
    /// Yuan, shown in 万元 when large.
    Yuan,
    /// Whole numbers counted with a Chinese measure word (次, 件, 名).
    Count(&'static str),
    Months,
    People,
    /// A year over the year before, shown as a percentage.
    Ratio,
    /// 0 or 1: no or yes.
    Flag,
    /// A GB/T 4754 division code.
    Industry,
    /// A registry entity type.
    EntityType,
    /// A rating's letter (纳税信用 A, B, M, C, D).
    Grade,
    /// Points of a rating scale, a plain number (4 = A).
    Points,
    /// The ecology bureau's colour (green … black).
    EnvironmentalRating,
    /// A share, shown as a percentage.
    Share,
    /// A GB/T 2260 district code.
    District,
}

/// A column the SQL produces for the classing rules, not for the model: a
/// flag or a count with its words.
pub struct FactDef {
    pub name: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
}

/// One version of the feature definitions.
pub struct FeatureSet {
    pub version: &'static str,
    pub sql: &'static str,
    pub features: &'static [FeatureDef],
    pub facts: &'static [FactDef],
}

const fn numeric(
    name: &'static str,
    label_zh: &'static str,
    label_en: &'static str,
    trend: Trend,
    unit: Unit,
) -> FeatureDef {
    FeatureDef {
        name,
        label_zh,
        label_en,
        trend,
        categorical: false,
        unit,
    }
}

const fn category(
    name: &'static str,
    label_zh: &'static str,
    label_en: &'static str,
    unit: Unit,
) -> FeatureDef {
    FeatureDef {
        name,
        label_zh,
        label_en,
        trend: Trend::Auto,
        categorical: true,
        unit,
    }
}

use Trend::{Ascending, Auto, Descending};

pub const V4: FeatureSet = FeatureSet {
    version: "v4",
    sql: include_str!("../features/v4.sql"),
    features: &[
        numeric(
            "years_in_operation",
            "成立年限",
            "years in operation",
            Descending,
            Unit::Years,
        ),
        numeric(
            "registered_capital",
            "注册资本（万元）",
            "registered capital (10k yuan)",
            Descending,
            Unit::TenThousandYuan,
        ),
        numeric(
            "subscribed_capital",
            "股东认缴出资（万元）",
            "shareholders' subscribed capital (10k yuan)",
            Descending,
            Unit::TenThousandYuan,
        ),
        numeric(
            "shareholders",
            "股东数",
            "shareholders",
            Auto,
            Unit::Count("名"),
        ),
        numeric(
            "employees",
            "从业人数",
            "employees",
            Descending,
            Unit::People,
        ),
        category(
            "industry",
            "行业",
            "industry (GB/T 4754 division)",
            Unit::Industry,
        ),
        category(
            "entity_type",
            "市场主体类型",
            "entity type",
            Unit::EntityType,
        ),
        category("district", "所在区", "district", Unit::District),
        numeric(
            "tax_paid_1y",
            "近一年纳税额（元）",
            "tax paid in the last year (yuan)",
            Descending,
            Unit::Yuan,
        ),
        numeric(
            "tax_paid_trend",
            "纳税额同比",
            "tax paid, last year over the year before",
            Auto,
            Unit::Ratio,
        ),
        numeric(
            "tax_short_months_1y",
            "近一年欠缴税款月数",
            "months with tax underpaid in the last year",
            Ascending,
            Unit::Months,
        ),
        numeric(
            "insurance_short_months_1y",
            "近一年欠缴社保月数",
            "months with social insurance underpaid in the last year",
            Ascending,
            Unit::Months,
        ),
        numeric(
            "headcount_trend",
            "参保人数同比",
            "insured headcount, last year over the year before",
            Auto,
            Unit::Ratio,
        ),
        numeric(
            "utility_overdue_months_1y",
            "近一年水电气逾期月数",
            "months with utility bills over 30 days overdue in the last year",
            Ascending,
            Unit::Months,
        ),
        numeric(
            "penalties_3y",
            "近三年行政处罚次数",
            "administrative penalties in the last 3 years",
            Ascending,
            Unit::Count("次"),
        ),
        numeric(
            "inspection_problems_3y",
            "近三年检查发现问题次数",
            "inspections with problems found in the last 3 years",
            Ascending,
            Unit::Count("次"),
        ),
        numeric(
            "complaints_1y",
            "近一年投诉数",
            "complaints in the last year",
            Ascending,
            Unit::Count("件"),
        ),
        numeric(
            "complaints_90d",
            "近90天投诉数",
            "complaints in the last 90 days",
            Ascending,
            Unit::Count("件"),
        ),
        numeric(
            "repeat_complaints_14d_1y",
            "近一年任意14天内最多投诉数",
            "most complaints within 14 days in the last year",
            Ascending,
            Unit::Count("件"),
        ),
        numeric(
            "complaint_spike_90d",
            "近90天投诉超出以往水平",
            "complaints in the last 90 days above the usual",
            Ascending,
            Unit::Count("件"),
        ),
        numeric(
            "abnormal_listed",
            "列入经营异常名录",
            "on the abnormal-operation list",
            Ascending,
            Unit::Flag,
        ),
        numeric(
            "address_or_representative_changes_2y",
            "近两年住所或法定代表人变更次数",
            "changes of address or legal representative in the last 2 years",
            Ascending,
            Unit::Count("次"),
        ),
        numeric(
            "enforcement_cases_3y",
            "近三年被执行案件数",
            "court enforcement cases in the last 3 years",
            Ascending,
            Unit::Count("件"),
        ),
        numeric(
            "dishonest_debtor",
            "失信被执行人",
            "listed as a dishonest debtor",
            Ascending,
            Unit::Flag,
        ),
        // Version 2: where management quality shows.
        category(
            "tax_credit_rating",
            "纳税信用等级",
            "tax credit rating",
            Unit::Grade,
        ),
        numeric(
            "insurance_coverage",
            "社保参保率（参保人数/从业人数）",
            "social-insurance coverage (insured over employees)",
            Descending,
            Unit::Share,
        ),
        numeric(
            "tax_paid_per_employee",
            "人均纳税额（元）",
            "tax paid per employee in the last year (yuan)",
            Descending,
            Unit::Yuan,
        ),
        numeric(
            "housing_fund",
            "缴存住房公积金",
            "contributes to the housing provident fund",
            Descending,
            Unit::Flag,
        ),
        // Version 3: the record over three years, and revenue.
        numeric(
            "annual_reports_late_3y",
            "近三年逾期报送年报次数",
            "annual reports filed after the due date in the last 3 years",
            Ascending,
            Unit::Count("次"),
        ),
        numeric(
            "abnormal_listings_3y",
            "近三年列入经营异常名录次数",
            "listings on the abnormal-operation list in the last 3 years",
            Ascending,
            Unit::Count("次"),
        ),
        numeric(
            "tax_credit_points_3y",
            "近三年纳税信用平均分（A=4，B=3，C=2，D=1）",
            "mean tax credit rating of the last 3 years (A=4, B=3, C=2, D=1)",
            Descending,
            Unit::Points,
        ),
        category(
            "environmental_rating",
            "企业环境信用评价",
            "environmental credit rating",
            Unit::EnvironmentalRating,
        ),
        numeric(
            "revenue_per_month_2y",
            "近两年月均应税收入（元）",
            "taxable revenue per month over the last 2 years (yuan)",
            Descending,
            Unit::Yuan,
        ),
    ],
    facts: &[
        FactDef {
            name: "closed",
            label_zh: "已注销、吊销或迁出",
            label_en: "deregistered, revoked or moved out",
        },
        FactDef {
            name: "serious_listed",
            label_zh: "列入严重违法失信名单",
            label_en: "on the serious-violation list",
        },
        FactDef {
            name: "serious_penalties_1y",
            label_zh: "近一年严重失信行政处罚次数",
            label_en: "serious administrative penalties in the last year",
        },
    ],
};

impl FeatureSet {
    /// The feature SQL with its dates filled in.
    pub fn render(&self, as_of: NaiveDate) -> String {
        let years_before = |n: u32| {
            as_of
                .checked_sub_months(Months::new(12 * n))
                .unwrap_or(as_of)
        };
        let (y1, y2, y3) = (years_before(1), years_before(2), years_before(3));
        let d90 = as_of - chrono::Days::new(90);
        let month = |d: NaiveDate| d.format("%Y-%m").to_string();
        self.sql
            .replace("{as_of_month}", &month(as_of))
            .replace("{y1_month}", &month(y1))
            .replace("{y2_month}", &month(y2))
            .replace("{as_of}", &as_of.to_string())
            .replace("{y1}", &y1.to_string())
            .replace("{y2}", &y2.to_string())
            .replace("{y3}", &y3.to_string())
            .replace("{d90}", &d90.to_string())
    }

    pub fn feature(&self, name: &str) -> Option<&FeatureDef> {
        self.features.iter().find(|f| f.name == name)
    }

    pub fn fact(&self, name: &str) -> Option<&FactDef> {
        self.facts.iter().find(|f| f.name == name)
    }

    /// A numeric column's words, fact or feature: (Chinese, English).
    pub fn words(&self, name: &str) -> Option<(&'static str, &'static str)> {
        if let Some(f) = self.fact(name) {
            return Some((f.label_zh, f.label_en));
        }
        self.feature(name).map(|f| (f.label_zh, f.label_en))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_leaves_no_placeholder() {
        let date = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        let sql = V4.render(date);
        assert!(!sql.contains('{'), "{sql}");
        assert!(sql.contains("DATE '2025-01-01'"));
        assert!(sql.contains("'2024-01'"));
        assert!(sql.contains("DATE '2022-01-01'"));
    }

    #[test]
    fn every_selected_column_is_defined() {
        let sql = V4.sql;
        let names = V4.features.iter().map(|f| f.name);
        for name in names.chain(V4.facts.iter().map(|f| f.name)) {
            assert!(sql.contains(&format!("AS {name}")), "{name}");
        }
    }
}

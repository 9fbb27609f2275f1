//! The shipped catalog, catalog loading errors, and field rules.

#![allow(clippy::unwrap_used)]

use domain::Catalog;
use domain::catalog::{Category, FieldError, Publicity};
use proptest::prelude::*;

#[test]
fn default_catalog_loads_and_covers_every_named_source() {
    let catalog = Catalog::default_catalog();
    assert!(catalog.items.len() >= 30, "{} items", catalog.items.len());
    // DOMAIN.md §4 and §8 name these sources.
    for id in [
        "registration",
        "annual_report",
        "admin_licence",
        "admin_penalty",
        "abnormal_operation",
        "serious_violation",
        "tax_payment",
        "tax_arrears",
        "social_insurance",
        "housing_fund",
        "water_usage",
        "electricity_usage",
        "gas_usage",
        "court_judgment",
        "dishonest_debtor",
        "patent",
        "trademark",
        "warehouse_receipt",
        "inspection_result",
        "complaint",
    ] {
        assert!(catalog.item(id).is_some(), "missing item {id}");
    }
    for category in [
        Category::Registration,
        Category::Logistics,
        Category::IntellectualProperty,
    ] {
        assert!(catalog.items.iter().any(|i| i.category == category));
    }
}

#[test]
fn double_publicity_items_carry_the_national_exchange_fields() {
    let catalog = Catalog::default_catalog();
    let licence = catalog.item("admin_licence").unwrap();
    for field in [
        "decision_number",
        "licence_category",
        "certificate_name",
        "certificate_number",
        "content",
        "decided_on",
        "valid_from",
        "valid_to",
        "authority",
        "authority_uscc",
        "status",
        "source_unit",
        "source_unit_uscc",
        "subject_name",
        "legal_representative",
    ] {
        assert!(licence.field(field).is_some(), "licence lacks {field}");
    }
    let penalty = catalog.item("admin_penalty").unwrap();
    for field in [
        "decision_number",
        "violation_type",
        "facts",
        "legal_basis",
        "penalty_category",
        "content",
        "fine_amount",
        "confiscated_amount",
        "revoked_licence",
        "decided_on",
        "publicity_until",
        "authority",
        "authority_uscc",
        "source_unit",
    ] {
        assert!(penalty.field(field).is_some(), "penalty lacks {field}");
    }
    assert!(matches!(penalty.publicity, Publicity::PenaltyPeriod { .. }));
}

const MINIMAL: &str = r#"
version = "test"
[[departments]]
id = "tax"
name_zh = "税务局"
name_en = "Tax"

[[items]]
id = "tax_payment"
name_zh = "纳税信息"
name_en = "Tax payments"
department = "tax"
category = "tax"
record = "periodic"
subject = { field = "subject" }
natural_key = ["subject", "period"]
publicity = { rule = "consent" }
partition = { by = "month", field = "period" }
fields = [
  { name = "subject", name_zh = "纳税人识别号", type = "subject", required = true },
  { name = "period", name_zh = "所属期", type = "month", required = true },
  { name = "amount", name_zh = "金额", type = "decimal", min = 0 },
]
"#;

fn errors_of(text: &str) -> Vec<String> {
    match Catalog::from_toml(text) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn minimal_catalog_loads() {
    assert_eq!(errors_of(MINIMAL), Vec::<String>::new());
}

#[test]
fn malformed_catalogs_name_the_item_and_field() {
    let cases = [
        (
            MINIMAL.replace(r#"type = "decimal", min = 0"#, r#"type = "decimel""#),
            "item 'tax_payment', field 'amount': unknown variant `decimel`",
        ),
        (
            MINIMAL.replace("min = 0 }", "min = 10, max = 5 }"),
            "item 'tax_payment', field 'amount': min 10 is greater than max 5",
        ),
        (
            MINIMAL.replace(r#"["subject", "period"]"#, r#"["subject", "month"]"#),
            "item 'tax_payment', field 'month': natural_key names a field that is not defined",
        ),
        (
            MINIMAL.replace(r#"department = "tax""#, r#"department = "taxes""#),
            "item 'tax_payment': department 'taxes' is not defined",
        ),
        (
            MINIMAL.replace(r#"field = "period" }"#, r#"field = "amount" }"#),
            "item 'tax_payment', field 'amount': partition must be a date or month field, not decimal",
        ),
        (
            MINIMAL.replace(
                r#"type = "decimal", min = 0"#,
                r#"type = "string", pattern = "([""#,
            ),
            "item 'tax_payment', field 'amount': pattern is not a valid regular expression",
        ),
        (
            MINIMAL.replace(r#"type = "decimal", min = 0"#, r#"type = "enum""#),
            "item 'tax_payment', field 'amount': an enum field needs a non-empty 'values' list",
        ),
        (
            MINIMAL.replace(
                r#"record = "periodic""#,
                r#"record = "periodic"
colour = "red""#,
            ),
            "item 'tax_payment': unknown field `colour`",
        ),
        (
            MINIMAL.replace(
                r#"type = "subject", required = true"#,
                r#"type = "string", required = true"#,
            ),
            "item 'tax_payment', field 'subject': subject must be a subject field, not string",
        ),
        (
            format!(
                "{MINIMAL}\n{}",
                &MINIMAL[MINIMAL.find("[[items]]").unwrap()..]
            ),
            "item 'tax_payment': item id is defined twice",
        ),
        (MINIMAL.replace("[[items]]", "[[items]"), "not valid TOML"),
    ];
    for (text, expected) in cases {
        let errors = errors_of(&text);
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "expected an error starting {expected:?}, got {errors:#?}"
        );
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = MINIMAL
        .replace("min = 0 }", "min = 10, max = 5 }")
        .replace(r#"department = "tax""#, r#"department = "taxes""#);
    assert_eq!(errors_of(&text).len(), 2);
}

fn field(item: &str, name: &str) -> domain::catalog::Field {
    Catalog::default_catalog()
        .item(item)
        .unwrap()
        .field(name)
        .unwrap()
        .clone()
}

#[test]
fn field_rules_name_the_rule_broken() {
    let headcount = field("social_insurance", "insured_headcount");
    assert_eq!(headcount.check(""), Err(FieldError::Missing));
    assert_eq!(
        headcount.check("12.5"),
        Err(FieldError::NotInteger("12.5".into()))
    );
    assert_eq!(
        headcount.check("-1"),
        Err(FieldError::BelowMin {
            found: -1.0,
            min: 0.0
        })
    );
    assert!(headcount.check("37").is_ok());

    let severity = field("admin_penalty", "severity");
    assert!(matches!(
        severity.check("grave"),
        Err(FieldError::NotInList { .. })
    ));

    let period = field("tax_payment", "period");
    assert_eq!(
        period.check("2024-13"),
        Err(FieldError::NotMonth("2024-13".into()))
    );

    let patent = field("patent", "application_number");
    assert!(patent.check("CN202310001234.5").is_ok());
    assert!(matches!(
        patent.check("202310001234.5"),
        Err(FieldError::Pattern { .. })
    ));

    let optional = field("tax_payment", "paid_on");
    assert!(optional.check("").is_ok());
}

#[test]
fn legacy_identifiers_only_where_the_item_allows() {
    let regno = domain::RegistrationNumber::from_parts(
        domain::division::DivisionCode::parse("440606").unwrap(),
        42,
    );
    // tax_payment accepts legacy identifiers, patent does not.
    assert!(
        field("tax_payment", "subject")
            .check(regno.as_str())
            .is_ok()
    );
    assert_eq!(
        field("patent", "subject").check(regno.as_str()),
        Err(FieldError::LegacyNotAccepted)
    );
    assert!(matches!(
        field("patent", "subject").check("91350100M000100Y44"),
        Err(FieldError::Subject(_))
    ));
}

proptest! {
    #[test]
    fn integers_in_range_pass_and_outside_fail(n in -2_000_000i64..2_000_000) {
        let headcount = field("social_insurance", "insured_headcount");
        let result = headcount.check(&n.to_string());
        prop_assert_eq!(result.is_ok(), (0..=1_000_000).contains(&n));
    }

    #[test]
    fn decimals_round_trip(cents in 0u64..10_000_000_000) {
        let amount = field("tax_payment", "amount_paid");
        let text = format!("{}.{:02}", cents / 100, cents % 100);
        prop_assert!(amount.check(&text).is_ok());
        let negative = format!("-{}", text);
        prop_assert_eq!(cents == 0, amount.check(&negative).is_ok());
    }

    #[test]
    fn dates_are_accepted_exactly_when_they_exist(y in 1900i32..2100, m in 1u32..=12, d in 1u32..=31) {
        let text = format!("{y:04}-{m:02}-{d:02}");
        let exists = chrono::NaiveDate::from_ymd_opt(y, m, d).is_some();
        prop_assert_eq!(field("admin_penalty", "decided_on").check(&text).is_ok(), exists);
    }

    #[test]
    fn checking_never_panics(raw in "\\PC{0,60}") {
        let catalog = Catalog::default_catalog();
        for item in &catalog.items {
            for field in &item.fields {
                let _ = field.check(&raw);
            }
        }
    }
}

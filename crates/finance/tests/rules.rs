//! Consent decisions and matching reasons.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use finance::consent::{Access, Authorisation, Decision, Scope, check};
use finance::matching::{Demand, Eligibility, EnterpriseFacts, Grade, Product, assess, rank};
use proptest::prelude::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn grant(id: i64, bank: &str, scope: &[Scope]) -> Authorisation {
    Authorisation {
        id,
        enterprise: "E".into(),
        bank: bank.into(),
        application: None,
        scope: scope.iter().copied().collect(),
        purpose: "loan review".into(),
        granted_at: at("2026-01-01T00:00:00Z"),
        expires_at: at("2026-12-31T00:00:00Z"),
        revoked_at: None,
    }
}

fn access<'a>(bank: &'a str, needs: &'a BTreeSet<Scope>, now: &str) -> Access<'a> {
    Access {
        bank,
        enterprise: "E",
        application: None,
        needs,
        now: at(now),
    }
}

#[test]
fn consent_allows_only_a_live_covering_grant_to_this_bank() {
    let needs: BTreeSet<Scope> = [Scope::Tax, Scope::Court].into_iter().collect();
    let grants = vec![grant(
        1,
        "bank-a",
        &[Scope::Tax, Scope::Court, Scope::Registration],
    )];
    assert_eq!(
        check(&grants, &access("bank-a", &needs, "2026-06-01T00:00:00Z")),
        Decision::Allowed { authorisation: 1 }
    );
    // another bank's grant never counts
    assert_eq!(
        check(&grants, &access("bank-b", &needs, "2026-06-01T00:00:00Z")),
        Decision::NoAuthorisation
    );
    // expired
    assert!(matches!(
        check(&grants, &access("bank-a", &needs, "2027-01-01T00:00:00Z")),
        Decision::Expired { .. }
    ));
    // out of scope names what is missing
    let wider: BTreeSet<Scope> = [Scope::Tax, Scope::Utilities].into_iter().collect();
    let decision = check(&grants, &access("bank-a", &wider, "2026-06-01T00:00:00Z"));
    assert_eq!(
        decision,
        Decision::OutOfScope {
            authorisation: 1,
            missing: vec![Scope::Utilities]
        }
    );
    assert!(decision.reason().contains("utilities"));
}

#[test]
fn revocation_takes_effect_at_once() {
    let needs: BTreeSet<Scope> = [Scope::Tax].into_iter().collect();
    let mut grants = vec![grant(1, "bank-a", &[Scope::Tax])];
    let revoked = at("2026-06-01T12:00:00Z");
    grants[0].revoked_at = Some(revoked);
    let just_before = (revoked - Duration::seconds(1)).to_rfc3339();
    assert!(check(&grants, &access("bank-a", &needs, &just_before)).allowed());
    assert!(matches!(
        check(&grants, &access("bank-a", &needs, "2026-06-01T12:00:00Z")),
        Decision::Revoked { .. }
    ));
}

#[test]
fn an_application_grant_covers_only_that_application() {
    let needs: BTreeSet<Scope> = [Scope::Tax].into_iter().collect();
    let mut grants = vec![grant(1, "bank-a", &[Scope::Tax])];
    grants[0].application = Some(7);
    let mut a = access("bank-a", &needs, "2026-06-01T00:00:00Z");
    assert_eq!(
        check(&grants, &a),
        Decision::OtherApplication { authorisation: 1 }
    );
    a.application = Some(7);
    assert!(check(&grants, &a).allowed());
}

#[test]
fn application_grants_end_with_the_application_or_last_the_loan() {
    use finance::consent::{GrantsOnMove, grants_on_move};
    use finance::workflow::State;
    assert_eq!(grants_on_move(State::Withdrawn, None), GrantsOnMove::End);
    assert_eq!(grants_on_move(State::Rejected, None), GrantsOnMove::End);
    for state in [State::Accepted, State::UnderReview, State::Approved] {
        assert_eq!(grants_on_move(state, None), GrantsOnMove::Keep);
    }
    let disbursed = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
    assert_eq!(
        grants_on_move(State::Disbursed, Some((disbursed, 13))),
        GrantsOnMove::LastUntil(at("2027-02-28T00:00:00Z"))
    );
}

fn product(id: i64, eligibility: Eligibility) -> Product {
    Product {
        id,
        bank: "bank-a".into(),
        name: format!("product {id}"),
        amount_min: 10.0,
        amount_max: 500.0,
        term_months_max: 36,
        rate_min: 3.5 + id as f64 / 10.0,
        rate_max: 6.0,
        eligibility,
    }
}

fn facts() -> EnterpriseFacts {
    EnterpriseFacts {
        uscc: "E".into(),
        section: "C".into(),
        age_years: 3,
        district: "440606".into(),
        tax_paid_1y: 12.0,
        headcount: 25,
        grade: Some(Grade::B),
        in_pool: false,
        programmes: vec!["epidemic_relief".into()],
    }
}

#[test]
fn exclusions_name_their_rule() {
    let strict = Eligibility {
        sections: vec!["I".into()],
        min_age_years: 5,
        min_grade: Some(Grade::A),
        pool_only: true,
        ..Eligibility::default()
    };
    let assessed = assess(
        &product(1, strict),
        &facts(),
        &Demand {
            amount: 100.0,
            term_months: 12,
        },
    );
    let failed: Vec<&str> = assessed.exclusions().map(|c| c.rule).collect();
    assert_eq!(failed, vec!["industry", "age", "grade", "pool"]);
    let open = assess(
        &product(2, Eligibility::default()),
        &facts(),
        &Demand {
            amount: 100.0,
            term_months: 12,
        },
    );
    assert!(open.eligible());
    let too_long = assess(
        &product(2, Eligibility::default()),
        &facts(),
        &Demand {
            amount: 100.0,
            term_months: 48,
        },
    );
    assert_eq!(
        too_long.exclusions().map(|c| c.rule).collect::<Vec<_>>(),
        vec!["term"]
    );
}

#[test]
fn ranking_puts_eligible_products_first_by_rate() {
    let products = vec![
        product(3, Eligibility::default()),
        product(
            1,
            Eligibility {
                pool_only: true,
                ..Eligibility::default()
            },
        ),
        product(2, Eligibility::default()),
    ];
    let ranked = rank(
        &products,
        &facts(),
        &Demand {
            amount: 100.0,
            term_months: 12,
        },
    );
    let order: Vec<i64> = ranked.iter().map(|a| a.product).collect();
    assert_eq!(order, vec![2, 3, 1]);
}

proptest! {
    // every eligible product satisfies every rule; every excluded one names at least one
    #[test]
    fn matches_satisfy_every_rule(
        age in 0u32..10, tax in 0.0f64..50.0, headcount in 0u32..100, pool in any::<bool>(),
        grade in 0usize..5, amount in 1.0f64..800.0, term in 1u32..72,
        min_age in 0u32..6, min_tax in 0.0f64..30.0, min_head in 0u32..50, pool_only in any::<bool>(),
        worst in 0usize..5,
    ) {
        let grades = [Some(Grade::A), Some(Grade::B), Some(Grade::C), Some(Grade::D), None];
        let facts = EnterpriseFacts { age_years: age, tax_paid_1y: tax, headcount, in_pool: pool, grade: grades[grade], ..facts() };
        let eligibility = Eligibility {
            min_age_years: min_age, min_tax_paid: min_tax, min_headcount: min_head, pool_only,
            min_grade: grades[worst], ..Eligibility::default()
        };
        let p = product(1, eligibility.clone());
        let demand = Demand { amount, term_months: term };
        let a = assess(&p, &facts, &demand);
        let satisfies = amount >= p.amount_min && amount <= p.amount_max
            && term <= p.term_months_max
            && age >= min_age
            && (min_tax <= 0.0 || tax >= min_tax)
            && headcount >= min_head
            && (!pool_only || pool)
            && eligibility.min_grade.is_none_or(|w| facts.grade.is_some_and(|g| g <= w));
        prop_assert_eq!(a.eligible(), satisfies);
        if !a.eligible() {
            prop_assert!(a.exclusions().all(|c| !c.reason.is_empty()));
        }
    }
}

//! The financing side: banks and their loan products, enterprises'
//! financing demands, and applications with their outcomes.

use chrono::{Days, NaiveDate};
use domain::Uscc;
use domain::division::DivisionCode;
use domain::uscc::EntityKind;
use serde::Serialize;

use crate::config::SimConfig;
use crate::draw::{Draw, Purpose};
use crate::entity::{Entity, Kind, organisation_body};

const BANK_NAMES: [&str; 36] = [
    "中国工商银行佛山分行",
    "中国农业银行佛山分行",
    "中国银行佛山分行",
    "中国建设银行佛山分行",
    "交通银行佛山分行",
    "中国邮政储蓄银行佛山市分行",
    "招商银行佛山分行",
    "广发银行佛山分行",
    "兴业银行佛山分行",
    "中信银行佛山分行",
    "平安银行佛山分行",
    "浦发银行佛山分行",
    "民生银行佛山分行",
    "光大银行佛山分行",
    "华夏银行佛山分行",
    "浙商银行佛山分行",
    "渤海银行佛山分行",
    "恒丰银行佛山分行",
    "广州银行佛山分行",
    "东莞银行佛山分行",
    "珠海华润银行佛山分行",
    "广东华兴银行佛山分行",
    "广东南粤银行佛山分行",
    "佛山农村商业银行",
    "广东顺德农村商业银行",
    "广东南海农村商业银行",
    "广东三水农村商业银行",
    "广东高明农村商业银行",
    "国家开发银行广东省分行",
    "中国进出口银行广东省分行",
    "汇丰银行（中国）佛山分行",
    "渣打银行（中国）佛山分行",
    "东亚银行（中国）佛山分行",
    "大华银行（中国）佛山分行",
    "中国农业发展银行佛山市分行",
    "江门农村商业银行佛山分行",
];

#[derive(Debug, Clone, Serialize)]
pub struct Bank {
    pub id: u32,
    pub name: String,
    pub uscc: Uscc,
}

#[derive(Debug, Clone, Serialize)]
pub struct Eligibility {
    /// GB/T 4754 sections; empty = any.
    pub sections: Vec<char>,
    pub min_age_years: u32,
    /// District codes; empty = any.
    pub districts: Vec<String>,
    /// 万元 a year.
    pub min_tax_paid: f64,
    pub min_headcount: u32,
    /// Minimum platform credit grade (A best … D).
    pub min_grade: char,
    pub pool_only: bool,
    pub programme: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: u32,
    pub bank: u32,
    pub name: String,
    /// 万元
    pub amount_min: f64,
    /// 万元
    pub amount_max: f64,
    pub term_months_max: u32,
    /// % a year
    pub rate_min: f64,
    pub rate_max: f64,
    pub collateral: String,
    pub guarantee: String,
    pub eligibility: Eligibility,
}

const BANK_INDEX: u32 = u32::MAX - 20_000;

pub fn banks(config: &SimConfig) -> Vec<Bank> {
    let division =
        DivisionCode::parse("440600").unwrap_or_else(|_| unreachable!("constant is 6 digits"));
    (0..config.banks)
        .map(|k| {
            let name = BANK_NAMES
                .get(k as usize)
                .map_or_else(|| format!("佛山第{}村镇银行", k + 1), |n| n.to_string());
            let body = organisation_body(config.seed, BANK_INDEX + k, false);
            let uscc = Uscc::from_parts(EntityKind::ENTERPRISE, division, &body)
                .unwrap_or_else(|e| unreachable!("{e}"));
            Bank {
                id: k + 1,
                name,
                uscc,
            }
        })
        .collect()
}

const PRODUCT_KINDS: [(&str, &str, &str); 10] = [
    ("税易贷", "none", "none"),
    ("科技贷", "none", "guarantor"),
    ("信用贷", "none", "none"),
    ("抵押经营贷", "property", "none"),
    ("设备按揭贷", "equipment", "none"),
    ("应收账款融资", "receivables", "none"),
    ("政银保", "none", "guarantee_company"),
    ("复工复产贷", "none", "none"),
    ("抗疫专项贷", "none", "guarantee_company"),
    ("绿色制造贷", "equipment", "none"),
];

/// About 9.7 products per bank (370 for 38 banks).
pub fn products(config: &SimConfig, banks: &[Bank]) -> Vec<Product> {
    let mut draw = Draw::for_entity(config.seed, u32::MAX - 1, Purpose::Finance);
    let mut out = Vec::new();
    for bank in banks {
        let count = 6 + draw.poisson(3.7);
        for _ in 0..count {
            let (kind, collateral, guarantee) = *draw.pick(&PRODUCT_KINDS);
            let programme = match kind {
                "复工复产贷" => Some("resume_production"),
                "抗疫专项贷" => Some("epidemic_relief"),
                "科技贷" => Some("technology"),
                "绿色制造贷" => Some("green"),
                _ => None,
            };
            let secured = collateral != "none";
            let amount_max = if secured {
                *draw.pick(&[500.0, 1000.0, 3000.0])
            } else {
                *draw.pick(&[100.0, 200.0, 300.0, 500.0])
            };
            let rate_min = if secured { 3.2 } else { 3.6 } + draw.uniform();
            let sections = match kind {
                "科技贷" => vec!['C', 'I', 'M'],
                "绿色制造贷" | "设备按揭贷" => vec!['C'],
                _ => Vec::new(),
            };
            let districts = if bank.name.contains("顺德") {
                vec!["440606".to_string()]
            } else if bank.name.contains("南海") {
                vec!["440605".to_string()]
            } else {
                Vec::new()
            };
            out.push(Product {
                id: out.len() as u32 + 1,
                bank: bank.id,
                name: format!("{}{}", bank.name.chars().take(4).collect::<String>(), kind),
                amount_min: 10.0,
                amount_max,
                term_months_max: *draw.pick(&[12, 24, 36, 60]),
                rate_min: libm::round(rate_min * 100.0) / 100.0,
                rate_max: libm::round((rate_min + 1.0 + draw.uniform() * 2.0) * 100.0) / 100.0,
                collateral: collateral.to_string(),
                guarantee: guarantee.to_string(),
                eligibility: Eligibility {
                    sections,
                    min_age_years: *draw.pick(&[0, 1, 2, 3]),
                    districts,
                    min_tax_paid: if kind == "税易贷" {
                        *draw.pick(&[1.0, 3.0, 5.0])
                    } else {
                        0.0
                    },
                    min_headcount: *draw.pick(&[0, 0, 5, 10]),
                    min_grade: *draw.pick(&['B', 'C', 'C', 'D']),
                    pool_only: draw.chance(0.1),
                    programme: programme.map(str::to_string),
                },
            });
        }
    }
    out
}

/// A financing demand an enterprise posts, and what became of it.
#[derive(Debug, Clone)]
pub struct Demand {
    pub id: String,
    pub subject: Uscc,
    pub posted_on: NaiveDate,
    /// 万元
    pub amount: f64,
    pub term_months: u32,
    pub purpose: &'static str,
    pub applications: Vec<Application>,
}

#[derive(Debug, Clone)]
pub struct Application {
    pub product: u32,
    pub applied_on: NaiveDate,
    pub decision: &'static str,
    pub decided_on: NaiveDate,
    /// 万元
    pub approved_amount: f64,
    pub rate: f64,
    /// repaid, current, overdue, default; empty unless approved.
    pub loan_outcome: &'static str,
}

const PURPOSES: [&str; 6] = [
    "流动资金周转",
    "采购原材料",
    "购置设备",
    "扩大生产",
    "技术改造",
    "支付工资",
];

/// An enterprise's demands over the history (about 4% a year post one).
pub fn demands(config: &SimConfig, entity: &Entity, products: &[Product]) -> Vec<Demand> {
    if entity.kind == Kind::IndividualBusiness && !entity.index.is_multiple_of(4)
        || products.is_empty()
    {
        return Vec::new();
    }
    let mut draw = Draw::for_entity(config.seed, entity.index, Purpose::Finance);
    let mut out = Vec::new();
    let from = config.start().max(entity.established_on);
    let to = entity.status_on.unwrap_or(config.end);
    if from >= to {
        return out;
    }
    for _ in 0..draw.poisson(0.04 * config.years as f64) {
        let days = (to - from).num_days() as u32;
        let posted_on = from + Days::new(draw.range(0, days) as u64);
        let amount = libm::round(draw.lognormal(50.0 + entity.employees as f64 * 3.0, 0.8));
        let mut applications = Vec::new();
        for _ in 0..draw.range(1, 3) {
            let product = draw.pick(products);
            let applied_on = posted_on + Days::new(draw.range(1, 20) as u64);
            let decided_on = applied_on + Days::new(draw.range(3, 30) as u64);
            if decided_on > config.end {
                continue;
            }
            let approve = 1.0
                / (1.0 + libm::exp(entity.truth.risk_logit + 1.8 - 0.3 * entity.truth.management));
            let decision = if draw.chance(0.08) {
                "withdrawn"
            } else if draw.chance(approve) {
                "approved"
            } else {
                "rejected"
            };
            let (approved_amount, rate, loan_outcome) = if decision == "approved" {
                // About 5 % of the loans go bad, the riskier borrowers'
                // more often: what a financing scorecard has to learn.
                let default =
                    draw.chance((0.02 + 2.0 * entity.truth.violation_probability).min(0.9));
                let outcome = if default {
                    *draw.pick(&["overdue", "default"])
                } else if draw.chance(0.5) {
                    "repaid"
                } else {
                    "current"
                };
                let rate =
                    product.rate_min + draw.uniform() * (product.rate_max - product.rate_min);
                (
                    amount.min(product.amount_max),
                    libm::round(rate * 100.0) / 100.0,
                    outcome,
                )
            } else {
                (0.0, 0.0, "")
            };
            applications.push(Application {
                product: product.id,
                applied_on,
                decision,
                decided_on,
                approved_amount,
                rate,
                loan_outcome,
            });
        }
        let purpose = *draw.pick(&PURPOSES);
        out.push(Demand {
            id: format!(
                "RZ{}{:08}{}",
                posted_on.format("%Y%m%d"),
                entity.index,
                out.len()
            ),
            subject: entity.uscc,
            posted_on,
            amount,
            term_months: *draw.pick(&[6, 12, 24, 36]),
            purpose,
            applications,
        });
    }
    out
}

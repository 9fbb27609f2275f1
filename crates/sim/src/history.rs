//! What the departments observe of one entity over the history: monthly
//! figures (tax, social insurance, housing fund, utilities, logistics) and
//! events (licences, penalties, lists, court cases, IP, inspections,
//! complaints, ratings).
//!
//! Everything is driven by the entity's hidden truth with noise and lags: a
//! yearly "trouble" state follows an AR(1) process around the entity's risk,
//! arrears in one year raise the odds of penalties in the next, and a
//! violation in the final year is detected only some of the time.

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::city::{City, OutbreakScope};
use crate::complaints;
use crate::draw::{Draw, Purpose};
use crate::entity::{self, Entity, Kind, Status};
use crate::record::{Period, Record, money};

/// An inspection with what only the platform's own history knows: who went.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub entity: u32,
    pub task_number: String,
    pub date: NaiveDate,
    pub department: &'static str,
    pub trigger: &'static str,
    pub item: &'static str,
    pub inspectors: Vec<u32>,
    pub result: &'static str,
    pub violation: Option<&'static str>,
}

/// One entity's history: feed records and the inspections behind them.
#[derive(Default)]
pub struct History {
    pub records: Vec<Record>,
    pub inspections: Vec<Inspection>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

fn month_start(city: &City, m: u32) -> NaiveDate {
    city.config
        .start()
        .checked_add_months(Months::new(m))
        .unwrap_or(city.config.end)
}

fn month_end(start: NaiveDate) -> NaiveDate {
    start
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(start)
}

fn day_in(draw: &mut Draw, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let days = (to - from).num_days().max(0) as u32;
    from + Days::new(draw.range(0, days) as u64)
}

/// Seasonal activity: Foshan factories slow down around Spring Festival.
fn season(month: u32) -> f64 {
    match month {
        1 => 0.85,
        2 => 0.6,
        3 => 0.95,
        11 | 12 => 1.1,
        _ => 1.0,
    }
}

/// A run of unpaid months: start month index and length.
struct Episode {
    start: u32,
    months: u32,
    cleared: bool,
}

impl Episode {
    fn covers(&self, m: u32) -> bool {
        m >= self.start && m < self.start + self.months
    }
}

fn episodes(draw: &mut Draw, years: &[f64], months: u32, base: f64) -> Vec<Episode> {
    let mut out = Vec::new();
    for (y, risk) in years.iter().enumerate() {
        if draw.chance(base * libm::exp(*risk + 2.0).min(20.0)) {
            let start = (y as u32) * 12 + draw.range(0, 11);
            let length = draw.range(1, 6);
            if start < months {
                out.push(Episode {
                    start,
                    months: length.min(months - start),
                    cleared: draw.chance(0.75),
                });
            }
        }
    }
    out
}

struct Ctx<'a> {
    city: &'a City,
    entity: &'a Entity,
    subject: String,
    /// Organisation code or registration number, for items that accept them.
    legacy: Option<String>,
    first_month: u32,
    last_month: u32,
}

impl Ctx<'_> {
    fn alive(&self, m: u32) -> bool {
        m >= self.first_month && m <= self.last_month
    }

    /// The days of year `y` of the history on which the entity existed.
    fn active_in_year(&self, y: usize) -> Option<(NaiveDate, NaiveDate)> {
        let from = month_start(self.city, (y as u32 * 12).max(self.first_month));
        let to = month_end(month_start(
            self.city,
            (y as u32 * 12 + 11).min(self.last_month),
        ));
        (from <= to).then_some((from, to))
    }

    /// The subject as this record names it: mostly the USCC, sometimes a
    /// legacy identifier where the item accepts one.
    fn subject_for(&self, draw: &mut Draw, legacy_allowed: bool) -> String {
        match &self.legacy {
            Some(legacy) if legacy_allowed && draw.chance(self.city.config.legacy_share) => {
                legacy.clone()
            }
            _ => self.subject.clone(),
        }
    }
}

/// Generates the history of one entity.
pub fn generate(city: &City, entity: &Entity) -> History {
    let config = &city.config;
    let mut draw = Draw::for_entity(config.seed, entity.index, Purpose::History);
    let months = config.months();
    let start = config.start();
    let first_month = if entity.established_on <= start {
        0
    } else {
        let d = entity.established_on;
        ((d.year() - start.year()) * 12 + d.month() as i32 - start.month() as i32).max(0) as u32
    };
    let last_month = match entity.status_on {
        Some(d) => ((d.year() - start.year()) * 12 + d.month() as i32 - start.month() as i32)
            .clamp(0, months as i32 - 1) as u32,
        None => months - 1,
    };
    let legacy = match entity.registration_number {
        Some(number) if draw.chance(0.5) => Some(number.to_string()),
        _ => Some(entity.uscc.organisation_code().to_string()),
    };
    let ctx = Ctx {
        city,
        entity,
        subject: entity.uscc.to_string(),
        legacy,
        first_month,
        last_month,
    };

    // Yearly trouble: AR(1) around the entity's risk.
    let mut trouble = 0.5 * draw.normal();
    let mut yearly_risk = Vec::with_capacity(config.years as usize);
    for _ in 0..config.years {
        trouble = 0.6 * trouble + 0.5 * draw.normal();
        yearly_risk.push(entity.truth.risk_logit + 0.7 * trouble);
    }

    let mut history = History::default();
    if first_month > last_month || first_month >= months {
        return history;
    }
    let tax_arrears = episodes(&mut draw, &yearly_risk, months, 0.01);
    let insurance_arrears = episodes(&mut draw, &yearly_risk, months, 0.008);
    let utility_arrears = episodes(&mut draw, &yearly_risk, months, 0.012);

    periodic(
        &ctx,
        &mut draw,
        &tax_arrears,
        &insurance_arrears,
        &utility_arrears,
        &mut history.records,
    );
    arrears_events(
        &ctx,
        &mut draw,
        &tax_arrears,
        &insurance_arrears,
        &mut history.records,
    );
    yearly(&ctx, &mut draw, &yearly_risk, &mut history.records);
    let complaints_per_year = complaints(&ctx, &mut draw, &yearly_risk, &mut history.records);
    penalties(
        &ctx,
        &mut draw,
        &yearly_risk,
        &tax_arrears,
        &mut history.records,
    );
    courts(&ctx, &mut draw, &yearly_risk, &mut history.records);
    intellectual_property(&ctx, &mut draw, &mut history.records);
    inspections(
        &ctx,
        &mut draw,
        &yearly_risk,
        &complaints_per_year,
        &mut history,
    );
    history
}

fn periodic(
    ctx: &Ctx,
    draw: &mut Draw,
    tax_arrears: &[Episode],
    insurance_arrears: &[Episode],
    utility_arrears: &[Episode],
    out: &mut Vec<Record>,
) {
    let e = ctx.entity;
    let manufacturing = entity::is_manufacturing(e.industry);
    let productivity = match e.industry {
        "51" => 60_000.0,
        i if entity::is_manufacturing(i) => 30_000.0,
        _ => 15_000.0,
    };
    let scale = libm::exp(0.25 * e.truth.management + 0.15 * draw.normal());
    let general_taxpayer = e.kind == Kind::Enterprise && e.employees >= 20;
    let vat_rate = match (general_taxpayer, manufacturing) {
        (true, true) => 0.13 * 0.3,
        (true, false) => 0.06 * 0.4,
        _ => 0.01,
    };
    let housing_fund = e.kind == Kind::Enterprise
        && draw.chance(sigmoid(
            -1.0 + 0.8 * e.truth.management + 0.4 * libm::log1p(e.employees as f64),
        ));
    let coverage = (0.55 + 0.2 * e.truth.management + 0.1 * draw.normal()).clamp(0.1, 1.0);
    let uses_gas = manufacturing || matches!(e.industry, "61" | "62");
    let logistics =
        matches!(e.industry, "54" | "58" | "59") || (manufacturing && e.index.is_multiple_of(5));
    let account = |prefix: &str| format!("{prefix}{:010}", e.index as u64 * 7 + 1_000_000_000);
    let mut headcount = e.employees as f64;

    for m in ctx.first_month..=ctx.last_month {
        let date = month_start(ctx.city, m);
        let period = Period::month_of(date);
        let period_text = period.label();
        let s = season(date.month());
        if m % 12 == 0 && m > 0 {
            headcount = (headcount
                * libm::exp(0.02 + 0.1 * draw.normal() - 0.05 * (e.truth.risk_logit + 3.0)))
            .max(1.0);
        }
        if !draw.chance(ctx.city.config.density) {
            continue;
        }
        let revenue = headcount * productivity * scale * s * libm::exp(0.1 * draw.normal());

        // Tax: enterprises monthly, individual businesses quarterly.
        let quarterly = e.kind != Kind::Enterprise;
        if !quarterly || date.month().is_multiple_of(3) {
            let months_covered = if quarterly { 3.0 } else { 1.0 };
            let taxable = revenue * months_covered;
            let due = taxable * vat_rate;
            let unpaid = tax_arrears.iter().any(|a| a.covers(m));
            let paid = if unpaid {
                due * draw.uniform() * 0.3
            } else {
                due
            };
            let paid_on = if paid > 0.0 {
                day_in(draw, date + Days::new(1), date + Days::new(14)).to_string()
            } else {
                String::new()
            };
            out.push(
                Record::new("tax", "tax_payment", period)
                    .set("subject", ctx.subject_for(draw, true))
                    .set("period", period_text.clone())
                    .set("tax_type", "vat")
                    .set("taxable_revenue", money(taxable))
                    .set("amount_due", money(due))
                    .set("amount_paid", money(paid))
                    .set("paid_on", paid_on),
            );
            if e.kind == Kind::Enterprise && headcount >= 5.0 {
                let due = headcount * 120.0 * scale;
                let paid = if unpaid { 0.0 } else { due };
                out.push(
                    Record::new("tax", "tax_payment", period)
                        .set("subject", ctx.subject.clone())
                        .set("period", period_text.clone())
                        .set("tax_type", "individual_income")
                        .set("amount_due", money(due))
                        .set("amount_paid", money(paid)),
                );
            }
        }

        // Social insurance and housing fund for employers.
        if e.kind != Kind::IndividualBusiness {
            let insured = libm::round(headcount * coverage).max(1.0);
            let base = insured * 4_600.0;
            let due = base * 0.29;
            let unpaid = insurance_arrears.iter().any(|a| a.covers(m));
            out.push(
                Record::new("hrss", "social_insurance", period)
                    .set("subject", ctx.subject_for(draw, true))
                    .set("period", period_text.clone())
                    .set("insured_headcount", format!("{insured}"))
                    .set("contribution_base", money(base))
                    .set("amount_due", money(due))
                    .set("amount_paid", money(if unpaid { 0.0 } else { due })),
            );
            if housing_fund {
                let contributors = libm::round(insured * 0.6).max(1.0);
                let due = contributors * 2_000.0 * 0.1;
                let behind = insurance_arrears
                    .iter()
                    .find(|a| a.covers(m))
                    .map_or(0, |a| m - a.start + 1);
                out.push(
                    Record::new("hpf", "housing_fund", period)
                        .set("subject", ctx.subject.clone())
                        .set("period", period_text.clone())
                        .set("contributors", format!("{contributors}"))
                        .set("amount_due", money(due))
                        .set("amount_paid", money(if behind > 0 { 0.0 } else { due }))
                        .set("months_in_arrears", behind.to_string()),
                );
            }
        }

        // Utilities.
        let overdue = utility_arrears.iter().any(|a| a.covers(m));
        let activity = (headcount * scale * s).max(0.5);
        let mut utility = |department: &'static str,
                           item: &'static str,
                           prefix: &str,
                           quantity_field: &'static str,
                           quantity: f64,
                           price: f64,
                           draw: &mut Draw| {
            let billed = quantity * price;
            let (paid, days) = if overdue {
                (billed * draw.uniform() * 0.5, draw.range(30, 150))
            } else {
                (billed, 0)
            };
            out.push(
                Record::new(department, item, period)
                    .set("subject", ctx.subject_for(draw, true))
                    .set("account", account(prefix))
                    .set("period", period_text.clone())
                    .set(quantity_field, format!("{quantity:.1}"))
                    .set("amount_billed", money(billed))
                    .set("amount_paid", money(paid))
                    .set("overdue_days", days.to_string()),
            );
        };
        let summer = if (6..=9).contains(&date.month()) {
            1.3
        } else {
            1.0
        };
        let power_per_head = if manufacturing { 900.0 } else { 250.0 };
        utility(
            "water",
            "water_usage",
            "W",
            "volume_m3",
            activity * 4.0 * libm::exp(0.2 * draw.normal()),
            4.1,
            draw,
        );
        utility(
            "power",
            "electricity_usage",
            "P",
            "consumption_kwh",
            activity * power_per_head * summer * libm::exp(0.2 * draw.normal()),
            0.78,
            draw,
        );
        if uses_gas {
            utility(
                "gas",
                "gas_usage",
                "G",
                "volume_m3",
                activity * 30.0 * libm::exp(0.3 * draw.normal()),
                4.6,
                draw,
            );
        }

        if logistics {
            for flow in ["inbound", "outbound"] {
                let tonnes = activity * 8.0 * libm::exp(0.3 * draw.normal());
                out.push(
                    Record::new("commerce", "warehouse_receipt", period)
                        .set("subject", ctx.subject_for(draw, true))
                        .set("period", period_text.clone())
                        .set("flow", flow)
                        .set("tonnes", format!("{tonnes:.2}"))
                        .set("value", money(tonnes * 3_500.0))
                        .set(
                            "shipments",
                            (1 + draw.poisson(tonnes / 5.0 + 1.0)).to_string(),
                        ),
                );
            }
        }
    }
}

fn arrears_events(
    ctx: &Ctx,
    draw: &mut Draw,
    tax: &[Episode],
    insurance: &[Episode],
    out: &mut Vec<Record>,
) {
    for (episodes, department, item) in [
        (tax, "tax", "tax_arrears"),
        (insurance, "hrss", "social_insurance_arrears"),
    ] {
        for episode in episodes {
            if !ctx.alive(episode.start) {
                continue;
            }
            let since = month_start(ctx.city, episode.start) + Days::new(15);
            let cleared = if episode.cleared {
                let until = month_start(ctx.city, episode.start + episode.months);
                if until <= ctx.city.config.end {
                    until.to_string()
                } else {
                    String::new()
                }
            } else {
                String::new()
            };
            let amount = money(
                2_000.0
                    * episode.months as f64
                    * (1.0 + ctx.entity.employees as f64 / 5.0)
                    * libm::exp(0.3 * draw.normal()),
            );
            let mut record = Record::new(department, item, Period::year_of(since))
                .set("subject", ctx.subject_for(draw, true))
                .set("amount", amount)
                .set("arrears_since", since.to_string())
                .set("cleared_on", cleared);
            record = if item == "tax_arrears" {
                record.set("tax_type", "vat")
            } else {
                record.set("months", episode.months.to_string())
            };
            out.push(record);
        }
    }
}

fn yearly(ctx: &Ctx, draw: &mut Draw, risk: &[f64], out: &mut Vec<Record>) {
    let e = ctx.entity;
    let end = ctx.city.config.end;
    let polluting = matches!(e.industry, "17" | "22" | "26" | "30" | "31" | "32" | "33");
    for (y, &r) in risk.iter().enumerate() {
        let year_start = month_start(ctx.city, y as u32 * 12);
        let year = year_start.year();
        if !ctx.alive(y as u32 * 12 + 5) {
            continue;
        }
        if e.kind != Kind::IndividualBusiness && e.established_on.year() < year {
            // Annual report for the previous year, due by 30 June.
            let missing = draw.chance(sigmoid(r - 0.3));
            if missing {
                let listed =
                    NaiveDate::from_ymd_opt(year, 7, 1 + draw.range(0, 20)).unwrap_or(year_start);
                let removed = if draw.chance(0.4) {
                    day_in(draw, listed, end).to_string()
                } else {
                    String::new()
                };
                out.push(
                    Record::new("samr", "abnormal_operation", Period::year_of(listed))
                        .set("subject", ctx.subject.clone())
                        .set("reason", "no_annual_report")
                        .set("listed_on", listed.to_string())
                        .set("removed_on", removed.clone())
                        .set(
                            "removal_reason",
                            if removed.is_empty() {
                                ""
                            } else {
                                "补报年度报告"
                            },
                        )
                        .set("authority", ctx.city.bureau(e.district.code).name.clone()),
                );
            } else {
                let late = draw.chance(sigmoid(r - 0.5));
                let filed = if late {
                    NaiveDate::from_ymd_opt(year, 7, 1)
                        .map_or(year_start, |d| day_in(draw, d, d + Days::new(90)))
                } else {
                    NaiveDate::from_ymd_opt(year, 1, 2)
                        .map_or(year_start, |d| day_in(draw, d, d + Days::new(178)))
                };
                let revenue = e.employees as f64
                    * 30.0
                    * libm::exp(0.25 * e.truth.management + 0.3 * draw.normal());
                out.push(
                    Record::new("samr", "annual_report", Period::year_of(filed))
                        .set("subject", ctx.subject.clone())
                        .set("report_year", (year - 1).to_string())
                        .set("filed_on", filed.to_string())
                        .set("employees", e.employees.to_string())
                        .set("revenue", money(revenue))
                        .set("total_assets", money(revenue * 1.2 + e.registered_capital))
                        .set("tax_paid", money(revenue * 0.03))
                        .set("late", late.to_string()),
                );
            }
        }
        if e.kind == Kind::Enterprise && e.established_on.year() < year {
            let score = 0.8 * e.truth.management - 0.5 * (r + 3.0) + 0.5 * draw.normal();
            let rating = match score {
                _ if (year_start - e.established_on).num_days() < 365 => "M",
                s if s > 0.9 => "A",
                s if s > -0.2 => "B",
                s if s > -1.5 => "C",
                _ => "D",
            };
            out.push(
                Record::new("tax", "tax_credit_rating", Period::Year(year))
                    .set("subject", ctx.subject.clone())
                    .set("rating_year", (year - 1).to_string())
                    .set("rating", rating),
            );
        }
        if polluting && e.kind == Kind::Enterprise {
            let score = 0.7 * e.truth.management - 0.4 * (r + 3.0) + 0.6 * draw.normal();
            let rating = match score {
                s if s > 1.0 => "green",
                s if s > -0.3 => "blue",
                s if s > -1.3 => "yellow",
                s if s > -2.2 => "red",
                _ => "black",
            };
            out.push(
                Record::new("ecology", "environmental_rating", Period::Year(year))
                    .set("subject", ctx.subject.clone())
                    .set("rating_year", (year - 1).to_string())
                    .set("rating", rating),
            );
        }
        if entity::is_manufacturing(e.industry) && draw.chance(0.05) {
            let sampled = day_in(
                draw,
                year_start,
                month_end(month_start(ctx.city, y as u32 * 12 + 11)),
            );
            let qualified = !draw.chance(sigmoid(r + 0.5));
            out.push(
                Record::new("samr", "product_quality_check", Period::year_of(sampled))
                    .set("subject", ctx.subject.clone())
                    .set("report_number", format!("ZJ{year}{:08}", e.index))
                    .set("product", crate::names::industry_word(e.industry))
                    .set("sampled_on", sampled.to_string())
                    .set("qualified", qualified.to_string())
                    .set(
                        "failed_items",
                        if qualified {
                            ""
                        } else {
                            "标志标识；安全性能"
                        },
                    ),
            );
        }
        if draw.chance(0.01 * libm::exp(0.5 * e.truth.management)) {
            let committed = day_in(
                draw,
                year_start,
                month_end(month_start(ctx.city, y as u32 * 12 + 11)),
            );
            out.push(
                Record::new("credit", "credit_commitment", Period::year_of(committed))
                    .set("subject", ctx.subject.clone())
                    .set("commitment_type", "voluntary")
                    .set(
                        "content",
                        "本单位承诺依法诚信经营，所提供信息真实有效，自愿接受社会监督。",
                    )
                    .set("committed_on", committed.to_string())
                    .set("kept", if r > -1.0 { "broken" } else { "kept" }),
            );
        }
        if e.kind == Kind::Enterprise && draw.chance(0.004 * libm::exp(e.truth.management)) {
            let awarded = day_in(
                draw,
                year_start,
                month_end(month_start(ctx.city, y as u32 * 12 + 11)),
            );
            out.push(
                Record::new("credit", "honour", Period::year_of(awarded))
                    .set("subject", ctx.subject.clone())
                    .set(
                        "title",
                        *draw.pick(&[
                            "守合同重信用企业",
                            "纳税信用A级纳税人",
                            "佛山市诚信示范企业",
                            "广东省专精特新中小企业",
                        ]),
                    )
                    .set("level", *draw.pick(&["city", "provincial", "district"]))
                    .set("awarded_on", awarded.to_string())
                    .set("authority", ctx.city.authority("credit").name.clone()),
            );
        }
    }
    // Licences at establishment (or on renewal inside the window).
    let licensed = matches!(
        e.industry,
        "13" | "14" | "15" | "26" | "27" | "47" | "48" | "49" | "54" | "61" | "62" | "83"
    );
    if licensed || (e.industry == "52" && e.index.is_multiple_of(3)) {
        let issued = if e.established_on >= ctx.city.config.start() {
            e.established_on + Days::new(draw.range(5, 40) as u64)
        } else {
            day_in(draw, ctx.city.config.start(), end)
        };
        if issued <= end {
            let (department, certificate) = match e.industry {
                "26" | "27" => ("emergency", "安全生产许可证"),
                "47" | "48" | "49" => ("housing", "建筑业企业资质证书"),
                "54" => ("transport", "道路运输经营许可证"),
                _ => ("samr", "食品经营许可证"),
            };
            let authority = ctx.city.authority(department);
            let bureau = if department == "samr" {
                ctx.city.bureau(e.district.code)
            } else {
                authority
            };
            let valid_to = issued.checked_add_months(Months::new(60)).unwrap_or(issued);
            let number = format!("{}{:06}", issued.format("%Y%m%d"), e.index % 1_000_000);
            out.push(
                Record::new(department, "admin_licence", Period::year_of(issued))
                    .set("subject", ctx.subject_for(draw, true))
                    .set("subject_name", e.name.clone())
                    .set("legal_representative", e.legal_representative.clone())
                    .set(
                        "decision_number",
                        format!(
                            "佛{}许字〔{}〕{}号",
                            abbreviation(department),
                            issued.year(),
                            e.index
                        ),
                    )
                    .set("licence_category", "general")
                    .set("certificate_name", certificate)
                    .set("certificate_number", number.clone())
                    .set(
                        "content",
                        format!(
                            "准予{}",
                            certificate.trim_end_matches("证书").trim_end_matches("证")
                        ),
                    )
                    .set("decided_on", issued.to_string())
                    .set("valid_from", issued.to_string())
                    .set("valid_to", valid_to.to_string())
                    .set("authority", bureau.name.clone())
                    .set("authority_uscc", bureau.uscc.to_string())
                    .set(
                        "status",
                        if e.status == Status::Operating {
                            "valid"
                        } else {
                            "cancelled"
                        },
                    )
                    .set("source_unit", authority.name.clone())
                    .set("source_unit_uscc", authority.uscc.to_string()),
            );
            if department == "samr" {
                let prefix = if e.kind == Kind::Enterprise {
                    "JY"
                } else {
                    "JS"
                };
                out.push(
                    Record::new("samr", "food_licence", Period::year_of(issued))
                        .set("subject", ctx.subject.clone())
                        .set(
                            "licence_number",
                            format!(
                                "{prefix}{}{:08}",
                                &e.district.code[..6],
                                e.index % 100_000_000
                            ),
                        )
                        .set(
                            "business_type",
                            if e.industry == "62" {
                                "catering"
                            } else {
                                "retail"
                            },
                        )
                        .set("issued_on", issued.to_string())
                        .set("valid_to", valid_to.to_string()),
                );
            }
        }
    }
    if matches!(
        e.industry,
        "26" | "27" | "30" | "31" | "32" | "33" | "47" | "48"
    ) && draw.chance(0.3 * libm::exp(e.truth.risk_logit + 2.0).min(3.0))
    {
        let listed = day_in(draw, ctx.city.config.start(), end);
        out.push(
            Record::new("emergency", "safety_blacklist", Period::year_of(listed))
                .set("subject", ctx.subject.clone())
                .set("reason", "发生生产安全责任事故且拒不整改")
                .set("listed_on", listed.to_string())
                .set("removed_on", ""),
        );
    }
    if matches!(e.industry, "47" | "48" | "49" | "50")
        && draw.chance(0.3 * libm::exp(e.truth.risk_logit + 2.0).min(3.0))
    {
        let listed = day_in(draw, ctx.city.config.start(), end);
        out.push(
            Record::new("hrss", "wage_arrears", Period::year_of(listed))
                .set("subject", ctx.subject.clone())
                .set(
                    "decision_number",
                    format!("佛人社欠薪〔{}〕{}号", listed.year(), e.index),
                )
                .set("amount", money(draw.lognormal(200_000.0, 0.8)))
                .set("workers", draw.range(3, 60).to_string())
                .set("listed_on", listed.to_string())
                .set("removed_on", ""),
        );
    }
    if e.kind == Kind::Enterprise
        && entity::is_manufacturing(e.industry)
        && e.index.is_multiple_of(7)
    {
        let rating = match e.truth.management {
            m if m > 1.3 => "advanced_certified",
            _ if e.truth.risk_logit > -1.0 => "dishonest",
            _ => "registered",
        };
        let rated = day_in(draw, ctx.city.config.start(), end);
        out.push(
            Record::new("customs", "customs_credit", Period::year_of(rated))
                .set("subject", ctx.subject.clone())
                .set("rating", rating)
                .set("rated_on", rated.to_string()),
        );
    }
}

/// Complaints per month follow the risk, the season and the outbreaks.
fn complaints(ctx: &Ctx, draw: &mut Draw, risk: &[f64], out: &mut Vec<Record>) -> Vec<u32> {
    let e = ctx.entity;
    let mut per_year = vec![0u32; risk.len()];
    let base = match e.industry {
        "62" => 0.02,
        "52" | "61" | "80" | "81" | "82" | "83" | "90" => 0.012,
        "70" | "47" | "48" | "49" | "50" | "38" | "39" => 0.006,
        _ => 0.002,
    } * if e.kind == Kind::IndividualBusiness {
        0.7
    } else {
        1.0 + 0.1 * libm::log1p(e.employees as f64)
    };
    let place = format!("{}{}", e.district.name_zh, e.town.name_zh);
    let mut caller = Draw::for_entity(ctx.city.config.seed, e.index, Purpose::Caller);
    let mut emit = |draw: &mut Draw,
                    date: NaiveDate,
                    category: &'static str,
                    per_year: &mut Vec<u32>,
                    ticket: u32| {
        let y = ((date.year() - ctx.city.config.start().year()) as usize).min(per_year.len() - 1);
        per_year[y] += 1;
        let amount = if draw.chance(0.6) {
            draw.lognormal(300.0, 1.0)
        } else {
            0.0
        };
        let known = draw.chance(0.85);
        let called =
            complaints::as_called(&mut caller, &e.name, e.district.name_zh, e.town.name_zh);
        let text = complaints::text(
            draw,
            category,
            e.industry,
            &called,
            &place,
            &date.format("%-m月%-d日").to_string(),
            amount,
        );
        let channel =
            *draw.weighted(&[("12345", 0.6), ("12315", 0.3), ("web", 0.07), ("app", 0.03)]);
        let request_type = *draw.weighted(&[
            ("complaint", 0.7),
            ("report", 0.15),
            ("consultation", 0.1),
            ("help", 0.03),
            ("suggestion", 0.02),
        ]);
        let department = if channel == "12315" {
            "samr"
        } else {
            "hotline"
        };
        let status = if date + Days::new(20) < ctx.city.config.end {
            "closed"
        } else {
            *draw.pick(&["accepted", "dispatched", "handling", "replied"])
        };
        out.push(
            Record::new(department, "complaint", Period::month_of(date))
                .set(
                    "subject",
                    if known {
                        ctx.subject_for(draw, true)
                    } else {
                        String::new()
                    },
                )
                .set("business_name", called)
                .set(
                    "ticket_number",
                    format!("{}{:010}{:04}", date.format("%Y%m%d"), e.index, ticket),
                )
                .set("channel", channel)
                .set("request_type", request_type)
                .set("category", category)
                .set("industry", e.industry)
                .set("received_on", date.to_string())
                .set("division", e.town.code)
                .set("content", text)
                .set("status", status)
                .set(
                    "amount_involved",
                    if amount >= 1.0 {
                        money(amount)
                    } else {
                        String::new()
                    },
                ),
        );
    };
    let mut ticket = 0;
    for m in ctx.first_month..=ctx.last_month {
        let date = month_start(ctx.city, m);
        let y = (m / 12) as usize;
        let rate = base
            * libm::exp(0.5 * (risk[y.min(risk.len() - 1)] + 2.5))
            * season(date.month())
            * ctx.city.config.complaint_rate;
        for _ in 0..draw.poisson(rate) {
            let category = *draw.weighted(complaints::categories_for(e.industry));
            // Not before the business was established, in its first month.
            let day = day_in(draw, date.max(e.established_on), month_end(date));
            ticket += 1;
            emit(draw, day, category, &mut per_year, ticket);
        }
    }
    for outbreak in &ctx.city.outbreaks {
        let affected = match &outbreak.scope {
            OutbreakScope::Business(index) => *index == e.index,
            OutbreakScope::Town(code) => {
                *code == e.town.code && entity::consumer_facing(e.industry)
            }
            OutbreakScope::Industry(code) => *code == e.industry,
        };
        if !affected {
            continue;
        }
        let mut day = outbreak.start;
        while day <= outbreak.end {
            let alive = e.established_on <= day && e.status_on.is_none_or(|end| day <= end);
            if alive {
                for _ in 0..draw.poisson(outbreak.daily_rate) {
                    ticket += 1;
                    emit(draw, day, outbreak.category, &mut per_year, ticket);
                }
            }
            day = day + Days::new(1);
        }
    }
    per_year
}

const VIOLATIONS: [(&str, &str, &str); 8] = [
    (
        "虚假宣传",
        "《中华人民共和国反不正当竞争法》第八条",
        "对其商品的性能、功能、质量作虚假的商业宣传",
    ),
    (
        "价格违法",
        "《中华人民共和国价格法》第十四条",
        "不按规定明码标价，在标价之外加价出售商品",
    ),
    (
        "销售不合格产品",
        "《中华人民共和国产品质量法》第三十九条",
        "销售不合格产品，以次充好",
    ),
    (
        "食品安全违法",
        "《中华人民共和国食品安全法》第一百二十四条",
        "经营超过保质期的食品",
    ),
    (
        "未按规定公示信息",
        "《企业信息公示暂行条例》第十八条",
        "隐瞒真实情况，弄虚作假公示年度报告",
    ),
    (
        "无照经营",
        "《无证无照经营查处办法》第十三条",
        "未依法取得营业执照从事经营活动",
    ),
    (
        "安全生产违法",
        "《中华人民共和国安全生产法》第九十九条",
        "未对安全设备进行经常性维护、保养和定期检测",
    ),
    (
        "环境违法",
        "《中华人民共和国大气污染防治法》第一百零八条",
        "未按规定安装、使用污染防治设施",
    ),
];

/// How a department abbreviates itself in document numbers.
fn abbreviation(department: &str) -> &'static str {
    match department {
        "emergency" => "应急",
        "ecology" => "环",
        "housing" => "建",
        "transport" => "交",
        "hrss" => "人社",
        "tax" => "税",
        _ => "市监",
    }
}

fn penalties(
    ctx: &Ctx,
    draw: &mut Draw,
    risk: &[f64],
    tax_arrears: &[Episode],
    out: &mut Vec<Record>,
) {
    let e = ctx.entity;
    let years = risk.len();
    let mut number = 0u32;
    for (y, &r) in risk.iter().enumerate() {
        // Arrears last year raise the odds this year: the lag regulators see.
        let lagged = tax_arrears.iter().any(|a| a.start / 12 + 1 == y as u32);
        let mut count = draw.poisson(0.5 * sigmoid(r + if lagged { 0.8 } else { 0.0 }));
        if y == years - 1 && e.truth.violates && draw.chance(0.55) {
            count += 1;
        }
        for _ in 0..count {
            number += 1;
            let Some((from, to)) = ctx.active_in_year(y) else {
                continue;
            };
            let decided = day_in(draw, from, to);
            let pick = match e.industry {
                "62" | "13" | "14" => draw.range(2, 3),
                "26" | "30" | "32" | "17" => *draw.pick(&[2, 6, 7]),
                "47" | "48" | "49" => 6,
                _ => draw.range(0, 5),
            } as usize;
            let (violation, basis, facts) = VIOLATIONS[pick];
            let department = match pick {
                6 => "emergency",
                7 => "ecology",
                _ => "samr",
            };
            let severity = *draw.weighted(&[
                ("minor", 0.45),
                ("general", 0.42 + 0.05 * r.max(-3.0)),
                ("serious", (0.08 + 0.04 * (r + 3.0)).max(0.02)),
            ]);
            let simple = severity == "minor" && draw.chance(0.5);
            let warning = simple && draw.chance(0.5);
            let fine = if warning {
                0.0
            } else {
                draw.lognormal(
                    match severity {
                        "serious" => 20.0,
                        "general" => 3.0,
                        _ => 0.5,
                    },
                    0.7,
                )
            };
            let authority = if department == "samr" {
                ctx.city.bureau(e.district.code)
            } else {
                ctx.city.authority(department)
            };
            let source = ctx.city.authority(department);
            let months = match severity {
                "serious" => 36,
                "general" => 12,
                _ => 0,
            };
            let publicity_until = if months == 0 || simple {
                String::new()
            } else {
                decided
                    .checked_add_months(Months::new(months))
                    .map_or(String::new(), |d| d.to_string())
            };
            out.push(
                Record::new(department, "admin_penalty", Period::year_of(decided))
                    .set("subject", ctx.subject_for(draw, true))
                    .set("subject_name", e.name.clone())
                    .set("legal_representative", e.legal_representative.clone())
                    .set(
                        "decision_number",
                        format!(
                            "佛{}{}罚〔{}〕{}-{number}号",
                            e.district.name_zh.trim_end_matches('区'),
                            abbreviation(department),
                            decided.year(),
                            e.index
                        ),
                    )
                    .set("violation_type", violation)
                    .set("facts", format!("当事人{facts}，违反了{basis}的规定。"))
                    .set("legal_basis", basis)
                    .set("penalty_category", if warning { "warning" } else { "fine" })
                    .set(
                        "content",
                        if warning {
                            "警告".to_string()
                        } else {
                            format!("罚款{fine:.2}万元")
                        },
                    )
                    .set(
                        "fine_amount",
                        if warning {
                            String::new()
                        } else {
                            format!("{fine:.2}")
                        },
                    )
                    .set("severity", severity)
                    .set("simple_procedure", simple.to_string())
                    .set("decided_on", decided.to_string())
                    .set("publicity_until", publicity_until)
                    .set("authority", authority.name.clone())
                    .set("authority_uscc", authority.uscc.to_string())
                    .set("source_unit", source.name.clone())
                    .set("source_unit_uscc", source.uscc.to_string()),
            );
            if severity == "serious" && draw.chance(0.3) {
                let listed = decided + Days::new(draw.range(10, 60) as u64);
                if listed <= ctx.city.config.end {
                    out.push(
                        Record::new("samr", "serious_violation", Period::year_of(listed))
                            .set("subject", ctx.subject_for(draw, true))
                            .set(
                                "decision_number",
                                format!("佛市监严违〔{}〕{}-{number}号", listed.year(), e.index),
                            )
                            .set("reason", format!("因{violation}受到较重行政处罚"))
                            .set("listed_on", listed.to_string())
                            .set("removed_on", "")
                            .set("authority", ctx.city.authority("samr").name.clone()),
                    );
                }
            }
        }
    }
}

fn courts(ctx: &Ctx, draw: &mut Draw, risk: &[f64], out: &mut Vec<Record>) {
    let e = ctx.entity;
    let court = ctx.city.authority("court").name.clone();
    for (y, &r) in risk.iter().enumerate() {
        let rate = 0.015 * (1.0 + libm::log1p(e.employees as f64)) * libm::exp(0.5 * (r + 2.5));
        for case in 0..draw.poisson(rate) {
            let Some((from, to)) = ctx.active_in_year(y) else {
                continue;
            };
            let filed = day_in(draw, from, to);
            let judged = filed + Days::new(draw.range(40, 200) as u64);
            if judged > ctx.city.config.end {
                continue;
            }
            let defendant = draw.chance(0.4 + 0.1 * r.clamp(-3.0, 3.0));
            let lost = defendant && draw.chance(sigmoid(r + 1.5));
            let amount = draw.lognormal(80_000.0, 1.2);
            let case_number = format!(
                "（{}）粤06民初{}号",
                filed.year(),
                (e.index as u64 * 3 + case as u64) % 100_000
            );
            out.push(
                Record::new("court", "court_judgment", Period::year_of(judged))
                    .set("subject", ctx.subject_for(draw, true))
                    .set("case_number", case_number.clone())
                    .set("case_type", *draw.pick(&["civil", "commercial"]))
                    .set(
                        "cause",
                        *draw.pick(&[
                            "买卖合同纠纷",
                            "劳动争议",
                            "租赁合同纠纷",
                            "借款合同纠纷",
                            "建设工程施工合同纠纷",
                        ]),
                    )
                    .set("role", if defendant { "defendant" } else { "plaintiff" })
                    .set("amount", money(amount))
                    .set(
                        "outcome",
                        match (defendant, lost) {
                            (true, true) => "lost",
                            (true, false) => *draw.pick(&["won", "settled", "partly_won"]),
                            _ => *draw.pick(&["won", "settled", "withdrawn"]),
                        },
                    )
                    .set("filed_on", filed.to_string())
                    .set("judged_on", judged.to_string())
                    .set("court", court.clone()),
            );
            if lost && draw.chance(sigmoid(r)) {
                let enforced = judged + Days::new(draw.range(30, 90) as u64);
                if enforced > ctx.city.config.end {
                    continue;
                }
                let enforcement_number = format!(
                    "（{}）粤06执{}号",
                    enforced.year(),
                    (e.index as u64 * 3 + case as u64) % 100_000
                );
                out.push(
                    Record::new("court", "enforcement_case", Period::year_of(enforced))
                        .set("subject", ctx.subject_for(draw, true))
                        .set("case_number", enforcement_number.clone())
                        .set("amount", money(amount))
                        .set("filed_on", enforced.to_string())
                        .set("closed_on", "")
                        .set("court", court.clone()),
                );
                if draw.chance(sigmoid(r + 0.5)) {
                    let published = enforced + Days::new(draw.range(30, 120) as u64);
                    if published <= ctx.city.config.end {
                        out.push(
                            Record::new("court", "dishonest_debtor", Period::year_of(published))
                                .set("subject", ctx.subject_for(draw, true))
                                .set("case_number", enforcement_number)
                                .set("obligation", format!("支付货款及利息共计{amount:.2}元"))
                                .set("performance", "none")
                                .set("conduct", "有履行能力而拒不履行生效法律文书确定义务")
                                .set("published_on", published.to_string())
                                .set("removed_on", "")
                                .set("court", court.clone()),
                        );
                    }
                }
            }
        }
    }
}

fn intellectual_property(ctx: &Ctx, draw: &mut Draw, out: &mut Vec<Record>) {
    let e = ctx.entity;
    if e.kind != Kind::Enterprise {
        return;
    }
    let inventive = entity::is_manufacturing(e.industry)
        || matches!(e.industry, "64" | "65" | "73" | "74" | "75");
    let end = ctx.city.config.end;
    let from = month_start(ctx.city, ctx.first_month);
    let to = month_end(month_start(ctx.city, ctx.last_month));
    let mut patents = 0;
    if inventive {
        let rate = 0.08
            * libm::sqrt(e.employees as f64)
            * libm::exp(0.3 * e.truth.management)
            * ctx.city.config.years as f64;
        // At most 8 a run keeps application numbers unique (index × 8 + k).
        for k in 0..draw.poisson(rate.min(30.0)).min(8) {
            let applied = day_in(draw, from, to);
            let kind = *draw.weighted(&[
                ("invention", 0.25),
                ("utility_model", 0.55),
                ("design", 0.2),
            ]);
            let digit = match kind {
                "invention" => 1,
                "utility_model" => 2,
                _ => 3,
            };
            let granted = applied + Days::new(draw.range(180, 900) as u64);
            let granted_text = if granted <= end {
                granted.to_string()
            } else {
                String::new()
            };
            let serial = format!(
                "{}{digit}{:07}",
                applied.year(),
                (e.index as u64 * 8 + k as u64) % 10_000_000
            );
            let check = serial.bytes().map(|b| (b - b'0') as u32).sum::<u32>() % 11;
            let check = if check == 10 {
                'X'
            } else {
                char::from_digit(check, 10).unwrap_or('0')
            };
            patents += 1;
            out.push(
                Record::new("ip", "patent", Period::year_of(applied))
                    .set("subject", ctx.subject.clone())
                    .set("application_number", format!("CN{serial}.{check}"))
                    .set(
                        "title",
                        format!(
                            "一种{}的{}",
                            crate::names::industry_word(e.industry),
                            *draw.pick(&["制备方法", "结构", "装置", "控制系统", "外观设计"])
                        ),
                    )
                    .set("patent_type", kind)
                    .set("applied_on", applied.to_string())
                    .set(
                        "status",
                        if granted_text.is_empty() {
                            "pending"
                        } else {
                            "granted"
                        },
                    )
                    .set("granted_on", granted_text),
            );
        }
    }
    // Trademarks carry no signal: anyone may register one.
    for k in 0..draw.poisson(0.15 * ctx.city.config.years as f64).min(4) {
        let applied = day_in(draw, from, to);
        let registered = applied + Days::new(draw.range(240, 420) as u64);
        let registered_text = if registered <= end {
            registered.to_string()
        } else {
            String::new()
        };
        out.push(
            Record::new("ip", "trademark", Period::year_of(applied))
                .set("subject", ctx.subject.clone())
                .set(
                    "registration_number",
                    format!("{}", 10_000_000 + e.index as u64 * 4 + k as u64),
                )
                .set("mark", e.name.chars().skip(3).take(2).collect::<String>())
                .set("nice_class", draw.range(1, 45).to_string())
                .set("applied_on", applied.to_string())
                .set("registered_on", registered_text.clone())
                .set(
                    "valid_to",
                    if registered_text.is_empty() {
                        String::new()
                    } else {
                        registered
                            .checked_add_months(Months::new(120))
                            .map_or(String::new(), |d| d.to_string())
                    },
                ),
        );
    }
    if patents >= 2 && e.truth.management > 0.3 {
        let certified = day_in(draw, from, to);
        out.push(
            Record::new(
                "science",
                "high_tech_enterprise",
                Period::year_of(certified),
            )
            .set("subject", ctx.subject.clone())
            .set(
                "certificate_number",
                format!("GR{}44{:06}", certified.year(), e.index % 1_000_000),
            )
            .set("certified_on", certified.to_string())
            .set(
                "valid_to",
                certified
                    .checked_add_months(Months::new(36))
                    .map_or(String::new(), |d| d.to_string()),
            ),
        );
    }
}

const INSPECTION_ITEMS: [(&str, &str); 7] = [
    ("samr", "营业执照（登记证）规范使用情况的检查"),
    ("samr", "年度报告公示信息的检查"),
    ("samr", "食品经营者经营条件和经营行为的检查"),
    ("samr", "产品质量监督检查"),
    ("emergency", "安全生产条件的检查"),
    ("ecology", "排污单位污染物排放情况的检查"),
    ("hrss", "劳动合同和工资支付情况的检查"),
];

fn inspections(
    ctx: &Ctx,
    draw: &mut Draw,
    risk: &[f64],
    complaints_per_year: &[u32],
    history: &mut History,
) {
    let e = ctx.entity;
    for (y, &r) in risk.iter().enumerate() {
        let random = draw.chance(0.03);
        let triggered = complaints_per_year[y] > 0 && draw.chance(0.25);
        if !random && !triggered {
            continue;
        }
        let Some((from, to)) = ctx.active_in_year(y) else {
            continue;
        };
        let date = day_in(draw, from, to);
        let (department, item) = match e.industry {
            "62" | "13" | "14" | "52" => INSPECTION_ITEMS[2],
            "26" | "27" => INSPECTION_ITEMS[4],
            "30" | "32" | "17" => *draw.pick(&[INSPECTION_ITEMS[3], INSPECTION_ITEMS[5]]),
            i if entity::is_manufacturing(i) => INSPECTION_ITEMS[3],
            _ => *draw.pick(&INSPECTION_ITEMS[..2]),
        };
        let final_year = y == risk.len() - 1;
        let problem = if final_year && e.truth.violates {
            draw.chance(0.8)
        } else {
            draw.chance(sigmoid(r + 1.0))
        };
        let result = if problem && draw.chance(0.06) {
            "not_found_at_address"
        } else if problem {
            if draw.chance(0.5) {
                "problem_corrected"
            } else {
                "problem_found"
            }
        } else {
            "no_problem"
        };
        let violation = problem.then(|| {
            *draw.pick(&[
                "未按规定公示信息",
                "销售不合格产品",
                "食品安全违法",
                "价格违法",
                "安全生产违法",
            ])
        });
        let staff: Vec<u32> = ctx.city.inspectors_of(department).map(|i| i.id).collect();
        let staff = if staff.is_empty() {
            ctx.city.inspectors.iter().map(|i| i.id).collect()
        } else {
            staff
        };
        let first = *draw.pick(&staff);
        let mut second = *draw.pick(&staff);
        if second == first {
            second = staff[(staff.iter().position(|&s| s == first).unwrap_or(0) + 1) % staff.len()];
        }
        let task_number = format!("SJ{}{}{:09}", date.year(), &e.district.code[4..6], e.index);
        let authority = if department == "samr" {
            ctx.city.bureau(e.district.code)
        } else {
            ctx.city.authority(department)
        };
        history.records.push(
            Record::new(department, "inspection_result", Period::year_of(date))
                .set("subject", ctx.subject.clone())
                .set("task_number", task_number.clone())
                .set("inspection_item", item)
                .set("inspected_on", date.to_string())
                .set("result", result)
                .set("follow_up", if problem { "责令限期改正" } else { "" })
                .set("authority", authority.name.clone()),
        );
        if result == "not_found_at_address" {
            let listed = date + Days::new(draw.range(5, 30) as u64);
            if listed <= ctx.city.config.end && e.kind != Kind::IndividualBusiness {
                history.records.push(
                    Record::new("samr", "abnormal_operation", Period::year_of(listed))
                        .set("subject", ctx.subject.clone())
                        .set("reason", "unreachable_address")
                        .set("listed_on", listed.to_string())
                        .set("removed_on", "")
                        .set("authority", ctx.city.bureau(e.district.code).name.clone()),
                );
            }
        }
        history.inspections.push(Inspection {
            entity: e.index,
            task_number,
            date,
            department,
            trigger: if random { "random" } else { "complaint" },
            item,
            inspectors: vec![first, second],
            result,
            violation,
        });
    }
}

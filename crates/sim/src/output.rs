//! Writes the city to a directory:
//!
//! ```text
//! manifest.json                 every batch: department, item, file, format, encoding, period, rows
//! feeds/<department>/<item>/    the batches departments send (CSV, GBK CSV, JSON lines, XLSX)
//! history/inspections.csv       past inspections with their inspectors
//! roster/inspectors.csv         the inspector roster; roster/relationships.csv their declared conflicts
//! finance/                      banks, products (JSON lines), demands, applications and loan outcomes
//! truth/                        what only evaluation may read: entities' hidden risk, dirty-row labels, outbreaks, each complaint's entity
//! ```
//!
//! Entities are generated in parallel blocks and written in index order, so
//! the output is byte-identical whatever the thread count; rows are streamed,
//! so memory does not grow with the number of records.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use domain::Catalog;
use domain::Uscc;
use domain::division::DivisionCode;
use domain::uscc::EntityKind;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::city::{City, OutbreakScope};
use crate::config::SimConfig;
use crate::draw::{Draw, Purpose};
use crate::entity::{self, Entity, Kind, organisation_body};
use crate::feeds::{Batch, Feeds};
use crate::finance::{self, Demand};
use crate::history::{self, Inspection};
use crate::record::{Period, Record, money};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("cannot write {path}: {message}")]
    Xlsx { path: PathBuf, message: String },
    #[error("output directory {0} is not empty; choose a new one")]
    NotEmpty(PathBuf),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("internal error in the generator: {0}")]
    Internal(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub generator: String,
    pub seed: u64,
    pub entities: u32,
    pub years: u32,
    pub period_from: String,
    pub period_to: String,
    pub dirty_rate: f64,
    pub legacy_share: f64,
    pub density: f64,
    /// Complaints against the usual rate (absent before it existed: 1).
    #[serde(default = "usual_rate")]
    pub complaint_rate: f64,
    pub records: u64,
    pub dirty_rows: u64,
    pub batches: Vec<Batch>,
    /// Files that only evaluation may read.
    pub truth: Vec<String>,
}

fn usual_rate() -> f64 {
    1.0
}

/// Entities generated together before being written in order.
const BLOCK: u32 = 1024;

/// A side file in CSV.
struct Table {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

impl Table {
    fn create(out: &Path, relative: &str, header: &[&str]) -> Result<Table, SimError> {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| SimError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let file = File::create(&path).map_err(|source| SimError::Io {
            path: path.clone(),
            source,
        })?;
        let mut table = Table {
            path,
            writer: csv::Writer::from_writer(BufWriter::new(file)),
        };
        table.row(header)?;
        Ok(table)
    }

    fn row<S: AsRef<[u8]>>(&mut self, fields: &[S]) -> Result<(), SimError> {
        self.writer
            .write_record(fields)
            .map_err(|source| SimError::Csv {
                path: self.path.clone(),
                source,
            })
    }

    fn finish(mut self) -> Result<(), SimError> {
        self.writer.flush().map_err(|source| SimError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// Generates the city into `out`, calling `progress` with the number of
/// entities done.
pub fn write_city(
    config: &SimConfig,
    out: &Path,
    mut progress: impl FnMut(u32) + Send,
) -> Result<Manifest, SimError> {
    config.validate().map_err(SimError::Config)?;
    if out.exists()
        && fs::read_dir(out)
            .map_err(|source| SimError::Io {
                path: out.to_path_buf(),
                source,
            })?
            .next()
            .is_some()
    {
        return Err(SimError::NotEmpty(out.to_path_buf()));
    }
    fs::create_dir_all(out).map_err(|source| SimError::Io {
        path: out.to_path_buf(),
        source,
    })?;

    let catalog = Catalog::default_catalog();
    let city = City::new(config);
    let banks = finance::banks(config);
    let products = finance::products(config, &banks);
    write_roster(out, &city)?;
    write_finance_catalogue(out, &banks, &products)?;
    write_outbreaks(out, &city)?;

    let mut feeds = Feeds::new(out, config, &catalog)?;
    let mut truth = Table::create(
        out,
        "truth/entities.csv",
        &[
            "subject",
            "index",
            "kind",
            "industry",
            "town",
            "established_on",
            "employees",
            "subscribed_capital",
            "management",
            "risk_logit",
            "violation_probability",
            "violates",
        ],
    )?;
    // Which entity each complaint is about, whatever name the caller gave:
    // the answer for linking complaints that carry no code.
    let mut complaint_truth =
        Table::create(out, "truth/complaints.csv", &["ticket_number", "subject"])?;
    let mut inspections = Table::create(
        out,
        "history/inspections.csv",
        &[
            "task_number",
            "subject",
            "inspected_on",
            "department",
            "trigger",
            "inspection_item",
            "inspector_1",
            "inspector_2",
            "result",
            "violation",
        ],
    )?;
    let mut demands = Table::create(
        out,
        "finance/demands.csv",
        &[
            "demand_id",
            "subject",
            "posted_on",
            "amount",
            "term_months",
            "purpose",
        ],
    )?;
    let mut applications = Table::create(
        out,
        "finance/applications.csv",
        &[
            "demand_id",
            "subject",
            "product",
            "applied_on",
            "decision",
            "decided_on",
            "approved_amount",
            "rate",
            "loan_outcome",
        ],
    )?;

    let unknown_division =
        DivisionCode::parse("440606").unwrap_or_else(|_| unreachable!("constant is 6 digits"));
    let generate = |start: u32| -> Vec<(Entity, history::History, Vec<Demand>)> {
        let end = (start + BLOCK).min(config.entities);
        (start..end)
            .into_par_iter()
            .map(|index| {
                let entity = entity::generate(config, index);
                let history = history::generate(&city, &entity);
                let demands = finance::demands(config, &entity, &products);
                (entity, history, demands)
            })
            .collect()
    };
    // Generation of the next block overlaps the writing of this one; the
    // writing order, and so the output, stays the same.
    let mut next = Some(generate(0));
    let mut start = 0;
    while let Some(block) = next.take() {
        start += BLOCK;
        let (written, generated) = rayon::join(
            || -> Result<(), SimError> {
                for (entity, history, entity_demands) in &block {
                    let mut dirt = Draw::for_entity(config.seed, entity.index, Purpose::Dirty);
                    // A valid code that no entity of this city has.
                    let unknown = Uscc::from_parts(
                        EntityKind::ENTERPRISE,
                        unknown_division,
                        &organisation_body(config.seed, config.entities + entity.index, true),
                    )
                    .map_err(|e| SimError::Internal(e.to_string()))?;
                    // The contact comes last, so that the dirt drawn for
                    // every other record stays as it was before it existed.
                    let contact = contact_record(entity);
                    for record in registry_records(entity)
                        .iter()
                        .chain(&history.records)
                        .chain(std::iter::once(&contact))
                    {
                        feeds.write(record, &mut dirt, unknown.as_str())?;
                        if record.item == "complaint" {
                            let ticket = record.get("ticket_number").unwrap_or_default();
                            complaint_truth.row(&[ticket.to_string(), entity.uscc.to_string()])?;
                        }
                    }
                    write_truth(&mut truth, entity)?;
                    for inspection in &history.inspections {
                        write_inspection(&mut inspections, entity, inspection)?;
                    }
                    for demand in entity_demands {
                        write_demand(&mut demands, &mut applications, demand)?;
                    }
                    progress(entity.index + 1);
                }
                Ok(())
            },
            || (start < config.entities).then(|| generate(start)),
        );
        written?;
        next = generated;
    }
    let dirty_rows = feeds.dirty_rows;
    let batches = feeds.finish()?;
    // Rows in the batches, duplicates included.
    let records = batches.iter().map(|b| b.rows).sum();
    truth.finish()?;
    complaint_truth.finish()?;
    inspections.finish()?;
    demands.finish()?;
    applications.finish()?;

    let manifest = Manifest {
        generator: format!("xinyong-sim {}", env!("CARGO_PKG_VERSION")),
        seed: config.seed,
        entities: config.entities,
        years: config.years,
        period_from: config.start().to_string(),
        period_to: config.end.to_string(),
        dirty_rate: config.dirty_rate,
        legacy_share: config.legacy_share,
        density: config.density,
        complaint_rate: config.complaint_rate,
        records,
        dirty_rows,
        batches,
        truth: vec![
            "truth/entities.csv".to_string(),
            "truth/dirty.csv".to_string(),
            "truth/outbreaks.csv".to_string(),
            "truth/complaints.csv".to_string(),
        ],
    };
    let manifest_path = out.join("manifest.json");
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| SimError::Internal(e.to_string()))?;
    fs::write(&manifest_path, text + "\n").map_err(|source| SimError::Io {
        path: manifest_path,
        source,
    })?;
    Ok(manifest)
}

/// The contact an entity registered with the market regulator: the
/// legal representative as liaison, a mobile number and an e-mail address
/// made from the entity's index alone (no draw, so no other stream moves).
/// The addresses are under `.example`, which no one can receive mail for.
pub fn contact_record(entity: &Entity) -> Record {
    // A multiplicative hash spreads consecutive indexes over the numbers.
    let number = (u64::from(entity.index).wrapping_mul(2_654_435_761) % 1_000_000_000) as u32;
    Record::new("samr", "registration_contact", Period::Snapshot)
        .set("subject", entity.uscc.to_string())
        .set("liaison_name", entity.legal_representative.clone())
        .set("contact_phone", format!("13{number:09}"))
        .set(
            "contact_email",
            format!("contact{}@enterprise.example", entity.index),
        )
}

/// The market regulator's registry records of an entity.
fn registry_records(entity: &Entity) -> Vec<Record> {
    let subject = entity.uscc.to_string();
    let scope = domain::industry::division(entity.industry).map_or("", |d| d.name_zh);
    let mut out = vec![
        Record::new("samr", "registration", Period::Snapshot)
            .set("subject", subject.clone())
            .set(
                "registration_number",
                entity
                    .registration_number
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            )
            .set("name", entity.name.clone())
            .set("entity_type", entity.entity_type)
            .set("legal_representative", entity.legal_representative.clone())
            .set("registered_capital", money(entity.registered_capital))
            .set("paid_in_capital", money(entity.paid_in_capital))
            .set("established_on", entity.established_on.to_string())
            .set("industry", entity.industry)
            .set("division", entity.town.code)
            .set("address", entity.address.clone())
            .set(
                "business_scope",
                format!("{scope}（依法须经批准的项目，经相关部门批准后方可开展经营活动）"),
            )
            .set("status", entity.status.as_str())
            .set("authority", entity.authority()),
    ];
    for change in &entity.changes {
        out.push(
            Record::new("samr", "registration_change", Period::year_of(change.on))
                .set("subject", subject.clone())
                .set("change_item", change.item.as_str())
                .set("before", change.before.clone())
                .set("after", change.after.clone())
                .set("changed_on", change.on.to_string()),
        );
    }
    if let Some(on) = entity.status_on {
        let reason = match entity.status {
            entity::Status::Revoked => "逾期未年报且通过登记的住所无法联系",
            _ => "决议解散",
        };
        out.push(
            Record::new("samr", "status_change", Period::year_of(on))
                .set("subject", subject.clone())
                .set("status", entity.status.as_str())
                .set("effective_on", on.to_string())
                .set("reason", reason),
        );
    }
    if entity.kind != Kind::IndividualBusiness {
        for holder in &entity.shareholders {
            out.push(
                Record::new("samr", "shareholder", Period::Snapshot)
                    .set("subject", subject.clone())
                    .set("shareholder_name", holder.name.clone())
                    .set(
                        "shareholder_type",
                        if holder.natural_person {
                            "natural_person"
                        } else {
                            "enterprise"
                        },
                    )
                    .set("subscribed_capital", money(holder.subscribed))
                    .set("subscribed_on", entity.established_on.to_string()),
            );
        }
    }
    out
}

fn write_truth(truth: &mut Table, entity: &Entity) -> Result<(), SimError> {
    let kind = match entity.kind {
        Kind::Enterprise => "enterprise",
        Kind::IndividualBusiness => "individual_business",
        Kind::FarmersCooperative => "farmers_cooperative",
    };
    truth.row(&[
        entity.uscc.to_string(),
        entity.index.to_string(),
        kind.to_string(),
        entity.industry.to_string(),
        entity.town.code.to_string(),
        entity.established_on.to_string(),
        entity.employees.to_string(),
        money(entity.subscribed_capital()),
        format!("{:.4}", entity.truth.management),
        format!("{:.4}", entity.truth.risk_logit),
        format!("{:.6}", entity.truth.violation_probability),
        u8::from(entity.truth.violates).to_string(),
    ])
}

fn write_inspection(
    table: &mut Table,
    entity: &Entity,
    inspection: &Inspection,
) -> Result<(), SimError> {
    let inspector = |k: usize| {
        inspection
            .inspectors
            .get(k)
            .map(u32::to_string)
            .unwrap_or_default()
    };
    table.row(&[
        inspection.task_number.clone(),
        entity.uscc.to_string(),
        inspection.date.to_string(),
        inspection.department.to_string(),
        inspection.trigger.to_string(),
        inspection.item.to_string(),
        inspector(0),
        inspector(1),
        inspection.result.to_string(),
        inspection.violation.unwrap_or_default().to_string(),
    ])
}

fn write_demand(
    demands: &mut Table,
    applications: &mut Table,
    demand: &Demand,
) -> Result<(), SimError> {
    demands.row(&[
        demand.id.clone(),
        demand.subject.to_string(),
        demand.posted_on.to_string(),
        money(demand.amount),
        demand.term_months.to_string(),
        demand.purpose.to_string(),
    ])?;
    for application in &demand.applications {
        applications.row(&[
            demand.id.clone(),
            demand.subject.to_string(),
            application.product.to_string(),
            application.applied_on.to_string(),
            application.decision.to_string(),
            application.decided_on.to_string(),
            money(application.approved_amount),
            format!("{:.2}", application.rate),
            application.loan_outcome.to_string(),
        ])?;
    }
    Ok(())
}

fn write_roster(out: &Path, city: &City) -> Result<(), SimError> {
    let mut inspectors = Table::create(
        out,
        "roster/inspectors.csv",
        &[
            "id",
            "name",
            "certificate",
            "department",
            "competences",
            "available",
        ],
    )?;
    let mut relationships = Table::create(
        out,
        "roster/relationships.csv",
        &["inspector", "subject", "relationship"],
    )?;
    for inspector in &city.inspectors {
        inspectors.row(&[
            inspector.id.to_string(),
            inspector.name.clone(),
            inspector.certificate.clone(),
            inspector.department.to_string(),
            inspector.competences.join(";"),
            inspector.available.to_string(),
        ])?;
        for (index, kind) in &inspector.relationships {
            let subject = entity::generate(&city.config, *index).uscc;
            relationships.row(&[
                inspector.id.to_string(),
                subject.to_string(),
                kind.to_string(),
            ])?;
        }
    }
    inspectors.finish()?;
    relationships.finish()
}

fn write_finance_catalogue(
    out: &Path,
    banks: &[finance::Bank],
    products: &[finance::Product],
) -> Result<(), SimError> {
    let mut table = Table::create(out, "finance/banks.csv", &["id", "name", "uscc"])?;
    for bank in banks {
        table.row(&[
            bank.id.to_string(),
            bank.name.clone(),
            bank.uscc.to_string(),
        ])?;
    }
    table.finish()?;
    let path = out.join("finance/products.jsonl");
    let mut file = BufWriter::new(File::create(&path).map_err(|source| SimError::Io {
        path: path.clone(),
        source,
    })?);
    for product in products {
        let line = serde_json::to_string(product).map_err(|e| SimError::Internal(e.to_string()))?;
        writeln!(file, "{line}").map_err(|source| SimError::Io {
            path: path.clone(),
            source,
        })?;
    }
    file.flush().map_err(|source| SimError::Io { path, source })
}

fn write_outbreaks(out: &Path, city: &City) -> Result<(), SimError> {
    let mut table = Table::create(
        out,
        "truth/outbreaks.csv",
        &[
            "id",
            "scope",
            "target",
            "category",
            "start",
            "end",
            "daily_rate",
        ],
    )?;
    for outbreak in &city.outbreaks {
        let (scope, target) = match &outbreak.scope {
            OutbreakScope::Business(index) => (
                "business",
                entity::generate(&city.config, *index).uscc.to_string(),
            ),
            OutbreakScope::Town(code) => ("town", code.to_string()),
            OutbreakScope::Industry(code) => ("industry", code.to_string()),
        };
        table.row(&[
            outbreak.id.to_string(),
            scope.to_string(),
            target,
            outbreak.category.to_string(),
            outbreak.start.to_string(),
            outbreak.end.to_string(),
            outbreak.daily_rate.to_string(),
        ])?;
    }
    table.finish()
}

//! `xinyong catalog`: browse the information catalog and check user catalogs.

use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;
use domain::Catalog;
use domain::catalog::{FieldType, Publicity};
use serde::Serialize;

use crate::Outcome;
use crate::output::{outln, print_json, print_table, table};

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// List the catalog's items.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one item: owner, rules, publicity, partitioning and every field.
    Show {
        /// The item id, as `catalog list` prints it.
        item: String,
        #[arg(long)]
        json: bool,
    },
    /// Check a catalog file and report every problem, naming item and field.
    Check {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: CatalogCommand, catalog_file: Option<&Path>) -> anyhow::Result<Outcome> {
    match command {
        CatalogCommand::List { json } => list(&load(catalog_file)?, json),
        CatalogCommand::Show { item, json } => show(&load(catalog_file)?, &item, json),
        CatalogCommand::Check { file, json } => check(&file, json),
    }
}

/// The catalog in use: the user's file if given, otherwise the shipped one.
fn load(file: Option<&Path>) -> anyhow::Result<Catalog> {
    let Some(file) = file else {
        return Ok(Catalog::default_catalog());
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read catalog {}", file.display()))?;
    Catalog::from_toml(&text).map_err(|errors| {
        anyhow::anyhow!(
            "catalog {} is invalid ({} problems; run `xinyong catalog check {}`):\n{errors}",
            file.display(),
            errors.0.len(),
            file.display()
        )
    })
}

fn list(catalog: &Catalog, json: bool) -> anyhow::Result<Outcome> {
    if json {
        #[derive(Serialize)]
        struct Row<'a> {
            id: &'a str,
            name_zh: &'a str,
            name_en: &'a str,
            department: &'a str,
            category: String,
            publicity: &'a str,
            fields: usize,
        }
        let rows: Vec<Row> = catalog
            .items
            .iter()
            .map(|i| Row {
                id: &i.id,
                name_zh: &i.name_zh,
                name_en: &i.name_en,
                department: &i.department,
                category: i.category.to_string(),
                publicity: i.publicity.name(),
                fields: i.fields.len(),
            })
            .collect();
        print_json(&rows)?;
        return Ok(Outcome::Ok);
    }
    let mut out = table(&[
        "item",
        "名称",
        "department",
        "category",
        "publicity",
        "fields",
    ]);
    for item in &catalog.items {
        out.add_row(vec![
            item.id.clone(),
            item.name_zh.clone(),
            item.department.clone(),
            item.category.to_string(),
            item.publicity.name().to_string(),
            item.fields.len().to_string(),
        ]);
    }
    print_table(&out);
    outln!(
        "\n{} items from {} departments (catalog version {})",
        catalog.items.len(),
        catalog.departments.len(),
        catalog.version
    );
    Ok(Outcome::Ok)
}

fn show(catalog: &Catalog, id: &str, json: bool) -> anyhow::Result<Outcome> {
    let Some(item) = catalog.item(id) else {
        bail!("no catalog item '{id}' (see `xinyong catalog list`)");
    };
    if json {
        print_json(item)?;
        return Ok(Outcome::Ok);
    }
    let department = |id: &str| {
        catalog
            .department(id)
            .map_or(id.to_string(), |d| format!("{} {}", d.id, d.name_zh))
    };
    outln!("{}  {} / {}", item.id, item.name_zh, item.name_en);
    outln!("department   {}", department(&item.department));
    if !item.also_from.is_empty() {
        let others: Vec<String> = item.also_from.iter().map(|d| department(d)).collect();
        outln!("also from    {}", others.join(", "));
    }
    outln!("category     {}", item.category);
    outln!(
        "subject      {}{}",
        item.subject_field,
        if item.accepts_legacy_ids {
            " (USCC, registration number or organisation code)"
        } else {
            " (USCC only)"
        }
    );
    outln!("natural key  {}", item.natural_key.join(", "));
    let publicity = match &item.publicity {
        Publicity::PenaltyPeriod {
            date_field,
            severity_field,
        } => format!("penalty_period (by {severity_field}, from {date_field})"),
        Publicity::WhileListed {
            from_field,
            until_field,
        } => format!("while_listed (from {from_field} until {until_field})"),
        other => other.name().to_string(),
    };
    outln!("publicity    {publicity}");
    let partition = match &item.partition.field {
        Some(field) => format!("{:?} of {field}", item.partition.by).to_lowercase(),
        None => "none".to_string(),
    };
    outln!("partition    {partition}");
    outln!();
    let mut out = table(&["field", "名称", "type", "required", "rules"]);
    for field in &item.fields {
        let mut rules = Vec::new();
        if let Some(n) = field.min_len {
            rules.push(format!("min_len {n}"));
        }
        if let Some(n) = field.max_len {
            rules.push(format!("max_len {n}"));
        }
        if let Some(n) = field.min {
            rules.push(format!("min {n}"));
        }
        if let Some(n) = field.max {
            rules.push(format!("max {n}"));
        }
        if field.field_type == FieldType::Enum {
            rules.push(field.values.join("|"));
        }
        if let Some(pattern) = &field.pattern {
            rules.push(format!("pattern {}", pattern.as_str()));
        }
        out.add_row(vec![
            field.name.clone(),
            field.name_zh.clone(),
            field.field_type.as_str().to_string(),
            if field.required { "yes" } else { "" }.to_string(),
            rules.join("; "),
        ]);
    }
    print_table(&out);
    Ok(Outcome::Ok)
}

fn check(file: &Path, json: bool) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read catalog {}", file.display()))?;
    let result = Catalog::from_toml(&text);
    if json {
        #[derive(Serialize)]
        struct Problem<'a> {
            item: Option<&'a str>,
            field: Option<&'a str>,
            message: &'a str,
        }
        #[derive(Serialize)]
        struct Report<'a> {
            file: String,
            valid: bool,
            items: usize,
            problems: Vec<Problem<'a>>,
        }
        let (items, problems) = match &result {
            Ok(catalog) => (catalog.items.len(), Vec::new()),
            Err(errors) => (
                0,
                errors
                    .0
                    .iter()
                    .map(|e| Problem {
                        item: e.item.as_deref(),
                        field: e.field.as_deref(),
                        message: &e.message,
                    })
                    .collect(),
            ),
        };
        print_json(&Report {
            file: file.display().to_string(),
            valid: result.is_ok(),
            items,
            problems,
        })?;
    } else {
        match &result {
            Ok(catalog) => outln!(
                "{}: valid catalog, {} items from {} departments",
                file.display(),
                catalog.items.len(),
                catalog.departments.len()
            ),
            Err(errors) => {
                for error in &errors.0 {
                    outln!("{}: {error}", file.display());
                }
                outln!("{}: {} problems", file.display(), errors.0.len());
            }
        }
    }
    Ok(if result.is_ok() {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

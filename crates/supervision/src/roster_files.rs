//! Roster files into the store: inspectors, their declared relationships
//! and past inspections (the simulator's files, or any file with the same
//! columns). A file with a bad row stores nothing.

use std::io::Read;

use store::{InspectorRow, InspectorVisitRow, RelationshipRow, Store};

use crate::{SupervisionError, refused};

/// `id,name,certificate,department,competences,available`; adds or replaces.
pub async fn import_inspectors(
    store: &Store,
    input: impl Read,
    file: &str,
    now: &str,
) -> Result<usize, SupervisionError> {
    let rows: Vec<InspectorRow> = inspection::roster::read_inspectors(input, file)?
        .into_iter()
        .map(|i| InspectorRow {
            id: i.id,
            name: i.name,
            certificate: i.certificate,
            department: i.department,
            competences: i.competences.join(";"),
            available: i.available,
            account: None,
        })
        .collect();
    store.upsert_inspectors(&rows, now).await?;
    Ok(rows.len())
}

/// `inspector,subject,relationship`; subjects must be valid codes.
pub async fn import_relationships(
    store: &Store,
    input: impl Read,
    file: &str,
    now: &str,
) -> Result<usize, SupervisionError> {
    let rows = inspection::roster::read_relationships(input, file)?;
    for (k, r) in rows.iter().enumerate() {
        if r.subject.parse::<domain::Uscc>().is_err() {
            return Err(refused(format!(
                "{file}: row {}, field 'subject': '{}' is not a valid unified social credit code",
                k + 2,
                r.subject
            )));
        }
    }
    let rows: Vec<RelationshipRow> = rows
        .into_iter()
        .map(|r| RelationshipRow {
            inspector: r.inspector,
            subject: r.subject,
            relationship: r.kind,
        })
        .collect();
    store.add_relationships(&rows, now).await?;
    Ok(rows.len())
}

/// Past inspections with `subject,inspected_on,inspector_1,inspector_2`
/// (history/inspections.csv); one visit per inspector named.
pub async fn import_history(
    store: &Store,
    input: impl Read,
    file: &str,
) -> Result<usize, SupervisionError> {
    let columns = ["subject", "inspected_on", "inspector_1", "inspector_2"];
    let rows = inspection::roster::read_rows(input, file, &columns, |row| {
        let day = row
            .date("inspected_on")?
            .ok_or_else(|| row.fail("inspected_on", "must not be empty"))?;
        let subject = row.required("subject")?;
        Ok([row.text("inspector_1"), row.text("inspector_2")]
            .into_iter()
            .filter(|i| !i.is_empty())
            .map(|i| InspectorVisitRow {
                inspector: i.to_string(),
                subject: subject.clone(),
                inspected_on: day.to_string(),
                source: "import".to_string(),
            })
            .collect::<Vec<_>>())
    })?;
    let rows: Vec<InspectorVisitRow> = rows.into_iter().flatten().collect();
    store.add_inspector_visits(&rows).await?;
    Ok(rows.len())
}

//! Financing small firms: banks, registrations, authorisations and their
//! uses, products, demands, applications and their state history.
//!
//! The store keeps plain rows; the `finance` crate gives them meaning (which
//! grant allows a read, which transitions are legal, which products fit).

use serde::Serialize;
use sqlx::Row;

use crate::{Cell, NewAuditEntry, Store, StoreError, insert_rows};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

async fn insert_grant(tx: &mut Tx, id: i64, grant: &AuthorisationRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO authorisations (id, enterprise, bank, application_id, scope, purpose, granted_at,
           granted_by, expires_at, revoked_at, revoked_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL)",
    )
    .bind(id)
    .bind(&grant.enterprise)
    .bind(&grant.bank)
    .bind(grant.application_id)
    .bind(&grant.scope)
    .bind(&grant.purpose)
    .bind(&grant.granted_at)
    .bind(&grant.granted_by)
    .bind(&grant.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BankRow {
    pub id: String,
    pub name: String,
    pub uscc: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuthorisationRow {
    pub id: i64,
    pub enterprise: String,
    pub bank: String,
    pub application_id: Option<i64>,
    /// `;` between groups.
    pub scope: String,
    pub purpose: String,
    pub granted_at: String,
    pub granted_by: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// One bank read of an enterprise's data, allowed or denied.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessRow {
    pub id: i64,
    pub at: String,
    pub bank: String,
    pub actor: String,
    pub enterprise: String,
    pub application_id: Option<i64>,
    pub scope: String,
    pub purpose: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    pub reason: String,
    pub authorisation_id: Option<i64>,
    pub report_number: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProductRow {
    pub id: i64,
    pub bank: String,
    pub name: String,
    pub amount_min: f64,
    pub amount_max: f64,
    pub term_months_max: i64,
    pub rate_min: f64,
    pub rate_max: f64,
    pub collateral: String,
    pub guarantee: String,
    /// `finance::matching::Eligibility` as JSON.
    pub eligibility: String,
    pub state: String,
    pub created_at: String,
    pub created_by: String,
    pub reviewed_at: Option<String>,
    pub reviewed_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DemandRow {
    pub id: i64,
    pub enterprise: String,
    pub posted_at: String,
    pub amount: f64,
    pub term_months: i64,
    pub purpose: String,
    pub urgency: String,
    pub state: String,
    /// The sender's own number for an imported demand; empty otherwise.
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApplicationRow {
    pub id: i64,
    pub enterprise: String,
    pub product_id: i64,
    pub bank: String,
    pub demand_id: Option<i64>,
    pub amount: f64,
    pub term_months: i64,
    pub state: String,
    pub reason: String,
    pub created_at: String,
    pub updated_at: String,
    pub loan_amount: Option<f64>,
    pub loan_rate: Option<f64>,
    pub loan_term_months: Option<i64>,
    pub disbursed_on: Option<String>,
    /// repaid, current, overdue or default, as the bank last reported.
    pub loan_status: Option<String>,
}

/// A state an application entered.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApplicationEventRow {
    pub application_id: i64,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub state: String,
    pub reason: String,
}

/// A bank's report of what became of a disbursed loan (finance::outcome).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoanReportRow {
    pub application_id: i64,
    /// Given by the store: the report's number within its loan.
    pub seq: i64,
    /// The day the state held (YYYY-MM-DD).
    pub reported_on: String,
    pub state: String,
    pub days_past_due: i64,
    pub actor: String,
    pub at: String,
    /// `page`, `api` or `file`.
    pub source: String,
}

/// The loan a bank reports when it disburses.
#[derive(Debug, Clone, PartialEq)]
pub struct LoanOutcome {
    pub amount: f64,
    pub rate: f64,
    pub term_months: i64,
    pub disbursed_on: String,
}

const AUTHORISATION_COLUMNS: &str =
    "SELECT id, enterprise, bank, application_id, scope, purpose, granted_at, granted_by,
        expires_at, revoked_at, revoked_by FROM authorisations";

fn authorisation_row(r: &sqlx::any::AnyRow) -> AuthorisationRow {
    AuthorisationRow {
        id: r.get("id"),
        enterprise: r.get("enterprise"),
        bank: r.get("bank"),
        application_id: r.get("application_id"),
        scope: r.get("scope"),
        purpose: r.get("purpose"),
        granted_at: r.get("granted_at"),
        granted_by: r.get("granted_by"),
        expires_at: r.get("expires_at"),
        revoked_at: r.get("revoked_at"),
        revoked_by: r.get("revoked_by"),
    }
}

const ACCESS_COLUMNS: &str =
    "SELECT id, at, bank, actor, enterprise, application_id, scope, purpose, outcome, reason,
        authorisation_id, report_number FROM data_accesses";

fn access_row(r: &sqlx::any::AnyRow) -> AccessRow {
    AccessRow {
        id: r.get("id"),
        at: r.get("at"),
        bank: r.get("bank"),
        actor: r.get("actor"),
        enterprise: r.get("enterprise"),
        application_id: r.get("application_id"),
        scope: r.get("scope"),
        purpose: r.get("purpose"),
        outcome: r.get("outcome"),
        reason: r.get("reason"),
        authorisation_id: r.get("authorisation_id"),
        report_number: r.get("report_number"),
    }
}

const PRODUCT_COLUMNS: &str = "SELECT id, bank, name, amount_min, amount_max, term_months_max, rate_min, rate_max,
        collateral, guarantee, eligibility, state, created_at, created_by, reviewed_at, reviewed_by FROM loan_products";

fn product_row(r: &sqlx::any::AnyRow) -> ProductRow {
    ProductRow {
        id: r.get("id"),
        bank: r.get("bank"),
        name: r.get("name"),
        amount_min: r.get("amount_min"),
        amount_max: r.get("amount_max"),
        term_months_max: r.get("term_months_max"),
        rate_min: r.get("rate_min"),
        rate_max: r.get("rate_max"),
        collateral: r.get("collateral"),
        guarantee: r.get("guarantee"),
        eligibility: r.get("eligibility"),
        state: r.get("state"),
        created_at: r.get("created_at"),
        created_by: r.get("created_by"),
        reviewed_at: r.get("reviewed_at"),
        reviewed_by: r.get("reviewed_by"),
    }
}

const DEMAND_COLUMNS: &str =
    "SELECT id, enterprise, posted_at, amount, term_months, purpose, urgency, state, reference
        FROM financing_demands";

fn demand_row(r: &sqlx::any::AnyRow) -> DemandRow {
    DemandRow {
        id: r.get("id"),
        enterprise: r.get("enterprise"),
        posted_at: r.get("posted_at"),
        amount: r.get("amount"),
        term_months: r.get("term_months"),
        purpose: r.get("purpose"),
        urgency: r.get("urgency"),
        state: r.get("state"),
        reference: r.get("reference"),
    }
}

const APPLICATION_COLUMNS: &str =
    "SELECT id, enterprise, product_id, bank, demand_id, amount, term_months, state, reason,
        created_at, updated_at, loan_amount, loan_rate, loan_term_months, disbursed_on, loan_status
        FROM loan_applications";

fn application_row(r: &sqlx::any::AnyRow) -> ApplicationRow {
    ApplicationRow {
        id: r.get("id"),
        enterprise: r.get("enterprise"),
        product_id: r.get("product_id"),
        bank: r.get("bank"),
        demand_id: r.get("demand_id"),
        amount: r.get("amount"),
        term_months: r.get("term_months"),
        state: r.get("state"),
        reason: r.get("reason"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        loan_amount: r.get("loan_amount"),
        loan_rate: r.get("loan_rate"),
        loan_term_months: r.get("loan_term_months"),
        disbursed_on: r.get("disbursed_on"),
        loan_status: r.get("loan_status"),
    }
}

fn event_row(r: &sqlx::any::AnyRow) -> ApplicationEventRow {
    ApplicationEventRow {
        application_id: r.get("application_id"),
        seq: r.get("seq"),
        at: r.get("at"),
        actor: r.get("actor"),
        state: r.get("state"),
        reason: r.get("reason"),
    }
}

fn text(value: &str) -> Cell {
    Cell::Text(Some(value.to_string()))
}

fn optional_text(value: Option<&str>) -> Cell {
    Cell::Text(value.map(str::to_string))
}

impl Store {
    /// Adds banks, or renames those already known.
    pub async fn upsert_banks(&self, banks: &[BankRow]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for bank in banks {
            sqlx::query(
                "INSERT INTO banks (id, name, uscc) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, uscc = excluded.uscc",
            )
            .bind(&bank.id)
            .bind(&bank.name)
            .bind(&bank.uscc)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn banks(&self) -> Result<Vec<BankRow>, StoreError> {
        let rows = sqlx::query("SELECT id, name, uscc FROM banks ORDER BY LENGTH(id), id")
            .fetch_all(&self.reads)
            .await?;
        Ok(rows
            .iter()
            .map(|r| BankRow {
                id: r.get("id"),
                name: r.get("name"),
                uscc: r.get("uscc"),
            })
            .collect())
    }

    /// Records who registered an enterprise, after its account was created.
    pub async fn record_registration(
        &self,
        uscc: &str,
        user_id: i64,
        applicant_name: &str,
        capacity: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO enterprise_registrations (uscc, user_id, applicant_name, capacity, registered_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(uscc)
        .bind(user_id)
        .bind(applicant_name)
        .bind(capacity)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enterprises registered on the platform, by month of registration.
    pub async fn registrations_by_month(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT SUBSTR(registered_at, 1, 7) AS month, COUNT(DISTINCT uscc) AS enterprises
             FROM enterprise_registrations GROUP BY SUBSTR(registered_at, 1, 7) ORDER BY 1",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("month"), r.get("enterprises")))
            .collect())
    }

    /// Stores a grant and returns its id.
    pub async fn grant_authorisation(&self, grant: &AuthorisationRow) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = crate::take_ids(&mut tx, "authorisations", 1).await?;
        insert_grant(&mut tx, id, grant).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Stores a grant whose id was reserved ([`Store::reserve_ids`]) with
    /// its audit entry, in one transaction.
    pub async fn grant_authorisation_audited(
        &self,
        grant: &AuthorisationRow,
        audit: &NewAuditEntry<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_grant(&mut tx, grant.id, grant).await?;
        crate::audit::stage(&mut tx, audit, &grant.granted_at).await?;
        tx.commit().await?;
        self.flush_after_change().await;
        Ok(())
    }

    /// An enterprise's grants, newest first.
    pub async fn authorisations_of(
        &self,
        enterprise: &str,
    ) -> Result<Vec<AuthorisationRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{AUTHORISATION_COLUMNS} WHERE enterprise = $1 ORDER BY id DESC"
        ))
        .bind(enterprise)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(authorisation_row).collect())
    }

    /// The grants made to a bank, newest first.
    pub async fn authorisations_to(&self, bank: &str) -> Result<Vec<AuthorisationRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{AUTHORISATION_COLUMNS} WHERE bank = $1 ORDER BY id DESC"
        ))
        .bind(bank)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(authorisation_row).collect())
    }

    pub async fn authorisation(&self, id: i64) -> Result<Option<AuthorisationRow>, StoreError> {
        let row = sqlx::query(&format!("{AUTHORISATION_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(authorisation_row))
    }

    /// Revokes an enterprise's grant; false when it is not theirs or was
    /// revoked already.
    pub async fn revoke_authorisation(
        &self,
        id: i64,
        enterprise: &str,
        at: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        self.revoke_authorisation_audited(id, enterprise, at, by, None)
            .await
    }

    /// The same, with the audit entry of a revocation that happened, in
    /// the same transaction.
    pub async fn revoke_authorisation_audited(
        &self,
        id: i64,
        enterprise: &str,
        at: &str,
        by: &str,
        audit: Option<&NewAuditEntry<'_>>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE authorisations SET revoked_at = $1, revoked_by = $2
             WHERE id = $3 AND enterprise = $4 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(by)
        .bind(id)
        .bind(enterprise)
        .execute(&mut *tx)
        .await?;
        let revoked = done.rows_affected() == 1;
        let staged = match audit {
            Some(entry) if revoked => {
                crate::audit::stage(&mut tx, entry, at).await?;
                true
            }
            _ => false,
        };
        tx.commit().await?;
        if staged {
            self.flush_after_change().await;
        }
        Ok(revoked)
    }

    /// Logs one read or denial; returns its id.
    pub async fn record_access(&self, access: &AccessRow) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = crate::take_ids(&mut tx, "data_accesses", 1).await?;
        sqlx::query(
            "INSERT INTO data_accesses (id, at, bank, actor, enterprise, application_id, scope, purpose, outcome,
               reason, authorisation_id, report_number)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(&access.at)
        .bind(&access.bank)
        .bind(&access.actor)
        .bind(&access.enterprise)
        .bind(access.application_id)
        .bind(&access.scope)
        .bind(&access.purpose)
        .bind(&access.outcome)
        .bind(&access.reason)
        .bind(access.authorisation_id)
        .bind(&access.report_number)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The reads of an enterprise's data, newest first.
    pub async fn accesses_of(
        &self,
        enterprise: &str,
        limit: i64,
    ) -> Result<Vec<AccessRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{ACCESS_COLUMNS} WHERE enterprise = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(enterprise)
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(access_row).collect())
    }

    /// A bank's reads, newest first.
    pub async fn accesses_by_bank(
        &self,
        bank: &str,
        limit: i64,
    ) -> Result<Vec<AccessRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{ACCESS_COLUMNS} WHERE bank = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(bank)
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(access_row).collect())
    }

    /// Stores products as given (their ids are assigned); returns the ids.
    pub async fn create_products(&self, products: &[ProductRow]) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let first = crate::take_ids(&mut tx, "loan_products", products.len()).await?;
        let ids: Vec<i64> = (0..products.len() as i64).map(|k| first + k).collect();
        let rows: Vec<Vec<Cell>> = products
            .iter()
            .zip(&ids)
            .map(|(p, id)| {
                vec![
                    Cell::Integer(*id),
                    text(&p.bank),
                    text(&p.name),
                    Cell::Number(Some(p.amount_min)),
                    Cell::Number(Some(p.amount_max)),
                    Cell::Integer(p.term_months_max),
                    Cell::Number(Some(p.rate_min)),
                    Cell::Number(Some(p.rate_max)),
                    text(&p.collateral),
                    text(&p.guarantee),
                    text(&p.eligibility),
                    text(&p.state),
                    text(&p.created_at),
                    text(&p.created_by),
                    optional_text(p.reviewed_at.as_deref()),
                    optional_text(p.reviewed_by.as_deref()),
                ]
            })
            .collect();
        insert_rows(
            &mut tx,
            self.backend,
            "loan_products",
            &[
                "id",
                "bank",
                "name",
                "amount_min",
                "amount_max",
                "term_months_max",
                "rate_min",
                "rate_max",
                "collateral",
                "guarantee",
                "eligibility",
                "state",
                "created_at",
                "created_by",
                "reviewed_at",
                "reviewed_by",
            ],
            rows,
        )
        .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Every product, by id.
    pub async fn products(&self) -> Result<Vec<ProductRow>, StoreError> {
        let rows = sqlx::query(&format!("{PRODUCT_COLUMNS} ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        Ok(rows.iter().map(product_row).collect())
    }

    pub async fn product(&self, id: i64) -> Result<Option<ProductRow>, StoreError> {
        let row = sqlx::query(&format!("{PRODUCT_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(product_row))
    }

    /// Moves a product from `from` to `to`; false when it was not in `from`.
    pub async fn set_product_state(
        &self,
        id: i64,
        from: &str,
        to: &str,
        at: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE loan_products SET state = $1, reviewed_at = $2, reviewed_by = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to)
        .bind(at)
        .bind(by)
        .bind(id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores demands (ids assigned); returns the ids.
    pub async fn create_demands(&self, demands: &[DemandRow]) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let first = crate::take_ids(&mut tx, "financing_demands", demands.len()).await?;
        let ids: Vec<i64> = (0..demands.len() as i64).map(|k| first + k).collect();
        let rows: Vec<Vec<Cell>> = demands
            .iter()
            .zip(&ids)
            .map(|(d, id)| {
                vec![
                    Cell::Integer(*id),
                    text(&d.enterprise),
                    text(&d.posted_at),
                    Cell::Number(Some(d.amount)),
                    Cell::Integer(d.term_months),
                    text(&d.purpose),
                    text(&d.urgency),
                    text(&d.state),
                    text(&d.reference),
                ]
            })
            .collect();
        insert_rows(
            &mut tx,
            self.backend,
            "financing_demands",
            &[
                "id",
                "enterprise",
                "posted_at",
                "amount",
                "term_months",
                "purpose",
                "urgency",
                "state",
                "reference",
            ],
            rows,
        )
        .await?;
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn demand(&self, id: i64) -> Result<Option<DemandRow>, StoreError> {
        let row = sqlx::query(&format!("{DEMAND_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(demand_row))
    }

    /// An enterprise's demands, newest first.
    pub async fn demands_of(&self, enterprise: &str) -> Result<Vec<DemandRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{DEMAND_COLUMNS} WHERE enterprise = $1 ORDER BY posted_at DESC, id DESC"
        ))
        .bind(enterprise)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(demand_row).collect())
    }

    /// Open demands, newest first, at most `limit`.
    pub async fn open_demands(&self, limit: i64) -> Result<Vec<DemandRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{DEMAND_COLUMNS} WHERE state = 'open' ORDER BY posted_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(demand_row).collect())
    }

    /// Every demand (statistics), by id.
    pub async fn demands(&self) -> Result<Vec<DemandRow>, StoreError> {
        let rows = sqlx::query(&format!("{DEMAND_COLUMNS} ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        Ok(rows.iter().map(demand_row).collect())
    }

    /// Stores applications with the history of states each entered (ids
    /// assigned; `events` pairs an index into `applications` with the
    /// event). Returns the ids.
    pub async fn create_applications(
        &self,
        applications: &[ApplicationRow],
        events: &[(usize, ApplicationEventRow)],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let first = crate::take_ids(&mut tx, "loan_applications", applications.len()).await?;
        let ids: Vec<i64> = (0..applications.len() as i64).map(|k| first + k).collect();
        self.insert_applications(&mut tx, applications, &ids, events)
            .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// An application as its enterprise submits it: the application (its
    /// id reserved with [`Store::reserve_ids`]), its first event, the grant
    /// it asked for if any (id reserved too) and the audit entries, in one
    /// transaction: a process killed half-way leaves none of them.
    pub async fn submit_application(
        &self,
        application: &ApplicationRow,
        event: &ApplicationEventRow,
        grant: Option<&AuthorisationRow>,
        audit: &[NewAuditEntry<'_>],
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        self.insert_applications(
            &mut tx,
            std::slice::from_ref(application),
            &[application.id],
            &[(0, event.clone())],
        )
        .await?;
        if let Some(grant) = grant {
            insert_grant(&mut tx, grant.id, grant).await?;
        }
        for entry in audit {
            crate::audit::stage(&mut tx, entry, &event.at).await?;
        }
        tx.commit().await?;
        self.flush_after_change().await;
        Ok(())
    }

    async fn insert_applications(
        &self,
        tx: &mut Tx,
        applications: &[ApplicationRow],
        ids: &[i64],
        events: &[(usize, ApplicationEventRow)],
    ) -> Result<(), StoreError> {
        // Each application's last event number, from which moves go on.
        let mut last_seq = vec![0i64; applications.len()];
        for (index, event) in events {
            if let Some(last) = last_seq.get_mut(*index) {
                *last = (*last).max(event.seq);
            }
        }
        let rows: Vec<Vec<Cell>> = applications
            .iter()
            .zip(ids)
            .zip(&last_seq)
            .map(|((a, id), last)| {
                vec![
                    Cell::Integer(*id),
                    text(&a.enterprise),
                    Cell::Integer(a.product_id),
                    text(&a.bank),
                    Cell::OptionalInteger(a.demand_id),
                    Cell::Number(Some(a.amount)),
                    Cell::Integer(a.term_months),
                    text(&a.state),
                    text(&a.reason),
                    text(&a.created_at),
                    text(&a.updated_at),
                    Cell::Number(a.loan_amount),
                    Cell::Number(a.loan_rate),
                    Cell::OptionalInteger(a.loan_term_months),
                    optional_text(a.disbursed_on.as_deref()),
                    optional_text(a.loan_status.as_deref()),
                    Cell::Integer(*last),
                ]
            })
            .collect();
        insert_rows(
            tx,
            self.backend,
            "loan_applications",
            &[
                "id",
                "enterprise",
                "product_id",
                "bank",
                "demand_id",
                "amount",
                "term_months",
                "state",
                "reason",
                "created_at",
                "updated_at",
                "loan_amount",
                "loan_rate",
                "loan_term_months",
                "disbursed_on",
                "loan_status",
                "last_event_seq",
            ],
            rows,
        )
        .await?;
        let mut event_rows = Vec::with_capacity(events.len());
        for (index, event) in events {
            let id = ids.get(*index).ok_or_else(|| {
                StoreError::Conflict(format!("event of application #{index}, which is not given"))
            })?;
            event_rows.push(vec![
                Cell::Integer(*id),
                Cell::Integer(event.seq),
                text(&event.at),
                text(&event.actor),
                text(&event.state),
                text(&event.reason),
            ]);
        }
        insert_rows(
            tx,
            self.backend,
            "application_events",
            &["application_id", "seq", "at", "actor", "state", "reason"],
            event_rows,
        )
        .await?;
        Ok(())
    }

    pub async fn application(&self, id: i64) -> Result<Option<ApplicationRow>, StoreError> {
        let row = sqlx::query(&format!("{APPLICATION_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(application_row))
    }

    /// Applications of an enterprise (`enterprise = …`) or to a bank
    /// (`bank = …`), newest first.
    pub async fn applications_where(
        &self,
        column: ApplicationParty,
        value: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRow>, StoreError> {
        let column = match column {
            ApplicationParty::Enterprise => "enterprise",
            ApplicationParty::Bank => "bank",
        };
        let rows = sqlx::query(&format!(
            "{APPLICATION_COLUMNS} WHERE {column} = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(value)
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(application_row).collect())
    }

    /// Every application (statistics), by id.
    pub async fn applications(&self) -> Result<Vec<ApplicationRow>, StoreError> {
        let rows = sqlx::query(&format!("{APPLICATION_COLUMNS} ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        Ok(rows.iter().map(application_row).collect())
    }

    pub async fn application_events(
        &self,
        id: i64,
    ) -> Result<Vec<ApplicationEventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT application_id, seq, at, actor, state, reason FROM application_events
             WHERE application_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(event_row).collect())
    }

    /// Moves an application from `from` to `to` and records the event;
    /// a conflict when it is no longer in `from` (someone moved it first).
    /// The grants made for the application change as `grants` says, in the
    /// same transaction: no read can fall between the move and the change.
    pub async fn move_application(
        &self,
        id: i64,
        from: &str,
        to: &str,
        event: &ApplicationEventRow,
        loan: Option<&LoanOutcome>,
        grants: GrantChange<'_>,
    ) -> Result<(), StoreError> {
        let change = Move {
            id,
            from,
            to,
            event,
            loan,
            grants,
        };
        self.move_application_audited(&change, None).await
    }

    /// The same, with the move's audit entry in the same transaction.
    pub async fn move_application_audited(
        &self,
        change: &Move<'_>,
        audit: Option<&NewAuditEntry<'_>>,
    ) -> Result<(), StoreError> {
        let Move {
            id,
            from,
            to,
            event,
            loan,
            grants,
        } = *change;
        let mut tx = self.write().await?;
        // The event's number comes from the application's own row, which
        // this update locks: two moves cannot take the same number.
        let moved = sqlx::query(
            "UPDATE loan_applications SET state = $1, reason = $2, updated_at = $3,
               last_event_seq = last_event_seq + 1
             WHERE id = $4 AND state = $5 RETURNING last_event_seq",
        )
        .bind(to)
        .bind(&event.reason)
        .bind(&event.at)
        .bind(id)
        .bind(from)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(loan) = loan {
            sqlx::query(
                "UPDATE loan_applications SET loan_amount = $1, loan_rate = $2, loan_term_months = $3,
                   disbursed_on = $4, loan_status = 'current' WHERE id = $5",
            )
            .bind(loan.amount)
            .bind(loan.rate)
            .bind(loan.term_months)
            .bind(&loan.disbursed_on)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let Some(moved) = moved else {
            return Err(StoreError::Conflict(format!(
                "application {id} is no longer {from}"
            )));
        };
        let seq: i64 = moved.get("last_event_seq");
        match grants {
            GrantChange::Keep => {}
            GrantChange::End { at, by } => {
                sqlx::query(
                    "UPDATE authorisations SET revoked_at = $1, revoked_by = $2
                     WHERE application_id = $3 AND revoked_at IS NULL",
                )
                .bind(at)
                .bind(by)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            GrantChange::LastUntil(until) => {
                sqlx::query(
                    "UPDATE authorisations SET expires_at = $1
                     WHERE application_id = $2 AND revoked_at IS NULL",
                )
                .bind(until)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query(
            "INSERT INTO application_events (application_id, seq, at, actor, state, reason)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(seq)
        .bind(&event.at)
        .bind(&event.actor)
        .bind(to)
        .bind(&event.reason)
        .execute(&mut *tx)
        .await?;
        if let Some(entry) = audit {
            crate::audit::stage(&mut tx, entry, &event.at).await?;
        }
        tx.commit().await?;
        if audit.is_some() {
            self.flush_after_change().await;
        }
        Ok(())
    }
}

impl Store {
    /// Adds a report to a disbursed loan, with its audit entry, in one
    /// transaction. The report's number comes from the application's row,
    /// which the transaction updates first, so reports sent at once are
    /// numbered and checked one after the other: `check` sees the day the
    /// loan was paid out and its last report, and a refusal (its message)
    /// leaves nothing written. A conflict when the application has no
    /// disbursed loan.
    pub async fn report_loan(
        &self,
        report: &LoanReportRow,
        check: impl FnOnce(&str, Option<&LoanReportRow>) -> Result<(), String>,
        audit: Option<&NewAuditEntry<'_>>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let seq = append_loan_report(&mut tx, report, check).await?;
        if let Some(entry) = audit {
            crate::audit::stage(&mut tx, entry, &report.at).await?;
        }
        tx.commit().await?;
        if audit.is_some() {
            self.flush_after_change().await;
        }
        Ok(seq)
    }

    /// Adds many reports (a bank's file) in one transaction, each checked
    /// as [`Store::report_loan`] checks one, against the loan's reports
    /// before it, the file's earlier rows included: `check` gets the row's
    /// index. The first refusal leaves nothing written. Returns each
    /// report's number.
    pub async fn report_loans(
        &self,
        reports: &[LoanReportRow],
        check: impl Fn(usize, &str, Option<&LoanReportRow>) -> Result<(), String>,
        audit: &NewAuditEntry<'_>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        let mut numbers = Vec::with_capacity(reports.len());
        for (index, report) in reports.iter().enumerate() {
            let seq = append_loan_report(&mut tx, report, |disbursed_on, last| {
                check(index, disbursed_on, last)
            })
            .await?;
            numbers.push(seq);
        }
        let at = reports.first().map_or("", |r| r.at.as_str());
        crate::audit::stage(&mut tx, audit, at).await?;
        tx.commit().await?;
        self.flush_after_change().await;
        Ok(numbers)
    }

    /// One loan's reports, oldest first.
    pub async fn loan_reports(
        &self,
        application_id: i64,
    ) -> Result<Vec<LoanReportRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{LOAN_REPORT_COLUMNS} WHERE application_id = $1 ORDER BY seq"
        ))
        .bind(application_id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(loan_report_row).collect())
    }

    /// Every loan's reports, by loan and in order (the scorecard's labels).
    pub async fn all_loan_reports(&self) -> Result<Vec<LoanReportRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{LOAN_REPORT_COLUMNS} ORDER BY application_id, seq"
        ))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(loan_report_row).collect())
    }
}

/// Numbers, checks and writes one report inside the caller's transaction:
/// the application's counter is bumped first, which locks its row, so
/// reports sent at once are numbered and checked one after the other.
async fn append_loan_report(
    tx: &mut Tx,
    report: &LoanReportRow,
    check: impl FnOnce(&str, Option<&LoanReportRow>) -> Result<(), String>,
) -> Result<i64, StoreError> {
    let id = report.application_id;
    let locked = sqlx::query(
        "UPDATE loan_applications SET last_report_seq = last_report_seq + 1
         WHERE id = $1 AND state = 'disbursed' AND disbursed_on IS NOT NULL
         RETURNING last_report_seq, disbursed_on",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(locked) = locked else {
        return Err(StoreError::Conflict(format!(
            "application {id} has no disbursed loan to report on"
        )));
    };
    let seq: i64 = locked.get("last_report_seq");
    let disbursed_on: String = locked.get("disbursed_on");
    let last = sqlx::query(&format!(
        "{LOAN_REPORT_COLUMNS} WHERE application_id = $1 ORDER BY seq DESC LIMIT 1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| loan_report_row(&r));
    check(&disbursed_on, last.as_ref()).map_err(StoreError::Conflict)?;
    sqlx::query(
        "INSERT INTO loan_reports
           (application_id, seq, reported_on, state, days_past_due, actor, at, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(seq)
    .bind(&report.reported_on)
    .bind(&report.state)
    .bind(report.days_past_due)
    .bind(&report.actor)
    .bind(&report.at)
    .bind(&report.source)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE loan_applications SET loan_status = $1 WHERE id = $2")
        .bind(&report.state)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

const LOAN_REPORT_COLUMNS: &str = "SELECT application_id, seq, reported_on, state, days_past_due, actor, at, source FROM loan_reports";

fn loan_report_row(r: &sqlx::any::AnyRow) -> LoanReportRow {
    LoanReportRow {
        application_id: r.get("application_id"),
        seq: r.get("seq"),
        reported_on: r.get("reported_on"),
        state: r.get("state"),
        days_past_due: r.get("days_past_due"),
        actor: r.get("actor"),
        at: r.get("at"),
        source: r.get("source"),
    }
}

/// An application's move, as [`Store::move_application_audited`] makes it.
#[derive(Debug, Clone, Copy)]
pub struct Move<'a> {
    pub id: i64,
    /// The state it must still be in.
    pub from: &'a str,
    pub to: &'a str,
    pub event: &'a ApplicationEventRow,
    pub loan: Option<&'a LoanOutcome>,
    pub grants: GrantChange<'a>,
}

/// What a move does to the grants made for the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantChange<'a> {
    Keep,
    /// Revoke every live one at `at`, recorded as revoked by `by`.
    End {
        at: &'a str,
        by: &'a str,
    },
    /// Every live one expires at this instant (RFC 3339).
    LastUntil(&'a str),
}

/// Whose applications to list.
#[derive(Debug, Clone, Copy)]
pub enum ApplicationParty {
    Enterprise,
    Bank,
}

/// A stored financing scorecard.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FinancingModelRow {
    pub version: String,
    pub created_at: String,
    pub as_of: String,
    pub model_json: String,
    pub report_json: String,
}

/// An enterprise's financing score and grade.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FinancingScoreRow {
    pub uscc: String,
    pub model_version: String,
    pub as_of: String,
    pub score: i64,
    pub probability: f64,
    pub grade: String,
    /// JSON list of reasons: feature, bin, points lost.
    pub reasons: String,
    pub employees: Option<f64>,
    /// Yuan, in the year before `as_of`.
    pub tax_paid_1y: Option<f64>,
    /// JSON of what would improve the grade (`risk::improve::Outlook`).
    pub outlook: Option<String>,
}

impl Store {
    pub async fn save_financing_model(&self, model: &FinancingModelRow) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO financing_models (version, created_at, as_of, model_json, report_json)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&model.version)
        .bind(&model.created_at)
        .bind(&model.as_of)
        .bind(&model.model_json)
        .bind(&model.report_json)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest financing scorecard, if one was trained.
    pub async fn latest_financing_model(&self) -> Result<Option<FinancingModelRow>, StoreError> {
        let row = sqlx::query(
            "SELECT version, created_at, as_of, model_json, report_json FROM financing_models
             ORDER BY created_at DESC, version DESC LIMIT 1",
        )
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|r| FinancingModelRow {
            version: r.get("version"),
            created_at: r.get("created_at"),
            as_of: r.get("as_of"),
            model_json: r.get("model_json"),
            report_json: r.get("report_json"),
        }))
    }

    /// Replaces every enterprise's financing score with `rows`, at once.
    pub async fn replace_financing_scores(
        &self,
        rows: Vec<FinancingScoreRow>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM financing_scores")
            .execute(&mut *tx)
            .await?;
        let cells: Vec<Vec<Cell>> = rows
            .into_iter()
            .map(|r| {
                vec![
                    Cell::Text(Some(r.uscc)),
                    Cell::Text(Some(r.model_version)),
                    Cell::Text(Some(r.as_of)),
                    Cell::Integer(r.score),
                    Cell::Number(Some(r.probability)),
                    Cell::Text(Some(r.grade)),
                    Cell::Text(Some(r.reasons)),
                    Cell::Number(r.employees),
                    Cell::Number(r.tax_paid_1y),
                    Cell::Text(r.outlook),
                ]
            })
            .collect();
        insert_rows(
            &mut tx,
            self.backend,
            "financing_scores",
            &[
                "uscc",
                "model_version",
                "as_of",
                "score",
                "probability",
                "grade",
                "reasons",
                "employees",
                "tax_paid_1y",
                "outlook",
            ],
            cells,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn financing_score(
        &self,
        uscc: &str,
    ) -> Result<Option<FinancingScoreRow>, StoreError> {
        let row = sqlx::query(
            "SELECT uscc, model_version, as_of, score, probability, grade, reasons, employees, tax_paid_1y,
                    outlook
             FROM financing_scores WHERE uscc = $1",
        )
        .bind(uscc)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|r| FinancingScoreRow {
            uscc: r.get("uscc"),
            model_version: r.get("model_version"),
            as_of: r.get("as_of"),
            score: r.get("score"),
            probability: r.get("probability"),
            grade: r.get("grade"),
            reasons: r.get("reasons"),
            employees: r.get("employees"),
            tax_paid_1y: r.get("tax_paid_1y"),
            outlook: r.get("outlook"),
        }))
    }
}

impl Store {
    /// Every application's states, in order (statistics).
    pub async fn all_application_events(&self) -> Result<Vec<ApplicationEventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT application_id, seq, at, actor, state, reason FROM application_events
             ORDER BY application_id, seq",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(event_row).collect())
    }
}

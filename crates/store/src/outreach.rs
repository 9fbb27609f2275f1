//! Reaching enterprises beyond their own demands: the cultivation pool, key
//! enterprises pushed to banks and the banks' answers, visits, and
//! settlement-account filings.

use serde::Serialize;
use sqlx::Row;

use crate::{Cell, Store, StoreError, insert_rows};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PoolRuleRow {
    pub version: i64,
    /// `finance::pool::PoolRule` as JSON.
    pub rule: String,
    pub set_at: String,
    pub set_by: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PoolMemberRow {
    pub uscc: String,
    pub rule_version: i64,
    pub admitted_at: String,
    /// The checks that admitted it, as JSON.
    pub checks: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyEnterpriseRow {
    pub uscc: String,
    pub note: String,
    pub added_at: String,
    pub added_by: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyPushRow {
    pub uscc: String,
    pub bank: String,
    pub pushed_at: String,
    pub pushed_by: String,
    /// `pending`, `contacted`, `credit_granted` or `declined`.
    pub response: String,
    /// 万元, when credit was granted.
    pub amount: Option<f64>,
    pub responded_at: Option<String>,
    pub responded_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VisitRow {
    pub id: i64,
    pub uscc: String,
    pub visitor: String,
    /// The bank id, or `credit_centre`.
    pub organisation: String,
    pub visited_on: String,
    pub needs: String,
    pub follow_up: String,
    /// `unknown`, `yes` or `no`.
    pub first_loan: String,
    pub recorded_at: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccountFilingRow {
    pub id: i64,
    pub uscc: String,
    pub bank: String,
    pub applied_on: String,
    pub opened_on: Option<String>,
    pub filed_at: String,
    pub filed_by: String,
}

impl Store {
    /// The pool rule in force, if one was set.
    pub async fn pool_rule(&self) -> Result<Option<PoolRuleRow>, StoreError> {
        let row = sqlx::query(
            "SELECT version, rule, set_at, set_by FROM pool_rules ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|r| PoolRuleRow {
            version: r.get("version"),
            rule: r.get("rule"),
            set_at: r.get("set_at"),
            set_by: r.get("set_by"),
        }))
    }

    /// Sets a new pool rule and its members, at once; returns the version.
    pub async fn replace_pool(
        &self,
        rule: &str,
        at: &str,
        by: &str,
        members: Vec<(String, String)>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let version = crate::take_ids(&mut tx, "pool_rules", 1).await?;
        sqlx::query(
            "INSERT INTO pool_rules (version, rule, set_at, set_by) VALUES ($1, $2, $3, $4)",
        )
        .bind(version)
        .bind(rule)
        .bind(at)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM pool_members")
            .execute(&mut *tx)
            .await?;
        let rows: Vec<Vec<Cell>> = members
            .into_iter()
            .map(|(uscc, checks)| {
                vec![
                    Cell::Text(Some(uscc)),
                    Cell::Integer(version),
                    Cell::Text(Some(at.to_string())),
                    Cell::Text(Some(checks)),
                ]
            })
            .collect();
        insert_rows(
            &mut tx,
            self.backend,
            "pool_members",
            &["uscc", "rule_version", "admitted_at", "checks"],
            rows,
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    pub async fn pool_members(&self) -> Result<Vec<PoolMemberRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT uscc, rule_version, admitted_at, checks FROM pool_members ORDER BY uscc",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| PoolMemberRow {
                uscc: r.get("uscc"),
                rule_version: r.get("rule_version"),
                admitted_at: r.get("admitted_at"),
                checks: r.get("checks"),
            })
            .collect())
    }

    pub async fn in_pool(&self, uscc: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM pool_members WHERE uscc = $1")
            .bind(uscc)
            .fetch_optional(&self.reads)
            .await?
            .is_some())
    }

    /// Lists an enterprise as key and pushes it to `banks`; pushes already
    /// made stay as they are.
    pub async fn push_key_enterprise(
        &self,
        entry: &KeyEnterpriseRow,
        banks: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO key_enterprises (uscc, note, added_at, added_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (uscc) DO UPDATE SET note = excluded.note",
        )
        .bind(&entry.uscc)
        .bind(&entry.note)
        .bind(&entry.added_at)
        .bind(&entry.added_by)
        .execute(&mut *tx)
        .await?;
        for bank in banks {
            sqlx::query(
                "INSERT INTO key_pushes (uscc, bank, pushed_at, pushed_by, response)
                 VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT (uscc, bank) DO NOTHING",
            )
            .bind(&entry.uscc)
            .bind(bank)
            .bind(&entry.added_at)
            .bind(&entry.added_by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn key_enterprises(&self) -> Result<Vec<KeyEnterpriseRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT uscc, note, added_at, added_by FROM key_enterprises ORDER BY added_at DESC, uscc",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| KeyEnterpriseRow {
                uscc: r.get("uscc"),
                note: r.get("note"),
                added_at: r.get("added_at"),
                added_by: r.get("added_by"),
            })
            .collect())
    }

    /// Pushes, of one bank or (with `None`) of all.
    pub async fn key_pushes(&self, bank: Option<&str>) -> Result<Vec<KeyPushRow>, StoreError> {
        let sql =
            "SELECT uscc, bank, pushed_at, pushed_by, response, amount, responded_at, responded_by
                   FROM key_pushes";
        let rows = match bank {
            Some(bank) => {
                sqlx::query(&format!(
                    "{sql} WHERE bank = $1 ORDER BY pushed_at DESC, uscc"
                ))
                .bind(bank)
                .fetch_all(&self.reads)
                .await?
            }
            None => {
                sqlx::query(&format!("{sql} ORDER BY pushed_at DESC, uscc, bank"))
                    .fetch_all(&self.reads)
                    .await?
            }
        };
        Ok(rows
            .iter()
            .map(|r| KeyPushRow {
                uscc: r.get("uscc"),
                bank: r.get("bank"),
                pushed_at: r.get("pushed_at"),
                pushed_by: r.get("pushed_by"),
                response: r.get("response"),
                amount: r.get("amount"),
                responded_at: r.get("responded_at"),
                responded_by: r.get("responded_by"),
            })
            .collect())
    }

    /// A bank's answer to a push; false when no such push was made to it.
    pub async fn respond_to_push(
        &self,
        uscc: &str,
        bank: &str,
        response: &str,
        amount: Option<f64>,
        at: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE key_pushes SET response = $1, responded_at = $2, responded_by = $3 WHERE uscc = $4 AND bank = $5",
        )
        .bind(response)
        .bind(at)
        .bind(by)
        .bind(uscc)
        .bind(bank)
        .execute(&mut *tx)
        .await?;
        if let Some(amount) = amount {
            sqlx::query("UPDATE key_pushes SET amount = $1 WHERE uscc = $2 AND bank = $3")
                .bind(amount)
                .bind(uscc)
                .bind(bank)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn record_visit(&self, visit: &VisitRow) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = crate::take_ids(&mut tx, "enterprise_visits", 1).await?;
        sqlx::query(
            "INSERT INTO enterprise_visits (id, uscc, visitor, organisation, visited_on, needs, follow_up,
               first_loan, recorded_at, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(&visit.uscc)
        .bind(&visit.visitor)
        .bind(&visit.organisation)
        .bind(&visit.visited_on)
        .bind(&visit.needs)
        .bind(&visit.follow_up)
        .bind(&visit.first_loan)
        .bind(&visit.recorded_at)
        .bind(&visit.recorded_by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Visits by one organisation or (with `None`) all, newest first.
    pub async fn visits(&self, organisation: Option<&str>) -> Result<Vec<VisitRow>, StoreError> {
        let sql =
            "SELECT id, uscc, visitor, organisation, visited_on, needs, follow_up, first_loan,
                   recorded_at, recorded_by FROM enterprise_visits";
        let rows = match organisation {
            Some(o) => {
                sqlx::query(&format!(
                    "{sql} WHERE organisation = $1 ORDER BY visited_on DESC, id DESC"
                ))
                .bind(o)
                .fetch_all(&self.reads)
                .await?
            }
            None => {
                sqlx::query(&format!("{sql} ORDER BY visited_on DESC, id DESC"))
                    .fetch_all(&self.reads)
                    .await?
            }
        };
        Ok(rows
            .iter()
            .map(|r| VisitRow {
                id: r.get("id"),
                uscc: r.get("uscc"),
                visitor: r.get("visitor"),
                organisation: r.get("organisation"),
                visited_on: r.get("visited_on"),
                needs: r.get("needs"),
                follow_up: r.get("follow_up"),
                first_loan: r.get("first_loan"),
                recorded_at: r.get("recorded_at"),
                recorded_by: r.get("recorded_by"),
            })
            .collect())
    }

    /// Records whether a visit's enterprise got its first loan; false when
    /// the visit is not this organisation's.
    pub async fn set_first_loan(
        &self,
        id: i64,
        organisation: &str,
        first_loan: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE enterprise_visits SET first_loan = $1 WHERE id = $2 AND organisation = $3",
        )
        .bind(first_loan)
        .bind(id)
        .bind(organisation)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn file_account(&self, filing: &AccountFilingRow) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = crate::take_ids(&mut tx, "account_filings", 1).await?;
        sqlx::query(
            "INSERT INTO account_filings (id, uscc, bank, applied_on, opened_on, filed_at, filed_by)
             VALUES ($1, $2, $3, $4, NULL, $5, $6)",
        )
        .bind(id)
        .bind(&filing.uscc)
        .bind(&filing.bank)
        .bind(&filing.applied_on)
        .bind(&filing.filed_at)
        .bind(&filing.filed_by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records the opening of a filed account; false when the filing is
    /// not this bank's or is opened already.
    pub async fn open_account(
        &self,
        id: i64,
        bank: &str,
        opened_on: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE account_filings SET opened_on = $1 WHERE id = $2 AND bank = $3 AND opened_on IS NULL",
        )
        .bind(opened_on)
        .bind(id)
        .bind(bank)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Filings of one bank or (with `None`) all, newest first.
    pub async fn account_filings(
        &self,
        bank: Option<&str>,
    ) -> Result<Vec<AccountFilingRow>, StoreError> {
        let sql =
            "SELECT id, uscc, bank, applied_on, opened_on, filed_at, filed_by FROM account_filings";
        let rows = match bank {
            Some(bank) => {
                sqlx::query(&format!("{sql} WHERE bank = $1 ORDER BY id DESC"))
                    .bind(bank)
                    .fetch_all(&self.reads)
                    .await?
            }
            None => {
                sqlx::query(&format!("{sql} ORDER BY id DESC"))
                    .fetch_all(&self.reads)
                    .await?
            }
        };
        Ok(rows
            .iter()
            .map(|r| AccountFilingRow {
                id: r.get("id"),
                uscc: r.get("uscc"),
                bank: r.get("bank"),
                applied_on: r.get("applied_on"),
                opened_on: r.get("opened_on"),
                filed_at: r.get("filed_at"),
                filed_by: r.get("filed_by"),
            })
            .collect())
    }
}

/// A graded, operating enterprise as the pool rules read it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolCandidate {
    pub uscc: String,
    pub grade: String,
    pub employees: Option<f64>,
    pub tax_paid_1y: Option<f64>,
    pub established_on: String,
    pub industry: String,
}

impl Store {
    /// Every graded enterprise that is operating.
    pub async fn pool_candidates(&self) -> Result<Vec<PoolCandidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.uscc, f.grade, f.employees, f.tax_paid_1y, e.established_on, e.industry
             FROM financing_scores f JOIN entities e ON e.uscc = f.uscc
             WHERE e.status = 'operating' ORDER BY f.uscc",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| PoolCandidate {
                uscc: r.get("uscc"),
                grade: r.get("grade"),
                employees: r.get("employees"),
                tax_paid_1y: r.get("tax_paid_1y"),
                established_on: r.get("established_on"),
                industry: r.get("industry"),
            })
            .collect())
    }

    /// `(uscc, item, publicity_until)` of every event record of `items`
    /// that is not withdrawn (repaired, or replaced by its correction).
    pub async fn events_of_items(
        &self,
        items: &[&str],
    ) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        let mut out = Vec::new();
        for item in items {
            let rows = sqlx::query(
                "SELECT e.uscc, e.item, e.publicity_until FROM events e
                     WHERE e.item = $1 AND NOT EXISTS (SELECT 1 FROM record_withdrawals w
                       WHERE w.item = e.item AND w.batch_id = e.batch_id
                         AND w.source_row = e.source_row)",
            )
            .bind(*item)
            .fetch_all(&self.reads)
            .await?;
            out.extend(
                rows.iter()
                    .map(|r| (r.get("uscc"), r.get("item"), r.get("publicity_until"))),
            );
        }
        Ok(out)
    }
}

//! Risk models, screenings and scores.

use serde::Serialize;
use sqlx::Row;

use crate::{Cell, ROWS_PER_STATEMENT, Store, StoreError, insert_rows};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RiskModelRow {
    pub version: String,
    pub created_at: String,
    pub as_of: String,
    pub features_version: String,
    pub model_json: String,
    pub report_json: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScreeningRow {
    pub id: i64,
    pub screened_at: String,
    pub as_of: String,
    pub model_version: String,
    pub entities: i64,
    pub summary_json: String,
}

/// One entity's result in one screening.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RiskScoreRow {
    pub uscc: String,
    pub score: i64,
    pub probability: f64,
    pub class: String,
    pub reasons_json: String,
}

/// An entity's result with the screening it came from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntityRiskRow {
    pub screening_id: i64,
    pub screened_at: String,
    pub as_of: String,
    pub model_version: String,
    pub score: RiskScoreRow,
}

/// Filters for a ranked list of one screening's results.
#[derive(Debug, Clone, Default)]
pub struct RiskListFilter {
    pub class: Option<String>,
    /// Prefix of the division code (district or town).
    pub division: Option<String>,
    /// Prefix of the industry code.
    pub industry: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A ranked list row: the score with the registry's name and place.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RankedRow {
    pub uscc: String,
    pub name: String,
    pub division: String,
    pub industry: String,
    pub score: i64,
    pub probability: f64,
    pub class: String,
    pub reasons_json: String,
}

fn model_row(r: &sqlx::any::AnyRow) -> RiskModelRow {
    RiskModelRow {
        version: r.get("version"),
        created_at: r.get("created_at"),
        as_of: r.get("as_of"),
        features_version: r.get("features_version"),
        model_json: r.get("model_json"),
        report_json: r.get("report_json"),
    }
}

fn screening_row(r: &sqlx::any::AnyRow) -> ScreeningRow {
    ScreeningRow {
        id: r.get("id"),
        screened_at: r.get("screened_at"),
        as_of: r.get("as_of"),
        model_version: r.get("model_version"),
        entities: r.get("entities"),
        summary_json: r.get("summary_json"),
    }
}

const MODEL_COLUMNS: &str = "version, created_at, as_of, features_version, model_json, report_json";
const SCREENING_COLUMNS: &str = "id, screened_at, as_of, model_version, entities, summary_json";

impl Store {
    pub async fn save_risk_model(&self, model: &RiskModelRow) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let exists = sqlx::query("SELECT 1 FROM risk_models WHERE version = $1")
            .bind(&model.version)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "risk model version {} exists already",
                model.version
            )));
        }
        sqlx::query(&format!(
            "INSERT INTO risk_models ({MODEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&model.version)
        .bind(&model.created_at)
        .bind(&model.as_of)
        .bind(&model.features_version)
        .bind(&model.model_json)
        .bind(&model.report_json)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn risk_model(&self, version: &str) -> Result<Option<RiskModelRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {MODEL_COLUMNS} FROM risk_models WHERE version = $1"
        ))
        .bind(version)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.as_ref().map(model_row))
    }

    /// The most recently fitted model.
    pub async fn latest_risk_model(&self) -> Result<Option<RiskModelRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {MODEL_COLUMNS} FROM risk_models ORDER BY created_at DESC, version DESC LIMIT 1"
        ))
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.as_ref().map(model_row))
    }

    /// Every model's version and dates, newest first (without the documents).
    pub async fn risk_models(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, created_at, as_of FROM risk_models ORDER BY created_at DESC, version DESC",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("version"), r.get("created_at"), r.get("as_of")))
            .collect())
    }

    /// Stores a screening and all its scores in one transaction; returns
    /// the screening's id.
    pub async fn save_screening(
        &self,
        screened_at: &str,
        as_of: &str,
        model_version: &str,
        summary_json: &str,
        scores: Vec<RiskScoreRow>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = crate::take_ids(&mut tx, "risk_screenings", 1).await?;
        sqlx::query(&format!(
            "INSERT INTO risk_screenings ({SCREENING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(id)
        .bind(screened_at)
        .bind(as_of)
        .bind(model_version)
        .bind(scores.len() as i64)
        .bind(summary_json)
        .execute(&mut *tx)
        .await?;
        let rows = scores.into_iter().map(|s| {
            vec![
                Cell::Integer(id),
                Cell::Text(Some(s.uscc)),
                Cell::Integer(s.score),
                Cell::Number(Some(s.probability)),
                Cell::Text(Some(s.class)),
                Cell::Text(Some(s.reasons_json)),
            ]
        });
        let backend = self.backend;
        insert_rows(
            &mut tx,
            backend,
            "risk_scores",
            &[
                "screening_id",
                "uscc",
                "score",
                "probability",
                "class",
                "reasons",
            ],
            rows,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn screenings(&self) -> Result<Vec<ScreeningRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SCREENING_COLUMNS} FROM risk_screenings ORDER BY id DESC"
        ))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(screening_row).collect())
    }

    pub async fn latest_screening(&self) -> Result<Option<ScreeningRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SCREENING_COLUMNS} FROM risk_screenings ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.as_ref().map(screening_row))
    }

    /// An entity's results in every screening, newest first.
    pub async fn entity_risk(&self, uscc: &str) -> Result<Vec<EntityRiskRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.screened_at, s.as_of, s.model_version,
                    r.uscc, r.score, r.probability, r.class, r.reasons
             FROM risk_scores r JOIN risk_screenings s ON s.id = r.screening_id
             WHERE r.uscc = $1 ORDER BY s.id DESC",
        )
        .bind(uscc)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| EntityRiskRow {
                screening_id: r.get("id"),
                screened_at: r.get("screened_at"),
                as_of: r.get("as_of"),
                model_version: r.get("model_version"),
                score: RiskScoreRow {
                    uscc: r.get("uscc"),
                    score: r.get("score"),
                    probability: r.get("probability"),
                    class: r.get("class"),
                    reasons_json: r.get("reasons"),
                },
            })
            .collect())
    }

    /// How many entities moved from each class to each class between two
    /// screenings (entities in both only).
    pub async fn class_migration(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.class AS from_class, b.class AS to_class, COUNT(*) AS entities FROM risk_scores a
             JOIN risk_scores b ON b.uscc = a.uscc AND b.screening_id = $2
             WHERE a.screening_id = $1 GROUP BY a.class, b.class ORDER BY a.class, b.class",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("from_class"), r.get("to_class"), r.get("entities")))
            .collect())
    }

    /// One screening's results by class and a registry attribute:
    /// `by` is `district` (first 6 digits of the division) or `industry`
    /// (first 2 digits of the industry code, its GB/T 4754 division).
    pub async fn class_counts(
        &self,
        screening: i64,
        by: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let key = match by {
            "district" => "SUBSTR(e.division, 1, 6)",
            _ => "SUBSTR(e.industry, 1, 2)",
        };
        let rows = sqlx::query(&format!(
            "SELECT {key} AS area, r.class, COUNT(*) AS entities FROM risk_scores r JOIN entities e ON e.uscc = r.uscc
             WHERE r.screening_id = $1 GROUP BY {key}, r.class ORDER BY 1, 2"
        ))
        .bind(screening)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("area"), r.get("class"), r.get("entities")))
            .collect())
    }

    /// One screening's results, riskiest first — by class (a class a
    /// national rule set outranks a low score in a safer class), then by
    /// score — with filters.
    pub async fn ranked(
        &self,
        screening: i64,
        filter: &RiskListFilter,
    ) -> Result<Vec<RankedRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.uscc, e.name, e.division, e.industry, r.score, r.probability, r.class, r.reasons
             FROM risk_scores r JOIN entities e ON e.uscc = r.uscc
             WHERE r.screening_id = $1
               AND ($2 = '' OR r.class = $2)
               AND ($3 = '' OR e.division LIKE $3 || '%')
               AND ($4 = '' OR e.industry LIKE $4 || '%')
             ORDER BY r.class DESC, r.score ASC, r.uscc ASC LIMIT $5 OFFSET $6",
        )
        .bind(screening)
        .bind(filter.class.clone().unwrap_or_default())
        .bind(filter.division.clone().unwrap_or_default())
        .bind(filter.industry.clone().unwrap_or_default())
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| RankedRow {
                uscc: r.get("uscc"),
                name: r.get("name"),
                division: r.get("division"),
                industry: r.get("industry"),
                score: r.get("score"),
                probability: r.get("probability"),
                class: r.get("class"),
                reasons_json: r.get("reasons"),
            })
            .collect())
    }
}

impl Store {
    /// One screening's scores in buckets of `width` points, by class:
    /// (bucket start, class, entities).
    pub async fn score_histogram(
        &self,
        screening: i64,
        width: i64,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let width = width.max(1);
        let rows = sqlx::query(
            "SELECT (score / $2) * $2 AS bucket, class, COUNT(*) AS entities FROM risk_scores
             WHERE screening_id = $1 GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(screening)
        .bind(width)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("bucket"), r.get("class"), r.get("entities")))
            .collect())
    }

    /// The classes some entities got in one screening.
    pub async fn classes_of(
        &self,
        screening: i64,
        usccs: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::with_capacity(usccs.len());
        for chunk in usccs.chunks(ROWS_PER_STATEMENT) {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|k| crate::parameter(self.backend, k + 2))
                .collect();
            let sql = format!(
                "SELECT uscc, class FROM risk_scores WHERE screening_id = {} AND uscc IN ({})",
                crate::parameter(self.backend, 1),
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(screening);
            for uscc in chunk {
                query = query.bind(uscc);
            }
            for r in query.fetch_all(&self.reads).await? {
                out.push((r.get("uscc"), r.get("class")));
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Every result of one screening, by USCC.
    pub async fn screening_scores(&self, screening: i64) -> Result<Vec<RiskScoreRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT uscc, score, probability, class, reasons FROM risk_scores
             WHERE screening_id = $1 ORDER BY uscc",
        )
        .bind(screening)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| RiskScoreRow {
                uscc: r.get("uscc"),
                score: r.get("score"),
                probability: r.get("probability"),
                class: r.get("class"),
                reasons_json: r.get("reasons"),
            })
            .collect())
    }
}

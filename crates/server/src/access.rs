//! Roles and what each may do: one function, [`allows`], decides every
//! request, for pages and API alike.
//!
//! | role | may |
//! |---|---|
//! | public (no sign-in) | search, public entity pages, the catalog |
//! | admin | users, tokens, the audit log; public data only |
//! | credit centre | every profile, batch and quality report; upload for any department |
//! | department | its own batches, quality and uploads, for its own items |
//! | regulator, inspector | every profile |
//! | credit centre, department, regulator, inspector | every entity's composite evaluation |
//! | credit centre | every objection and repair case; reviews repairs |
//! | department | objections to its own records, which it decides |
//! | enterprise | its own objections and repair applications |
//! | bank | public data; its own products and applications; credit reports only under a live authorisation (checked per read by `finance::consent`) |
//! | enterprise | its own profile without internal items (complaint counts by month and category only), authorisations, demands and applications; the administrative notices issued to it |
//!
//! Warnings from complaints: regulators draft, edit, approve and issue
//! them and see every one with its evidence (masked complaint texts); the
//! credit centre sees them; a department sees the risk reports issued to
//! it and an enterprise the notices issued to it, both without complaint
//! texts, and acknowledges them; everyone sees issued consumer alerts.
//!
//! The credit centre runs the financing platform: it approves products and
//! sees the financing statistics, as regulators do.
//!
//! The public side of credit: an entity's composite evaluation (its grade,
//! indicators and history) is shared within government — the credit
//! centre, departments, regulators, inspectors — and shown to the entity
//! itself, never to banks or the public; the credit centre runs
//! evaluations and sees their distributions, as regulators do. Credit
//! checks for application scenarios are made by departments, the credit
//! centre and regulators; their statistics are the credit centre's. Lists
//! and their measures are public.
//!
//! Objections and credit repairs: an enterprise contests its own records
//! and asks for their repair, and sees its own cases; the department that
//! owns a record decides objections to it (the credit centre may act for
//! any department); the credit centre reviews repairs, lists every case
//! and sees their statistics and the export for the national platform.
//! No one else sees a case: not banks, regulators, other enterprises or
//! the public (who see only that a record is under objection).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    CreditCentre,
    Department,
    Regulator,
    Inspector,
    Bank,
    Enterprise,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::CreditCentre,
        Role::Department,
        Role::Regulator,
        Role::Inspector,
        Role::Bank,
        Role::Enterprise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CreditCentre => "credit_centre",
            Role::Department => "department",
            Role::Regulator => "regulator",
            Role::Inspector => "inspector",
            Role::Bank => "bank",
            Role::Enterprise => "enterprise",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The kind of subject the role is bound to, if it is bound.
    pub fn subject_kind(self) -> Option<&'static str> {
        match self {
            Role::Department => Some("department id"),
            Role::Bank => Some("bank id"),
            Role::Enterprise => Some("USCC"),
            _ => None,
        }
    }
}

/// A role and what it is bound to (empty for unbound roles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub role: Role,
    pub subject: String,
}

impl Grant {
    /// Parses `role` or `role:subject` (`department:tax`,
    /// `enterprise:91440606…`). Checks that bound roles have a subject and
    /// unbound ones none; whether the subject exists is the caller's check.
    pub fn parse(text: &str) -> Result<Grant, String> {
        let (name, subject) = match text.split_once(':') {
            Some((name, subject)) => (name, subject.trim()),
            None => (text, ""),
        };
        let role = Role::parse(name.trim()).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown role '{name}' (roles: {})", names.join(", "))
        })?;
        match (role.subject_kind(), subject.is_empty()) {
            (Some(kind), true) => Err(format!(
                "role {} needs its {kind}: {}:…",
                role.as_str(),
                role.as_str()
            )),
            (None, false) => Err(format!("role {} is not bound to a subject", role.as_str())),
            _ => Ok(Grant {
                role,
                subject: subject.to_string(),
            }),
        }
    }

    pub fn from_stored(role: &str, subject: &str) -> Option<Grant> {
        Some(Grant {
            role: Role::parse(role)?,
            subject: subject.to_string(),
        })
    }

    pub fn label(&self) -> String {
        store::role_label(self.role.as_str(), &self.subject)
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    Anonymous,
    Session {
        user_id: i64,
        session_sha256: String,
        csrf_token: String,
    },
    Token {
        id: i64,
    },
}

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Principal {
    /// As the audit log names it: `user:NAME`, `token:ID` or `anonymous`.
    pub actor: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub via: Via,
    /// The client's address (unspecified when not asked over the network).
    pub ip: std::net::IpAddr,
}

impl Principal {
    pub fn anonymous() -> Principal {
        Principal {
            actor: "anonymous".into(),
            display_name: String::new(),
            grants: Vec::new(),
            via: Via::Anonymous,
            ip: std::net::IpAddr::from([0, 0, 0, 0]),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.via == Via::Anonymous
    }

    pub fn has(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    fn bound_to(&self, role: Role, subject: &str) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.subject == subject)
    }

    /// The subjects the principal holds `role` for.
    pub fn subjects(&self, role: Role) -> Vec<&str> {
        self.grants
            .iter()
            .filter(|g| g.role == role)
            .map(|g| g.subject.as_str())
            .collect()
    }
}

/// The bank a principal acts for, if any.
pub fn bank_of(who: &Principal) -> Option<&str> {
    who.subjects(Role::Bank).into_iter().next()
}

/// The enterprise a principal acts for, if any.
pub fn enterprise_of(who: &Principal) -> Option<&str> {
    who.subjects(Role::Enterprise).into_iter().next()
}

/// Something a request wants to do.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    Search,
    ViewPublicEntity,
    ViewCatalog,
    /// The full profile: non-public records and summaries.
    ViewEntity {
        uscc: &'a str,
    },
    /// Records of items whose publicity is `internal` (complaints and
    /// reports, their texts and who made them): the government side only,
    /// never the entity itself, a bank or the public (DESIGN.md invariant 8).
    ViewInternalRecords,
    /// The batch list: a department sees its own batches only.
    ListBatches,
    ViewBatch {
        department: &'a str,
    },
    Upload {
        department: &'a str,
    },
    /// Quality of one department, or of all when `None`.
    ViewQuality {
        department: Option<&'a str>,
    },
    ManageAccounts,
    ViewAudit,
    /// Changing one's own password.
    ChangeOwnPassword,
    /// Risk scores, classes and the risk model: supervision data.
    ViewRisk,
    /// Re-screening the city.
    Rescreen,
    /// Inspection plans in full (classes, staffing, every task), rosters,
    /// and creating, committing, drawing and publishing plans.
    ManageInspections,
    /// An inspector's own tasks.
    ViewOwnTasks,
    /// An enterprise's own financing: authorisations, demands, applications.
    ManageOwnFinance {
        uscc: &'a str,
    },
    /// A bank's own products and applications, and asking for reports
    /// (each read is then checked against the enterprise's consent).
    ActAsBank {
        bank: &'a str,
    },
    /// Approving, rejecting and pausing products of any bank.
    ReviewProducts,
    /// The financing statistics and every demand and application.
    ViewFinanceStatistics,
    /// Setting the cultivation pool's rule.
    ManagePool,
    /// Listing key enterprises and pushing them to banks.
    ManageKeyEnterprises,
    /// Recording visits to enterprises (banks and the credit centre).
    RecordVisits,
    /// Every warning and signal, with the masked complaint examples.
    ViewWarnings,
    /// Drafting, editing, approving, issuing and closing warnings.
    ManageWarnings,
    /// Warnings issued to this recipient (`business` with a USCC,
    /// `department` with its id): reading and acknowledging them.
    ReceiveWarnings {
        kind: &'a str,
        recipient: &'a str,
    },
    /// Issued consumer alerts: public.
    ViewConsumerAlerts,
    /// An entity's composite evaluation: grade, indicators, history.
    ViewEvaluation {
        uscc: &'a str,
    },
    /// Every evaluation run and its distributions; running one.
    ManageEvaluations,
    /// Credit checks for an application scenario.
    CheckCredit,
    /// Every check's statistics by scenario and department.
    ViewCheckStatistics,
    /// Contesting one's own records: objections and repair applications,
    /// and withdrawing them.
    ContestRecord {
        uscc: &'a str,
    },
    /// One case: the enterprise's own, a department's objections, all for
    /// the credit centre.
    ViewCase {
        uscc: &'a str,
        department: &'a str,
    },
    /// Accepting, rejecting, confirming and correcting objections to a
    /// department's records.
    DecideObjection {
        department: &'a str,
    },
    /// Approving or rejecting repair applications.
    ReviewRepair,
    /// Listing cases (each role sees its own; see [`allows`]).
    ListCases,
    /// Every case's statistics and the export of repaired records.
    ViewRepairStatistics,
}

impl Action<'_> {
    /// The name the audit log gives a denial of this action.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Search => "search",
            Action::ViewPublicEntity => "view_public_entity",
            Action::ViewCatalog => "view_catalog",
            Action::ViewEntity { .. } => "view_entity",
            Action::ViewInternalRecords => "view_internal_records",
            Action::ListBatches => "list_batches",
            Action::ViewBatch { .. } => "view_batch",
            Action::Upload { .. } => "upload",
            Action::ViewQuality { .. } => "view_quality",
            Action::ManageAccounts => "manage_accounts",
            Action::ViewAudit => "view_audit",
            Action::ChangeOwnPassword => "change_password",
            Action::ViewRisk => "view_risk",
            Action::Rescreen => "rescreen",
            Action::ManageInspections => "manage_inspections",
            Action::ViewOwnTasks => "view_own_tasks",
            Action::ManageOwnFinance { .. } => "manage_own_finance",
            Action::ActAsBank { .. } => "act_as_bank",
            Action::ReviewProducts => "review_products",
            Action::ViewFinanceStatistics => "view_finance_statistics",
            Action::ManagePool => "manage_pool",
            Action::ManageKeyEnterprises => "manage_key_enterprises",
            Action::RecordVisits => "record_visits",
            Action::ViewWarnings => "view_warnings",
            Action::ManageWarnings => "manage_warnings",
            Action::ReceiveWarnings { .. } => "receive_warnings",
            Action::ViewConsumerAlerts => "view_consumer_alerts",
            Action::ViewEvaluation { .. } => "view_evaluation",
            Action::ManageEvaluations => "manage_evaluations",
            Action::CheckCredit => "check_credit",
            Action::ViewCheckStatistics => "view_check_statistics",
            Action::ContestRecord { .. } => "contest_record",
            Action::ViewCase { .. } => "view_case",
            Action::DecideObjection { .. } => "decide_objection",
            Action::ReviewRepair => "review_repair",
            Action::ListCases => "list_cases",
            Action::ViewRepairStatistics => "view_repair_statistics",
        }
    }
}

/// Whether `who` may do `action`.
pub fn allows(who: &Principal, action: Action<'_>) -> bool {
    use Role::*;
    match action {
        Action::Search | Action::ViewPublicEntity | Action::ViewCatalog => true,
        Action::ViewEntity { uscc } => {
            who.has(CreditCentre)
                || who.has(Regulator)
                || who.has(Inspector)
                || who.bound_to(Enterprise, uscc)
        }
        Action::ViewInternalRecords => {
            who.has(CreditCentre) || who.has(Regulator) || who.has(Inspector)
        }
        Action::ListBatches => who.has(CreditCentre) || who.has(Department),
        Action::ViewBatch { department } | Action::Upload { department } => {
            who.has(CreditCentre) || who.bound_to(Department, department)
        }
        Action::ViewQuality { department: None } => who.has(CreditCentre),
        Action::ViewQuality {
            department: Some(department),
        } => who.has(CreditCentre) || who.bound_to(Department, department),
        Action::ManageAccounts | Action::ViewAudit => who.has(Admin),
        Action::ChangeOwnPassword => matches!(who.via, Via::Session { .. }),
        // Classes steer inspections and are never published (DOMAIN.md
        // §5): not the public, not banks, not the entity or its peers, and
        // not the credit centre, which runs the platform but not supervision.
        Action::ViewRisk => who.has(Regulator) || who.has(Inspector),
        Action::Rescreen => who.has(Regulator),
        // Plans carry classes and staffing: supervision data. Results and
        // draws are published through the public pages instead.
        Action::ManageInspections => who.has(Regulator),
        Action::ViewOwnTasks => who.has(Inspector),
        Action::ManageOwnFinance { uscc } => who.bound_to(Enterprise, uscc),
        Action::ActAsBank { bank } => who.bound_to(Bank, bank),
        Action::ReviewProducts => who.has(CreditCentre),
        Action::ViewFinanceStatistics => who.has(CreditCentre) || who.has(Regulator),
        Action::ManagePool => who.has(CreditCentre),
        Action::ManageKeyEnterprises => who.has(Regulator),
        Action::RecordVisits => who.has(Bank) || who.has(CreditCentre),
        // Warnings carry masked complaint texts: the government side that
        // reads internal records, minus inspectors, who act on tasks.
        Action::ViewWarnings => who.has(Regulator) || who.has(CreditCentre),
        Action::ManageWarnings => who.has(Regulator),
        Action::ReceiveWarnings { kind, recipient } => match kind {
            "business" => who.bound_to(Enterprise, recipient),
            "department" => who.bound_to(Department, recipient),
            _ => false,
        },
        Action::ViewConsumerAlerts => true,
        // The evaluation is government-shared data built partly from
        // records a bank may read only under consent: not banks, not the
        // public, not another enterprise.
        Action::ViewEvaluation { uscc } => {
            who.has(CreditCentre)
                || who.has(Department)
                || who.has(Regulator)
                || who.has(Inspector)
                || who.bound_to(Enterprise, uscc)
        }
        Action::ManageEvaluations => who.has(CreditCentre) || who.has(Regulator),
        Action::CheckCredit => who.has(CreditCentre) || who.has(Department) || who.has(Regulator),
        Action::ViewCheckStatistics => who.has(CreditCentre),
        Action::ContestRecord { uscc } => who.bound_to(Enterprise, uscc),
        Action::ViewCase { uscc, department } => {
            who.has(CreditCentre)
                || who.bound_to(Enterprise, uscc)
                || who.bound_to(Department, department)
        }
        Action::DecideObjection { department } => {
            who.has(CreditCentre) || who.bound_to(Department, department)
        }
        Action::ReviewRepair | Action::ViewRepairStatistics => who.has(CreditCentre),
        Action::ListCases => who.has(CreditCentre) || who.has(Department) || who.has(Enterprise),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn grants_parse() {
        assert_eq!(Grant::parse("department:tax").unwrap().subject, "tax");
        assert_eq!(Grant::parse("admin").unwrap().role, Role::Admin);
        assert!(Grant::parse("department").is_err());
        assert!(Grant::parse("admin:x").is_err());
        assert!(Grant::parse("root").is_err());
    }

    #[test]
    fn departments_see_only_their_own() {
        let who = Principal {
            actor: "user:t".into(),
            display_name: "t".into(),
            grants: vec![Grant::parse("department:tax").unwrap()],
            via: Via::Token { id: 1 },
            ip: std::net::IpAddr::from([127, 0, 0, 1]),
        };
        assert!(allows(&who, Action::ViewBatch { department: "tax" }));
        assert!(!allows(&who, Action::ViewBatch { department: "hrss" }));
        assert!(!allows(&who, Action::ViewQuality { department: None }));
        assert!(!allows(&who, Action::ViewEntity { uscc: "x" }));
        assert!(!allows(&who, Action::ChangeOwnPassword));
    }
}

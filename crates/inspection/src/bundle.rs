//! The published material of a plan and its verification.
//!
//! A bundle is a directory:
//!
//! | file | when | what |
//! |---|---|---|
//! | `plan.json` | commit | the frozen plan |
//! | `objects.csv` | commit | the object roster within the plan's scope |
//! | `inspectors.csv` | commit | the inspectors of the taking-part departments |
//! | `relationships.csv` | commit | their declared relationships with in-scope entities |
//! | `history.csv` | commit | who inspected which in-scope entity within the recusal window |
//! | `commitment.json` | commit | the SHA-256 of each file above and of the secret seed |
//! | `seed.txt` | draw | the seed, revealed |
//! | `draw.csv` | draw | the drawn objects and their teams, ranked by key |
//! | `draw.json` | draw | counts per stratum, exclusions and workload |
//!
//! The SHA-256 of `commitment.json` is published when the plan is committed;
//! [`verify`] recomputes everything else from the files.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::draw::{self, Draw, RuleCheck, Seed};
use crate::plan::Plan;
use crate::roster::{self, Rosters};
use crate::{InspectionError, sha256_hex};

pub const SNAPSHOT_FILES: [&str; 5] = [
    "plan.json",
    "objects.csv",
    "inspectors.csv",
    "relationships.csv",
    "history.csv",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHash {
    pub name: String,
    pub sha256: String,
    pub rows: u64,
}

/// What is published at commit: the snapshots' hashes and the seed's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub plan: String,
    pub committed_at: String,
    pub files: Vec<SnapshotHash>,
    pub seed_sha256: String,
}

impl Commitment {
    pub fn to_json(&self) -> String {
        // plain data: serialising cannot fail
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The one hash that stands for the whole commitment.
    pub fn sha256(&self) -> String {
        sha256_hex(self.to_json().as_bytes())
    }

    fn file(&self, name: &str) -> Option<&SnapshotHash> {
        self.files.iter().find(|f| f.name == name)
    }
}

/// A plan's published material in memory.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Snapshot files as written, in [`SNAPSHOT_FILES`] order.
    pub files: Vec<(String, Vec<u8>)>,
    pub commitment_json: Vec<u8>,
    pub seed: Option<String>,
    pub draw_csv: Option<Vec<u8>>,
    pub draw_json: Option<Vec<u8>>,
}

impl Bundle {
    /// Freezes a plan with the part of the rosters it can touch, and commits
    /// to the seed's hash. `committed_at` is the caller's clock.
    pub fn commit(
        plan: &Plan,
        rosters: &Rosters,
        seed: &Seed,
        committed_at: &str,
    ) -> Result<Bundle, InspectionError> {
        plan.validate()?;
        let snapshot = scope_rosters(plan, rosters);
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut hashes = Vec::new();
        let mut add = |name: &str, bytes: Vec<u8>, rows: usize| {
            hashes.push(SnapshotHash {
                name: name.to_string(),
                sha256: sha256_hex(&bytes),
                rows: rows as u64,
            });
            files.push((name.to_string(), bytes));
        };
        add("plan.json", (plan.to_json() + "\n").into_bytes(), 1);
        let mut bytes = Vec::new();
        roster::write_objects(&mut bytes, &snapshot.objects)?;
        add("objects.csv", bytes, snapshot.objects.len());
        let mut bytes = Vec::new();
        roster::write_inspectors(&mut bytes, &snapshot.inspectors)?;
        add("inspectors.csv", bytes, snapshot.inspectors.len());
        let mut bytes = Vec::new();
        roster::write_relationships(&mut bytes, &snapshot.relationships)?;
        add("relationships.csv", bytes, snapshot.relationships.len());
        let mut bytes = Vec::new();
        roster::write_history(&mut bytes, &snapshot.history)?;
        add("history.csv", bytes, snapshot.history.len());
        let commitment = Commitment {
            plan: plan.id.clone(),
            committed_at: committed_at.to_string(),
            files: hashes,
            seed_sha256: seed.sha256(),
        };
        Ok(Bundle {
            files,
            commitment_json: commitment.to_json().into_bytes(),
            seed: None,
            draw_csv: None,
            draw_json: None,
        })
    }

    pub fn commitment(&self) -> Result<Commitment, InspectionError> {
        serde_json::from_slice(&self.commitment_json).map_err(|e| InspectionError::File {
            file: "commitment.json".to_string(),
            message: format!("not a commitment: {e}"),
        })
    }

    /// The published commitment hash.
    pub fn commitment_sha256(&self) -> String {
        sha256_hex(&self.commitment_json)
    }

    fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
    }

    pub fn plan(&self) -> Result<Plan, InspectionError> {
        let bytes = self.file("plan.json").ok_or_else(|| missing("plan.json"))?;
        Plan::from_json(&String::from_utf8_lossy(bytes), "plan.json")
    }

    /// The rosters as frozen in the snapshot files.
    pub fn rosters(&self) -> Result<Rosters, InspectionError> {
        let get = |name: &str| self.file(name).ok_or_else(|| missing(name));
        Ok(Rosters {
            objects: roster::read_objects(get("objects.csv")?, "objects.csv")?,
            inspectors: roster::read_inspectors(get("inspectors.csv")?, "inspectors.csv")?,
            relationships: roster::read_relationships(
                get("relationships.csv")?,
                "relationships.csv",
            )?,
            history: roster::read_history(get("history.csv")?, "history.csv")?,
        })
    }

    /// Reveals the seed and runs the draw on the snapshots.
    pub fn draw(&mut self, seed: &Seed) -> Result<Draw, InspectionError> {
        let commitment = self.commitment()?;
        if seed.sha256() != commitment.seed_sha256 {
            return Err(InspectionError::Plan {
                plan: commitment.plan,
                message: "the seed does not match the committed seed hash".to_string(),
            });
        }
        let plan = self.plan()?;
        let rosters = self.rosters()?;
        let result = draw::draw(&plan, &rosters, seed)?;
        self.seed = Some(seed.as_str().to_string() + "\n");
        self.draw_csv = Some(draw::draw_csv(&result));
        self.draw_json = Some(summary_json(&result).into_bytes());
        Ok(result)
    }

    pub fn write_dir(&self, dir: &Path) -> Result<(), InspectionError> {
        std::fs::create_dir_all(dir).map_err(|e| InspectionError::io(dir, e))?;
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| InspectionError::io(&path, e))
        };
        for (name, bytes) in &self.files {
            write(name, bytes)?;
        }
        write("commitment.json", &self.commitment_json)?;
        if let Some(seed) = &self.seed {
            write("seed.txt", seed.as_bytes())?;
        }
        if let Some(bytes) = &self.draw_csv {
            write("draw.csv", bytes)?;
        }
        if let Some(bytes) = &self.draw_json {
            write("draw.json", bytes)?;
        }
        Ok(())
    }

    /// Reads whatever of a bundle a directory holds; missing files are left
    /// for [`verify`] to report.
    pub fn read_dir(dir: &Path) -> Result<Bundle, InspectionError> {
        if !dir.is_dir() {
            return Err(InspectionError::File {
                file: dir.display().to_string(),
                message: "not a bundle directory".to_string(),
            });
        }
        let read = |name: &str| -> Result<Option<Vec<u8>>, InspectionError> {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(InspectionError::io(&path, e)),
            }
        };
        let mut files = Vec::new();
        for name in SNAPSHOT_FILES {
            if let Some(bytes) = read(name)? {
                files.push((name.to_string(), bytes));
            }
        }
        Ok(Bundle {
            files,
            commitment_json: read("commitment.json")?.ok_or_else(|| missing("commitment.json"))?,
            seed: read("seed.txt")?.map(|b| String::from_utf8_lossy(&b).into_owned()),
            draw_csv: read("draw.csv")?,
            draw_json: read("draw.json")?,
        })
    }
}

fn missing(name: &str) -> InspectionError {
    InspectionError::File {
        file: name.to_string(),
        message: "missing from the bundle".to_string(),
    }
}

/// The draw's counts, exclusions and workload as JSON (picks are in the CSV).
pub fn summary_json(draw: &Draw) -> String {
    let summary = Draw {
        picks: Vec::new(),
        ..draw.clone()
    };
    serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n"
}

/// The part of the rosters a plan can touch, in canonical order: in-scope
/// objects, inspectors of the taking-part departments, their relationships
/// with in-scope objects, and past inspections within the recusal window.
pub fn scope_rosters(plan: &Plan, rosters: &Rosters) -> Rosters {
    let objects: Vec<_> = rosters
        .objects
        .iter()
        .filter(|o| plan.in_scope(o))
        .cloned()
        .collect();
    let subjects: foldhash::HashSet<&str> = objects.iter().map(|o| o.uscc.as_str()).collect();
    let inspectors: Vec<_> = rosters
        .inspectors
        .iter()
        .filter(|i| plan.departments.contains(&i.department))
        .cloned()
        .collect();
    let ids: foldhash::HashSet<&str> = inspectors.iter().map(|i| i.id.as_str()).collect();
    let since = plan.recusal_since();
    let mut out = Rosters {
        relationships: rosters
            .relationships
            .iter()
            .filter(|r| ids.contains(r.inspector.as_str()) && subjects.contains(r.subject.as_str()))
            .cloned()
            .collect(),
        history: rosters
            .history
            .iter()
            .filter(|h| {
                h.inspected_on >= since
                    && ids.contains(h.inspector.as_str())
                    && subjects.contains(h.subject.as_str())
            })
            .cloned()
            .collect(),
        objects,
        inspectors,
    };
    out.canonicalise();
    out
}

/// One verification step and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub plan: String,
    pub commitment_sha256: String,
    pub checks: Vec<Check>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    pub fn differences(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

/// Recomputes a bundle: each snapshot against the commitment, the seed
/// against its hash, the draw from the snapshots and the seed, and every team
/// against the recusal rules. `published` is the commitment hash announced at
/// commit, when the verifier has it from elsewhere (a page, a notice).
pub fn verify(bundle: &Bundle, published: Option<&str>) -> VerifyReport {
    let mut checks = Vec::new();
    let mut check = |name: &str, ok: bool, detail: String| {
        checks.push(Check {
            name: name.to_string(),
            ok,
            detail,
        })
    };
    let commitment_sha256 = bundle.commitment_sha256();
    if let Some(published) = published {
        let ok = published.trim() == commitment_sha256;
        check(
            "commitment",
            ok,
            if ok {
                format!("commitment.json hashes to the published {commitment_sha256}")
            } else {
                format!(
                    "commitment.json hashes to {commitment_sha256}, published was {}",
                    published.trim()
                )
            },
        );
    }
    let commitment = match bundle.commitment() {
        Ok(c) => c,
        Err(e) => {
            check("commitment.json", false, e.to_string());
            return VerifyReport {
                plan: String::new(),
                commitment_sha256,
                checks,
            };
        }
    };
    for name in SNAPSHOT_FILES {
        let expected = commitment.file(name);
        match (bundle.file(name), expected) {
            (None, _) => check(name, false, "missing from the bundle".to_string()),
            (Some(_), None) => check(name, false, "not named in the commitment".to_string()),
            (Some(bytes), Some(expected)) => {
                let actual = sha256_hex(bytes);
                let ok = actual == expected.sha256;
                check(
                    name,
                    ok,
                    if ok {
                        format!("sha256 {actual}")
                    } else {
                        format!(
                            "sha256 {actual}, committed {}: the file was changed",
                            expected.sha256
                        )
                    },
                );
            }
        }
    }
    let seed = match bundle.seed.as_deref().map(Seed::parse) {
        None => {
            check(
                "seed.txt",
                false,
                "the seed is not revealed yet: the plan is not drawn".to_string(),
            );
            None
        }
        Some(Err(e)) => {
            check("seed.txt", false, e);
            None
        }
        Some(Ok(seed)) => {
            let ok = seed.sha256() == commitment.seed_sha256;
            check(
                "seed.txt",
                ok,
                if ok {
                    format!(
                        "sha256 of the seed is the committed {}",
                        commitment.seed_sha256
                    )
                } else {
                    format!(
                        "sha256 of the seed is {}, committed {}",
                        seed.sha256(),
                        commitment.seed_sha256
                    )
                },
            );
            Some(seed)
        }
    };
    let parsed = bundle.plan().and_then(|p| Ok((p, bundle.rosters()?)));
    let (plan, rosters) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            check("snapshots", false, e.to_string());
            return VerifyReport {
                plan: commitment.plan,
                commitment_sha256,
                checks,
            };
        }
    };
    if let Some(seed) = seed {
        match draw::draw(&plan, &rosters, &seed) {
            Err(e) => check("draw.csv", false, e.to_string()),
            Ok(recomputed) => {
                let expected = draw::draw_csv(&recomputed);
                match &bundle.draw_csv {
                    None => check("draw.csv", false, "missing from the bundle".to_string()),
                    Some(actual) if *actual == expected => check(
                        "draw.csv",
                        true,
                        format!(
                            "recomputed: {} objects drawn, {} staffed, identical",
                            recomputed.picks.len(),
                            recomputed.staffed().count()
                        ),
                    ),
                    Some(actual) => check("draw.csv", false, line_differences(actual, &expected)),
                }
                let summary = summary_json(&recomputed).into_bytes();
                match &bundle.draw_json {
                    Some(actual) if *actual == summary => {
                        check("draw.json", true, "recomputed, identical".to_string())
                    }
                    Some(_) => check(
                        "draw.json",
                        false,
                        "differs from the recomputed counts".to_string(),
                    ),
                    None => check("draw.json", false, "missing from the bundle".to_string()),
                }
                let rules = RuleCheck::new(&plan, &rosters);
                let broken: Vec<String> = recomputed
                    .picks
                    .iter()
                    .flat_map(|p| rules.violations(p))
                    .collect();
                check(
                    "recusal",
                    broken.is_empty(),
                    if broken.is_empty() {
                        "no team breaks an eligibility or recusal rule".to_string()
                    } else {
                        broken.into_iter().take(10).collect::<Vec<_>>().join("; ")
                    },
                );
            }
        }
    }
    VerifyReport {
        plan: commitment.plan,
        commitment_sha256,
        checks,
    }
}

/// The first differing lines of two CSV texts, for a person to read.
fn line_differences(actual: &[u8], expected: &[u8]) -> String {
    let actual = String::from_utf8_lossy(actual);
    let expected = String::from_utf8_lossy(expected);
    let a: Vec<&str> = actual.lines().collect();
    let e: Vec<&str> = expected.lines().collect();
    let mut out = Vec::new();
    for k in 0..a.len().max(e.len()) {
        let (x, y) = (a.get(k), e.get(k));
        if x != y {
            out.push(format!(
                "line {}: bundle has '{}', recomputed '{}'",
                k + 1,
                x.unwrap_or(&"(nothing)"),
                y.unwrap_or(&"(nothing)")
            ));
        }
        if out.len() == 5 {
            break;
        }
    }
    let total = (0..a.len().max(e.len()))
        .filter(|&k| a.get(k) != e.get(k))
        .count();
    format!(
        "the recorded draw differs from the recomputed one in {total} lines: {}",
        out.join("; ")
    )
}

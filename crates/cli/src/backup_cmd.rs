//! `xinyong backup --out DIR` and `xinyong restore DIR`: a consistent copy
//! of a data directory — the store and every file beside it, the lake
//! included — taken while the server runs, and its restoration into an
//! empty one.
//!
//! Consistency: the store's copy is taken and the lake's files are listed
//! while holding the lake's write lock, so no batch commits in between and
//! the copy holds exactly the lake files of the batches its store has. The
//! files are copied after the lock is released: the lake is append-only,
//! and each file is copied to the length it had when listed. Every other
//! write (grants, applications, the audit log) is in the store, whose copy
//! is one snapshot. Every file's SHA-256 is recorded in `backup.json` and
//! checked on restore.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::Backend;

use crate::Outcome;
use crate::data_cmd::{DataOptions, lake_lock, now, runtime};
use crate::output::outln;

/// What a backup holds, written last as `backup.json`.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    created_at: String,
    backend: String,
    /// The latest batch in the store's copy, at least.
    latest_batch: i64,
    /// Audit entries in the store's copy, at least, and the last one's hash
    /// when they were counted.
    audit_entries: i64,
    audit_head: String,
    files: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize)]
struct FileEntry {
    /// Relative to the data directory, `/`-separated.
    path: String,
    bytes: u64,
    sha256: String,
}

const MANIFEST: &str = "backup.json";

/// Files of the data directory that are not copied as files: the SQLite
/// database (copied by the store), its journal, the lake's lock and
/// staging.
fn skipped(relative: &Path) -> bool {
    let text = relative.to_string_lossy();
    text.starts_with("xinyong.db") || text == "lake/.lock" || text.starts_with("lake/_staging")
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

pub fn backup(data: &DataOptions, out: &Path) -> anyhow::Result<Outcome> {
    if out.exists()
        && std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty: back up into a new directory",
            out.display()
        );
    }
    std::fs::create_dir_all(out.join("files"))
        .with_context(|| format!("cannot create {}", out.display()))?;
    runtime()?.block_on(async {
        let store = data.open().await?;
        // Read before the copy, the figures are what it holds at least:
        // batches and audit entries are only ever added.
        let audit = store.verify_audit().await?;
        if let Some(broken) = &audit.first_broken {
            bail!(
                "the audit log does not verify at entry {}: {}; not backed up",
                broken.seq,
                broken.reason
            );
        }
        let latest_batch = store.batch_mark().await?;
        let lake = lake::Lake::new(&data.data_dir);
        let lock = lake_lock(&store, &lake).await?;
        store
            .backup_into(&data.url(), out)
            .await
            .context("cannot copy the store")?;
        let mut listed = Vec::new();
        list(&data.data_dir, Path::new(""), &mut listed)?;
        drop(lock);

        let mut files = Vec::new();
        for (relative, bytes) in listed {
            let from = data.data_dir.join(&relative);
            let to = out.join("files").join(&relative);
            let sha256 = copy_hashed(&from, &to, bytes)?;
            files.push(FileEntry {
                path: relative.to_string_lossy().replace('\\', "/"),
                bytes,
                sha256,
            });
        }
        let manifest = Manifest {
            format: 1,
            created_at: now(),
            backend: backend_name(store.backend()).to_string(),
            latest_batch,
            audit_entries: audit.entries,
            audit_head: audit.head_hash,
            files,
        };
        store.close().await;
        let path = out.join(MANIFEST);
        std::fs::write(&path, serde_json::to_string_pretty(&manifest)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
        outln!(
            "backup of {} in {}: the store ({}, batches up to {}, {} audit entries) and {} files ({} MiB)",
            data.data_dir.display(),
            out.display(),
            manifest.backend,
            manifest.latest_batch,
            manifest.audit_entries,
            manifest.files.len(),
            bytes >> 20
        );
        Ok(Outcome::Ok)
    })
}

/// Every file under `dir` but the skipped ones, with its length now.
fn list(root: &Path, relative: &Path, out: &mut Vec<(PathBuf, u64)>) -> anyhow::Result<()> {
    let dir = root.join(relative);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut entries: Vec<_> = entries.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = relative.join(entry.file_name());
        if skipped(&path) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            list(root, &path, out)?;
        } else if kind.is_file() {
            out.push((path, entry.metadata()?.len()));
        }
    }
    Ok(())
}

/// Copies the first `bytes` bytes of `from` to `to`, returning their
/// SHA-256.
fn copy_hashed(from: &Path, to: &Path, bytes: u64) -> anyhow::Result<String> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut input = std::fs::File::open(from)
        .with_context(|| format!("cannot read {}", from.display()))?
        .take(bytes);
    let mut output =
        std::fs::File::create(to).with_context(|| format!("cannot write {}", to.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut copied = 0;
    loop {
        let n = input.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        output.write_all(&buffer[..n])?;
        copied += n as u64;
    }
    if copied != bytes {
        bail!("{} shrank while it was copied", from.display());
    }
    output.sync_all()?;
    Ok(hex::encode(hasher.finalize()))
}

pub fn restore(data: &DataOptions, from: &Path) -> anyhow::Result<Outcome> {
    let path = from.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{} is not a backup: no {MANIFEST}", from.display()))?;
    let manifest: Manifest =
        serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))?;
    if manifest.format != 1 {
        bail!(
            "{}: backup format {} is not known",
            path.display(),
            manifest.format
        );
    }
    if data.data_dir.exists() && std::fs::read_dir(&data.data_dir)?.next().is_some() {
        bail!(
            "{} is not empty: restore into a new data directory",
            data.data_dir.display()
        );
    }
    let url = data.url();
    let target = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    if target != manifest.backend {
        bail!(
            "the backup's store is {}, the target's {target}: give --database-url for a PostgreSQL backup, none for a SQLite one",
            manifest.backend
        );
    }
    if target == "sqlite" && data.database_url.is_some() {
        bail!(
            "a SQLite backup is restored into the data directory's own database: give no --database-url"
        );
    }
    std::fs::create_dir_all(&data.data_dir)?;
    for file in &manifest.files {
        let relative = Path::new(&file.path);
        if relative.is_absolute()
            || relative
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!(
                "{}: '{}' lies outside the data directory",
                path.display(),
                file.path
            );
        }
        let to = data.data_dir.join(relative);
        let sha256 = copy_hashed(&from.join("files").join(relative), &to, file.bytes)?;
        if sha256 != file.sha256 {
            bail!(
                "{} does not match its hash in {MANIFEST}: the backup is damaged (restore stopped; {} is incomplete)",
                file.path,
                data.data_dir.display()
            );
        }
    }
    let store_file = from.join(store::backup::file_name(match target {
        "postgres" => Backend::Postgres,
        _ => Backend::Sqlite,
    }));
    if target == "sqlite" {
        std::fs::copy(&store_file, data.data_dir.join("xinyong.db"))
            .with_context(|| format!("cannot copy {}", store_file.display()))?;
    } else {
        store::backup::restore_postgres(&url, from)?;
    }
    runtime()?.block_on(async {
        let store = data.open().await?;
        let audit = store.verify_audit().await?;
        let latest = store.batch_mark().await?;
        store.close().await;
        if let Some(broken) = &audit.first_broken {
            bail!(
                "restored, but the audit log does not verify at entry {}: {}",
                broken.seq,
                broken.reason
            );
        }
        if latest < manifest.latest_batch || audit.entries < manifest.audit_entries {
            bail!(
                "restored, but the store holds less than the backup said (batches up to {latest}, {} audit entries)",
                audit.entries
            );
        }
        outln!(
            "restored {} into {}: batches up to {latest}, {} audit entries verified, {} files",
            from.display(),
            data.data_dir.display(),
            audit.entries,
            manifest.files.len()
        );
        Ok(Outcome::Ok)
    })
}

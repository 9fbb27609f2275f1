//! `xinyong text`: the complaint classifier on any labelled Chinese text
//! CSV, as `xinyong model` is the scorecard on any table.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use complaints::{Evaluation, FitOptions, Model, Segmenter, each_in_parts, mask};

use crate::Outcome;
use crate::csv_table::{CsvFile, write_csv};
use crate::output::{outln, print_json, print_table, table};

#[derive(Subcommand)]
pub enum TextCommand {
    /// Fit a category classifier to labelled texts; the last part in time is
    /// held out and measured.
    Fit {
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        /// The column holding the text.
        #[arg(long)]
        text: String,
        /// The column holding each text's category.
        #[arg(long)]
        label: String,
        /// A column to order the rows by (ISO dates or times) for the
        /// hold-out; without it, the file's order.
        #[arg(long)]
        time: Option<String>,
        /// The share of rows, the latest, held out to measure the model.
        #[arg(long, default_value_t = 0.2)]
        holdout: f64,
        /// Words to add to the segmenter's dictionary: `word [freq] [tag]` a line.
        #[arg(long, value_name = "WORDS.txt")]
        dict: Option<PathBuf>,
        /// A term is kept when at least this many training texts hold it.
        #[arg(long, default_value_t = 2)]
        min_df: u32,
        /// Read single terms only, not neighbouring pairs too.
        #[arg(long)]
        no_pairs: bool,
        /// Passes over the training texts (default: enough for about a
        /// million steps, 3 to 20).
        #[arg(long)]
        epochs: Option<u32>,
        #[arg(long, value_name = "MODEL.json")]
        out: PathBuf,
    },
    /// Classify texts: adds the columns `predicted` and `probability`.
    Apply {
        #[arg(long, value_name = "MODEL.json")]
        model: PathBuf,
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        /// The column holding the text (default: the one the model was fitted on).
        #[arg(long)]
        text: Option<String>,
        #[arg(long, value_name = "OUT.csv")]
        out: PathBuf,
    },
    /// Mask personal data in a text column (phones, ID and plate numbers,
    /// names after 先生/女士, addresses beyond the street), every other
    /// column as it was: a file fit to share.
    Mask {
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        /// The column holding the text.
        #[arg(long)]
        text: String,
        #[arg(long, value_name = "OUT.csv")]
        out: PathBuf,
    },
    /// Accuracy, macro-F1, per-category measures and the confusion matrix
    /// of a model on labelled texts, with misclassified examples masked.
    Report {
        #[arg(long, value_name = "MODEL.json")]
        model: PathBuf,
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: TextCommand) -> Result<Outcome> {
    match command {
        TextCommand::Fit {
            data,
            text,
            label,
            time,
            holdout,
            dict,
            min_df,
            no_pairs,
            epochs,
            out,
        } => {
            let options = FitOptions {
                min_df,
                pairs: !no_pairs,
                epochs,
                ..FitOptions::default()
            };
            let columns = Columns {
                text: &text,
                label: Some(&label),
                time: time.as_deref(),
            };
            fit(&data, columns, holdout, dict.as_deref(), &options, &out)
        }
        TextCommand::Apply {
            model,
            data,
            text,
            out,
        } => apply(&model, &data, text.as_deref(), &out),
        TextCommand::Mask { data, text, out } => mask_file(&data, &text, &out),
        TextCommand::Report {
            model,
            data,
            text,
            label,
            json,
        } => report(&model, &data, text.as_deref(), label.as_deref(), json),
    }
}

/// The columns a command reads.
#[derive(Clone, Copy)]
struct Columns<'a> {
    text: &'a str,
    label: Option<&'a str>,
    time: Option<&'a str>,
}

/// A CSV file's rows, all in memory (fit orders them in time; report
/// measures them all), with the positions of the columns read.
struct Rows {
    path: String,
    records: Vec<csv::StringRecord>,
    /// Rows left out for having no label.
    unlabelled: usize,
    text: usize,
    label: Option<usize>,
    time: Option<usize>,
}

impl Rows {
    fn read(path: &Path, columns: Columns) -> Result<Rows> {
        let file = CsvFile::open(path)?;
        let text = file.position(columns.text)?;
        let label = columns.label.map(|l| file.position(l)).transpose()?;
        let time = columns.time.map(|t| file.position(t)).transpose()?;
        let mut records = Vec::new();
        let mut unlabelled = 0;
        for record in file.records() {
            let (_, record) = record?;
            // A ticket without a category (a consultation, say) teaches
            // nothing and measures nothing: it is left out and counted.
            if let Some(l) = label
                && record[l].trim().is_empty()
            {
                unlabelled += 1;
                continue;
            }
            records.push(record);
        }
        Ok(Rows {
            path: file.path.clone(),
            records,
            unlabelled,
            text,
            label,
            time,
        })
    }

    fn texts(&self) -> Vec<&str> {
        self.records.iter().map(|r| &r[self.text]).collect()
    }

    fn labels(&self) -> Option<Vec<String>> {
        let l = self.label?;
        Some(
            self.records
                .iter()
                .map(|r| r[l].trim().to_string())
                .collect(),
        )
    }
}

/// Every text's terms, in order, the rows shared out among the cores.
fn terms_of(segmenter: &Segmenter, texts: &[&str]) -> Vec<Vec<String>> {
    each_in_parts(texts, |t| segmenter.terms(t))
}

fn segmenter_for(dictionary: &str, source: &str) -> Result<Segmenter> {
    Segmenter::with_words(dictionary).with_context(|| source.to_string())
}

fn fit(
    data: &Path,
    columns: Columns,
    holdout: f64,
    dict: Option<&Path>,
    options: &FitOptions,
    out: &Path,
) -> Result<Outcome> {
    let started = Instant::now();
    if !(0.0..0.9).contains(&holdout) {
        bail!("--holdout {holdout} is not within 0 to 0.9");
    }
    let dictionary = match dict {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => String::new(),
    };
    let segmenter = segmenter_for(
        &dictionary,
        &dict.map(|p| p.display().to_string()).unwrap_or_default(),
    )?;
    let mut rows = Rows::read(data, columns)?;
    if let Some(t) = rows.time {
        // A stable sort: rows of one time keep the file's order.
        rows.records.sort_by(|a, b| a[t].cmp(&b[t]));
    }
    let labels = rows.labels().unwrap_or_default();
    let terms = terms_of(&segmenter, &rows.texts());
    let segmented = started.elapsed().as_secs_f64();
    let cut = rows.records.len() - (rows.records.len() as f64 * holdout).round() as usize;
    let fit_started = Instant::now();
    let mut model = complaints::classify::fit(&terms[..cut], &labels[..cut], &dictionary, options)
        .with_context(|| rows.path.clone())?;
    model.text_column = columns.text.to_string();
    model.label_column = columns.label.unwrap_or_default().to_string();
    let fitted = fit_started.elapsed().as_secs_f64();
    if cut < terms.len() {
        model.holdout = Some(model.evaluate(&terms[cut..], &labels[cut..]));
    }
    let json = serde_json::to_string(&model)?;
    std::fs::write(out, json).with_context(|| format!("cannot write {}", out.display()))?;
    outln!(
        "fitted on {} texts, {} categories, {} terms{}",
        cut,
        model.classes.len(),
        model.terms.len(),
        match columns.time {
            Some(t) => format!("; the latest {} by '{t}' held out", terms.len() - cut),
            None => format!("; the last {} rows held out", terms.len() - cut),
        }
    );
    if rows.unlabelled > 0 {
        outln!("rows without a category, left out: {}", rows.unlabelled);
    }
    if let Some(evaluation) = &model.holdout {
        print_evaluation(evaluation);
    }
    eprintln!(
        "segment {segmented:.3} s, fit {fitted:.3} s, total {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome::Ok)
}

fn load(path: &Path) -> Result<Model> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Model::from_json(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a text model: {e}", path.display()))
}

fn apply(model_path: &Path, data: &Path, text: Option<&str>, out: &Path) -> Result<Outcome> {
    let started = Instant::now();
    let model = load(model_path)?;
    let segmenter = segmenter_for(&model.dictionary, &model_path.display().to_string())?;
    let file = CsvFile::open(data)?;
    let text = file.position(text.unwrap_or(&model.text_column))?;
    for name in ["predicted", "probability"] {
        if file.header.iter().any(|h| h == name) {
            bail!(
                "{}: already has a column '{name}', which apply adds",
                file.path
            );
        }
    }
    let mut header = file.header.clone();
    header.extend(["predicted", "probability"].map(String::from));
    let rows = rewrite(&file, &header, out, |record| {
        let prediction = model.predict(&segmenter.terms(&record[text]));
        let mut fields: Vec<String> = record.iter().map(String::from).collect();
        fields.push(model.classes[prediction.class].clone());
        fields.push(format!("{:.4}", prediction.probability));
        fields
    })?;
    eprintln!(
        "classified {rows} texts in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome::Ok)
}

fn mask_file(data: &Path, text: &str, out: &Path) -> Result<Outcome> {
    let started = Instant::now();
    let file = CsvFile::open(data)?;
    let text = file.position(text)?;
    let rows = rewrite(&file, &file.header, out, |record| {
        let mut fields: Vec<String> = record.iter().map(String::from).collect();
        fields[text] = mask(&record[text]);
        fields
    })?;
    eprintln!(
        "masked {rows} texts in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome::Ok)
}

/// Rows rewritten a chunk at a time.
const CHUNK: usize = 20_000;

/// Writes every row of `file` through `row` to `out`, a chunk of rows at a
/// time shared among the cores, so memory holds the file and one chunk,
/// however many rows there are. The rows go to a file beside `out`,
/// renamed to it when all are written: a malformed row leaves no half
/// file behind. Returns the number of rows.
fn rewrite(
    file: &CsvFile,
    header: &[String],
    out: &Path,
    row: impl Fn(&csv::StringRecord) -> Vec<String> + Sync,
) -> Result<usize> {
    let mut part_name = out.as_os_str().to_owned();
    part_name.push(".part");
    let part = PathBuf::from(part_name);
    let count = std::cell::Cell::new(0);
    let mut records = file.records();
    let mut pending = Vec::new().into_iter();
    let rows = std::iter::from_fn(|| {
        loop {
            if let Some(fields) = pending.next() {
                return Some(Ok(fields));
            }
            let mut chunk = Vec::with_capacity(CHUNK);
            for record in records.by_ref().take(CHUNK) {
                match record {
                    Ok((_, record)) => chunk.push(record),
                    Err(error) => return Some(Err(error)),
                }
            }
            if chunk.is_empty() {
                return None;
            }
            count.set(count.get() + chunk.len());
            pending = each_in_parts(&chunk, &row).into_iter();
        }
    });
    if let Err(error) = write_csv(&part, header, rows) {
        let _ = std::fs::remove_file(&part);
        return Err(error);
    }
    std::fs::rename(&part, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(count.get())
}

fn report(
    model_path: &Path,
    data: &Path,
    text: Option<&str>,
    label: Option<&str>,
    json: bool,
) -> Result<Outcome> {
    let model = load(model_path)?;
    let segmenter = segmenter_for(&model.dictionary, &model_path.display().to_string())?;
    let columns = Columns {
        text: text.unwrap_or(&model.text_column),
        label: Some(label.unwrap_or(&model.label_column)),
        time: None,
    };
    let rows = Rows::read(data, columns)?;
    let labels = rows.labels().unwrap_or_default();
    let terms = terms_of(&segmenter, &rows.texts());
    let predicted: Vec<usize> = model.predict_all(&terms).iter().map(|p| p.class).collect();
    let evaluation = complaints::classify::evaluate(&model.classes, &predicted, &labels);
    if json {
        print_json(&evaluation)?;
        return Ok(Outcome::Ok);
    }
    outln!("{} texts from {}", rows.records.len(), rows.path);
    if rows.unlabelled > 0 {
        outln!("rows without a category, left out: {}", rows.unlabelled);
    }
    print_evaluation(&evaluation);
    // Examples of mistakes, masked as everything shown is.
    let wrong: Vec<usize> = (0..labels.len())
        .filter(|&k| model.classes[predicted[k]] != labels[k])
        .take(5)
        .collect();
    if !wrong.is_empty() {
        outln!();
        outln!(
            "misclassified, first {} (personal data masked):",
            wrong.len()
        );
        for k in wrong {
            outln!(
                "  row {}: {} → {}: {}",
                k + 1,
                labels[k],
                model.classes[predicted[k]],
                mask(&rows.records[k][rows.text])
            );
        }
    }
    Ok(Outcome::Ok)
}

fn print_evaluation(e: &Evaluation) {
    outln!(
        "{} texts: accuracy {:.4}, macro-F1 {:.4}",
        e.rows,
        e.accuracy,
        e.macro_f1
    );
    let mut measures = table(&["category", "texts", "precision", "recall", "F1"]);
    for m in &e.classes {
        measures.add_row(vec![
            m.label.clone(),
            m.support.to_string(),
            format!("{:.3}", m.precision),
            format!("{:.3}", m.recall),
            format!("{:.3}", m.f1),
        ]);
    }
    print_table(&measures);
    outln!();
    outln!("confusion matrix (rows: the label; columns: predicted, in the order above):");
    let mut header = vec!["".to_string()];
    header.extend((1..=e.classes.len()).map(|k| k.to_string()));
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut confusion = table(&header_refs);
    for (k, (row, m)) in e.confusion.iter().zip(&e.classes).enumerate() {
        let mut cells = vec![format!("{} {}", k + 1, m.label)];
        cells.extend(row.iter().map(u64::to_string));
        confusion.add_row(cells);
    }
    print_table(&confusion);
}

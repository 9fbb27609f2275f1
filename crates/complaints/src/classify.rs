//! A category classifier for labelled Chinese text.
//!
//! Terms (from [`crate::Segmenter::terms`]) and, by default, pairs of
//! neighbouring terms are the features, kept when at least `min_df` texts
//! hold them; each text is a TF-IDF vector (sublinear term frequency,
//! smoothed IDF, unit length), as scikit-learn's `TfidfVectorizer` makes
//! it. A multinomial logistic regression over them is fitted by stochastic
//! gradient descent with AdaGrad steps and an L2 penalty, in a fixed order
//! (a seeded shuffle), and the model is the average of the weights over
//! every step, so the same data give the same model. Counting and
//! vectorising use every core; the descent is one thread, in order.
//!
//! The model is plain data (JSON): classes, terms with their IDF, and one
//! weight per term and class.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The format name in every model file.
pub const FORMAT: &str = "xinyong-text-classifier";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// A term is a feature when at least this many training texts hold it.
    pub min_df: u32,
    /// Pairs of neighbouring terms are features too.
    pub pairs: bool,
    /// Passes over the training texts; `None` for [`FitOptions::passes`]'s
    /// choice by the number of texts.
    pub epochs: Option<u32>,
    /// AdaGrad's base step.
    pub learning_rate: f64,
    /// L2 penalty per row and weight.
    pub l2: f64,
}

impl FitOptions {
    /// The passes over `rows` training texts: as asked, or enough for
    /// about a million steps, at least 3 and at most 20. Measured on the
    /// synthetic city's complaints (docs/COMPLAINTS.md): 21 000 texts
    /// gain up to 20 passes, 570 000 gain nothing after the third.
    pub fn passes(&self, rows: usize) -> u32 {
        if let Some(epochs) = self.epochs {
            return epochs;
        }
        (1_000_000usize.div_ceil(rows.max(1))).clamp(3, 20) as u32
    }
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            min_df: 2,
            pairs: true,
            epochs: None,
            learning_rate: 0.2,
            l2: 1e-5,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error("no labelled texts to learn from")]
    Empty,
    #[error("texts and labels differ in number ({texts} and {labels})")]
    Lengths { texts: usize, labels: usize },
    #[error("one category only ('{0}'): a classifier needs two or more")]
    OneClass(String),
    #[error("no term appears in {0} or more texts; lower the minimum")]
    NoTerms(u32),
    #[error("options: {0}")]
    Options(String),
}

/// A fitted classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format: String,
    /// The columns the model was fitted on, for apply and report to default to.
    #[serde(default)]
    pub text_column: String,
    #[serde(default)]
    pub label_column: String,
    pub classes: Vec<String>,
    pub options: FitOptions,
    /// Words added to the segmenter's dictionary when the model was fitted
    /// (the dictionary file's text), so apply segments the same way.
    pub dictionary: String,
    pub terms: Vec<String>,
    pub idf: Vec<f32>,
    /// `weights[term * classes + class]`.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// How the model did on the texts held out when it was fitted.
    #[serde(default)]
    pub holdout: Option<Evaluation>,
    #[serde(skip)]
    lookup: Lookup,
}

/// How a text's terms find their columns without building a string: a
/// number for every word the model's features hold, then words by number
/// and pairs by their two numbers.
#[derive(Debug, Clone, Default)]
struct Lookup {
    numbers: FastMap<String, u32>,
    word_column: Vec<u32>,
    pair_column: FastMap<u64, u32>,
}

/// The lookup is derived from the terms: two models are equal when their
/// data are.
impl PartialEq for Lookup {
    fn eq(&self, _: &Lookup) -> bool {
        true
    }
}

impl Lookup {
    /// Numbers words in the order met; `pairs` says whether a term with a
    /// space is a pair of words.
    fn new(terms: &[String], pairs: bool) -> Lookup {
        let mut lookup = Lookup::default();
        for (j, term) in terms.iter().enumerate() {
            let pair = if pairs { term.split_once(' ') } else { None };
            match pair {
                Some((first, second)) => {
                    let key = pair_key(lookup.number(first), lookup.number(second));
                    lookup.pair_column.insert(key, j as u32);
                }
                None => {
                    let w = lookup.number(term) as usize;
                    lookup.word_column[w] = j as u32;
                }
            }
        }
        lookup
    }

    fn number(&mut self, word: &str) -> u32 {
        if let Some(&n) = self.numbers.get(word) {
            return n;
        }
        let n = self.word_column.len() as u32;
        self.numbers.insert(word.to_string(), n);
        self.word_column.push(NONE);
        n
    }

    /// The columns of a text's features, a column once for every time.
    fn columns(&self, terms: &[String], pairs: bool) -> Vec<u32> {
        let words: Vec<u32> = terms
            .iter()
            .map(|t| self.numbers.get(t.as_str()).copied().unwrap_or(NONE))
            .collect();
        let mut found: Vec<u32> = words
            .iter()
            .filter(|&&w| w != NONE)
            .map(|&w| self.word_column[w as usize])
            .filter(|&j| j != NONE)
            .collect();
        if pairs {
            found.extend(
                words
                    .windows(2)
                    .filter(|w| w[0] != NONE && w[1] != NONE)
                    .filter_map(|w| self.pair_column.get(&pair_key(w[0], w[1])).copied()),
            );
        }
        found
    }
}

/// No word or no column.
const NONE: u32 = u32::MAX;

/// One text's category.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub class: usize,
    pub probability: f64,
}

/// Per-category measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMeasures {
    pub label: String,
    pub support: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// How predictions compare with labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub rows: u64,
    pub accuracy: f64,
    /// The mean of the categories' F1, each category counting the same.
    pub macro_f1: f64,
    pub classes: Vec<ClassMeasures>,
    /// `confusion[actual][predicted]`, in the order of `classes`; a label
    /// the model never saw is a class of its own that nothing predicts.
    pub confusion: Vec<Vec<u64>>,
}

/// The features of one text: (feature, weight), sorted by feature.
type Vector = Vec<(u32, f32)>;

/// A feature while fitting: a word's number, or a pair's two numbers
/// (the first one up), so that counting never builds a string.
fn feature_keys(words: &[u32], pairs: bool, out: &mut Vec<u64>) {
    out.clear();
    out.extend(words.iter().map(|&w| u64::from(w)));
    if pairs {
        out.extend(words.windows(2).map(|w| pair_key(w[0], w[1])));
    }
}

/// A pair's key: never a word's, whose upper half is zero.
fn pair_key(first: u32, second: u32) -> u64 {
    (u64::from(first) + 1) << 32 | u64::from(second)
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// `work` on every item, in order, the items shared out among the cores:
/// segmenting, vectorising, predicting and masking many texts.
pub fn each_in_parts<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    in_parts(items, |part| part.iter().map(&work).collect::<Vec<_>>())
        .into_iter()
        .flatten()
        .collect()
}

/// Runs `work` over `items` in as many parts as there are cores, keeping
/// their order.
fn in_parts<T: Sync, R: Send>(items: &[T], work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let size = items.len().div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|part| scope.spawn(|| work(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Fits a classifier to texts' terms and their labels.
pub fn fit(
    terms: &[Vec<String>],
    labels: &[String],
    dictionary: &str,
    options: &FitOptions,
) -> Result<Model, FitError> {
    if terms.len() != labels.len() {
        return Err(FitError::Lengths {
            texts: terms.len(),
            labels: labels.len(),
        });
    }
    if terms.is_empty() {
        return Err(FitError::Empty);
    }
    if let Some(epochs) = options.epochs
        && !(1..=100).contains(&epochs)
    {
        return Err(FitError::Options(format!(
            "epochs {epochs} is not within 1..=100"
        )));
    }
    if !(options.learning_rate > 0.0 && options.learning_rate.is_finite()) {
        return Err(FitError::Options(
            "the learning rate must be positive".to_string(),
        ));
    }
    if !(options.l2 >= 0.0 && options.l2.is_finite()) {
        return Err(FitError::Options("l2 must not be negative".to_string()));
    }
    let mut classes: Vec<String> = labels.to_vec();
    classes.sort();
    classes.dedup();
    if classes.len() < 2 {
        return Err(FitError::OneClass(classes.remove(0)));
    }
    let targets: Vec<usize> = labels
        .iter()
        .map(|l| classes.binary_search(l).unwrap_or_default())
        .collect();

    // Every word numbered once; texts as numbers from here on.
    let mut numbers: FastMap<&str, u32> = FastMap::default();
    let mut words: Vec<&str> = Vec::new();
    let texts: Vec<Vec<u32>> = terms
        .iter()
        .map(|text| {
            text.iter()
                .map(|t| {
                    *numbers.entry(t.as_str()).or_insert_with(|| {
                        words.push(t.as_str());
                        (words.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();

    // Document frequencies, counted in parts and added up.
    let counts = in_parts(&texts, |part| {
        let mut df: FastMap<u64, u32> = FastMap::default();
        let mut keys = Vec::new();
        for text in part {
            feature_keys(text, options.pairs, &mut keys);
            keys.sort_unstable();
            keys.dedup();
            for &k in &keys {
                *df.entry(k).or_default() += 1;
            }
        }
        df
    });
    let mut df = FastMap::default();
    for part in counts {
        for (k, n) in part {
            *df.entry(k).or_insert(0u32) += n;
        }
    }
    let name = |key: u64| match key >> 32 {
        0 => words[key as usize].to_string(),
        first => format!(
            "{} {}",
            words[first as usize - 1],
            words[(key & 0xFFFF_FFFF) as usize]
        ),
    };
    // The kept features in a stable order: by name.
    let mut kept: Vec<(String, u64, u32)> = df
        .into_iter()
        .filter(|(_, n)| *n >= options.min_df)
        .map(|(k, n)| (name(k), k, n))
        .collect();
    if kept.is_empty() {
        return Err(FitError::NoTerms(options.min_df));
    }
    kept.sort_unstable();
    let rows = terms.len() as f64;
    let idf = kept
        .iter()
        .map(|(_, _, n)| (((1.0 + rows) / (1.0 + f64::from(*n))).ln() + 1.0) as f32)
        .collect::<Vec<_>>();
    let mut model = Model {
        format: FORMAT.to_string(),
        text_column: String::new(),
        label_column: String::new(),
        options: options.clone(),
        dictionary: dictionary.to_string(),
        terms: kept.into_iter().map(|(t, _, _)| t).collect(),
        idf,
        weights: Vec::new(),
        bias: Vec::new(),
        classes,
        holdout: None,
        lookup: Lookup::default(),
    };
    model.build_index();
    // Training texts are read as any text will be, through the model's lookup.
    let vectors: Vec<Vector> = each_in_parts(terms, |t| model.vector(t));
    let (weights, bias) = descend(
        &vectors,
        &targets,
        model.classes.len(),
        model.terms.len(),
        options,
    );
    model.weights = weights;
    model.bias = bias;
    Ok(model)
}

/// A unit-length TF-IDF vector (sublinear term frequency) of a text's
/// features, given by column.
fn tf_idf(columns: impl Iterator<Item = u32>, idf: &[f32]) -> Vector {
    let mut found: Vec<u32> = columns.collect();
    found.sort_unstable();
    let mut v: Vector = Vec::with_capacity(found.len());
    for j in found {
        match v.last_mut() {
            Some((last, n)) if *last == j => *n += 1.0,
            _ => v.push((j, 1.0)),
        }
    }
    for (j, x) in &mut v {
        *x = (1.0 + x.ln()) * idf[*j as usize];
    }
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, x) in &mut v {
            *x /= norm;
        }
    }
    v
}

/// Softmax regression by AdaGrad over the rows in a seeded order, and the
/// average of the weights after every step (Polyak–Ruppert averaging).
///
/// Why the average: the last step's weights wander around the optimum by
/// as much as the step, and at half a million rows later epochs only fit
/// the noise (the hold-out got worse with every epoch after the first).
/// The average settles where the last weights wander, so fewer epochs
/// at a smaller step reach what a line-searched solver reaches. It costs
/// one more number per weight: `sum_t w_t = T w_T - sum_s (s-1) d_s`, so
/// summing each step's change times its step number (`drift`) is enough,
/// and only the weights a row touches are updated.
fn descend(
    vectors: &[Vector],
    targets: &[usize],
    c: usize,
    features: usize,
    options: &FitOptions,
) -> (Vec<f32>, Vec<f32>) {
    // A weight's value, its squared gradients and its drift side by side:
    // a row touches all three, so they share cache lines.
    #[derive(Clone, Copy)]
    struct Cell {
        weight: f32,
        squares: f32,
        drift: f32,
    }
    let fresh = Cell {
        weight: 0.0,
        squares: 1e-8,
        drift: 0.0,
    };
    let mut cells = vec![fresh; features * c];
    let mut bias = vec![fresh; c];
    let mut order: Vec<usize> = (0..vectors.len()).collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let rate = options.learning_rate as f32;
    let l2 = options.l2 as f32;
    let mut p = vec![0f32; c];
    // Steps taken so far, in f32 as it multiplies: exact up to 2^24 steps,
    // and the relative error after that is far below the step's noise.
    let mut step = 0f32;
    for _ in 0..options.passes(vectors.len()) {
        shuffle(&mut order, &mut seed);
        for &row in &order {
            let x = &vectors[row];
            for (s, b) in p.iter_mut().zip(&bias) {
                *s = b.weight;
            }
            for &(j, value) in x {
                let base = j as usize * c;
                for (s, cell) in p.iter_mut().zip(&cells[base..base + c]) {
                    *s += cell.weight * value;
                }
            }
            softmax(&mut p);
            p[targets[row]] -= 1.0;
            // p now holds the gradient of the loss by each class's score.
            for (cell, g) in bias.iter_mut().zip(&p) {
                cell.squares += g * g;
                let change = rate * g / cell.squares.sqrt();
                cell.weight -= change;
                cell.drift -= step * change;
            }
            for &(j, value) in x {
                let base = j as usize * c;
                for (cell, g) in cells[base..base + c].iter_mut().zip(&p) {
                    let gradient = g * value + l2 * cell.weight;
                    cell.squares += gradient * gradient;
                    let change = rate * gradient / cell.squares.sqrt();
                    cell.weight -= change;
                    cell.drift -= step * change;
                }
            }
            step += 1.0;
        }
    }
    let average = |cells: Vec<Cell>| -> Vec<f32> {
        cells.iter().map(|c| c.weight - c.drift / step).collect()
    };
    (average(cells), average(bias))
}

/// Each class's score: the bias plus the weighted features.
fn scores(weights: &[f32], bias: &[f32], x: &[(u32, f32)], p: &mut [f32]) {
    let c = bias.len();
    p.copy_from_slice(bias);
    for &(j, value) in x {
        let row = &weights[j as usize * c..(j as usize + 1) * c];
        for (s, w) in p.iter_mut().zip(row) {
            *s += w * value;
        }
    }
}

/// Scores into probabilities, in place.
fn softmax(p: &mut [f32]) {
    let top = p.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in p.iter_mut() {
        *s = (*s - top).exp();
        sum += *s;
    }
    for s in p.iter_mut() {
        *s /= sum;
    }
}

/// Fisher–Yates with xorshift: the same order from the same seed.
fn shuffle(order: &mut [usize], seed: &mut u64) {
    for i in (1..order.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = (*seed % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

impl Model {
    /// A model read from JSON, checked whole.
    pub fn from_json(text: &str) -> Result<Model, String> {
        let mut model: Model = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if model.format != FORMAT {
            return Err(format!("format '{}' is not {FORMAT}", model.format));
        }
        let c = model.classes.len();
        if c < 2
            || model.idf.len() != model.terms.len()
            || model.weights.len() != model.terms.len() * c
            || model.bias.len() != c
        {
            return Err("classes, terms, IDF and weights do not fit together".to_string());
        }
        model.build_index();
        Ok(model)
    }

    fn build_index(&mut self) {
        self.lookup = Lookup::new(&self.terms, self.options.pairs);
    }

    /// A text's TF-IDF vector, unit length; terms the model does not know
    /// are left out.
    fn vector(&self, terms: &[String]) -> Vector {
        let found = self.lookup.columns(terms, self.options.pairs);
        tf_idf(found.into_iter(), &self.idf)
    }

    fn probabilities(&self, x: &[(u32, f32)], p: &mut [f32]) {
        scores(&self.weights, &self.bias, x, p);
        softmax(p);
    }

    /// The most likely category of a text's terms, and its probability.
    pub fn predict(&self, terms: &[String]) -> Prediction {
        let mut p = vec![0f32; self.classes.len()];
        self.probabilities(&self.vector(terms), &mut p);
        let (class, probability) =
            p.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (k, &v)| {
                    if v > best.1 { (k, v) } else { best }
                });
        Prediction {
            class,
            probability: f64::from(probability),
        }
    }

    /// The categories of many texts, in their order, using every core.
    pub fn predict_all(&self, terms: &[Vec<String>]) -> Vec<Prediction> {
        each_in_parts(terms, |t| self.predict(t))
    }

    /// Predictions for many texts against their labels.
    pub fn evaluate(&self, terms: &[Vec<String>], labels: &[String]) -> Evaluation {
        let predicted: Vec<usize> = self.predict_all(terms).iter().map(|p| p.class).collect();
        evaluate(&self.classes, &predicted, labels)
    }
}

/// Accuracy, per-class measures, macro-F1 and the confusion matrix of
/// predicted class indices against labels.
pub fn evaluate(classes: &[String], predicted: &[usize], labels: &[String]) -> Evaluation {
    let mut names: Vec<String> = classes.to_vec();
    for label in labels {
        if !names.contains(label) {
            names.push(label.clone());
        }
    }
    let position: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(k, n)| (n.as_str(), k))
        .collect();
    let n = names.len();
    let mut confusion = vec![vec![0u64; n]; n];
    for (&p, label) in predicted.iter().zip(labels) {
        confusion[position[label.as_str()]][p] += 1;
    }
    let rows = labels.len() as u64;
    let correct: u64 = (0..n).map(|k| confusion[k][k]).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let measures: Vec<ClassMeasures> = (0..n)
        .map(|k| {
            let support: u64 = confusion[k].iter().sum();
            let predicted_k: u64 = (0..n).map(|a| confusion[a][k]).sum();
            let precision = ratio(confusion[k][k], predicted_k);
            let recall = ratio(confusion[k][k], support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassMeasures {
                label: names[k].clone(),
                support,
                precision,
                recall,
                f1,
            }
        })
        .collect();
    // Categories with no labelled rows do not count towards the mean.
    let present: Vec<&ClassMeasures> = measures.iter().filter(|m| m.support > 0).collect();
    let macro_f1 = if present.is_empty() {
        0.0
    } else {
        present.iter().map(|m| m.f1).sum::<f64>() / present.len() as f64
    };
    Evaluation {
        rows,
        accuracy: ratio(correct, rows),
        macro_f1,
        classes: measures,
        confusion,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(String::from).collect()
    }

    fn data() -> (Vec<Vec<String>>, Vec<String>) {
        let mut terms = Vec::new();
        let mut labels = Vec::new();
        for k in 0..60 {
            let (text, label) = match k % 3 {
                0 => ("饭菜 变质 拉肚子", "food_safety"),
                1 => ("预付卡 跑路 退款", "prepaid_refund"),
                _ => ("空调 维修 售后", "after_sales"),
            };
            let noise = ["商家", "门店", "今天"][k % 3 / 2 + k % 2];
            terms.push(words(&format!("{text} {noise}")));
            labels.push(label.to_string());
        }
        (terms, labels)
    }

    #[test]
    fn learns_separable_categories_and_round_trips() {
        let (terms, labels) = data();
        let model = fit(&terms, &labels, "", &FitOptions::default()).unwrap();
        let evaluation = model.evaluate(&terms, &labels);
        assert_eq!(evaluation.accuracy, 1.0);
        assert_eq!(evaluation.macro_f1, 1.0);
        let p = model.predict(&words("预付卡 跑路"));
        assert_eq!(model.classes[p.class], "prepaid_refund");
        assert!(p.probability > 0.5, "{p:?}");
        let json = serde_json::to_string(&model).unwrap();
        let back = Model::from_json(&json).unwrap();
        assert_eq!(
            back.predict(&words("空调 售后")),
            model.predict(&words("空调 售后"))
        );
    }

    #[test]
    fn the_same_data_give_the_same_model() {
        let (terms, labels) = data();
        let a = fit(&terms, &labels, "", &FitOptions::default()).unwrap();
        let b = fit(&terms, &labels, "", &FitOptions::default()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_input_is_named() {
        let (terms, labels) = data();
        assert_eq!(
            fit(&[], &[], "", &FitOptions::default()),
            Err(FitError::Empty)
        );
        let one = vec!["x".to_string(); terms.len()];
        assert_eq!(
            fit(&terms, &one, "", &FitOptions::default()),
            Err(FitError::OneClass("x".to_string()))
        );
        let rare = FitOptions {
            min_df: 1000,
            ..FitOptions::default()
        };
        assert_eq!(
            fit(&terms, &labels, "", &rare),
            Err(FitError::NoTerms(1000))
        );
        assert!(Model::from_json("{}").is_err());
    }

    #[test]
    fn passes_follow_the_number_of_texts_unless_asked() {
        let auto = FitOptions::default();
        assert_eq!(auto.passes(10), 20);
        assert_eq!(auto.passes(100_000), 10);
        assert_eq!(auto.passes(566_755), 3);
        assert_eq!(auto.passes(5_000_000), 3);
        let asked = FitOptions {
            epochs: Some(7),
            ..FitOptions::default()
        };
        assert_eq!(asked.passes(10), 7);
        let (terms, labels) = data();
        let none = FitOptions {
            epochs: Some(0),
            ..FitOptions::default()
        };
        assert!(matches!(
            fit(&terms, &labels, "", &none),
            Err(FitError::Options(_))
        ));
    }

    #[test]
    fn measures_follow_the_confusion_matrix() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let labels: Vec<String> = ["a", "a", "b", "b", "c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = evaluate(&classes, &[0, 1, 1, 1, 0], &labels);
        assert_eq!(
            e.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
        );
        assert_eq!(e.accuracy, 3.0 / 5.0);
        // a: precision 1/2, recall 1/2; b: 2/3 and 1; c: 0.
        let f1_b = 2.0 * (2.0 / 3.0) / (2.0 / 3.0 + 1.0);
        assert!((e.macro_f1 - (0.5 + f1_b + 0.0) / 3.0).abs() < 1e-12);
    }
}

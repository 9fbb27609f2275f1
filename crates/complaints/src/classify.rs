//! A category classifier for labelled Chinese text.
//!
//! Terms (from [`crate::Segmenter::terms`]) and, by default, pairs of
//! neighbouring terms are the features, kept when at least `min_df` texts
//! hold them; each text is a TF-IDF vector (sublinear term frequency,
//! smoothed IDF, unit length), as scikit-learn's `TfidfVectorizer` makes
//! it. A multinomial logistic regression over them is fitted by stochastic
//! gradient descent with AdaGrad steps and an L2 penalty, in a fixed order
//! (a seeded shuffle), so the same data give the same model.
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
    /// Passes over the training texts.
    pub epochs: u32,
    /// AdaGrad's base step.
    pub learning_rate: f64,
    /// L2 penalty per row and weight.
    pub l2: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            min_df: 2,
            pairs: true,
            epochs: 6,
            learning_rate: 0.5,
            l2: 1e-6,
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
    index: HashMap<String, u32>,
}

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

/// The raw features of a text: its terms, and pairs when asked.
fn features(terms: &[String], pairs: bool) -> Vec<String> {
    let mut out = terms.to_vec();
    if pairs {
        out.extend(terms.windows(2).map(|w| format!("{} {}", w[0], w[1])));
    }
    out
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
    if options.epochs == 0 || options.epochs > 100 {
        return Err(FitError::Options(format!(
            "epochs {} is not within 1..=100",
            options.epochs
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

    // Document frequencies, then the kept terms in a stable order.
    let mut df: HashMap<String, u32> = HashMap::new();
    for text in terms {
        let mut seen = features(text, options.pairs);
        seen.sort();
        seen.dedup();
        for f in seen {
            *df.entry(f).or_default() += 1;
        }
    }
    let mut kept: Vec<(String, u32)> = df
        .into_iter()
        .filter(|(_, n)| *n >= options.min_df)
        .collect();
    if kept.is_empty() {
        return Err(FitError::NoTerms(options.min_df));
    }
    kept.sort();
    let rows = terms.len() as f64;
    let idf = kept
        .iter()
        .map(|(_, n)| (((1.0 + rows) / (1.0 + f64::from(*n))).ln() + 1.0) as f32)
        .collect::<Vec<_>>();
    let mut model = Model {
        format: FORMAT.to_string(),
        text_column: String::new(),
        label_column: String::new(),
        options: options.clone(),
        dictionary: dictionary.to_string(),
        terms: kept.into_iter().map(|(t, _)| t).collect(),
        idf,
        weights: Vec::new(),
        bias: vec![0.0; classes.len()],
        classes,
        holdout: None,
        index: HashMap::new(),
    };
    model.build_index();
    let c = model.classes.len();
    model.weights = vec![0.0; model.terms.len() * c];

    let vectors: Vec<Vector> = terms.iter().map(|t| model.vector(t)).collect();
    let mut squares = vec![1e-8f32; model.weights.len()];
    let mut bias_squares = vec![1e-8f32; c];
    let mut order: Vec<usize> = (0..vectors.len()).collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let rate = options.learning_rate as f32;
    let l2 = options.l2 as f32;
    let mut p = vec![0f32; c];
    for _ in 0..options.epochs {
        shuffle(&mut order, &mut seed);
        for &row in &order {
            let x = &vectors[row];
            model.probabilities(x, &mut p);
            p[targets[row]] -= 1.0;
            // p now holds the gradient of the loss by each class's score.
            for (k, g) in p.iter().enumerate() {
                bias_squares[k] += g * g;
                model.bias[k] -= rate * g / bias_squares[k].sqrt();
            }
            for &(j, value) in x {
                let base = j as usize * c;
                for (k, g) in p.iter().enumerate() {
                    let w = &mut model.weights[base + k];
                    let gradient = g * value + l2 * *w;
                    squares[base + k] += gradient * gradient;
                    *w -= rate * gradient / squares[base + k].sqrt();
                }
            }
        }
    }
    Ok(model)
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
        self.index = self
            .terms
            .iter()
            .enumerate()
            .map(|(k, t)| (t.clone(), k as u32))
            .collect();
    }

    /// A text's TF-IDF vector, unit length; terms the model does not know
    /// are left out.
    fn vector(&self, terms: &[String]) -> Vector {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for f in features(terms, self.options.pairs) {
            if let Some(&j) = self.index.get(&f) {
                *counts.entry(j).or_default() += 1;
            }
        }
        let mut v: Vector = counts
            .into_iter()
            .map(|(j, n)| (j, (1.0 + (n as f32).ln()) * self.idf[j as usize]))
            .collect();
        v.sort_unstable_by_key(|&(j, _)| j);
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, x) in &mut v {
                *x /= norm;
            }
        }
        v
    }

    fn probabilities(&self, x: &[(u32, f32)], p: &mut [f32]) {
        let c = self.classes.len();
        p.copy_from_slice(&self.bias);
        for &(j, value) in x {
            let row = &self.weights[j as usize * c..(j as usize + 1) * c];
            for (s, w) in p.iter_mut().zip(row) {
                *s += w * value;
            }
        }
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

    /// Predictions for many texts against their labels.
    pub fn evaluate(&self, terms: &[Vec<String>], labels: &[String]) -> Evaluation {
        let predicted: Vec<usize> = terms.iter().map(|t| self.predict(t).class).collect();
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

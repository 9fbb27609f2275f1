//! The data the engine works on: named columns, numeric or categorical, and
//! a binary target. Readers (CSV, the lake) live outside this crate.

use foldhash::HashMap;

/// Code of a missing value in a categorical column.
pub const MISSING_CODE: u32 = u32::MAX;

/// One column of values. Numeric missing values are NaN; categorical values
/// are dictionary codes into `levels`, `MISSING_CODE` when missing.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Numeric(Vec<f64>),
    Categorical {
        levels: Vec<String>,
        codes: Vec<u32>,
    },
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(values) => values.len(),
            Column::Categorical { codes, .. } => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of one row, for scoring rows one at a time.
    pub fn value(&self, row: usize) -> Value<'_> {
        match self {
            Column::Numeric(values) => match values.get(row) {
                Some(v) if !v.is_nan() => Value::Number(*v),
                _ => Value::Missing,
            },
            Column::Categorical { levels, codes } => match codes.get(row) {
                Some(&code) if code != MISSING_CODE => match levels.get(code as usize) {
                    Some(level) => Value::Text(level),
                    None => Value::Missing,
                },
                _ => Value::Missing,
            },
        }
    }
}

/// Builds a categorical column value by value, keeping a dictionary.
#[derive(Debug, Default)]
pub struct CategoricalBuilder {
    levels: Vec<String>,
    index: HashMap<String, u32>,
    codes: Vec<u32>,
}

impl CategoricalBuilder {
    /// A builder with room for `rows` values.
    pub fn with_capacity(rows: usize) -> CategoricalBuilder {
        CategoricalBuilder {
            codes: Vec::with_capacity(rows),
            ..CategoricalBuilder::default()
        }
    }

    pub fn push(&mut self, value: Option<&str>) {
        let Some(value) = value else {
            self.codes.push(MISSING_CODE);
            return;
        };
        if let Some(&code) = self.index.get(value) {
            self.codes.push(code);
            return;
        }
        let code = self.levels.len() as u32;
        self.levels.push(value.to_string());
        self.index.insert(value.to_string(), code);
        self.codes.push(code);
    }

    /// Appends another builder's values, its levels mapped into this
    /// dictionary (columns read in parts, in order).
    pub fn append(&mut self, other: CategoricalBuilder) {
        // Each of the other's levels is looked up once, not once a row.
        let mut to_mine = Vec::with_capacity(other.levels.len());
        for level in other.levels {
            let code = match self.index.get(&level) {
                Some(&code) => code,
                None => {
                    let code = self.levels.len() as u32;
                    self.levels.push(level.clone());
                    self.index.insert(level, code);
                    code
                }
            };
            to_mine.push(code);
        }
        self.codes.extend(
            other
                .codes
                .iter()
                .map(|&code| to_mine.get(code as usize).copied().unwrap_or(MISSING_CODE)),
        );
    }

    pub fn finish(self) -> Column {
        Column::Categorical {
            levels: self.levels,
            codes: self.codes,
        }
    }
}

/// One value of one row, as a scorer receives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Number(f64),
    Text(&'a str),
    Missing,
}

/// Named columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub names: Vec<String>,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        let position = self.names.iter().position(|n| n == name)?;
        self.columns.get(position)
    }

    pub fn push(&mut self, name: impl Into<String>, column: Column) {
        self.names.push(name.into());
        self.columns.push(column);
    }
}

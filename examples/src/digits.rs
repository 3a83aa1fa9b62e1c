//! The UCI optical digits set: 1797 grey-scale 8x8 images of the digits 0..9.
//!
//! The file is a gzip-compressed CSV, one image a line: 64 pixel values in `0..=16` (row
//! major), then the label. [`Digits::load`] reads it with our own parser, and
//! [`Digits::split`] shuffles with a seed and cuts a train / test split.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

/// Pixels per image (8 x 8).
pub const PIXELS: usize = 64;
/// Number of classes (the digits 0..9).
pub const CLASSES: usize = 10;
/// Seed of the train/test split used by `train_digits` and `predict`.
pub const SPLIT_SEED: u64 = 0;
/// Fraction of the images used for training (the rest is the test set).
pub const TRAIN_FRACTION: f64 = 0.8;
/// The largest pixel value in the file.
pub const MAX_PIXEL: f32 = 16.0;

/// Why the digits file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DigitsError {
    #[error("digits: cannot read {path}: {source} (run `make setup` to download the data set)")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "digits: {path} line {line}: expected {expected} comma-separated values, found {found}"
    )]
    FieldCount {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("digits: {path} line {line} field {field}: `{text}` is not a number")]
    Parse {
        path: PathBuf,
        line: usize,
        field: usize,
        text: String,
    },
    #[error("digits: {path} line {line}: {what} {value} is out of range {range}")]
    Range {
        path: PathBuf,
        line: usize,
        what: &'static str,
        value: f32,
        range: &'static str,
    },
    #[error("digits: {path} holds no images")]
    Empty { path: PathBuf },
    #[error("digits: split fraction {0} must be in (0, 1) and leave both parts non-empty")]
    Split(f64),
}

/// Images and labels, row major: image `i` is `images[i*64 .. (i+1)*64]`, scaled to `[0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Digits {
    /// `len() * 64` pixel values scaled to `[0, 1]`.
    pub images: Vec<f32>,
    /// One label in `0..10` per image.
    pub labels: Vec<i32>,
}

/// Where the set-up puts the file: `$DIGITS_CSV_GZ`, else `.data/digits.csv.gz` at the
/// workspace root.
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("DIGITS_CSV_GZ") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".data")
        .join("digits.csv.gz")
}

impl Digits {
    /// Reads the gzip-compressed CSV at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, DigitsError> {
        let path = path.as_ref();
        let io = |source| DigitsError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut text = String::new();
        GzDecoder::new(file).read_to_string(&mut text).map_err(io)?;
        Self::parse_csv(&text, path)
    }

    /// Parses the decompressed CSV text (`path` only names the source in errors).
    pub fn parse_csv(text: &str, path: &Path) -> Result<Self, DigitsError> {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != PIXELS + 1 {
                return Err(DigitsError::FieldCount {
                    path: path.to_path_buf(),
                    line: line_no,
                    expected: PIXELS + 1,
                    found: fields.len(),
                });
            }
            for (f, text) in fields.iter().enumerate() {
                let v: f32 = text.trim().parse().map_err(|_| DigitsError::Parse {
                    path: path.to_path_buf(),
                    line: line_no,
                    field: f + 1,
                    text: text.to_string(),
                })?;
                if f < PIXELS {
                    if !(0.0..=MAX_PIXEL).contains(&v) {
                        return Err(DigitsError::Range {
                            path: path.to_path_buf(),
                            line: line_no,
                            what: "pixel",
                            value: v,
                            range: "0..=16",
                        });
                    }
                    images.push(v / MAX_PIXEL);
                } else {
                    if v.fract() != 0.0 || !(0.0..CLASSES as f32).contains(&v) {
                        return Err(DigitsError::Range {
                            path: path.to_path_buf(),
                            line: line_no,
                            what: "label",
                            value: v,
                            range: "0..=9",
                        });
                    }
                    labels.push(v as i32);
                }
            }
        }
        if labels.is_empty() {
            return Err(DigitsError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(Digits { images, labels })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Digits {
        let mut images = Vec::with_capacity(indices.len() * PIXELS);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend_from_slice(&self.images[i * PIXELS..(i + 1) * PIXELS]);
            labels.push(self.labels[i]);
        }
        Digits { images, labels }
    }

    /// Shuffles with `seed` and splits: the first `train_fraction` (rounded) go to the
    /// training part, the rest to the test part.
    pub fn split(&self, train_fraction: f64, seed: u64) -> Result<(Digits, Digits), DigitsError> {
        let n = self.len();
        let n_train = (n as f64 * train_fraction).round() as usize;
        if !(train_fraction > 0.0 && train_fraction < 1.0) || n_train == 0 || n_train >= n {
            return Err(DigitsError::Split(train_fraction));
        }
        let order = autodiff::nn::permutation(&mut autodiff::nn::seeded(seed), n);
        Ok((
            self.select(&order[..n_train]),
            self.select(&order[n_train..]),
        ))
    }

    /// Labels as one-hot rows (`len() * 10` values).
    pub fn one_hot(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.len() * CLASSES];
        for (i, &l) in self.labels.iter().enumerate() {
            out[i * CLASSES + l as usize] = 1.0;
        }
        out
    }
}

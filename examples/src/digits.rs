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

/// The most bytes the gzip file may decompress to (the real one: about 500 KB).
pub const MAX_DECOMPRESSED: u64 = 64 << 20;

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
    #[error("digits: {path} decompresses to more than {limit} bytes; not the digits file")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("digits: image index {index} out of range (the set has {len} images)")]
    Index { index: usize, len: usize },
    #[error("digits: label {label} of image {index} is not a class in 0..{CLASSES}")]
    Label { index: usize, label: i32 },
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
        // The real file decompresses to about 500 KB: refuse a hostile one (a gzip bomb)
        // before it fills the memory.
        let mut text = String::new();
        GzDecoder::new(file)
            .take(MAX_DECOMPRESSED + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_DECOMPRESSED {
            return Err(DigitsError::TooLarge {
                path: path.to_path_buf(),
                limit: MAX_DECOMPRESSED,
            });
        }
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

    /// The images at `indices`, in that order (an index past the end is an error).
    pub fn select(&self, indices: &[usize]) -> Result<Digits, DigitsError> {
        let mut images = Vec::with_capacity(indices.len().saturating_mul(PIXELS));
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let (Some(px), Some(&l)) = (
                self.images.get(i * PIXELS..(i + 1) * PIXELS),
                self.labels.get(i),
            ) else {
                return Err(DigitsError::Index {
                    index: i,
                    len: self.len(),
                });
            };
            images.extend_from_slice(px);
            labels.push(l);
        }
        Ok(Digits { images, labels })
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
            self.select(&order[..n_train])?,
            self.select(&order[n_train..])?,
        ))
    }

    /// Labels as one-hot rows (`len() * 10` values); a label outside `0..10` is an error.
    pub fn one_hot(&self) -> Result<Vec<f32>, DigitsError> {
        let mut out = vec![0.0; self.len() * CLASSES];
        for (i, &l) in self.labels.iter().enumerate() {
            match usize::try_from(l).ok().filter(|&c| c < CLASSES) {
                Some(c) => out[i * CLASSES + c] = 1.0,
                None => return Err(DigitsError::Label { index: i, label: l }),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz_file(name: &str, text: &[u8]) -> PathBuf {
        let p = std::env::temp_dir().join(format!("digits-{}-{name}.csv.gz", std::process::id()));
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&p).unwrap(),
            flate2::Compression::fast(),
        );
        e.write_all(text).unwrap();
        e.finish().unwrap();
        p
    }

    #[test]
    fn hostile_files_are_errors_that_name_the_file() {
        let missing = std::env::temp_dir().join("no-such-digits-file.csv.gz");
        let e = Digits::load(&missing).unwrap_err().to_string();
        assert!(e.contains("no-such-digits-file"), "{e}");
        // A gzip bomb: 100 MB of zeros in a small file.
        let bomb = gz_file("bomb", &vec![b'0'; 100 << 20]);
        let e = Digits::load(&bomb).unwrap_err();
        assert!(matches!(e, DigitsError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains(&*bomb.to_string_lossy()), "{e}");
        // Not gzip at all.
        let plain = std::env::temp_dir().join(format!("digits-{}-plain", std::process::id()));
        std::fs::write(&plain, b"1,2,3\n").unwrap();
        let e = Digits::load(&plain).unwrap_err().to_string();
        assert!(e.contains(&*plain.to_string_lossy()), "{e}");
        // A line with a label out of range, a NaN pixel.
        let mut line: Vec<String> = (0..PIXELS).map(|_| "1".to_string()).collect();
        line.push("10".into());
        let bad = gz_file("label", line.join(",").as_bytes());
        let e = Digits::load(&bad).unwrap_err().to_string();
        assert!(e.contains("label 10") && e.contains("line 1"), "{e}");
        line[3] = "NaN".into();
        let nan = gz_file("nan", line.join(",").as_bytes());
        assert!(Digits::load(&nan).is_err());
        for p in [bomb, plain, bad, nan] {
            std::fs::remove_file(p).unwrap();
        }
    }

    #[test]
    fn out_of_range_indices_and_labels_are_errors() {
        let d = Digits {
            images: vec![0.0; 2 * PIXELS],
            labels: vec![3, 12],
        };
        assert!(matches!(
            d.select(&[0, 2]),
            Err(DigitsError::Index { index: 2, len: 2 })
        ));
        assert_eq!(d.select(&[1, 0]).unwrap().labels, vec![12, 3]);
        assert!(matches!(
            d.one_hot(),
            Err(DigitsError::Label {
                index: 1,
                label: 12
            })
        ));
        // A set too small to split into two non-empty parts.
        let one = d.select(&[0]).unwrap();
        assert!(matches!(one.split(0.8, 0), Err(DigitsError::Split(_))));
    }
}

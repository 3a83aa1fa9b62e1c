//! Per-epoch training metrics written to a file as they come: CSV (one header line, then a row
//! per epoch) or JSON lines (one object per epoch), chosen by the file's extension. Each row
//! is flushed when written, so a run that stops early keeps the epochs it finished.
//!
//! ```no_run
//! use examples::metrics::{EpochMetrics, MetricsWriter};
//! let mut w = MetricsWriter::create("out/metrics.csv")?;
//! w.write(&EpochMetrics {
//!     model: "mlp".into(),
//!     epoch: 1,
//!     train_loss: 0.93,
//!     test_accuracy: Some(0.91),
//!     seconds: 0.012,
//! })?;
//! # Ok::<(), examples::metrics::MetricsError>(())
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why metrics could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("metrics {path}: unknown format (use a .csv, .jsonl or .ndjson file name)")]
    UnknownFormat { path: PathBuf },
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl MetricsFormat {
    /// The format for a file name: `.csv`, or `.jsonl` / `.ndjson`.
    pub fn from_path(path: &Path) -> Option<MetricsFormat> {
        match path.extension()?.to_str()? {
            "csv" => Some(MetricsFormat::Csv),
            "jsonl" | "ndjson" => Some(MetricsFormat::JsonLines),
            _ => None,
        }
    }
}

/// One epoch of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochMetrics {
    /// The model's name.
    pub model: String,
    /// The epoch, from 1.
    pub epoch: u32,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Accuracy on the held-out set, when measured this epoch.
    pub test_accuracy: Option<f64>,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
}

const COLUMNS: &str = "model,epoch,train_loss,test_accuracy,seconds";

/// Writes [`EpochMetrics`] rows to a file.
pub struct MetricsWriter {
    path: PathBuf,
    format: MetricsFormat,
    out: BufWriter<File>,
}

impl MetricsWriter {
    /// Creates (or truncates) the file, with the format its extension names; creates missing
    /// parent folders. A CSV file gets its header line.
    pub fn create(path: impl AsRef<Path>) -> Result<MetricsWriter, MetricsError> {
        let path = path.as_ref();
        let format = MetricsFormat::from_path(path).ok_or_else(|| MetricsError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
        MetricsWriter::create_as(path, format)
    }

    /// Like [`create`](Self::create) with the format given.
    pub fn create_as(
        path: impl AsRef<Path>,
        format: MetricsFormat,
    ) -> Result<MetricsWriter, MetricsError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| MetricsError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let out = BufWriter::new(File::create(&path).map_err(io)?);
        let mut w = MetricsWriter { path, format, out };
        if format == MetricsFormat::Csv {
            w.line(COLUMNS.to_string())?;
        }
        Ok(w)
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one epoch and flushes it to the file.
    pub fn write(&mut self, m: &EpochMetrics) -> Result<(), MetricsError> {
        let line = match self.format {
            MetricsFormat::Csv => format!(
                "{},{},{},{},{}",
                csv_field(&m.model),
                m.epoch,
                m.train_loss,
                m.test_accuracy.map(|a| a.to_string()).unwrap_or_default(),
                m.seconds
            ),
            // serde_json writes non-finite numbers as null.
            MetricsFormat::JsonLines => serde_json::json!({
                "model": m.model,
                "epoch": m.epoch,
                "train_loss": m.train_loss,
                "test_accuracy": m.test_accuracy,
                "seconds": m.seconds,
            })
            .to_string(),
        };
        self.line(line)
    }

    fn line(&mut self, line: String) -> Result<(), MetricsError> {
        let r = writeln!(self.out, "{line}").and_then(|()| self.out.flush());
        r.map_err(|source| MetricsError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break (quotes doubled).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

// Test code: `unwrap` and `panic!` here are the assertions; none of it is in the library.
#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<EpochMetrics> {
        vec![
            EpochMetrics {
                model: "mlp".into(),
                epoch: 1,
                train_loss: 0.5,
                test_accuracy: Some(0.9),
                seconds: 0.25,
            },
            EpochMetrics {
                model: "cnn, \"small\"".into(),
                epoch: 2,
                train_loss: f64::NAN,
                test_accuracy: None,
                seconds: 1.0,
            },
        ]
    }

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!("examples-metrics-{}", std::process::id()))
            .join(name)
    }

    #[test]
    fn csv_has_a_header_and_one_quoted_row_per_epoch() {
        let path = scratch("m.csv");
        let mut w = MetricsWriter::create(&path).unwrap();
        for r in rows() {
            w.write(&r).unwrap();
        }
        // Flushed per row: readable before the writer is dropped.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "model,epoch,train_loss,test_accuracy,seconds\n\
             mlp,1,0.5,0.9,0.25\n\
             \"cnn, \"\"small\"\"\",2,NaN,,1\n"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn json_lines_has_one_object_per_epoch() {
        let path = scratch("sub/m.jsonl");
        let mut w = MetricsWriter::create(&path).unwrap();
        for r in rows() {
            w.write(&r).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["model"], "mlp");
        assert_eq!(lines[0]["epoch"], 1);
        assert_eq!(lines[0]["test_accuracy"], 0.9);
        assert_eq!(lines[1]["model"], "cnn, \"small\"");
        assert!(lines[1]["train_loss"].is_null() && lines[1]["test_accuracy"].is_null());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn an_unknown_extension_is_an_error() {
        let e = MetricsWriter::create(scratch("m.txt")).err().unwrap();
        assert!(matches!(e, MetricsError::UnknownFormat { .. }), "{e}");
    }
}

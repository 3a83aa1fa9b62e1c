//! Line charts written as PNG files, drawn by `plotters` (bitmap backend into an RGB buffer,
//! encoded by `png`).
//!
//! A [`Figure`] holds side-by-side [`Panel`]s; each panel has a title, axis labels and any
//! number of named [`Series`] of (x, y) points drawn as coloured lines with a legend. Text
//! uses a TrueType font from the system (DejaVu Sans from Debian's `fonts-dejavu-core`, which
//! the set-up installs, or one of a few usual alternatives; see [`FONT_FILES`]).

use std::io::BufWriter;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Why a chart could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("plot {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plot {path}: png encoder: {source}")]
    Png {
        path: PathBuf,
        source: png::EncodingError,
    },
    #[error("plot {path}: not a readable PNG: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("plot: a figure needs at least one panel and a size of at least 64x64 (got {panels} panels, {width}x{height})")]
    Empty {
        panels: usize,
        width: u32,
        height: u32,
    },
    #[error("plot: no usable TrueType font; looked for {} (install fonts-dejavu-core)", searched.join(", "))]
    NoFont { searched: Vec<String> },
    #[error("plot: drawing failed: {0}")]
    Draw(String),
}

/// An RGB colour.
pub type Rgb = [u8; 3];

/// Colours for successive series.
pub const PALETTE: [Rgb; 6] = [
    [31, 119, 180],
    [214, 39, 40],
    [44, 160, 44],
    [255, 127, 14],
    [148, 103, 189],
    [23, 190, 207],
];

/// The font files tried, in order, for the charts' text.
pub const FONT_FILES: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
];

/// The family name the font is registered under (plotters' default family).
const FAMILY: &str = "sans-serif";

/// One named polyline.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// One chart: a title, axis labels, series.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Logarithmic y axis (non-positive values are left out).
    pub log_y: bool,
}

/// Panels laid out left to right.
#[derive(Clone, Debug)]
pub struct Figure {
    pub width: u32,
    pub height: u32,
    pub panels: Vec<Panel>,
}

/// Registers the first readable font of [`FONT_FILES`] with plotters, once per process.
fn ensure_font() -> Result<(), PlotError> {
    static FONT: OnceLock<bool> = OnceLock::new();
    let ok = *FONT.get_or_init(|| {
        FONT_FILES.iter().any(|f| {
            let Ok(bytes) = std::fs::read(f) else {
                return false;
            };
            // plotters keeps fonts for the whole process; the bytes are leaked once.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font(FAMILY, FontStyle::Normal, bytes).is_ok()
        })
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::NoFont {
            searched: FONT_FILES.iter().map(|s| s.to_string()).collect(),
        })
    }
}

/// A tick label: whole numbers without decimals, others as short as Rust prints them.
fn tick_label(v: &f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn draw_err(e: impl std::fmt::Display) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// The finite range of values, widened when empty or flat.
fn span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (lo <= hi).then_some((lo, hi))
}

impl Panel {
    /// The points of series `i` that the axes can show.
    fn points(&self, i: usize) -> Vec<(f64, f64)> {
        self.series[i]
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || *y > 0.0))
            .collect()
    }

    fn all_points(&self) -> Vec<(f64, f64)> {
        (0..self.series.len())
            .flat_map(|i| self.points(i))
            .collect()
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), PlotError> {
        let pts = self.all_points();
        let (x0, mut x1) = span(pts.iter().map(|p| p.0)).unwrap_or((0.0, 1.0));
        if x1 - x0 < 1e-12 {
            x1 = x0 + 1.0;
        }
        let (mut y0, mut y1) = match self.y_range {
            Some(r) => r,
            None => span(pts.iter().map(|p| p.1)).unwrap_or((0.1, 1.0)),
        };
        if self.log_y {
            // Whole decades, as a log axis reads best.
            y0 = 10f64.powf(y0.max(1e-300).log10().floor());
            y1 = 10f64.powf(y1.max(1e-300).log10().ceil());
            if y1 <= y0 {
                y1 = y0 * 10.0;
            }
        } else if y1 - y0 < 1e-12 {
            y1 = y0 + 1.0;
        }
        if self.log_y {
            self.draw_in(area, x0..x1, (y0..y1).log_scale(), (y0, y1))
        } else {
            self.draw_in(area, x0..x1, y0..y1, (y0, y1))
        }
    }

    fn draw_in<DB, Y>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
        x: Range<f64>,
        y: Y,
        (y0, y1): (f64, f64),
    ) -> Result<(), PlotError>
    where
        DB: DrawingBackend,
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let (x0, x1) = (x.start, x.end);
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FAMILY, 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 16))
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()
            .map_err(draw_err)?;
        let clamp = |(px, py): (f64, f64)| (px, py.clamp(y0, y1));
        for (i, series) in self.series.iter().enumerate() {
            let [r, g, b] = PALETTE[i % PALETTE.len()];
            let colour = RGBColor(r, g, b);
            let pts: Vec<(f64, f64)> = self.points(i).into_iter().map(clamp).collect();
            if pts.len() == 1 {
                chart
                    .draw_series(std::iter::once(Circle::new(pts[0], 3, colour.filled())))
                    .map_err(draw_err)?;
            }
            chart
                .draw_series(LineSeries::new(pts, colour.stroke_width(2)))
                .map_err(draw_err)?
                .label(series.name.as_str())
                .legend(move |(lx, ly)| {
                    PathElement::new(vec![(lx, ly), (lx + 20, ly)], colour.stroke_width(3))
                });
        }
        if self.series.iter().any(|s| !s.name.is_empty()) {
            // The legend goes in the right corner (top or bottom) that covers fewer points.
            let to_unit = |v: f64| {
                if self.log_y {
                    (v.log10() - y0.log10()) / (y1.log10() - y0.log10())
                } else {
                    (v - y0) / (y1 - y0)
                }
            };
            let right_points = self
                .all_points()
                .into_iter()
                .filter(|p| (p.0 - x0) / (x1 - x0) > 0.6)
                .map(|p| to_unit(p.1.clamp(y0, y1)));
            let (high, low) = right_points.fold((0, 0), |(h, l), u| {
                (h + usize::from(u > 0.6), l + usize::from(u < 0.4))
            });
            let position = if high <= low {
                SeriesLabelPosition::UpperRight
            } else {
                SeriesLabelPosition::LowerRight
            };
            chart
                .configure_series_labels()
                .position(position)
                .label_font((FAMILY, 15))
                .background_style(WHITE)
                .border_style(RGBColor(180, 180, 180))
                .draw()
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

impl Figure {
    /// Renders the figure to raw RGB rows (`width * height * 3` bytes).
    pub fn render(&self) -> Result<Vec<u8>, PlotError> {
        if self.panels.is_empty() || self.width < 64 || self.height < 64 {
            return Err(PlotError::Empty {
                panels: self.panels.len(),
                width: self.width,
                height: self.height,
            });
        }
        ensure_font()?;
        let mut px = vec![255u8; self.width as usize * self.height as usize * 3];
        {
            let root =
                BitMapBackend::with_buffer(&mut px, (self.width, self.height)).into_drawing_area();
            root.fill(&WHITE).map_err(draw_err)?;
            let areas = root.split_evenly((1, self.panels.len()));
            for (panel, area) in self.panels.iter().zip(&areas) {
                panel.draw(area)?;
            }
            root.present().map_err(draw_err)?;
        }
        Ok(px)
    }

    /// Writes the figure as an 8-bit RGB PNG.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        let px = self.render()?;
        let io = |source| PlotError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
        }
        let file = std::fs::File::create(path).map_err(io)?;
        let mut enc = png::Encoder::new(BufWriter::new(file), self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let pe = |source| PlotError::Png {
            path: path.to_path_buf(),
            source,
        };
        let mut writer = enc.write_header().map_err(pe)?;
        writer.write_image_data(&px).map_err(pe)?;
        writer.finish().map_err(pe)
    }
}

/// Reads an 8-bit RGB or RGBA PNG back: (width, height, RGB bytes). Used to check written
/// charts.
pub fn read_png(path: impl AsRef<Path>) -> Result<(u32, u32, Vec<u8>), PlotError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |m: String| PlotError::Decode {
        path: path.to_path_buf(),
        message: m,
    };
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .map_err(|e| bad(e.to_string()))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| bad("image too large".into()))?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| bad(e.to_string()))?;
    buf.truncate(info.buffer_size());
    let rgb = match (info.color_type, info.bit_depth) {
        (png::ColorType::Rgb, png::BitDepth::Eight) => buf,
        (png::ColorType::Rgba, png::BitDepth::Eight) => {
            buf.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
        }
        (c, d) => return Err(bad(format!("unsupported colour type {c:?} / depth {d:?}"))),
    };
    Ok((info.width, info.height, rgb))
}

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(test)]
mod tests {
    use super::*;

    /// Pixels of exactly colour `c` in columns `x0..x1`.
    fn count(px: &[u8], width: usize, x0: usize, x1: usize, c: Rgb) -> usize {
        px.chunks(3)
            .enumerate()
            .filter(|(i, p)| (x0..x1).contains(&(i % width)) && *p == c)
            .count()
    }

    #[test]
    fn render_draws_each_series_in_its_panel_with_text() {
        let fig = Figure {
            width: 800,
            height: 300,
            panels: vec![
                Panel {
                    title: "loss".into(),
                    x_label: "epoch".into(),
                    y_label: "loss".into(),
                    series: vec![Series {
                        name: "a".into(),
                        points: (1..30).map(|i| (i as f64, 1.0 / i as f64)).collect(),
                    }],
                    log_y: true,
                    ..Default::default()
                },
                Panel {
                    title: "accuracy".into(),
                    series: vec![
                        Series {
                            name: "a".into(),
                            points: vec![(0.0, 50.0), (1.0, 95.0)],
                        },
                        Series {
                            name: "b".into(),
                            points: vec![(0.0, 70.0), (1.0, 99.0)],
                        },
                    ],
                    y_range: Some((80.0, 100.0)),
                    ..Default::default()
                },
            ],
        };
        let px = fig.render().unwrap();
        assert_eq!(px.len(), 800 * 300 * 3);
        assert_eq!(&px[..3], &[255, 255, 255]);
        // Series 0 is in both halves; series 1 only in the right one.
        assert!(count(&px, 800, 0, 400, PALETTE[0]) > 50);
        assert!(count(&px, 800, 400, 800, PALETTE[0]) > 50);
        assert_eq!(count(&px, 800, 0, 400, PALETTE[1]), 0);
        assert!(count(&px, 800, 400, 800, PALETTE[1]) > 50);
        // Text was drawn: dark anti-aliased pixels that are neither white nor a series colour.
        let dark = px.chunks(3).filter(|p| p.iter().all(|&v| v < 100)).count();
        assert!(dark > 200, "only {dark} dark pixels: no text?");
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(&10.0), "10");
        assert_eq!(tick_label(&0.01), "0.01");
        assert_eq!(tick_label(&2.5), "2.5");
        assert_eq!(tick_label(&-3.0), "-3");
    }

    #[test]
    fn empty_or_tiny_figures_are_errors() {
        let e = Figure {
            width: 10,
            height: 10,
            panels: vec![],
        }
        .render()
        .unwrap_err();
        assert!(matches!(e, PlotError::Empty { panels: 0, .. }), "{e}");
        // A panel without data still renders (axes only).
        let px = Figure {
            width: 200,
            height: 100,
            panels: vec![Panel::default()],
        }
        .render()
        .unwrap();
        assert_eq!(px.len(), 200 * 100 * 3);
    }
}

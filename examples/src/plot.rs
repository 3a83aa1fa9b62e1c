//! Line charts written as PNG files, with our own small rasterizer and a built-in 5x7 pixel
//! font (no system fonts needed).
//!
//! A [`Figure`] holds side-by-side [`Panel`]s; each panel has a title, axis labels and any
//! number of named [`Series`] of (x, y) points drawn as coloured polylines with a legend.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

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
    /// Logarithmic y axis (decades; non-positive values are left out).
    pub log_y: bool,
}

/// Panels laid out left to right.
#[derive(Clone, Debug)]
pub struct Figure {
    pub width: u32,
    pub height: u32,
    pub panels: Vec<Panel>,
}

/// An RGB raster.
struct Canvas {
    w: i64,
    h: i64,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: u32, h: u32) -> Self {
        Canvas {
            w: w as i64,
            h: h as i64,
            px: vec![255; w as usize * h as usize * 3],
        }
    }

    fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && x < self.w && y < self.h {
            let i = ((y * self.w + x) * 3) as usize;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb) {
        for y in y0.min(y1)..=y0.max(y1) {
            for x in x0.min(x1)..=x0.max(x1) {
                self.set(x, y, c);
            }
        }
    }

    /// A line `thick` pixels wide (Bresenham, stamped with a square brush).
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: Rgb, thick: i64) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        let r0 = (thick - 1) / 2;
        loop {
            self.rect(x - r0, y - r0, x - r0 + thick - 1, y - r0 + thick - 1, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Text in the built-in font at `scale` pixels per font pixel; returns its width.
    fn text(&mut self, x: i64, y: i64, s: &str, c: Rgb, scale: i64) -> i64 {
        let mut cx = x;
        for ch in s.chars() {
            let rows = glyph(ch);
            for (ry, bits) in rows.iter().enumerate() {
                for rx in 0..5 {
                    if bits & (0x10 >> rx) != 0 {
                        let (px, py) = (cx + rx * scale, y + ry as i64 * scale);
                        self.rect(px, py, px + scale - 1, py + scale - 1, c);
                    }
                }
            }
            cx += 6 * scale;
        }
        cx - x
    }

    /// Text rotated a quarter turn anticlockwise (reads bottom to top), starting at the
    /// bottom-left corner `(x, y)`.
    fn text_up(&mut self, x: i64, y: i64, s: &str, c: Rgb, scale: i64) {
        let mut cy = y;
        for ch in s.chars() {
            let rows = glyph(ch);
            for (ry, bits) in rows.iter().enumerate() {
                for rx in 0..5 {
                    if bits & (0x10 >> rx) != 0 {
                        let (px, py) = (x + ry as i64 * scale, cy - rx * scale);
                        self.rect(px, py - scale + 1, px + scale - 1, py, c);
                    }
                }
            }
            cy -= 6 * scale;
        }
    }
}

/// Width in pixels of `s` in the built-in font.
fn text_width(s: &str, scale: i64) -> i64 {
    s.chars().count() as i64 * 6 * scale
}

/// The 5x7 glyph of `ch` (lower case drawn as upper case; unknown characters as a box).
fn glyph(ch: char) -> [u8; 7] {
    match ch.to_ascii_uppercase() {
        ' ' => [0, 0, 0, 0, 0, 0, 0],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        ',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        '-' => [0, 0, 0, 0x1F, 0, 0, 0],
        '+' => [0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0],
        ':' => [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '/' => [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '=' => [0, 0, 0x1F, 0, 0x1F, 0, 0],
        '_' => [0, 0, 0, 0, 0, 0, 0x1F],
        _ => [0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F],
    }
}

/// A short label for a tick value.
fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 6.0) as usize
    };
    format!("{:.*}", decimals, v)
}

/// "Nice" tick positions covering `[lo, hi]`, about `n` of them.
fn ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    let span = (hi - lo).max(1e-12);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut out = Vec::new();
    let mut v = first;
    while v <= hi + step * 1e-9 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    (out, step)
}

const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [225, 225, 225];

impl Panel {
    fn draw(&self, c: &mut Canvas, x0: i64, y0: i64, w: i64, h: i64) {
        // Font scale, and the plot area inside margins for the labels.
        let s = 2;
        let (left, right, top, bottom) = (x0 + 90, x0 + w - 20, y0 + 40, y0 + h - 60);
        let tw = text_width(&self.title, s);
        c.text(x0 + (w - tw) / 2, y0 + 10, &self.title, INK, s);
        let log_y = self.log_y;
        let ty = move |y: f64| if log_y { y.log10() } else { y };
        let pts = self
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .map(|&(x, y)| (x, ty(y)))
            .filter(|(x, y)| x.is_finite() && y.is_finite());
        let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in pts {
            xmin = xmin.min(x);
            xmax = xmax.max(x);
            ymin = ymin.min(y);
            ymax = ymax.max(y);
        }
        if xmin > xmax {
            (xmin, xmax, ymin, ymax) = (0.0, 1.0, 0.0, 1.0);
        }
        if let Some((lo, hi)) = self.y_range {
            (ymin, ymax) = (ty(lo), ty(hi));
        }
        if log_y {
            (ymin, ymax) = (ymin.floor(), ymax.ceil());
        }
        if xmax - xmin < 1e-12 {
            xmax = xmin + 1.0;
        }
        if ymax - ymin < 1e-12 {
            ymax = ymin + 1.0;
        }
        let px =
            |x: f64| left + ((x - xmin) / (xmax - xmin) * (right - left) as f64).round() as i64;
        let py =
            |y: f64| bottom - ((y - ymin) / (ymax - ymin) * (bottom - top) as f64).round() as i64;
        let (xt, xstep) = ticks(xmin, xmax, 6);
        let (yt, ystep) = if log_y {
            ((ymin as i64..=ymax as i64).map(|d| d as f64).collect(), 1.0)
        } else {
            ticks(ymin, ymax, 5)
        };
        for &t in &xt {
            let x = px(t);
            c.line((x, top), (x, bottom), GRID, 1);
            c.line((x, bottom), (x, bottom + 5), INK, 1);
            let l = tick_label(t, xstep);
            c.text(x - text_width(&l, s) / 2, bottom + 10, &l, INK, s);
        }
        for &t in &yt {
            let y = py(t);
            c.line((left, y), (right, y), GRID, 1);
            c.line((left - 5, y), (left, y), INK, 1);
            let l = if log_y {
                let d = t as i32;
                if (-4..0).contains(&d) {
                    format!("{:.*}", (-d) as usize, 10f64.powi(d))
                } else if (0..6).contains(&d) {
                    format!("{}", 10i64.pow(d as u32))
                } else {
                    format!("1E{d}")
                }
            } else {
                tick_label(t, ystep)
            };
            c.text(left - 10 - text_width(&l, s), y - 7, &l, INK, s);
        }
        c.line((left, top), (left, bottom), INK, 1);
        c.line((left, bottom), (right, bottom), INK, 1);
        c.text(
            left + (right - left - text_width(&self.x_label, s)) / 2,
            bottom + 35,
            &self.x_label,
            INK,
            s,
        );
        let yw = text_width(&self.y_label, s);
        c.text_up(x0 + 8, top + (bottom - top + yw) / 2, &self.y_label, INK, s);
        for (i, series) in self.series.iter().enumerate() {
            let col = PALETTE[i % PALETTE.len()];
            let pts: Vec<(i64, i64)> = series
                .points
                .iter()
                .map(|&(x, y)| (x, ty(y)))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(x, y)| (px(x), py(y.clamp(ymin, ymax))))
                .collect();
            for w in pts.windows(2) {
                c.line(w[0], w[1], col, 2);
            }
            if pts.len() == 1 {
                c.rect(pts[0].0 - 2, pts[0].1 - 2, pts[0].0 + 2, pts[0].1 + 2, col);
            }
        }
        // Legend on a framed white box, in the top or bottom right corner, whichever
        // covers fewer data points.
        let widest = self
            .series
            .iter()
            .map(|se| text_width(&se.name, s))
            .max()
            .unwrap_or(0);
        if widest > 0 {
            let bx0 = right - widest - 50;
            let height = 12 + self.series.len() as i64 * 22;
            let covered = |y0: i64| {
                self.series
                    .iter()
                    .flat_map(|se| se.points.iter())
                    .map(|&(x, y)| (px(x), py(ty(y).clamp(ymin, ymax))))
                    .filter(|&(x, y)| x >= bx0 && y >= y0 && y <= y0 + height)
                    .count()
            };
            let (top_y, bottom_y) = (top + 4, bottom - 4 - height);
            let by0 = if covered(bottom_y) < covered(top_y) {
                bottom_y
            } else {
                top_y
            };
            let by1 = by0 + 12 + self.series.len() as i64 * 22;
            c.rect(bx0, by0, right - 4, by1, [255, 255, 255]);
            for (a, b) in [
                ((bx0, by0), (right - 4, by0)),
                ((bx0, by1), (right - 4, by1)),
                ((bx0, by0), (bx0, by1)),
                ((right - 4, by0), (right - 4, by1)),
            ] {
                c.line(a, b, [180, 180, 180], 1);
            }
            for (i, series) in self.series.iter().enumerate() {
                let col = PALETTE[i % PALETTE.len()];
                let ly = by0 + 8 + i as i64 * 22;
                c.rect(bx0 + 8, ly + 5, bx0 + 28, ly + 8, col);
                c.text(bx0 + 38, ly, &series.name, INK, s);
            }
        }
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
        let mut c = Canvas::new(self.width, self.height);
        let pw = self.width as i64 / self.panels.len() as i64;
        for (i, p) in self.panels.iter().enumerate() {
            p.draw(&mut c, i as i64 * pw, 0, pw, self.height as i64);
        }
        Ok(c.px)
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

    #[test]
    fn ticks_are_nice() {
        let (t, step) = ticks(0.0, 1.0, 5);
        assert_eq!(step, 0.2);
        assert_eq!(t.len(), 6);
        assert_eq!(tick_label(0.4, step), "0.4");
        let (t, step) = ticks(0.0, 60.0, 6);
        assert_eq!(step, 10.0);
        assert_eq!(t.first(), Some(&0.0));
        assert_eq!(t.last(), Some(&60.0));
    }

    #[test]
    fn render_draws_series_colour() {
        let fig = Figure {
            width: 400,
            height: 300,
            panels: vec![Panel {
                title: "t".into(),
                series: vec![Series {
                    name: "a".into(),
                    points: vec![(0.0, 0.0), (1.0, 1.0)],
                }],
                ..Default::default()
            }],
        };
        let px = fig.render().unwrap();
        assert_eq!(px.len(), 400 * 300 * 3);
        assert!(px.chunks(3).any(|p| p == PALETTE[0]));
        assert!(Figure {
            width: 10,
            height: 10,
            panels: vec![]
        }
        .render()
        .is_err());
    }
}

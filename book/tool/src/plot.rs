//! SVG plots (plotters, SVG backend), drawn to be read at the page's width in every theme:
//! a transparent background, grey text and mid-tone colours that read on white and on
//! navy, text of at least [`FONT`] pixels in an image [`WIDTH`] pixels wide (so it stays
//! above 12 px on a phone, where the image shrinks to about 350 px), plain-language titles
//! with units and the legend below the chart.
//!
//! - [`group`]: one benchmark group. Across sizes, one line per method and machine
//!   (reference dashed, yours solid), broken where a size was not measured, on a log axis
//!   when the values span a decade or more; at a single size, a bar per method and machine.
//! - [`compare`]: the reference's time over yours for every benchmark, on a log axis with
//!   ticks on both sides of 1× and a grey "same (±5 %)" band.

use anyhow::anyhow;
use mmap_lab::bench::{BenchResult, param_label, param_order};
use mmap_lab::report::sig3;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The width of every plot, in SVG pixels.
pub const WIDTH: u32 = 560;
/// The size of the smallest text, in SVG pixels as written in the file.
pub const FONT: f64 = 20.0;
/// plotters writes `font-size` as the requested size ÷ 1.24; this asks for [`FONT`].
const ASK: f64 = FONT * 1.24;
/// Grey that reads on the light and on the navy theme (contrast ≥ 4:1 on both).
const INK: RGBColor = RGBColor(0x77, 0x83, 0x90);
/// Mid-tone series colours that read on white and on navy.
const COLORS: [RGBColor; 6] = [
    RGBColor(0x3b, 0x82, 0xd6),
    RGBColor(0xe0, 0x5a, 0x47),
    RGBColor(0x2e, 0xa0, 0x5a),
    RGBColor(0xe0, 0x9b, 0x20),
    RGBColor(0x9b, 0x6b, 0xd6),
    RGBColor(0x8c, 0x6d, 0x5a),
];
const FASTER: RGBColor = RGBColor(0x2e, 0xa0, 0x5a);
const SLOWER: RGBColor = RGBColor(0xe0, 0x5a, 0x47);
/// Values spanning at least this factor get a log axis.
const DECADE: f64 = 10.0;

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("plotting failed: {e}")
}

fn text(size: f64) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

/// A benchmark group in plain words: its title and what its parameter is.
fn group_words(group: &str) -> (String, &'static str) {
    match group {
        "seq_scan" => ("Scanning a whole file (warm cache)".into(), "file size"),
        "random_access" => ("One random 8-byte read (warm cache)".into(), "file size"),
        "small_files" => ("Reading one small file of 1000".into(), "file size"),
        other => (other.replace('_', " "), "parameter"),
    }
}

/// A benchmarked method in plain words.
pub fn function_words(group: &str, function: &str) -> String {
    match (group, function) {
        (_, "fs_read") => "fs::read".into(),
        (_, "read_256k") => "read() loop, 256 KiB buffer".into(),
        (_, "mmap_populate") => "mmap + MAP_POPULATE".into(),
        ("small_files", "read") => "open + read".into(),
        ("small_files", "mmap") => "open + mmap".into(),
        (_, other) => other.replace('_', " "),
    }
}

/// What the value axis shows: throughput in GiB/s when every benchmark of the group handles
/// at least a page per iteration (whole files), else the time per iteration.
#[derive(Clone, Copy)]
enum Axis {
    Throughput,
    /// Time, in units of this many nanoseconds.
    Time(f64, &'static str),
}

impl Axis {
    fn of(all: &[&BenchResult]) -> Axis {
        if all
            .iter()
            .all(|r| r.throughput_bytes.is_some_and(|b| b >= 4096))
        {
            return Axis::Throughput;
        }
        let max = all.iter().map(|r| r.median_ns).fold(0.0, f64::max);
        let (per, name) = if max < 1e3 {
            (1.0, "ns")
        } else if max < 1e6 {
            (1e3, "µs")
        } else if max < 1e9 {
            (1e6, "ms")
        } else {
            (1e9, "s")
        };
        Axis::Time(per, name)
    }

    fn value(self, r: &BenchResult) -> f64 {
        match self {
            Axis::Throughput => r.bytes_per_second().unwrap_or(0.0) / (1u64 << 30) as f64,
            Axis::Time(per, _) => r.median_ns / per,
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Axis::Throughput => "GiB/s",
            Axis::Time(_, name) => name,
        }
    }

    fn words(self) -> String {
        match self {
            Axis::Throughput => "GiB/s, higher is faster".into(),
            Axis::Time(_, name) => format!("{name} per iteration, lower is faster"),
        }
    }
}

/// The range of an axis holding `values` (all > 0): log when they span a decade.
fn value_range(values: &[f64]) -> (f64, f64, bool) {
    let lo = values
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::MAX, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max).max(1e-9);
    let lo = if lo == f64::MAX { hi / 10.0 } else { lo };
    if hi / lo >= DECADE {
        (lo / 1.6, hi * 1.6, true)
    } else {
        (0.0, hi * 1.15, false)
    }
}

/// Tick values for a log axis from `lo` to `hi`: 1, 2, 5 times powers of ten.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut decade = 10f64.powi(lo.log10().floor() as i32);
    while decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let t = decade * m;
            if t >= lo && t <= hi {
                out.push(t);
            }
        }
        decade *= 10.0;
    }
    out
}

/// One entry of a legend: a swatch (a line, dashed or not, or a filled box) and its words.
struct Legend {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

#[derive(Clone, Copy)]
enum Swatch {
    Solid,
    Dashed,
    Box,
}

const LEGEND_ROW: u32 = 34;

/// Draws `entries` in two columns (one when a label is long) on `area`.
fn draw_legend(area: &DrawingArea<SVGBackend, Shift>, entries: &[Legend]) -> anyhow::Result<()> {
    let columns = if entries.iter().any(|e| e.label.chars().count() > 16) {
        1
    } else {
        2
    };
    for (i, e) in entries.iter().enumerate() {
        let x = 16 + (i % columns) as i32 * (WIDTH as i32 / 2);
        let y = 14 + (i / columns) as i32 * LEGEND_ROW as i32;
        let line = [(x, y), (x + 36, y)];
        match e.swatch {
            Swatch::Solid => area
                .draw(&PathElement::new(line, e.color.stroke_width(4)))
                .map_err(err)?,
            Swatch::Dashed => area
                .draw(&DashedPathElement::new(line, 7, 5, e.color.stroke_width(3)))
                .map_err(err)?,
            Swatch::Box => area
                .draw(&Rectangle::new(
                    [(x, y - 9), (x + 36, y + 9)],
                    e.color.filled(),
                ))
                .map_err(err)?,
        }
        let style = text(ASK).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(e.label.clone(), (x + 46, y), style))
            .map_err(err)?;
    }
    Ok(())
}

fn legend_height(entries: &[Legend]) -> u32 {
    let columns = if entries.iter().any(|e| e.label.chars().count() > 16) {
        1
    } else {
        2
    };
    (entries.len() as u32).div_ceil(columns) * LEGEND_ROW + 8
}

/// One benchmark group: lines across sizes, or bars at a single size.
pub fn group(
    name: &str,
    reference: &[&BenchResult],
    reader: &[&BenchResult],
) -> anyhow::Result<String> {
    let all: Vec<&BenchResult> = reference.iter().chain(reader).copied().collect();
    let mut params: Vec<(Option<&str>, String)> = Vec::new();
    let mut functions: Vec<&str> = Vec::new();
    for r in &all {
        if !params.iter().any(|(q, _)| *q == r.parameter.as_deref()) {
            params.push((r.parameter.as_deref(), param_label(r)));
        }
        if !functions.contains(&r.function.as_str()) {
            functions.push(&r.function);
        }
    }
    params.sort_by(|a, b| param_order(a.0, b.0));
    if params.len() == 1 {
        bars(name, &params[0].1, &functions, reference, reader)
    } else {
        lines(name, &params, &functions, reference, reader)
    }
}

fn lines(
    name: &str,
    params: &[(Option<&str>, String)],
    functions: &[&str],
    reference: &[&BenchResult],
    reader: &[&BenchResult],
) -> anyhow::Result<String> {
    let all: Vec<&BenchResult> = reference.iter().chain(reader).copied().collect();
    let axis = Axis::of(&all);
    let values: Vec<f64> = all.iter().map(|r| axis.value(r)).collect();
    let (lo, hi, log) = value_range(&values);
    let (title, x_words) = group_words(name);
    let mut legend: Vec<Legend> = functions
        .iter()
        .enumerate()
        .map(|(i, f)| Legend {
            label: function_words(name, f),
            color: COLORS[i % COLORS.len()],
            swatch: Swatch::Solid,
        })
        .collect();
    for (side, label, swatch) in [
        (reference, "reference (dashed)", Swatch::Dashed),
        (reader, "your machine (solid)", Swatch::Solid),
    ] {
        if !side.is_empty() {
            legend.push(Legend {
                label: label.into(),
                color: INK,
                swatch,
            });
        }
    }
    let chart_height = 440;
    let height = chart_height + legend_height(&legend);
    let x_max = params.len().saturating_sub(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let (top, bottom) = root.split_vertically(chart_height);
        let mut builder = ChartBuilder::on(&top);
        builder
            .caption(title, text(ASK * 1.15))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(76)
            .y_label_area_size(84);
        let labels: Vec<String> = params.iter().map(|(_, l)| l.clone()).collect();
        let x_label = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let y_desc = axis.words();
        let points = |side: &[&BenchResult], function: &str| -> Vec<Option<(f64, f64)>> {
            params
                .iter()
                .enumerate()
                .map(|(i, (p, _))| {
                    side.iter()
                        .find(|r| r.function == function && r.parameter.as_deref() == *p)
                        .map(|r| (i as f64, axis.value(r)))
                })
                .collect()
        };
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_labels(params.len() + 1)
                    .x_label_formatter(&x_label)
                    .y_label_formatter(&|v| sig3(*v))
                    .x_desc(x_words)
                    .y_desc(y_desc.as_str())
                    .label_style(text(ASK))
                    .axis_desc_style(text(ASK))
                    .axis_style(INK.stroke_width(1))
                    .bold_line_style(INK.mix(0.25))
                    .light_line_style(TRANSPARENT)
                    .disable_x_mesh()
                    .draw()
                    .map_err(err)?;
                for (i, function) in functions.iter().enumerate() {
                    let color = COLORS[i % COLORS.len()];
                    for (side, solid) in [(reference, false), (reader, true)] {
                        let pts = points(side, function);
                        // A line joins only sizes measured one after the other: a gap
                        // stays a gap.
                        for run in pts.split(Option::is_none) {
                            let run: Vec<(f64, f64)> = run.iter().flatten().copied().collect();
                            if run.len() > 1 {
                                if solid {
                                    chart.draw_series(LineSeries::new(
                                        run.clone(),
                                        color.stroke_width(4),
                                    ))
                                } else {
                                    chart.draw_series(DashedLineSeries::new(
                                        run.clone(),
                                        9,
                                        6,
                                        color.stroke_width(3).into(),
                                    ))
                                }
                                .map_err(err)?;
                            }
                        }
                        chart
                            .draw_series(pts.iter().flatten().map(|&p| {
                                if solid {
                                    Circle::new(p, 6, color.filled()).into_dyn()
                                } else {
                                    Circle::new(p, 6, color.stroke_width(3)).into_dyn()
                                }
                            }))
                            .map_err(err)?;
                    }
                }
            }};
        }
        if log {
            draw!(
                builder
                    .build_cartesian_2d(-0.4f64..x_max + 0.4, (lo..hi).log_scale())
                    .map_err(err)?
            );
        } else {
            draw!(
                builder
                    .build_cartesian_2d(-0.4f64..x_max + 0.4, lo..hi)
                    .map_err(err)?
            );
        }
        draw_legend(&bottom, &legend)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A single size: one horizontal bar per method and machine, its value written beside it.
fn bars(
    name: &str,
    param: &str,
    functions: &[&str],
    reference: &[&BenchResult],
    reader: &[&BenchResult],
) -> anyhow::Result<String> {
    let all: Vec<&BenchResult> = reference.iter().chain(reader).copied().collect();
    let axis = Axis::of(&all);
    let mut rows: Vec<(String, f64, RGBColor, bool)> = Vec::new();
    for (i, function) in functions.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        for (side, who, yours) in [(reference, "reference", false), (reader, "yours", true)] {
            if let Some(r) = side.iter().find(|r| r.function == *function) {
                let label = format!("{} · {who}", function_words(name, function));
                rows.push((label, axis.value(r), color, yours));
            }
        }
    }
    let values: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let (lo, hi, log) = value_range(&values);
    let (lo, hi) = if log { (lo, hi * 2.0) } else { (lo, hi * 1.3) };
    let (title, x_words) = group_words(name);
    let row_height = 64u32;
    let height = 120 + row_height * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let caption = if param.is_empty() {
            title
        } else {
            format!("{title}, {x_words} {param}")
        };
        let desc = axis.words();
        let n = rows.len() as f64;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(caption, text(ASK * 1.15))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(76)
            .y_label_area_size(0);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_label_formatter(&|v| sig3(*v))
                    .x_desc(desc.as_str())
                    .label_style(text(ASK))
                    .axis_desc_style(text(ASK))
                    .axis_style(INK.stroke_width(1))
                    .bold_line_style(INK.mix(0.25))
                    .light_line_style(TRANSPARENT)
                    .disable_y_mesh()
                    .y_labels(0)
                    .draw()
                    .map_err(err)?;
                let base = if log { lo } else { 0.0 };
                for (i, (label, value, color, yours)) in rows.iter().enumerate() {
                    // Row i from the top: the label above, the bar below it.
                    let y = n - 1.0 - i as f64;
                    let style = if *yours {
                        color.filled()
                    } else {
                        color.mix(0.35).filled()
                    };
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(base, y - 0.4), (*value, y + 0.05)],
                            style,
                        )))
                        .map_err(err)?;
                    if !*yours {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(base, y - 0.4), (*value, y + 0.05)],
                                color.stroke_width(2),
                            )))
                            .map_err(err)?;
                    }
                    let at = chart.backend_coord(&(base, y + 0.1));
                    root.draw(&Text::new(
                        label.clone(),
                        (at.0 + 4, at.1),
                        text(ASK).pos(Pos::new(HPos::Left, VPos::Bottom)),
                    ))
                    .map_err(err)?;
                    let end = chart.backend_coord(&(*value, y - 0.175));
                    root.draw(&Text::new(
                        format!("{} {}", sig3(*value), axis.unit()),
                        (end.0 + 8, end.1),
                        text(ASK).pos(Pos::new(HPos::Left, VPos::Center)),
                    ))
                    .map_err(err)?;
                }
            }};
        }
        if log {
            draw!(
                builder
                    .build_cartesian_2d((lo..hi).log_scale(), -0.6..n - 0.2)
                    .map_err(err)?
            );
        } else {
            draw!(
                builder
                    .build_cartesian_2d(lo..hi, -0.6..n - 0.2)
                    .map_err(err)?
            );
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The same-speed band of the compare chart: ratios within 5 % of 1×.
pub const SAME: f64 = 0.05;

/// For each benchmark, the reference's median time over yours: a bar from 1× (right of it
/// your machine is faster), the label above it, on a log axis with ticks on both sides of
/// 1× and a grey band where the two are the same within [`SAME`].
pub fn compare(pairs: &[(String, f64)]) -> anyhow::Result<String> {
    let rows = pairs.len().max(1);
    let lo = pairs.iter().map(|p| p.1).fold(1.0, f64::min).min(1.0 / 2.5) / 1.3;
    let hi = pairs.iter().map(|p| p.1).fold(1.0, f64::max).max(2.5) * 1.3;
    let ticks = log_ticks(lo, hi);
    let legend = [
        Legend {
            label: "your machine faster".into(),
            color: FASTER,
            swatch: Swatch::Box,
        },
        Legend {
            label: "your machine slower".into(),
            color: SLOWER,
            swatch: Swatch::Box,
        },
        Legend {
            label: format!("same (±{:.0} %)", SAME * 100.0),
            color: RGBColor(0x99, 0x99, 0x99),
            swatch: Swatch::Box,
        },
    ];
    let row_height = 60u32;
    let chart_height = 130 + row_height * rows as u32;
    let height = chart_height + legend_height(&legend);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let (top, bottom) = root.split_vertically(chart_height);
        let mut chart = ChartBuilder::on(&top)
            .caption("Reference time ÷ your time", text(ASK * 1.15))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(76)
            .y_label_area_size(0)
            .build_cartesian_2d((lo..hi).log_scale(), -0.6..rows as f64 - 0.2)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .x_desc("log scale; right of 1× your machine is faster")
            .label_style(text(ASK))
            .axis_desc_style(text(ASK))
            .axis_style(INK.stroke_width(1))
            .draw()
            .map_err(err)?;
        let (y0, y1) = (-0.6, rows as f64 - 0.2);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(1.0 - SAME, y0), (1.0 + SAME, y1)],
                RGBColor(0x99, 0x99, 0x99).mix(0.35).filled(),
            )))
            .map_err(err)?;
        for &t in &ticks {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(t, y0), (t, y1)],
                    INK.mix(if t == 1.0 { 0.9 } else { 0.25 }).stroke_width(1),
                )))
                .map_err(err)?;
            let at = chart.backend_coord(&(t, y0));
            root.draw(&Text::new(
                format!("{}×", sig3(t)),
                (at.0, at.1 + 8),
                text(ASK).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(err)?;
        }
        for (i, (label, x)) in pairs.iter().enumerate() {
            let y = rows as f64 - 1.0 - i as f64;
            let color = if (x - 1.0).abs() < SAME {
                RGBColor(0x99, 0x99, 0x99)
            } else if *x > 1.0 {
                FASTER
            } else {
                SLOWER
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(1.0, y - 0.4), (*x, y + 0.05)],
                    color.filled(),
                )))
                .map_err(err)?;
            let at = chart.backend_coord(&(lo, y + 0.1));
            root.draw(&Text::new(
                format!("{label}: {}×", sig3(*x)),
                (at.0 + 4, at.1),
                text(ASK).pos(Pos::new(HPos::Left, VPos::Bottom)),
            ))
            .map_err(err)?;
        }
        draw_legend(&bottom, &legend)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(function: &str, parameter: &str, ns: f64) -> BenchResult {
        BenchResult {
            id: format!("g/{function}/{parameter}"),
            group: "g".into(),
            function: function.into(),
            parameter: Some(parameter.into()),
            median_ns: ns,
            lower_ns: ns,
            upper_ns: ns,
            throughput_bytes: Some(8),
        }
    }

    /// Every `font-size` the SVG writes.
    fn font_sizes(svg: &str) -> Vec<f64> {
        svg.split("font-size=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn plots_have_no_background_and_no_small_text() {
        let a = result("a", "4096", 100.0);
        let b = result("b", "4096", 10_000.0);
        let c = result("a", "65536", 200.0);
        for svg in [
            group("g", &[&a, &b], &[&a]).unwrap(),
            group("g", &[&a, &b, &c], &[&c]).unwrap(),
            compare(&[("x".into(), 0.3), ("y".into(), 3.0)]).unwrap(),
        ] {
            assert!(!svg.contains("fill=\"#FFFFFF\""), "a white slab: {svg}");
            let sizes = font_sizes(&svg);
            assert!(!sizes.is_empty());
            assert!(sizes.iter().all(|s| *s >= FONT - 0.01), "{sizes:?}: {svg}");
        }
    }

    #[test]
    fn a_missing_size_leaves_a_gap_in_the_line() {
        let sizes = ["1024", "2048", "4096"];
        let full: Vec<BenchResult> = sizes.iter().map(|s| result("a", s, 10.0)).collect();
        let refs: Vec<&BenchResult> = full.iter().collect();
        let gappy = [&full[0], &full[2]];
        // The solid lines (yours) of the first method's colour; the legend's swatch is one.
        let lines = |svg: &str| {
            svg.split("<polyline")
                .skip(1)
                .filter(|s| {
                    s.split('>').next().is_some_and(|tag| {
                        tag.contains("#3B82D6") && tag.contains("stroke-width=\"4\"")
                    })
                })
                .count()
        };
        // The reference measured the middle size, yours did not: no line of yours over it.
        assert_eq!(lines(&group("g", &refs, &refs).unwrap()), 2);
        assert_eq!(
            lines(&group("g", &refs, &gappy).unwrap()),
            1,
            "a line over the gap"
        );
    }

    #[test]
    fn compare_ticks_fall_on_both_sides_of_one() {
        let ticks = log_ticks(0.3 / 1.3, 2.5 * 1.3);
        assert!(ticks.iter().any(|t| *t < 1.0) && ticks.iter().any(|t| *t > 1.0));
        assert!(ticks.contains(&1.0));
    }
}

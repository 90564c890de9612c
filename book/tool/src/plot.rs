//! SVG plots (plotters, SVG backend): one benchmark group across its parameters, the
//! reference machine dashed and the reader's solid; and the reader's time over the
//! reference's for every benchmark.

use anyhow::anyhow;
use mmap_lab::bench::{BenchResult, param_label, param_order};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

const WIDTH: u32 = 760;
const HEIGHT: u32 = 420;
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("plotting failed: {e}")
}

/// What the y axis shows: throughput (GiB/s) when every benchmark of the group processes
/// at least a page per iteration (whole files), else the time per iteration in `scale`.
fn y_value(r: &BenchResult, throughput: bool, scale: (f64, &str)) -> f64 {
    if throughput {
        r.bytes_per_second().unwrap_or(0.0) / (1u64 << 30) as f64
    } else {
        r.median_ns / scale.0
    }
}

/// A time unit that suits `max_ns`: (nanoseconds per unit, name).
fn time_scale(max_ns: f64) -> (f64, &'static str) {
    if max_ns < 1e3 {
        (1.0, "ns")
    } else if max_ns < 1e6 {
        (1e3, "µs")
    } else if max_ns < 1e9 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    }
}

/// Width of the legend column right of a group's chart, so the legend never hides data.
const LEGEND_WIDTH: u32 = 230;

/// One line of a legend: a coloured line (dashed for the reference) with its marker.
struct LegendEntry {
    label: String,
    color: RGBColor,
    reference: bool,
}

/// One benchmark group: x = its parameters in order, y = GiB/s (or ms), one line per
/// function and machine.
pub fn group(
    name: &str,
    reference: &[&BenchResult],
    reader: &[&BenchResult],
) -> anyhow::Result<String> {
    let all: Vec<&BenchResult> = reference.iter().chain(reader).copied().collect();
    let mut params: Vec<(Option<&str>, String)> = Vec::new();
    let mut functions: Vec<&str> = Vec::new();
    for r in &all {
        let p = (r.parameter.as_deref(), param_label(r));
        if !params.iter().any(|(q, _)| *q == p.0) {
            params.push(p);
        }
        if !functions.contains(&r.function.as_str()) {
            functions.push(&r.function);
        }
    }
    params.sort_by(|a, b| param_order(a.0, b.0));
    let throughput = all
        .iter()
        .all(|r| r.throughput_bytes.is_some_and(|b| b >= 4096));
    let scale = time_scale(all.iter().map(|r| r.median_ns).fold(0.0, f64::max));
    let y_desc = if throughput {
        "GiB/s (higher is faster)".to_string()
    } else {
        format!("{} per iteration (lower is faster)", scale.1)
    };
    let y_max = all
        .iter()
        .map(|r| y_value(r, throughput, scale))
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.1;
    let x_max = params.len().saturating_sub(1) as f64;
    let mut legend: Vec<LegendEntry> = Vec::new();
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH + LEGEND_WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plot_area, legend_area) = root.split_horizontally(WIDTH);
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(name, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.4f64..x_max + 0.4, 0.0..y_max)
            .map_err(err)?;
        let labels: Vec<String> = params.iter().map(|(_, l)| l.clone()).collect();
        chart
            .configure_mesh()
            .x_labels(labels.len() + 1)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(if labels.iter().all(String::is_empty) {
                ""
            } else {
                "file size"
            })
            .y_desc(y_desc.as_str())
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .disable_x_mesh()
            .max_light_lines(1)
            .draw()
            .map_err(err)?;
        for (i, function) in functions.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            for (side, solid) in [(reference, false), (reader, true)] {
                let points: Vec<(f64, f64)> = side
                    .iter()
                    .filter(|r| r.function == *function)
                    .filter_map(|r| {
                        let x = params
                            .iter()
                            .position(|(p, _)| *p == r.parameter.as_deref())?;
                        Some((x as f64, y_value(r, throughput, scale)))
                    })
                    .collect();
                if points.is_empty() {
                    continue;
                }
                let who = if solid { "your machine" } else { "reference" };
                let style = color.stroke_width(if solid { 3 } else { 2 });
                if solid {
                    chart.draw_series(LineSeries::new(points.clone(), style))
                } else {
                    chart.draw_series(DashedLineSeries::new(points.clone(), 8, 5, style))
                }
                .map_err(err)?;
                legend.push(LegendEntry {
                    label: format!("{function} ({who})"),
                    color,
                    reference: !solid,
                });
                chart
                    .draw_series(points.iter().map(|&p| {
                        if solid {
                            Circle::new(p, 4, color.filled()).into_dyn()
                        } else {
                            Circle::new(p, 4, color.stroke_width(2)).into_dyn()
                        }
                    }))
                    .map_err(err)?;
            }
        }
        for (i, entry) in legend.iter().enumerate() {
            let y = 48 + 24 * i as i32;
            let line = [(8, y), (40, y)];
            if entry.reference {
                legend_area
                    .draw(&DashedPathElement::new(
                        line,
                        6,
                        4,
                        entry.color.stroke_width(2),
                    ))
                    .map_err(err)?;
                legend_area
                    .draw(&Circle::new((24, y), 4, entry.color.stroke_width(2)))
                    .map_err(err)?;
            } else {
                legend_area
                    .draw(&PathElement::new(line, entry.color.stroke_width(3)))
                    .map_err(err)?;
                legend_area
                    .draw(&Circle::new((24, y), 4, entry.color.filled()))
                    .map_err(err)?;
            }
            legend_area
                .draw(&Text::new(
                    entry.label.as_str(),
                    (48, y - 7),
                    ("sans-serif", 14),
                ))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Horizontal bars: for each benchmark, the reference's median time over the reader's
/// (log scale, 1× marked; right of it the reader's machine is faster).
pub fn compare(pairs: &[(String, f64)]) -> anyhow::Result<String> {
    let rows = pairs.len().max(1);
    let height = (60 + 26 * rows as u32).max(160);
    let lo = pairs.iter().map(|p| p.1).fold(1.0, f64::min) / 1.5;
    let hi = pairs.iter().map(|p| p.1).fold(1.0, f64::max) * 1.5;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH + 140, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(300)
            .build_cartesian_2d((lo..hi).log_scale(), -0.5f64..rows as f64 - 0.5)
            .map_err(err)?;
        let names: Vec<String> = pairs.iter().map(|p| p.0.clone()).collect();
        chart
            .configure_mesh()
            .y_labels(rows)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 0.01 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| format!("{x:.2}×"))
            .x_desc("reference time ÷ your time (log scale; above 1× your machine is faster)")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .disable_y_mesh()
            .draw()
            .map_err(err)?;
        chart
            .draw_series(pairs.iter().enumerate().map(|(i, (_, x))| {
                let y = i as f64;
                let color = if *x >= 1.0 { COLORS[2] } else { COLORS[1] };
                Rectangle::new([(1.0, y - 0.35), (*x, y + 0.35)], color.mix(0.8).filled())
            }))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(1.0, -0.5), (1.0, rows as f64 - 0.5)],
                BLACK.stroke_width(1),
            )))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

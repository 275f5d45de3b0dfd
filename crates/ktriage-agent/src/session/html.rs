//! `index.html`: a static page with the report's headline, an inline SVG chart of the
//! failures per commit with the noise band shaded, and links to the notes (template
//! `prompts/index.html.j2`, HTML-escaped). The chart's geometry is computed here; the
//! template only draws it.

use super::report::{CommitPoint, Report};
use crate::render;
use serde::Serialize;
use serde_json::json;

/// Width of the chart, in SVG user units.
const WIDTH: f64 = 720.0;
/// Height of the chart.
const HEIGHT: f64 = 260.0;
/// Margins: left (y labels), right, top, bottom (commit labels).
const MARGIN: (f64, f64, f64, f64) = (48.0, 24.0, 16.0, 64.0);
/// Horizontal grid lines (and y labels).
const TICKS: usize = 4;

/// The chart's geometry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The plot area: left, top, right, bottom.
    pub plot: [f64; 4],
    /// The shaded noise band (top and bottom y), when the window has other commits.
    pub band: Option<[f64; 2]>,
    /// One point per commit, oldest first.
    pub points: Vec<Point>,
    /// The points as an SVG `points` attribute.
    pub line: String,
    /// Horizontal grid lines: y and the count they stand for.
    pub ticks: Vec<(f64, usize)>,
}

/// One commit on the chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// The commit's short id.
    pub label: String,
    /// Its failures.
    pub failed: usize,
    /// It is the session's commit (the newest).
    pub newest: bool,
}

/// The chart of `counts` (oldest first) with the band `min..=max` of the commits before
/// the newest.
pub fn chart(counts: &[CommitPoint], band: Option<(usize, usize)>) -> Chart {
    let (left, right, top, bottom) = (MARGIN.0, WIDTH - MARGIN.1, MARGIN.2, HEIGHT - MARGIN.3);
    let highest = counts
        .iter()
        .map(|point| point.failed)
        .chain(band.map(|(_, max)| max))
        .max()
        .unwrap_or(0);
    // A round top of the scale: the highest count plus a tenth, at least one per tick.
    let scale_max = (highest + highest / 10 + 1).div_ceil(TICKS) * TICKS;
    let y = |count: usize| round(bottom - (bottom - top) * count as f64 / scale_max as f64);
    let step = if counts.len() > 1 {
        (right - left) / (counts.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<Point> = counts
        .iter()
        .enumerate()
        .map(|(idx, point)| Point {
            x: round(if counts.len() > 1 {
                left + step * idx as f64
            } else {
                (left + right) / 2.0
            }),
            y: y(point.failed),
            label: point.commit.chars().take(8).collect(),
            failed: point.failed,
            newest: idx + 1 == counts.len(),
        })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        plot: [left, top, right, bottom],
        band: band.map(|(min, max)| [y(max), y(min)]),
        line: points
            .iter()
            .map(|point| format!("{},{}", point.x, point.y))
            .collect::<Vec<_>>()
            .join(" "),
        ticks: (0..=TICKS)
            .map(|tick| (y(scale_max * tick / TICKS), scale_max * tick / TICKS))
            .collect(),
        points,
    }
}

/// Renders `index.html` for `report`.
pub fn render(report: &Report) -> Result<String, render::RenderError> {
    let noise = &report.headline.noise;
    let band = (noise.commits > 0).then_some((noise.min, noise.max));
    render::render(
        "index.html.j2",
        &json!({"report": report, "chart": chart(&report.counts, band)}),
    )
}

/// `value` to one decimal.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(commit: &str, failed: usize) -> CommitPoint {
        CommitPoint {
            commit: commit.to_string(),
            failed,
            infra: 0,
            total: 100,
        }
    }

    #[test]
    fn points_and_band_fit_the_plot() {
        let counts = [
            point("aaaaaaaaaa", 56),
            point("bbbbbbbbbb", 76),
            point("cccccccccc", 74),
        ];
        let chart = chart(&counts, Some((56, 76)));
        let [left, top, right, bottom] = chart.plot;
        assert_eq!(chart.points.len(), 3);
        assert_eq!((chart.points[0].x, chart.points[2].x), (left, right));
        assert!(chart.points.iter().all(|p| (top..=bottom).contains(&p.y)));
        assert!(chart.points[2].newest && !chart.points[0].newest);
        assert_eq!(chart.points[0].label, "aaaaaaaa");
        let [band_top, band_bottom] = chart.band.expect("band");
        assert_eq!(
            (band_top, band_bottom),
            (chart.points[1].y, chart.points[0].y)
        );
        assert_eq!(chart.ticks.first().map(|t| t.1), Some(0));
        assert!(chart.ticks.last().is_some_and(|t| t.1 >= 76 && t.0 == top));
        assert_eq!(chart.line.split(' ').count(), 3);
    }

    #[test]
    fn one_commit_and_no_failures_still_draw() {
        let chart = chart(&[point("a", 0)], None);
        assert!(chart.band.is_none());
        assert_eq!(chart.points[0].y, chart.plot[3]);
        assert!(chart.ticks.iter().all(|t| t.0.is_finite()));
    }
}

//! Small SVG charts drawn on the server: pages work on an intranet with no
//! script and no network beyond the server.

use std::fmt::Write;

const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 64.0;
const LABEL_HEIGHT: f64 = 14.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A compact number: 12345678 → 1234.6万, 0.123 → 0.12.
pub fn compact(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e8 {
        format!("{:.1}亿", value / 1e8)
    } else if magnitude >= 1e4 {
        format!("{:.1}万", value / 1e4)
    } else if magnitude >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// Bars for `(label, value)` pairs, labels under the bars, each bar's value
/// in its tooltip. Negative values are drawn as zero-height bars.
pub fn bars(points: &[(String, f64)], title: &str) -> String {
    let mut svg = String::new();
    let total_height = HEIGHT + LABEL_HEIGHT;
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total_height}" viewBox="0 0 {WIDTH} {total_height}" role="img" aria-label="{}">"#,
        escape(title)
    );
    let max = points.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    if points.is_empty() || max <= 0.0 {
        svg.push_str("</svg>");
        return svg;
    }
    let slot = WIDTH / points.len() as f64;
    let bar = (slot * 0.7).max(1.0);
    for (i, (label, value)) in points.iter().enumerate() {
        let h = (value.max(0.0) / max * (HEIGHT - 4.0)).max(0.5);
        let x = i as f64 * slot + (slot - bar) / 2.0;
        let y = HEIGHT - h;
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}"><title>{}: {}</title></rect>"#,
            escape(label),
            compact(*value)
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            i as f64 * slot + slot / 2.0,
            total_height - 2.0,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line through `(label, value)` points scaled to the largest value,
/// with the first and last labels under it.
pub fn line(points: &[(String, f64)], title: &str) -> String {
    let mut svg = String::new();
    let total_height = HEIGHT + LABEL_HEIGHT;
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total_height}" viewBox="0 0 {WIDTH} {total_height}" role="img" aria-label="{}">"#,
        escape(title)
    );
    if points.is_empty() {
        svg.push_str("</svg>");
        return svg;
    }
    let max = points.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { (HEIGHT - 4.0) / max } else { 0.0 };
    let step = if points.len() > 1 {
        WIDTH / (points.len() - 1) as f64
    } else {
        0.0
    };
    let coordinates: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| format!("{:.1},{:.1}", i as f64 * step, HEIGHT - v.max(0.0) * scale))
        .collect();
    let _ = write!(
        svg,
        r#"<polyline fill="none" points="{}"/>"#,
        coordinates.join(" ")
    );
    for (i, (label, value)) in points.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="2"><title>{}: {}</title></circle>"#,
            i as f64 * step,
            HEIGHT - value.max(0.0) * scale,
            escape(label),
            compact(*value)
        );
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            svg,
            r#"<text x="0" y="{y:.1}">{}</text><text x="{WIDTH}" y="{y:.1}" text-anchor="end">{}</text>"#,
            escape(&first.0),
            escape(&last.0),
            y = total_height - 2.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// What a [`daily_counts`] chart says about itself, in the page's language.
pub struct DailyLabels<'a> {
    pub title: &'a str,
    /// The y axis's unit (complaints per day).
    pub unit: &'a str,
    /// The legend's names: the counts, the alarm days, the baseline.
    pub counts: &'a str,
    pub alarm: &'a str,
    pub expected: &'a str,
}

/// Daily counts as bars over a y axis with its unit, the alarm days
/// (`alarm`: first and last index) drawn apart, the baseline's expected
/// count as a dashed line, dates under the axis, every bar's value written
/// above it, and a legend: readable printed.
pub fn daily_counts(
    points: &[(String, f64)],
    alarm: (usize, usize),
    expected: f64,
    labels: &DailyLabels<'_>,
) -> String {
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 40.0;
    const TOP: f64 = 28.0;
    const PLOT_H: f64 = 160.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart daily" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        escape(labels.title)
    );
    let max = points
        .iter()
        .map(|(_, v)| *v)
        .fold(expected.max(1.0), f64::max)
        .ceil();
    let plot_w = W - LEFT - 8.0;
    let base = TOP + PLOT_H;
    let y_of = |v: f64| base - v.max(0.0) / max * PLOT_H;
    // The axes, with the unit and ticks at 0, half and the top.
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}"/><line class="axis" x1="{LEFT}" y1="{base}" x2="{:.1}" y2="{base}"/><text x="2" y="{:.1}">{}</text>"#,
        LEFT + plot_w,
        TOP - 14.0,
        escape(labels.unit)
    );
    for tick in [0.0, max / 2.0, max] {
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 4.0,
            y_of(tick) + 4.0,
            compact(tick)
        );
    }
    if !points.is_empty() {
        let slot = plot_w / points.len() as f64;
        let bar = (slot * 0.8).max(1.0);
        for (i, (label, value)) in points.iter().enumerate() {
            let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
            let y = y_of(*value);
            let class = if (alarm.0..=alarm.1).contains(&i) {
                "alarm"
            } else {
                "count"
            };
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
                (base - y).max(0.5),
                escape(label),
                compact(*value)
            );
            if *value > 0.0 {
                let _ = write!(
                    svg,
                    r#"<text class="value" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    x + bar / 2.0,
                    y - 2.0,
                    compact(*value)
                );
            }
        }
        // Dates: the first, the alarm's first and the last; without an
        // alarm, every label that fits (about twelve).
        let mut shown: Vec<usize> = if alarm.0 == usize::MAX {
            let step = points.len().div_ceil(12).max(1);
            (0..points.len()).step_by(step).collect()
        } else {
            vec![0, alarm.0.min(points.len() - 1), points.len() - 1]
        };
        shown.dedup();
        for i in shown {
            let _ = write!(
                svg,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                LEFT + i as f64 * slot + slot / 2.0,
                base + 14.0,
                escape(&points[i].0)
            );
        }
        if !labels.expected.is_empty() {
            let _ = write!(
                svg,
                r#"<line class="expected" stroke-dasharray="4 3" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/>"#,
                LEFT + plot_w,
                y = y_of(expected)
            );
        }
    }
    // The legend, under the dates.
    let legend_y = base + 36.0;
    let _ = write!(
        svg,
        r#"<rect class="count" x="{LEFT}" y="{:.1}" width="10" height="10"/><text x="{:.1}" y="{legend_y:.1}">{}</text>"#,
        legend_y - 9.0,
        LEFT + 14.0,
        escape(labels.counts),
    );
    if !labels.alarm.is_empty() {
        let _ = write!(
            svg,
            r#"<rect class="alarm" x="{:.1}" y="{:.1}" width="10" height="10"/><text x="{:.1}" y="{legend_y:.1}">{}</text>"#,
            LEFT + 170.0,
            legend_y - 9.0,
            LEFT + 184.0,
            escape(labels.alarm),
        );
    }
    if !labels.expected.is_empty() {
        let _ = write!(
            svg,
            r#"<line class="expected" stroke-dasharray="4 3" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/><text x="{:.1}" y="{legend_y:.1}">{} ({})</text>"#,
            LEFT + 340.0,
            legend_y - 4.0,
            LEFT + 360.0,
            legend_y - 4.0,
            LEFT + 364.0,
            escape(labels.expected),
            compact(expected)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A town on [`town_map`].
pub struct MapTown<'a> {
    pub name: &'a str,
    /// Which district it is in (its colour; at most 8).
    pub district: usize,
    pub latitude: f64,
    pub longitude: f64,
    pub count: f64,
}

/// Towns as circles at their points, the area of each its count, named and
/// with the count written beside it; a legend of the districts' colours and
/// of two circle sizes with their values in `unit`. North is up; the
/// projection is equirectangular at the towns' mean latitude.
pub fn town_map(towns: &[MapTown<'_>], districts: &[&str], title: &str, unit: &str) -> String {
    const W: f64 = 640.0;
    const MAP_H: f64 = 520.0;
    const PAD: f64 = 40.0;
    const MOST_R: f64 = 24.0;
    let legend_h = 24.0 + 18.0 * districts.len().div_ceil(3) as f64;
    let h = MAP_H + legend_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart map" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" role="img" aria-label="{}">"#,
        escape(title)
    );
    if towns.is_empty() {
        svg.push_str("</svg>");
        return svg;
    }
    let (mut lat0, mut lat1, mut lon0, mut lon1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for t in towns {
        lat0 = lat0.min(t.latitude);
        lat1 = lat1.max(t.latitude);
        lon0 = lon0.min(t.longitude);
        lon1 = lon1.max(t.longitude);
    }
    let squeeze = ((lat0 + lat1) / 2.0).to_radians().cos();
    let span_x = ((lon1 - lon0) * squeeze).max(1e-6);
    let span_y = (lat1 - lat0).max(1e-6);
    let scale = ((W - 2.0 * PAD) / span_x).min((MAP_H - 2.0 * PAD) / span_y);
    let x_of = |lon: f64| PAD + (lon - lon0) * squeeze * scale;
    let y_of = |lat: f64| PAD + (lat1 - lat) * scale;
    let most = towns.iter().map(|t| t.count).fold(0.0_f64, f64::max);
    let radius = |count: f64| {
        if most <= 0.0 || count <= 0.0 {
            2.0
        } else {
            (2.0 + MOST_R * (count / most).sqrt()).min(MOST_R + 2.0)
        }
    };
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="16" text-anchor="end">N ↑</text>"#,
        W - 8.0
    );
    for t in towns {
        let (x, y) = (x_of(t.longitude), y_of(t.latitude));
        let r = radius(t.count);
        let _ = write!(
            svg,
            r#"<circle class="d{}" cx="{x:.1}" cy="{y:.1}" r="{r:.1}"><title>{}: {} {}</title></circle><text x="{:.1}" y="{:.1}">{} {}</text>"#,
            t.district % 8,
            escape(t.name),
            compact(t.count),
            escape(unit),
            x + r + 2.0,
            y + 4.0,
            escape(t.name),
            compact(t.count)
        );
    }
    // The legend: districts, then two sizes.
    let top = MAP_H + 4.0;
    for (i, name) in districts.iter().enumerate() {
        let (col, row) = ((i % 3) as f64, (i / 3) as f64);
        let x = PAD + col * 150.0;
        let y = top + row * 18.0;
        let _ = write!(
            svg,
            r#"<circle class="d{}" cx="{:.1}" cy="{:.1}" r="5"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            i % 8,
            x + 5.0,
            y + 5.0,
            x + 14.0,
            y + 9.0,
            escape(name)
        );
    }
    if most > 0.0 {
        let y = top + legend_h - 14.0;
        let quarter = (most / 4.0).max(1.0).round();
        let _ = write!(
            svg,
            r#"<circle class="size" cx="{:.1}" cy="{y:.1}" r="{:.1}"/><text x="{:.1}" y="{:.1}">{} {}</text><circle class="size" cx="{:.1}" cy="{y:.1}" r="{:.1}"/><text x="{:.1}" y="{:.1}">{} {}</text>"#,
            W - 200.0,
            radius(quarter).min(8.0),
            W - 188.0,
            y + 4.0,
            compact(quarter),
            escape(unit),
            W - 100.0,
            radius(most).min(8.0),
            W - 88.0,
            y + 4.0,
            compact(most),
            escape(unit)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Counts over months (or any ordered labels) as bars over a y axis with
/// its unit, each value written above its bar, every label under the axis
/// when they fit and every few otherwise.
pub fn counts(points: &[(String, f64)], title: &str, unit: &str, legend: &str) -> String {
    let labels = DailyLabels {
        title,
        unit,
        counts: legend,
        alarm: "",
        expected: "",
    };
    daily_counts(points, (usize::MAX, usize::MAX), 0.0, &labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bars(&[("2023".into(), 50.0), ("<b>".into(), 100.0)], "tax");
        assert!(svg.contains(r#"height="96.0""#) || svg.contains(r#"height="60.0""#));
        assert!(svg.contains("&lt;b&gt;"));
        assert!(!svg.contains("<b>"));
        assert_eq!(svg.matches("<rect").count(), 2);
    }

    #[test]
    fn empty_series_draw_an_empty_chart() {
        assert!(bars(&[], "x").ends_with("</svg>"));
        assert!(line(&[], "x").ends_with("</svg>"));
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(123_456_789.0), "1.2亿");
        assert_eq!(compact(12_345.0), "1.2万");
        assert_eq!(compact(12.0), "12");
        assert_eq!(compact(0.125), "0.12");
    }

    #[test]
    fn daily_counts_have_axes_values_and_a_legend() {
        let points: Vec<(String, f64)> = (1..=10)
            .map(|d| (format!("2026-03-{d:02}"), if d >= 8 { 6.0 } else { 1.0 }))
            .collect();
        let labels = DailyLabels {
            title: "每日投诉",
            unit: "件/日",
            counts: "投诉数",
            alarm: "预警日",
            expected: "基线期望",
        };
        let svg = daily_counts(&points, (7, 9), 1.2, &labels);
        assert!(svg.contains("件/日"), "the unit");
        assert_eq!(
            svg.matches(r#"class="alarm""#).count(),
            3 + 1,
            "three alarm bars and the legend's"
        );
        assert!(svg.contains(">6</text>"), "values written");
        assert!(
            svg.contains("2026-03-01") && svg.contains("2026-03-08") && svg.contains("2026-03-10")
        );
        for name in ["投诉数", "预警日", "基线期望 (1.20)"] {
            assert!(svg.contains(name), "legend names {name}");
        }
        assert!(svg.contains(r#"class="axis""#));
    }

    #[test]
    fn a_town_map_names_every_town_with_its_count_and_has_a_legend() {
        let towns = [
            MapTown {
                name: "祖庙街道",
                district: 0,
                latitude: 23.035,
                longitude: 113.115,
                count: 40.0,
            },
            MapTown {
                name: "九江镇",
                district: 1,
                latitude: 22.84,
                longitude: 112.99,
                count: 0.0,
            },
            MapTown {
                name: "南山镇",
                district: 2,
                latitude: 23.57,
                longitude: 112.74,
                count: 10.0,
            },
        ];
        let svg = town_map(&towns, &["禅城区", "南海区", "三水区"], "投诉分布", "件");
        for name in [
            "祖庙街道 40",
            "九江镇 0",
            "南山镇 10",
            "禅城区",
            "南海区",
            "三水区",
            "N ↑",
        ] {
            assert!(svg.contains(name), "{name}");
        }
        assert!(
            svg.contains("10 件") && svg.contains("40 件"),
            "the size legend with its unit"
        );
        // North is up: 南山镇, the northernmost, is drawn highest.
        let y = |name: &str| {
            let at = svg.find(&format!(">{name} ")).unwrap();
            let y_at = svg[..at].rfind("y=\"").unwrap() + 3;
            svg[y_at..]
                .split('"')
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        };
        assert!(y("南山镇") < y("祖庙街道") && y("祖庙街道") < y("九江镇"));
    }
}

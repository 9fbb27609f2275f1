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
}

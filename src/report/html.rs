//! One self-contained HTML page (no script, no file beside it): the overhead sentences and
//! figures, each benchmark's table with its SVG charts inline, every host's environment, the
//! plan and where it all came from. A campaign's `report.html`, and `compare --html`.

use std::fmt::Write;

use super::compare::{Grid, Style, below_zero_note, summary_grid};
use crate::result::campaign::Overhead;
use crate::result::comparison::{Comparison, LeftOut, Ratio};

/// One benchmark: its comparison and charts (file name, SVG text).
pub struct Section {
    pub title: String,
    pub comparison: Comparison,
    pub charts: Vec<(String, String)>,
}

pub struct Page {
    pub title: String,
    /// The sentences printed first.
    pub lead: Vec<String>,
    pub overheads: Vec<Overhead>,
    /// The overhead figures: file name and SVG.
    pub figures: Vec<(String, String)>,
    pub method: String,
    pub sections: Vec<Section>,
    pub left_out: Vec<LeftOut>,
    /// Host name and its environment as `pvbench env` prints it.
    pub hosts: Vec<(String, String)>,
    /// The plan's file name and text.
    pub plan: Option<(String, String)>,
    pub provenance: Vec<(String, String)>,
    /// Every attempt: id, attempt, start, seconds, outcome, reason.
    pub runs: Vec<[String; 6]>,
}

/// Charts show at their own size (each drawn for it, at most `plot::MAX_WIDTH` wide), side by
/// side as they fit.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:1em 0;font-size:.9em}\
td,th{border:1px solid #ccc;padding:.25em .6em}td.n{text-align:right;font-variant-numeric:tabular-nums}\
th{background:#f2f2f2}p.lead{font-size:1.15em;background:#eef5ff;padding:.6em 1em;border-left:4px solid #36c}\
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}.charts svg{display:block;max-width:100%;height:auto;margin:.5em 0}\
.worse{color:#b00}.better{color:#070}\
.charts{display:flex;flex-wrap:wrap;gap:0 1em;align-items:flex-start}figure{margin:0;max-width:100%}\
figcaption{font-size:.8em;color:#666}";

/// Text safe inside HTML elements and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn table(out: &mut String, grid: &Grid) {
    out.push_str("<table><tr>");
    for h in &grid.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in &grid.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            // A verdict in words (`lower (better)`): coloured by whether it is for the better.
            let class = if cell.ends_with(" (better)") {
                " class=\"better\"".into()
            } else if cell.ends_with(" (worse)") {
                " class=\"worse\"".into()
            } else if grid.numeric.get(i).copied().unwrap_or(false) {
                " class=\"n\"".to_string()
            } else {
                String::new()
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// An SVG as it can sit in HTML: without the XML declaration.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    }
}

/// SVG charts side by side, each with its file name.
fn charts(out: &mut String, charts: &[(String, String)]) {
    out.push_str("<div class=\"charts\">\n");
    for (name, svg) in charts {
        let _ =
            writeln!(out, "<figure>{}<figcaption>{}</figcaption></figure>", inline_svg(svg), escape(name));
    }
    out.push_str("</div>\n");
}

fn overhead_grid(overheads: &[Overhead]) -> Grid {
    let header = [
        "guest",
        "host",
        "source",
        "benchmark",
        "figure",
        "guest mean",
        "host mean",
        "unit",
        "runs",
        "keeps",
        "verdict",
    ];
    let mut rows = Vec::new();
    for o in overheads {
        for f in &o.figures {
            rows.push(vec![
                o.guest.clone(),
                o.host.clone(),
                o.source.clone(),
                f.title.clone(),
                f.metric.clone(),
                super::compare::number(f.guest_mean),
                super::compare::number(f.host_mean),
                f.unit.to_string(),
                format!("{} / {}", f.guest_runs, f.host_runs),
                super::campaign::ratio(&f.ratio),
                keeps_verdict(&f.ratio),
            ]);
        }
        let families = o.families.iter().map(|f| (format!("{} (all figures)", f.title), &f.ratio));
        let index = o.index.as_ref().map(|r| (format!("index ({})", super::campaign::index_scope(o)), r));
        for (name, ratio) in families.chain(index) {
            let mut row =
                vec![o.guest.clone(), o.host.clone(), o.source.clone(), name, "geometric mean".into()];
            row.extend(["", "", "", ""].map(String::from));
            row.extend([super::campaign::ratio(ratio), keeps_verdict(ratio)]);
            rows.push(row);
        }
    }
    let numeric = header.iter().map(|h| h.contains("mean") || *h == "runs").collect();
    Grid { header: header.map(String::from).to_vec(), rows, numeric }
}

/// The verdict of what a guest keeps: oriented already (a time's is the host's over the
/// guest's), so more is better whatever the figure.
fn keeps_verdict(ratio: &Ratio) -> String {
    super::compare::verdict_words(&ratio.verdict, false)
}

/// Per pair, every benchmark and figure that is not in its index, and why.
fn not_in_index(out: &mut String, overheads: &[Overhead]) {
    for o in overheads.iter().filter(|o| !o.not_in_index.is_empty()) {
        let _ = writeln!(
            out,
            "<p>Not in the index of {} against {} ({}):</p>\n<ul class=\"not-in-index\">",
            escape(&o.guest),
            escape(&o.host),
            escape(&o.source)
        );
        for n in &o.not_in_index {
            let _ = writeln!(out, "<li>{}</li>", escape(&super::campaign::not_in_index(n)));
        }
        out.push_str("</ul>\n");
    }
}

/// The page's sections as they are written, each with an anchor the table of contents links.
#[derive(Default)]
struct Body {
    html: String,
    sections: Vec<(String, String)>,
}

impl Body {
    /// An `<h2>` with an id of its own (letters, digits and `-`; a repeat gets `-2`).
    fn heading(&mut self, title: &str) {
        let mut slug: String = title
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        slug = slug.split('-').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-");
        if slug.is_empty() {
            slug = "section".into();
        }
        let mut id = slug.clone();
        let mut n = 1;
        while self.sections.iter().any(|(taken, _)| *taken == id) {
            n += 1;
            id = format!("{slug}-{n}");
        }
        let _ = writeln!(self.html, "<h2 id=\"{id}\">{}</h2>", escape(title));
        self.sections.push((id, title.to_string()));
    }

    fn contents(&self) -> String {
        let mut out = String::from("<nav><h2>Contents</h2>\n<ul class=\"contents\">\n");
        for (id, title) in &self.sections {
            let _ = writeln!(out, "<li><a href=\"#{id}\">{}</a></li>", escape(title));
        }
        out.push_str("</ul></nav>\n");
        out
    }
}

pub fn page(p: &Page) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(&p.title),
        escape(&p.title)
    );
    for sentence in &p.lead {
        let _ = writeln!(out, "<p class=\"lead\">{}</p>", escape(sentence));
    }
    let mut body = Body::default();
    if !p.overheads.is_empty() {
        body.heading("What the guest keeps");
        charts(&mut body.html, &p.figures);
        table(&mut body.html, &overhead_grid(&p.overheads));
        not_in_index(&mut body.html, &p.overheads);
        let _ = writeln!(body.html, "<p><small>{}</small></p>", escape(&p.method));
    }
    for section in &p.sections {
        body.heading(&section.title);
        let out = &mut body.html;
        if let Some(baseline) = &section.comparison.baseline {
            let _ = writeln!(
                out,
                "<p>Ratios to {}: {}.</p>",
                escape(baseline),
                escape(section.comparison.ratio_method)
            );
        }
        table(out, &summary_grid(&section.comparison, Style::Human));
        if let Some(note) = below_zero_note(&section.comparison) {
            let _ = writeln!(out, "<p><small>{}.</small></p>", escape(note));
        }
        charts(out, &section.charts);
    }
    if !p.left_out.is_empty() {
        body.heading("Left out");
        body.html.push_str("<ul>\n");
        for l in &p.left_out {
            let _ = writeln!(body.html, "<li>{}: {}</li>", escape(&l.file), escape(&l.reason));
        }
        body.html.push_str("</ul>\n");
    }
    if !p.hosts.is_empty() {
        body.heading("Hosts");
        for (name, text) in &p.hosts {
            let _ = writeln!(
                body.html,
                "<details><summary>{}</summary><pre>{}</pre></details>",
                escape(name),
                escape(text)
            );
        }
    }
    if let Some((file, text)) = &p.plan {
        body.heading("Plan");
        let _ = writeln!(body.html, "<p>{}</p><pre>{}</pre>", escape(file), escape(text));
    }
    if !p.provenance.is_empty() {
        body.heading("Provenance");
        let rows = p.provenance.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect();
        let header = vec!["what".into(), "value".into()];
        table(&mut body.html, &Grid { header, rows, numeric: vec![false, false] });
    }
    if !p.runs.is_empty() {
        body.heading("Every run, in the order run");
        let header = ["run", "attempt", "started", "seconds", "outcome", "reason"].map(String::from).to_vec();
        let rows = p.runs.iter().map(|r| r.to_vec()).collect();
        table(&mut body.html, &Grid { header, rows, numeric: vec![false, true, false, true, false, false] });
    }
    out.push_str(&body.contents());
    out.push_str(&body.html);
    out.push_str("</body></html>\n");
    out
}

/// `compare --html`: the comparison alone, with where its documents came from.
pub fn comparison_page(comparison: &Comparison, charts: Vec<(String, String)>, inputs: &[String]) -> String {
    let title =
        format!("pvbench compare: {} groups, {} documents", comparison.groups.len(), comparison.documents);
    let tool = crate::result::Tool::this();
    page(&Page {
        title: title.clone(),
        lead: Vec::new(),
        overheads: Vec::new(),
        figures: Vec::new(),
        method: String::new(),
        sections: vec![Section {
            title: "Groups side by side".into(),
            comparison: comparison.clone(),
            charts,
        }],
        left_out: comparison.left_out.clone(),
        hosts: Vec::new(),
        plan: None,
        provenance: vec![
            ("pvbench".into(), format!("{} {}", tool.name, tool.version)),
            ("inputs".into(), inputs.join(" ")),
            ("made".into(), crate::result::now_rfc3339()),
        ],
        runs: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_svg_inlined_without_its_declaration() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(inline_svg("<?xml version=\"1.0\"?>\n<svg x=\"1\"/>"), "<svg x=\"1\"/>");
        let page = page(&Page {
            title: "t <1>".into(),
            lead: vec!["domU keeps 5 %".into()],
            overheads: Vec::new(),
            figures: Vec::new(),
            method: String::new(),
            sections: Vec::new(),
            left_out: Vec::new(),
            hosts: vec![("node7".into(), "kernel <x>".into())],
            plan: Some(("p.toml".into(), "name = \"<t>\"".into())),
            provenance: Vec::new(),
            runs: Vec::new(),
        });
        assert!(page.contains("<title>t &lt;1&gt;</title>") && page.contains("kernel &lt;x&gt;"), "{page}");
        assert!(page.contains("<p class=\"lead\">domU keeps 5 %</p>"), "{page}");
    }
}

//! A page in a real browser: headless Chromium (Debian's `chromium`) loads it, logs what the
//! page's console said, and takes a screenshot; and each chart of a page as shown there.

use std::path::Path;
use std::time::Duration;

/// What a load showed: the console's lines, and the share of the screenshot's pixels that are
/// not white.
pub struct Loaded {
    pub console: Vec<String>,
    pub inked: f64,
    shot: Shot,
}

/// The screenshot's pixels, `channels` bytes each, row by row.
struct Shot {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Shot {
    /// How many pixels of the rectangle (CSS px, as the page's layout gives them) are coloured:
    /// blue, orange, red, not white, grey or black (the bars, dots, cells and lines of the
    /// data, not the axes, grid or text).
    fn coloured(&self, [x, y, w, h]: [f64; 4]) -> (usize, usize) {
        let (left, top) = (x.ceil().max(0.0) as usize, y.ceil().max(0.0) as usize);
        let right = ((x + w).floor() as usize).min(self.width);
        let bottom = ((y + h).floor() as usize).min(self.height);
        let mut coloured = 0;
        for row in top..bottom {
            for column in left..right {
                let at = (row * self.width + column) * self.channels;
                let rgb = &self.pixels[at..at + 3];
                let (low, high) = (rgb.iter().min().unwrap(), rgb.iter().max().unwrap());
                if high - low >= 40 {
                    coloured += 1;
                }
            }
        }
        (coloured, (right.saturating_sub(left)) * (bottom.saturating_sub(top)))
    }
}

pub fn load(page: &Path) -> Loaded {
    load_in(page, (1200, 1600))
}

/// `page` in a window of `size` (CSS px), the screenshot the window's size.
fn load_in(page: &Path, (width, height): (u32, u32)) -> Loaded {
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("shot.png");
    let out = assert_cmd::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .args(["--hide-scrollbars", "--force-device-scale-factor=1"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg(format!("--window-size={width},{height}"))
        .arg("--virtual-time-budget=2000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        .timeout(Duration::from_secs(90))
        .output()
        .expect("chromium runs (scripts/test installs Debian's chromium)");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(shot.exists(), "no screenshot: {log}");
    let console = log.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    pixels.truncate(info.buffer_size());
    let total = pixels.len() / channels;
    let inked = pixels.chunks(channels).filter(|p| p.iter().take(3).any(|&c| c < 200)).count();
    let shot = Shot { width: info.width as usize, height: info.height as usize, channels, pixels };
    Loaded { console, inked: inked as f64 / total as f64, shot }
}

/// A chart as the page shows it.
#[derive(Debug)]
pub struct Chart {
    /// Its caption (the file name).
    pub name: String,
    /// Its smallest text, in CSS px as shown.
    pub smallest_text: f64,
    /// Its plot area's coloured pixels, and all of them.
    pub coloured: usize,
    pub plot_pixels: usize,
}

/// Logs, once the page is laid out, every figure's caption, smallest text as shown and plot
/// area (the SVG's `data-plot-area`, scaled as shown, in page coordinates); then the page's
/// height.
const MEASURE: &str = r#"<script>
addEventListener('load', () => {
  for (const figure of document.querySelectorAll('figure')) {
    const svg = figure.querySelector('svg');
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.width.baseVal.value;
    let smallest = Infinity;
    for (const t of svg.querySelectorAll('text')) {
      smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * scale);
    }
    const [x, y, w, h] = (svg.dataset.plotArea || '0 0 0 0').split(' ').map(Number);
    const area = [box.left + scrollX + x * scale, box.top + scrollY + y * scale, w * scale, h * scale];
    console.log(['chart', figure.querySelector('figcaption').textContent, smallest, ...area].join('|'));
  }
  console.log('page|' + document.documentElement.scrollHeight);
});
</script>"#;

/// Every chart of `page` as Chromium shows it in a window 1200 px wide (report.html's column
/// at its widest), the window as tall as the page.
pub fn charts(page: &Path) -> Vec<Chart> {
    let dir = tempfile::tempdir().unwrap();
    let measured = dir.path().join("page.html");
    let html = std::fs::read_to_string(page).unwrap();
    std::fs::write(&measured, html.replacen("</body>", &format!("{MEASURE}</body>"), 1)).unwrap();
    let lines = |loaded: &Loaded| -> Vec<Vec<String>> {
        loaded
            .console
            .iter()
            .filter_map(|l| Some(l.split_once(" \"")?.1.rsplit_once("\", source:")?.0))
            .map(|l| l.split('|').map(str::to_string).collect())
            .collect()
    };
    let first = load_in(&measured, (1200, 1600));
    let height = lines(&first).iter().find(|l| l[0] == "page").map(|l| l[1].parse::<u32>().unwrap());
    let height = height.unwrap_or_else(|| panic!("the page says its height: {:?}", first.console));
    let loaded = load_in(&measured, (1200, height));
    lines(&loaded)
        .into_iter()
        .filter(|l| l[0] == "chart")
        .map(|l| {
            let number = |k: usize| l[k].parse::<f64>().unwrap_or_else(|_| panic!("{l:?}"));
            let (coloured, plot_pixels) = loaded.shot.coloured([number(3), number(4), number(5), number(6)]);
            Chart { name: l[1].clone(), smallest_text: number(2), coloured, plot_pixels }
        })
        .collect()
}

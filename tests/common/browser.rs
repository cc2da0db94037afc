//! A page in a real browser: headless Chromium (Debian's `chromium`) loads it, logs what the
//! page's console said, and takes a screenshot.

use std::path::Path;
use std::time::Duration;

/// What a load showed: the console's lines, and the share of the screenshot's pixels that are
/// not white.
pub struct Loaded {
    pub console: Vec<String>,
    pub inked: f64,
}

pub fn load(page: &Path) -> Loaded {
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("shot.png");
    let out = assert_cmd::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .args(["--window-size=1200,1600", "--virtual-time-budget=2000"])
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
    let bytes = &pixels[..info.buffer_size()];
    let total = bytes.len() / channels;
    let inked = bytes.chunks(channels).filter(|p| p.iter().take(3).any(|&c| c < 200)).count();
    Loaded { console, inked: inked as f64 / total as f64 }
}

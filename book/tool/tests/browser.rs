//! The book in a real browser: builds it and opens it in headless Chromium (driven over the
//! Chrome DevTools protocol), on a desktop (1366×900) and a phone (390×844), in the light
//! and the navy theme, and checks what a reader would see:
//!
//! - every lesson chapter opens with its verdict table in the first screen, and has a
//!   claim card per claim with key numbers; no `{{#` directive is left;
//! - the plots loaded, and their smallest text is at least 12 px as rendered;
//! - at 390 px no card, scoreboard or compare element is wider than the viewport, and the
//!   page does not scroll sideways;
//! - the verdict badges have three distinct colours in each theme;
//! - no code span of a page holds curly quotes or en dashes (smart punctuation);
//! - print media opens every `<details>`;
//! - the scoreboard lists every claim id of the notes.
//!
//! Screenshots are kept in `target/book-browser/`: `THEME-WIDTH-PAGE-PART.png`, the first
//! screen (`top`), the first claim card (`cards`) and the first plot (`plot`) of chapter 5,
//! and the top of the scoreboard and the compare page.
//!
//! Needs `chromium` and mdBook 0.5.4. Without them the test says so and passes, unless
//! `MMAP_BOOK_BROWSER_TEST=1` (set by `.ci/run`), which makes their absence a failure.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mmap_book::Paths;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

const TIMEOUT: Duration = Duration::from_secs(60);

fn required() -> bool {
    std::env::var("MMAP_BOOK_BROWSER_TEST").is_ok_and(|v| v == "1")
}

/// Skips (or, when required, fails) with `why`.
fn unavailable(why: &str) {
    assert!(
        !required(),
        "MMAP_BOOK_BROWSER_TEST=1 but {why}; .ci/run installs it"
    );
    eprintln!("SKIPPED the browser test: {why} (set MMAP_BOOK_BROWSER_TEST=1 to make this fail)");
}

fn works(program: &Path, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn find_chromium() -> Option<PathBuf> {
    let names = ["chromium", "chromium-browser", "google-chrome"];
    std::env::var_os("MMAP_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(names.iter().map(PathBuf::from))
        .find(|p| works(p, "--version"))
}

/// Chromium, killed when dropped.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A DevTools protocol connection to one page.
struct Page {
    ws: WebSocket<TcpStream>,
    next_id: u64,
}

impl Page {
    fn connect(port: u16) -> Page {
        let deadline = Instant::now() + TIMEOUT;
        let url = loop {
            let list = http_get(port, "/json/list");
            let pages: Value = serde_json::from_str(&list).unwrap_or(Value::Null);
            let found = pages.as_array().and_then(|a| {
                a.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                    .map(str::to_string)
            });
            if let Some(url) = found {
                break url;
            }
            assert!(Instant::now() < deadline, "Chromium opened no page: {list}");
            std::thread::sleep(Duration::from_millis(200));
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to Chromium");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("DevTools websocket");
        Page { ws, next_id: 1 }
    }

    /// Sends a command and returns its result (events in between are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to Chromium");
        loop {
            let reply = self.ws.read().expect("read from Chromium");
            let Message::Text(text) = reply else { continue };
            let v: Value = serde_json::from_str(text.as_str()).expect("DevTools sent JSON");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method} failed: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expression}: {r}");
        r["result"]["value"].clone()
    }

    /// Opens `file` and waits until the page and its images have loaded.
    fn open(&mut self, file: &Path) {
        let url = format!("file://{}", file.display());
        self.call("Page.navigate", json!({ "url": url }));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let ready = self.eval(&format!(
                "location.href === {url:?} && document.readyState === 'complete' \
                 && Array.from(document.images).every(i => i.complete)"
            ));
            if ready == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "{url} did not finish loading");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Evaluates `expression`, which must give a JSON string, and parses it.
    fn eval_json(&mut self, expression: &str) -> Value {
        let text = self.eval(&format!("JSON.stringify({expression})"));
        serde_json::from_str(text.as_str().expect("a JSON string")).expect("JSON")
    }

    /// The viewport: `width`×`height` CSS pixels, a phone's when `mobile`.
    fn viewport(&mut self, (width, height): (u32, u32)) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1,
                    "mobile": width < 600 }),
        );
    }

    /// A PNG of what the viewport shows, written to `path`.
    fn screenshot(&mut self, path: &Path) {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        std::fs::write(path, png).unwrap();
    }
}

fn http_get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    // Read the headers, then exactly Content-Length bytes (the connection may stay open).
    let mut data = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            });
            if length.is_some_and(|n| body.len() >= n) {
                return body.to_string();
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => {
                return text
                    .split_once("\r\n\r\n")
                    .map_or(String::new(), |(_, b)| b.into());
            }
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
    }
}

fn launch(chromium: &Path, profile: &Path) -> (Browser, u16) {
    let child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Chromium");
    let browser = Browser(child);
    // Chromium writes the port it chose to DevToolsActivePort in the profile.
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(port) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse::<u16>().ok())
        {
            return (browser, port);
        }
        assert!(
            Instant::now() < deadline,
            "Chromium did not open a DevTools port"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The themes the test reads the book in (mdBook's class names).
const THEMES: [&str; 2] = ["light", "navy"];
/// A desktop and a phone viewport.
const VIEWPORTS: [(u32, u32); 2] = [(1366, 900), (390, 844)];
/// Elements the tool writes that must fit a phone's width.
const FITS: &str =
    ".claim-card, table.stack, .tally, ul.not-yet, ul.findings, .notes-tabs > label, main img";

/// The smallest `font-size` an SVG file writes.
fn smallest_font(svg: &Path) -> f64 {
    let text = std::fs::read_to_string(svg).unwrap_or_else(|e| panic!("{}: {e}", svg.display()));
    text.split("font-size=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse::<f64>().ok())
        .fold(f64::MAX, f64::min)
}

#[test]
fn the_book_reads_at_a_glance_in_chromium() {
    let Some(chromium) = find_chromium() else {
        return unavailable("chromium is not installed");
    };
    if mmap_book::steps::find_mdbook().is_none() {
        return unavailable("mdbook 0.5.4 is not installed");
    }
    let paths = Paths::of_this_checkout();
    let out = paths.target.join("book-browser");
    let html = out.join("html");
    let built = Command::new(env!("CARGO_BIN_EXE_mmap-book"))
        .args(["build", "--no-run", "--dest"])
        .arg(&html)
        .output()
        .expect("run mmap-book");
    assert!(
        built.status.success(),
        "the book did not build:\n{}{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
    let mut chapters: Vec<(u8, PathBuf)> = std::fs::read_dir(&html)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            let n = name.get(..2)?.parse::<u8>().ok()?;
            (name.ends_with(".html") && name.as_bytes().get(2) == Some(&b'-')).then_some((n, p))
        })
        .collect();
    chapters.sort();
    let chapter_5 = chapters
        .iter()
        .find(|(n, _)| *n == 5)
        .map(|(_, p)| p.clone())
        .expect("the book has a lesson-5 chapter (05-*.html)");
    // The chapter that is home to the small_files benchmark ([11.small]) has its plot.
    let chapter_11 = chapters
        .iter()
        .find(|(n, _)| *n == 11)
        .map(|(_, p)| p.clone())
        .expect("the book has a lesson-11 chapter (11-*.html)");
    let scoreboard = html.join("scoreboard.html");
    let compare = html.join("compare.html");

    let profile = tempfile::tempdir().unwrap();
    let (_browser, port) = launch(&chromium, profile.path());
    let mut page = Page::connect(port);
    std::fs::create_dir_all(&out).unwrap();

    for theme in THEMES {
        for viewport in VIEWPORTS {
            page.viewport(viewport);
            page.open(&chapter_5);
            page.eval(&format!("localStorage.setItem('mdbook-theme', '{theme}')"));
            let shot = |part: &str, page_name: &str| {
                out.join(format!("{theme}-{}-{page_name}-{part}.png", viewport.0))
            };

            for (n, chapter) in &chapters {
                page.open(chapter);
                let seen = page.eval_json(
                    "{
                        theme: document.documentElement.classList.contains(localStorage.getItem('mdbook-theme')),
                        verdicts: (document.querySelector('table.verdicts') || {getBoundingClientRect: () => null}).getBoundingClientRect(),
                        height: innerHeight,
                        width: innerWidth,
                        page_width: document.documentElement.scrollWidth,
                        cards: Array.from(document.querySelectorAll('.claim-card')).map(c => c.innerText),
                        raw: document.documentElement.outerHTML.includes('{{#'),
                        curly: Array.from(document.querySelectorAll('main code')).map(c => c.textContent).filter(t => /[\\u2018\\u2019\\u201c\\u201d\\u2013]/.test(t)),
                        wide: Array.from(document.querySelectorAll('%FITS%'))
                            .filter(e => e.getBoundingClientRect().right > innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
                            .map(e => e.className || e.tagName)
                    }"
                    .replace("%FITS%", FITS)
                    .as_str(),
                );
                let what = format!("chapter {n}, {theme}, {}×{}", viewport.0, viewport.1);
                assert_eq!(
                    seen["theme"],
                    json!(true),
                    "{what}: the theme did not apply"
                );
                assert_eq!(
                    seen["raw"],
                    json!(false),
                    "{what}: a raw {{{{# directive is left"
                );
                let top = seen["verdicts"]["top"].as_f64();
                let bottom = seen["verdicts"]["bottom"].as_f64();
                assert!(
                    top.is_some_and(|t| t >= 0.0) && top < seen["height"].as_f64(),
                    "{what}: the verdict table is not in the first screen: {seen}"
                );
                if viewport.0 > 600 {
                    assert!(
                        bottom <= seen["height"].as_f64(),
                        "{what}: the verdict table does not fit the first screen: {seen}"
                    );
                }
                let cards = seen["cards"].as_array().unwrap();
                let in_section = mmap_lab::claims::of_section(*n).count();
                assert!(
                    cards.len() >= in_section && in_section > 0,
                    "{what}: {} cards for {in_section} claims",
                    cards.len()
                );
                assert!(
                    cards.iter().all(|c| c.as_str().is_some_and(|t| {
                        ["HOLDS", "DEPENDS", "FAILS", "NOT MEASURED"]
                            .iter()
                            .any(|v| t.contains(v))
                            && t.chars().any(|ch| ch.is_ascii_digit())
                    })),
                    "{what}: a card without a verdict or numbers: {cards:?}"
                );
                assert_eq!(
                    seen["curly"],
                    json!([]),
                    "{what}: smart punctuation inside code spans"
                );
                assert_eq!(seen["wide"], json!([]), "{what}: wider than the viewport");
                assert!(
                    seen["page_width"].as_f64() <= seen["width"].as_f64(),
                    "{what}: the page scrolls sideways: {seen}"
                );
            }

            page.open(&chapter_5);
            page.screenshot(&shot("top", "ch05"));
            page.eval("document.querySelector('.claim-card').scrollIntoView()");
            page.screenshot(&shot("cards", "ch05"));
            page.eval("document.querySelector('main img[src$=\".svg\"]').scrollIntoView()");
            page.screenshot(&shot("plot", "ch05"));

            // The compare page has a plot only once you have benchmark results of your own.
            for plotted in [&chapter_5, &chapter_11] {
                page.open(plotted);
                let images = page.eval_json(
                    // mdBook 0.5 keeps a hidden second copy of each image for its zoom.
                    "Array.from(document.querySelectorAll('main img'))
                        .filter(i => i.getBoundingClientRect().width > 0).map(i => ({
                        src: i.getAttribute('src'), natural: i.naturalWidth,
                        height: i.naturalHeight, shown: i.getBoundingClientRect().width
                    }))",
                );
                let images = images.as_array().unwrap();
                assert!(!images.is_empty(), "{}: no plot", plotted.display());
                for img in images {
                    let natural = img["natural"].as_f64().unwrap_or(0.0);
                    assert!(
                        natural > 0.0 && img["height"].as_f64() > Some(0.0),
                        "the plot did not load: {img}"
                    );
                    let svg = html.join(img["src"].as_str().unwrap());
                    let px = smallest_font(&svg) * img["shown"].as_f64().unwrap() / natural;
                    assert!(
                        px >= 12.0,
                        "{}: text of {px:.1} px at {} px wide ({theme}): {img}",
                        svg.display(),
                        viewport.0
                    );
                }
            }

            page.open(&scoreboard);
            let board = page.eval_json(
                "{
                    text: document.querySelector('main').innerText,
                    links: Array.from(document.querySelectorAll('table.scoreboard a')).length,
                    badges: Object.fromEntries(['holds', 'depends', 'fails'].map(v => {
                        const b = document.querySelector('.badge.' + v);
                        return [v, b ? getComputedStyle(b).backgroundColor : null];
                    })),
                    background: getComputedStyle(document.body).backgroundColor,
                    width: innerWidth,
                    page_width: document.documentElement.scrollWidth,
                    wide: Array.from(document.querySelectorAll('%FITS%'))
                        .filter(e => e.getBoundingClientRect().right > innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
                        .map(e => e.className || e.tagName)
                }"
                .replace("%FITS%", FITS)
                .as_str(),
            );
            let text = board["text"].as_str().unwrap();
            let missing: Vec<&str> = mmap_lab::claims::ALL
                .iter()
                .map(|c| c.id)
                .filter(|id| !text.contains(&format!("[{id}]")))
                .collect();
            assert!(
                missing.is_empty(),
                "the scoreboard lacks claims {missing:?}"
            );
            assert!(board["links"].as_u64() > Some(0), "no id links to its card");
            let colours: Vec<&str> = ["holds", "depends", "fails"]
                .iter()
                .map(|v| {
                    board["badges"][v]
                        .as_str()
                        .expect("a badge of each verdict")
                })
                .collect();
            assert!(
                colours[0] != colours[1] && colours[1] != colours[2] && colours[0] != colours[2],
                "{theme}: verdict badges share a colour: {colours:?}"
            );
            assert!(
                !colours.contains(&board["background"].as_str().unwrap()),
                "{theme}: a badge has the page's colour"
            );
            assert_eq!(
                board["wide"],
                json!([]),
                "scoreboard, {theme}, {viewport:?}"
            );
            assert!(board["page_width"].as_f64() <= board["width"].as_f64());
            page.screenshot(&shot("top", "scoreboard"));

            page.open(&compare);
            let wide = page.eval_json(
                "Array.from(document.querySelectorAll('%FITS%'))
                    .filter(e => e.getBoundingClientRect().right > innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
                    .map(e => e.className || e.tagName)"
                    .replace("%FITS%", FITS)
                    .as_str(),
            );
            assert_eq!(wide, json!([]), "compare, {theme}, {viewport:?}");
            page.screenshot(&shot("top", "compare"));
        }
    }

    // Print: every fold open. The folds are closed on screen, and the check can tell.
    page.viewport(VIEWPORTS[0]);
    page.open(&chapter_5);
    let folds = "Array.from(document.querySelectorAll('main details')).map(d => ({
            open: d.open,
            shown: Array.from(d.children).filter(c => c.tagName !== 'SUMMARY')
                .every(c => c.checkVisibility())
        }))";
    let screen = page.eval_json(folds);
    let screen = screen.as_array().unwrap();
    assert!(!screen.is_empty(), "chapter 5 has no folds");
    assert!(
        screen
            .iter()
            .all(|f| f == &json!({ "open": false, "shown": false })),
        "folds are open on screen: {screen:?}"
    );
    page.call("Emulation.setEmulatedMedia", json!({ "media": "print" }));
    let deadline = Instant::now() + TIMEOUT;
    let printed = loop {
        let printed = page.eval_json(folds);
        let all_open = printed
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f == &json!({ "open": true, "shown": true }));
        if all_open || Instant::now() > deadline {
            break printed;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        printed
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f == &json!({ "open": true, "shown": true })),
        "print media leaves folds closed: {printed}"
    );
    page.call("Emulation.setEmulatedMedia", json!({ "media": "" }));
    eprintln!("screenshots of the book: {}", out.display());
}

//! The book in a real browser: builds it, opens the lesson-5 chapter in headless Chromium
//! (driven over the Chrome DevTools protocol) and checks what a reader would see — the
//! results table with numbers, a plot that actually loaded (non-zero natural size), and no
//! `{{#` directive left — then opens the scoreboard and finds every claim id of the notes.
//! Screenshots of the lesson-5 chapter are kept in `target/book-browser/`: `lesson-05.png`
//! (the whole page) and `lesson-05-results.png` (the results section, as a reader sees it).
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

    /// A PNG of the whole page.
    fn screenshot(&mut self) -> Vec<u8> {
        let height = self
            .eval("document.documentElement.scrollHeight")
            .as_u64()
            .unwrap_or(900)
            .clamp(600, 16000);
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("screenshot is base64")
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

#[test]
fn lesson_5_and_the_scoreboard_render_in_chromium() {
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
    let chapter = std::fs::read_dir(&html)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with("05-") && p.extension().is_some_and(|e| e == "html")
            })
        })
        .expect("the book has a lesson-5 chapter (05-*.html)");

    let profile = tempfile::tempdir().unwrap();
    let (_browser, port) = launch(&chromium, profile.path());
    let mut page = Page::connect(port);
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
    );

    page.open(&chapter);
    let seen = page.eval(
        "JSON.stringify({
            text: document.body.innerText,
            html: document.documentElement.outerHTML,
            tables: Array.from(document.querySelectorAll('main table')).map(t => t.innerText),
            images: Array.from(document.querySelectorAll('main img')).map(i => ({
                src: i.getAttribute('src'), width: i.naturalWidth, height: i.naturalHeight
            }))
        })",
    );
    let seen: Value = serde_json::from_str(seen.as_str().expect("a JSON string")).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    // The results section as a reader scrolls to it, then the whole page.
    page.eval("(document.querySelector('h2[id^=\"results\"]') || document.body).scrollIntoView()");
    let results_shot = page.call("Page.captureScreenshot", json!({ "format": "png" }));
    let results_png = base64::engine::general_purpose::STANDARD
        .decode(results_shot["data"].as_str().expect("screenshot data"))
        .expect("screenshot is base64");
    std::fs::write(out.join("lesson-05-results.png"), results_png).unwrap();
    let shot = page.screenshot();
    let png = out.join("lesson-05.png");
    std::fs::write(&png, &shot).unwrap();
    eprintln!("screenshot of the lesson-5 chapter: {}", png.display());
    assert!(shot.starts_with(b"\x89PNG"), "the screenshot is not a PNG");

    let text = seen["text"].as_str().unwrap();
    assert!(
        !text.contains("{{#") && !seen["html"].as_str().unwrap().contains("{{#"),
        "a raw {{{{# directive is left in the lesson-5 page"
    );
    let tables: Vec<&str> = seen["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let results = tables
        .iter()
        .find(|t| t.starts_with("measurement"))
        .unwrap_or_else(|| panic!("no results table on the lesson-5 page; tables: {tables:?}"));
    assert!(
        results.contains("reference") && results.chars().any(|c| c.is_ascii_digit()),
        "the results table has no numbers: {results}"
    );
    let images = seen["images"].as_array().unwrap();
    let plot = images
        .iter()
        .find(|i| i["src"].as_str().is_some_and(|s| s.ends_with(".svg")))
        .unwrap_or_else(|| panic!("no plot on the lesson-5 page; images: {images:?}"));
    assert!(
        plot["width"].as_u64() > Some(0) && plot["height"].as_u64() > Some(0),
        "the plot did not load: {plot}"
    );

    page.open(&html.join("scoreboard.html"));
    let board = page.eval("document.querySelector('main').innerText");
    let board = board.as_str().unwrap();
    let missing: Vec<&str> = mmap_lab::claims::ALL
        .iter()
        .map(|c| c.id)
        .filter(|id| !board.contains(&format!("[{id}]")))
        .collect();
    assert!(
        missing.is_empty(),
        "the scoreboard lacks claims {missing:?}"
    );
    assert!(
        !board.contains("{{#"),
        "a raw directive is left on the scoreboard"
    );
}

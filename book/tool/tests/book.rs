//! The book's machinery: broken includes fail the build naming the file, and the generated
//! pages read well from the reference results alone.

use std::path::Path;
use std::process::Command;

use mmap_book::results::{Results, Side};
use mmap_book::{Paths, check, render};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn every_kind_of_broken_include_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("code.rs"),
        "fn a() {}\n// ANCHOR: good\nlet x = 1;\n// ANCHOR_END: good\n// ANCHOR: blank\n\n// ANCHOR_END: blank\n",
    );
    write(&root.join("empty.md"), "  \n");
    write(&root.join("nested.md"), "{{#include gone.md}}\n");
    write(&root.join("plot.svg"), "<svg/>");
    let chapter = "{{#include code.rs:good}}\n{{#include code.rs:missing}}\n\
                   {{#include code.rs:blank}}\n{{#include code.rs:2:3}}\n{{#include empty.md}}\n\
                   {{#include nested.md}}\n{{#include absent.md}}\n![p](plot.svg) ![q](nope.svg)\n";
    let problems: Vec<String> = check::chapter("ch.md", chapter, root)
        .into_iter()
        .map(|p| p.0)
        .collect();
    let has = |needle: &str| {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("ch.md: ") && p.contains(needle)),
            "no problem mentions {needle:?}: {problems:#?}"
        )
    };
    has("has no anchor `missing`");
    has("{{#include code.rs:blank}}: ");
    has("selects lines by number");
    has("empty.md is empty");
    has("gone.md");
    has("absent.md");
    has("nope.svg does not exist");
    assert_eq!(problems.len(), 7, "{problems:#?}");
}

#[test]
fn reference_only_pages_say_how_to_add_yours_and_list_every_claim() {
    let paths = Paths::of_this_checkout();
    let loaded = Results::load(&paths).unwrap();
    assert!(
        !loaded.reference.lessons.is_empty(),
        "book/reference holds no lesson reports"
    );
    let results = Results {
        reference: loaded.reference,
        reader: Side::default(),
    };
    let files = render::generate(&paths, &results).unwrap();
    let text = |name: &str| {
        String::from_utf8(
            files
                .get(name)
                .unwrap_or_else(|| panic!("{name} not generated"))
                .clone(),
        )
        .unwrap()
    };
    for &n in results.reference.lessons.keys() {
        let cards = text(&format!("lesson-{n:02}/cards.md"));
        assert!(cards.contains("`just book`") || cards.contains("<code>just book</code>"));
        let verdicts = text(&format!("lesson-{n:02}/verdicts.md"));
        for c in mmap_lab::claims::of_section(n) {
            let anchor = mmap_book::html::claim_anchor(c.id);
            assert!(
                verdicts.contains(&format!("href=\"#{anchor}\"")),
                "{}",
                c.id
            );
            assert!(cards.contains(&format!("id=\"{anchor}\"")), "{}", c.id);
        }
        assert!(
            !verdicts.contains("\n\n") && !cards.contains("\n\n"),
            "a blank line would end the HTML block and let Markdown reach the lesson's text"
        );
    }
    let board = text("scoreboard.md");
    for c in mmap_lab::claims::ALL {
        assert!(board.contains(&format!("[{}]", c.id)), "{} missing", c.id);
    }
    let unwritten: std::collections::BTreeSet<u8> = mmap_lab::claims::ALL
        .iter()
        .map(|c| c.section)
        .filter(|s| !results.reference.lessons.contains_key(s))
        .collect();
    let board_lines = board
        .lines()
        .filter(|l| l.starts_with("<li><strong>"))
        .count();
    assert_eq!(
        board_lines,
        unwritten.len(),
        "one line per section not written"
    );
    for group in ["seq_scan", "random_access", "small_files"] {
        let link = text(&format!("bench/{group}-link.md"));
        assert!(link.contains(&format!("#bench-{group})")), "{link}");
    }
    assert!(text("status.md").contains("reference machine's"));
}

#[test]
fn mdbook_build_fails_on_a_broken_include_and_names_it() {
    let Some(mdbook) = mmap_book::steps::find_mdbook() else {
        let required = std::env::var("MMAP_BOOK_BROWSER_TEST").is_ok_and(|v| v == "1");
        assert!(!required, "mdbook 0.5.4 is not installed");
        eprintln!("SKIPPED: mdbook 0.5.4 is not installed");
        return;
    };
    let checkout = Paths::of_this_checkout();
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("notes")).unwrap();
    std::fs::copy(checkout.notes(), ws.join("notes/mmap-notes.en.md")).unwrap();
    std::fs::copy(checkout.notes_original(), ws.join("notes/mmap-notes.uz.md")).unwrap();
    std::fs::create_dir_all(ws.join("lessons")).unwrap();
    write(
        &ws.join("book/book.toml"),
        &format!(
            "[book]\ntitle = \"t\"\n[preprocessor.mmap]\ncommand = \"{} preprocess\"\n\
             before = [\"links\"]\n",
            env!("CARGO_BIN_EXE_mmap-book")
        ),
    );
    write(&ws.join("book/src/SUMMARY.md"), "# S\n\n- [Two](02-x.md)\n");
    write(
        &ws.join("code.rs"),
        "// ANCHOR: a\nfn f() {}\n// ANCHOR_END: a\n",
    );
    let build = |chapter: &str| {
        write(&ws.join("book/src/02-x.md"), chapter);
        Command::new(&mdbook)
            .arg("build")
            .arg(ws.join("book"))
            .env_remove("MDBOOK_PREPROCESSOR__MMAP__COMMAND")
            .output()
            .unwrap()
    };
    let ok =
        build("# Two\n{{#include ../../code.rs:a}}\n{{#include generated/lesson-02/notes.md}}\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let page = std::fs::read_to_string(ws.join("book/book/02-x.html")).unwrap();
    assert!(
        page.contains("fn f() {}") && page.contains("[2.vm]"),
        "{page}"
    );

    let broken =
        build("# Two\n{{#include ../../code.rs:b}}\n{{#include generated/lesson-99/cards.md}}\n");
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(!broken.status.success(), "a broken include built: {err}");
    assert!(
        err.contains("book/src/02-x.md") && err.contains("has no anchor `b`"),
        "{err}"
    );
    assert!(err.contains("generated/lesson-99/cards.md"), "{err}");
}

#[test]
fn build_help_is_help_and_an_unknown_flag_is_bad_usage() {
    let book = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mmap-book"))
            .args(args)
            .output()
            .unwrap()
    };
    for help in [&["build", "--help"][..], &["build", "-h"], &["help"]] {
        let out = book(help);
        assert_eq!(out.status.code(), Some(0), "{help:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("--no-run"), "{help:?}: {text}");
    }
    for bad in [
        &["build", "--bogus"][..],
        &["build", "--dest"],
        &["frobnicate"],
        &[],
    ] {
        let out = book(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("mmap-book: ") && err.contains("usage: mmap-book"),
            "{bad:?}: {err}"
        );
    }
}

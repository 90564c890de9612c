//! `mmap-book`: the tool behind `just book`, `just serve` and `just reference`.
//!
//! The book (`book/`, mdBook 0.5) is hand-written prose around generated parts. This crate
//! makes the generated parts and keeps them honest:
//!
//! - [`results`] loads what there is to show: the reference machine's lesson reports and
//!   bench results (`book/reference/`, committed) and the reader's (`target/`, after
//!   `just book`);
//! - [`render`] turns them into `book/src/generated/` (the notes' sections in English and
//!   Uzbek, the scoreboard, the benchmark pages), [`cards`] makes each lesson's verdict
//!   table and claim cards, [`html`] holds the pieces they share, and [`plot`] draws the
//!   SVG plots;
//! - [`summary`] makes the closing chapter's decision table;
//! - [`check`] fails the build, naming the file, when an `{{#include}}` target or anchor
//!   is missing or empty or an image is missing — mdBook itself only logs those;
//! - [`preprocess`] is the mdBook preprocessor that regenerates and checks on every build
//!   (so a plain `mdbook build` works and reads well with the reference numbers alone);
//! - [`steps`] runs the lessons and benches and drives mdBook for the `just` recipes.

pub mod cards;
pub mod check;
pub mod html;
pub mod paths;
pub mod plot;
pub mod preprocess;
pub mod render;
pub mod results;
pub mod steps;
pub mod summary;

pub use paths::Paths;

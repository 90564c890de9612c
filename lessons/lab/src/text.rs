//! Counting the lines of a text that contain a literal — a log analyzer's core — through a
//! map on one thread, on all cores (cut at line boundaries, so no line is counted twice) and
//! through `read()` into one reused buffer. Lesson 7 races these against ripgrep and grep,
//! and the `log_count` benchmark times them.

use std::io::{self, Read};

use memchr::memmem::Finder;

/// The buffer of the `read()` counter: the 64 KiB ripgrep reads with, times 16.
pub const BUF: usize = 1 << 20;

// ANCHOR: count
/// Counts the lines of `text` that contain the literal: find it, count its line, jump to
/// the start of the next line. A line is counted once however often the literal is in it.
pub fn count_lines(text: &[u8], finder: &Finder) -> u64 {
    let (mut lines, mut at) = (0, 0);
    while let Some(i) = finder.find(&text[at..]) {
        lines += 1;
        let hit = at + i;
        at = memchr::memchr(b'\n', &text[hit..]).map_or(text.len(), |nl| hit + nl + 1);
    }
    lines
}
// ANCHOR_END: count

// ANCHOR: split
/// Cuts `text` into `parts` pieces of whole lines: each cut moves forward to just after a
/// newline, so no line is in two pieces (a piece may be empty when a line is long).
pub fn line_chunks(text: &[u8], parts: usize) -> Vec<&[u8]> {
    let parts = parts.max(1);
    let mut start = 0;
    (1..=parts)
        .map(|k| {
            let guess = (text.len() / parts * k).max(start);
            let end = match k == parts {
                true => text.len(),
                false => {
                    memchr::memchr(b'\n', &text[guess..]).map_or(text.len(), |nl| guess + nl + 1)
                }
            };
            let piece = &text[start..end];
            start = end;
            piece
        })
        .collect()
}

/// Counts on `threads` threads, one piece of the map each: no thread waits for another,
/// because a map lets every thread read its own part of the file directly.
pub fn count_parallel(text: &[u8], finder: &Finder, threads: usize) -> anyhow::Result<u64> {
    std::thread::scope(|s| {
        let counting: Vec<_> = line_chunks(text, threads)
            .into_iter()
            .map(|piece| s.spawn(move || count_lines(piece, finder)))
            .collect();
        counting.into_iter().try_fold(0, |sum, t| match t.join() {
            Ok(n) => Ok(sum + n),
            Err(_) => Err(anyhow::anyhow!("a counting thread panicked")),
        })
    })
}
// ANCHOR_END: split

// ANCHOR: read_loop
/// The same count through `read()` into one reused buffer of `buf` bytes: the whole lines
/// of each read are searched; the unfinished last line moves to the front and is completed
/// by the next read (the buffer doubles for a line longer than itself).
pub fn count_read(mut input: impl Read, finder: &Finder, buf: usize) -> io::Result<u64> {
    let mut buf = vec![0u8; buf.max(1)];
    let (mut lines, mut kept) = (0, 0);
    loop {
        if kept == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let got = input.read(&mut buf[kept..])?;
        let filled = kept + got;
        let whole = match got {
            0 => filled,
            _ => memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |nl| nl + 1),
        };
        lines += count_lines(&buf[..whole], finder);
        buf.copy_within(whole..filled, 0);
        kept = filled - whole;
        if got == 0 {
            return Ok(lines);
        }
    }
}
// ANCHOR_END: read_loop

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines that contain `needle`, counted the plain way: split at newlines.
    fn naive(text: &[u8], needle: &[u8]) -> u64 {
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        if text.is_empty() {
            return 0;
        }
        body.split(|&b| b == b'\n')
            .filter(|l| l.windows(needle.len()).any(|w| w == needle))
            .count() as u64
    }

    /// Texts with empty lines, one huge line, the literal at the very start and end (with and
    /// without a final newline), twice in a line, and split across would-be cuts.
    fn adversarial() -> Vec<Vec<u8>> {
        let mut texts: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\n\n\n".to_vec(),
            b"ab".to_vec(),
            b"ab\n".to_vec(),
            b"\nab".to_vec(),
            b"abab ab\nxx\nab".to_vec(),
            b"a\nb\na\nb\nab\n\n".to_vec(),
        ];
        let mut long = vec![b'x'; 10_000];
        long[5_000..5_002].copy_from_slice(b"ab");
        long.push(b'\n');
        long.extend_from_slice(b"ab\nab");
        texts.push(long);
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..200 {
            let len = rng.usize(0..400);
            texts.push((0..len).map(|_| *rng.choice(b"ab\n\nx").unwrap()).collect());
        }
        texts
    }

    #[test]
    fn every_way_counts_each_matching_line_once_whatever_the_line_lengths() {
        let finder = Finder::new(b"ab");
        for text in adversarial() {
            let want = naive(&text, b"ab");
            assert_eq!(count_lines(&text, &finder), want, "{text:?}");
            for parts in [1, 2, 3, 7, 64, 1000] {
                let pieces = line_chunks(&text, parts);
                assert_eq!(pieces.concat(), text, "pieces cover the text in order");
                assert_eq!(pieces.len(), parts);
                let mut cut = 0;
                for p in &pieces {
                    cut += p.len();
                    let at_line_end = cut == text.len() || text[cut - 1] == b'\n';
                    assert!(p.is_empty() || at_line_end, "a cut inside a line at {cut}");
                }
                if parts <= 64 {
                    assert_eq!(count_parallel(&text, &finder, parts).unwrap(), want);
                }
            }
            for buf in [1, 2, 3, 5, 64, BUF] {
                assert_eq!(
                    count_read(&text[..], &finder, buf).unwrap(),
                    want,
                    "buf {buf}"
                );
            }
        }
    }
}

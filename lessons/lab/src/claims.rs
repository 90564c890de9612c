//! Every claim of the course notes (`notes/mmap-notes.en.md`), by id.
//!
//! A lesson names the claims it checks by id; the quoted text comes from here, so a claim is
//! worded the same in every report, in the book and on the scoreboard. A test keeps this
//! table and the notes in step.

/// A claim of the notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The id in square brackets in the notes, e.g. `5.ram`.
    pub id: &'static str,
    /// The notes' section (and lesson) number.
    pub section: u8,
    /// The claim in the words of the English notes.
    pub text: &'static str,
}

macro_rules! claims {
    ($($section:literal $id:literal $text:literal;)*) => {
        /// All claims, in the order of the notes.
        pub const ALL: &[Claim] = &[$(Claim { id: $id, section: $section, text: $text }),*];
    };
}

claims! {
    1 "1.whole" "the file is loaded into RAM in full";
    1 "1.ram" "big file → big RAM";
    1 "1.random" "random access is slow";
    1 "1.waste" "a 10 GB file, you need only 10 MB of it → a waste of resources";
    2 "2.vm" "mmap binds the file to virtual memory";
    2 "2.os-loads" "the OS itself loads whichever page is needed";
    2 "2.bytes" "you use it as an ordinary byte array";
    3 "3.page-4k" "pages (usually 4 KB)";
    3 "3.in" "pages come into RAM when needed";
    3 "3.out" "pages are evicted when not needed";
    3 "3.lazy" "lazy loading";
    3 "3.therefore" "a big file + little RAM + fast random access are possible";
    4 "4.zero" "`0` → the whole file";
    4 "4.slice" "slicing → not disk, a memory view";
    5 "5.ram" "RAM usage: read() high, mmap minimal";
    5 "5.random" "random access: read() slow, mmap fast";
    5 "5.startup" "startup time: read() slow, mmap fast";
    5 "5.os" "OS optimisation: read() none, mmap yes";
    5 "5.big" "big file: read() a problem, mmap ideal";
    5 "5.rule" "big file = mmap";
    6 "6.in-place" "a writable mmap modifies the file in place";
    6 "6.no-rollback" "it has no rollback";
    6 "6.crash" "crash → data corrupt";
    6 "6.no-tx" "no transactions → be careful";
    7 "7.users" "used by database engines (SQLite), search engines (Lucene), log analyzers, \
                 video/media processing, binary index files";
    8 "8.no-copy" "mmap + struct: no disk, no RAM copy";
    8 "8.fast" "extremely fast random access";
    9 "9.shared" "mmap is shared memory between processes";
    9 "9.ipc" "mmap is ideal for IPC";
    9 "9.saves-ram" "5 workers, 1 big file, the same mmap → RAM is saved";
    10 "10.os-io" "mmap is synchronous, but disk IO happens in the OS";
    10 "10.not-blocked" "the asyncio event loop is not blocked";
    10 "10.ok" "async server + mmap → OK";
    10 "10.read-blocks" "read() → blocks on IO";
    11 "11.small" "mmap is not a good fit for small files";
    11 "11.sequential" "mmap is not a good fit for sequential reads";
    11 "11.writes" "mmap is not a good fit for many writes";
    11 "11.tx" "mmap is not a good fit when transactions are needed";
    12 "12.platform" "platform-dependent behaviour";
    12 "12.windows" "Windows vs Linux differences";
    12 "12.truncate" "file truncate → segmentation fault";
    12 "12.race" "concurrent writes → race condition";
    13 "13.model" "mmap = file → memory";
    13 "13.no-copy" "no copy";
    13 "13.os" "the OS manages it";
    13 "13.speed" "speed → the OS page cache";
}

/// The numbered sections of the notes: (number, title). Lesson N teaches section N.
pub const SECTIONS: &[(u8, &str)] = &[
    (1, "The problem: where plain file I/O falls short"),
    (2, "The idea of mmap"),
    (3, "How mmap works"),
    (4, "A minimal mmap example"),
    (5, "mmap vs read()"),
    (6, "Writable mmap"),
    (7, "Where is it used in real life?"),
    (8, "mmap + struct"),
    (9, "mmap and multiprocessing"),
    (10, "mmap + asyncio"),
    (11, "When is mmap NOT a good fit?"),
    (12, "Dangers and precautions"),
    (13, "Mental model"),
];

/// The claim with this id.
pub fn get(id: &str) -> Option<&'static Claim> {
    ALL.iter().find(|c| c.id == id)
}

/// The claims of one section, in the order of the notes.
pub fn of_section(section: u8) -> impl Iterator<Item = &'static Claim> {
    ALL.iter().filter(move |c| c.section == section)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids in the notes, in order of first appearance.
    fn ids_in_notes() -> Vec<String> {
        let notes = include_str!("../../../notes/mmap-notes.en.md");
        let mut ids: Vec<String> = Vec::new();
        for piece in notes.split('[').skip(1) {
            let Some((id, _)) = piece.split_once(']') else {
                continue;
            };
            let is_id = id.split_once('.').is_some_and(|(n, name)| {
                n.parse::<u8>().is_ok()
                    && !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
            if is_id && !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
        }
        ids
    }

    #[test]
    fn table_matches_the_notes() {
        let mut in_notes = ids_in_notes();
        let mut here: Vec<String> = ALL.iter().map(|c| c.id.to_string()).collect();
        in_notes.sort();
        here.sort();
        assert_eq!(here, in_notes);
    }

    #[test]
    fn every_section_of_the_notes_is_listed() {
        let notes = include_str!("../../../notes/mmap-notes.en.md");
        let numbered = notes
            .lines()
            .filter_map(|l| l.strip_prefix("## ")?.split_once(". "))
            .filter_map(|(n, _)| n.parse::<u8>().ok());
        let listed: Vec<u8> = SECTIONS.iter().map(|s| s.0).collect();
        assert_eq!(numbered.collect::<Vec<_>>(), listed);
        for c in ALL {
            assert!(listed.contains(&c.section), "{}", c.id);
        }
    }

    #[test]
    fn ids_name_their_section() {
        for c in ALL {
            let n: u8 = c.id.split('.').next().unwrap().parse().unwrap();
            assert_eq!(n, c.section, "{}", c.id);
        }
    }
}

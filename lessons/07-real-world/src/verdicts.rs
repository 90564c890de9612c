//! Lesson 7's findings and judge: a pure function of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::findings::{Outcome, Spread, Versus};
use mmap_lab::judge::{HEADLINE_MAX, list, or_missing};
use mmap_lab::quantity::{Bytes, Count, Flag};
use mmap_lab::{Judgement, Unit, findings};

/// The benchmark goal for the log count on all cores against `rg -c` (reported, not judged).
pub const RG_GOAL: f64 = 1.8;

findings! {
    /// [7.users] The workloads real programs map files for, each run through a map and the
    /// other way on the same files; times are per query, row, lookup or whole count.
    pub struct Users {
        [key] sqlite_default: Bytes = "SQLite's mmap_size as it ships (PRAGMA mmap_size, read back)",
        sqlite_mmap: Bytes = "mmap_size asked to cover the database (read back)",
        db: Bytes = "database file",
        [key] query_off: Spread = "SQLite random lookup, cached, mmap_size 0",
        [key] query_on: Spread = "SQLite random lookup, cached, mapped",
        cold_query_off: Option<Spread> = "SQLite random lookup from disk, mmap_size 0",
        cold_query_on: Option<Spread> = "SQLite random lookup from disk, mapped",
        write_off: Spread = "SQLite update of a random row, mmap_size 0",
        write_on: Spread = "SQLite update of a random row, mapped",
        sqlite_agree: Flag = "lookups found the same payloads mapped and not",
        index: Bytes = "sorted index of 8-byte keys",
        [key] index_pread: Spread = "binary search through pread, cached",
        [key] index_map: Spread = "binary search through a map, cached",
        cold_index_pread: Option<Spread> = "binary search through pread, from disk",
        cold_index_map: Option<Spread> = "binary search through a map, from disk",
        index_agree: Flag = "every key was found where it is, both ways",
        log: Bytes = "access log",
        matches: Count = "log lines containing the literal",
        log_read: Spread = "our count through read(), one thread",
        log_map: Spread = "our count through a map, one thread",
        log_map_all: Spread = "our count through a map, all cores",
        threads: Count = "threads of the all-cores count",
        rg: Option<Spread> = "rg -c, as it chooses (a map for one file)",
        rg_no_mmap: Option<Spread> = "rg --no-mmap -c",
        grep: Option<Spread> = "GNU grep -c (it reads)",
        counts_agree: Flag = "every way and peer counted the same lines",
        files: Count = "small log files searched at once",
        rg_files_mmap: Option<Spread> = "rg --mmap over the small files",
        rg_files_read: Option<Spread> = "rg --no-mmap over the small files",
        rg_maps_one: Option<Flag> = "rg chose a map for one file (its --trace)",
        rg_maps_many: Option<Flag> = "rg chose a map for the small files (its --trace)",
    }
}

/// One workload, through a map against the other way.
struct Row {
    what: String,
    other: &'static str,
    map: Spread,
    without: Spread,
}

impl Row {
    fn versus(&self) -> Versus {
        self.map.versus(&self.without)
    }
}

impl Users {
    /// Whether SQLite's map covered the database: otherwise its "mapped" rows were not.
    fn sqlite_mapped(&self) -> bool {
        self.sqlite_mmap.0 >= self.db.0
    }

    /// The workloads measured in this run, each mapped against unmapped.
    fn rows(&self) -> Vec<Row> {
        let row = |what: &str, other, map: Option<Spread>, without: Option<Spread>| {
            Some(Row {
                what: what.to_string(),
                other,
                map: map?,
                without: without?,
            })
        };
        let sqlite = self.sqlite_mapped();
        let s = |v: Spread| sqlite.then_some(v);
        let files = format!("rg on {} files", Unit::Count.format(self.files.0));
        [
            row(
                "SQLite lookups",
                "mmap_size 0",
                s(self.query_on),
                s(self.query_off),
            ),
            row(
                "cold SQLite lookups",
                "mmap_size 0",
                self.cold_query_on.and_then(s),
                self.cold_query_off.and_then(s),
            ),
            row(
                "SQLite updates",
                "mmap_size 0",
                s(self.write_on),
                s(self.write_off),
            ),
            row(
                "index search",
                "pread",
                Some(self.index_map),
                Some(self.index_pread),
            ),
            row(
                "cold index search",
                "pread",
                self.cold_index_map,
                self.cold_index_pread,
            ),
            row(
                "log count",
                "read()",
                Some(self.log_map),
                Some(self.log_read),
            ),
            row("rg on one log", "--no-mmap", self.rg, self.rg_no_mmap),
            row(&files, "--no-mmap", self.rg_files_mmap, self.rg_files_read),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// [7.users] Real programs use mmap — selectively. Holds when the map won every workload
/// and SQLite and ripgrep map by default; fails when it won none; depends otherwise. When
/// the ways disagree on what they found, the times compare unequal work: not measured.
pub fn users(f: &Users) -> Judgement {
    let rows = f.rows();
    let shipped_on = f.sqlite_default.0 > 0.0;
    let mut judgement = match (f.counts_agree.0, f.index_agree.0, f.sqlite_agree.0) {
        (true, true, true) => verdict(f, &rows, shipped_on),
        agree => Judgement::not_measured(format!(
            "the ways disagreed on what they found (log counts equal: {}, index: {}, SQLite: \
             {}), so their times compare unequal work",
            Flag(agree.0),
            Flag(agree.1),
            Flag(agree.2)
        )),
    };
    for r in &rows {
        judgement = judgement.detail(format_args!(
            "{}: mapped {} vs {} {} — {}",
            r.what,
            r.map,
            r.other,
            r.without,
            r.versus().than(r.other)
        ));
    }
    let rg = |s: Option<Spread>| or_missing(s, "not run");
    let chose = |m: Option<Flag>| match m {
        Some(Flag(true)) => "a map",
        Some(Flag(false)) => "read()",
        None => "unknown",
    };
    judgement
        .detail(format_args!(
            "SQLite as it ships: PRAGMA mmap_size = {}; asked to cover the {} database it \
             reads back {}",
            f.sqlite_default, f.db, f.sqlite_mmap
        ))
        .detail_if(
            !f.sqlite_mapped(),
            "SQLite's map did not cover the database, so its mapped rows are left out",
        )
        .detail(format_args!(
            "a {} log, {} lines with the literal: through a map {} on one thread, {} on {} \
             threads; through read() {}",
            f.log, f.matches, f.log_map, f.log_map_all, f.threads, f.log_read
        ))
        .detail(format_args!(
            "peers on the same cached log: rg -c {}, rg --no-mmap -c {}, grep -c {}",
            rg(f.rg),
            rg(f.rg_no_mmap),
            rg(f.grep)
        ))
        .detail_if(
            f.rg.is_some(),
            format_args!(
                "all-cores count against rg -c: {} faster by the medians (benchmark goal: {} \
                 on 2 cores)",
                Unit::Ratio.format(f.rg.map_or(f64::NAN, |rg| f.log_map_all.versus(&rg).factor)),
                Unit::Ratio.format(RG_GOAL)
            ),
        )
        .detail(format_args!(
            "ripgrep's own rule (--trace): for one file it chose {}, for {} files {}",
            chose(f.rg_maps_one),
            f.files,
            chose(f.rg_maps_many)
        ))
        .detail(format_args!(
            "{} index: {} probes of a binary search per lookup",
            f.index,
            Unit::Count.format((f.index.0 / 8.0).log2().ceil())
        ))
        .detail("not run here: Lucene (a JVM library), LMDB, video and media tools")
}

/// The verdict and headline once the ways agree.
fn verdict(f: &Users, rows: &[Row], shipped_on: bool) -> Judgement {
    let won: Vec<&str> = rows
        .iter()
        .filter(|r| r.versus().outcome == Outcome::Faster)
        .map(|r| r.what.as_str())
        .collect();
    let (k, n) = (won.len(), rows.len());
    let count = |n: usize| Unit::Count.format(n as f64);
    let rg_reads = f.rg_maps_many == Some(Flag(false));
    let off = match (shipped_on, rg_reads) {
        (false, true) => "SQLite ships it off and rg reads many files",
        (false, false) => "SQLite ships it off",
        (true, true) => "rg reads many files",
        (true, false) => "",
    };
    let programs = match f.rg_maps_many {
        Some(_) => "SQLite and rg map",
        None => "SQLite maps",
    };
    let (verdict, headline) = match (k, off.is_empty()) {
        (0, _) => (
            Fails,
            format!("mmap won none of the {} workloads run here", count(n)),
        ),
        (k, true) if k == n => (
            Holds,
            format!(
                "mmap won all {} workloads run here, and {programs} by default",
                count(n)
            ),
        ),
        (k, false) if k == n => (
            Depends,
            format!("mmap won all {} workloads run here, yet {off}", count(n)),
        ),
        _ => {
            let named = format!(" ({})", list(&won, "and"));
            let short = format!(
                "selectively: mmap won {} of {} workloads",
                count(k),
                count(n)
            );
            let end = if off.is_empty() {
                String::new()
            } else {
                format!("; {off}")
            };
            match format!("{short}{named}{end}") {
                long if long.chars().count() <= HEADLINE_MAX => (Depends, long),
                _ => (Depends, format!("{short}{end}")),
            }
        }
    };
    Judgement::new(verdict).headline(headline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::Verdict;

    const MIB: f64 = 1048576.0;

    /// Three runs around `median` seconds, 2 % apart.
    fn around(median: f64) -> Spread {
        Spread::of(&[median * 0.98, median, median * 1.02])
    }

    /// Three runs: the fastest, the median and the slowest.
    fn runs(fastest: f64, median: f64, slowest: f64) -> Spread {
        Spread::of(&[fastest, median, slowest])
    }

    /// The reference machine (2 cores, ext4, readahead 8 MiB): a 128 MiB log, a 32 MiB
    /// database and index, 2,000 small files, 3 runs each.
    fn reference() -> Users {
        Users {
            sqlite_default: Bytes(0.0),
            sqlite_mmap: Bytes(32.0 * MIB),
            db: Bytes(32.0 * MIB),
            query_off: runs(1.84e-6, 1.86e-6, 1.94e-6),
            query_on: runs(1.44e-6, 1.54e-6, 1.65e-6),
            cold_query_off: Some(runs(71.5e-6, 74.4e-6, 75.7e-6)),
            cold_query_on: Some(runs(140e-6, 155e-6, 162e-6)),
            write_off: runs(1.42e-6, 1.58e-6, 13.7e-6),
            write_on: runs(1.58e-6, 1.91e-6, 2.41e-6),
            sqlite_agree: Flag(true),
            index: Bytes(32.0 * MIB),
            index_pread: runs(15.4e-6, 15.7e-6, 15.8e-6),
            index_map: runs(1.90e-6, 1.95e-6, 2.01e-6),
            cold_index_pread: Some(runs(364e-6, 413e-6, 464e-6)),
            cold_index_map: Some(runs(206e-6, 207e-6, 215e-6)),
            index_agree: Flag(true),
            log: Bytes(128.0 * MIB),
            matches: Count(30_315.0),
            log_read: runs(0.0137, 0.0141, 0.0173),
            log_map: runs(0.00923, 0.00951, 0.0112),
            log_map_all: runs(0.00704, 0.00719, 0.00791),
            threads: Count(2.0),
            rg: Some(runs(0.0142, 0.0145, 0.0198)),
            rg_no_mmap: Some(runs(0.0258, 0.0279, 0.0304)),
            grep: Some(runs(0.0651, 0.0660, 0.0679)),
            counts_agree: Flag(true),
            files: Count(2000.0),
            rg_files_mmap: Some(runs(0.0610, 0.0636, 0.0670)),
            rg_files_read: Some(runs(0.0254, 0.0259, 0.0274)),
            rg_maps_one: Some(Flag(true)),
            rg_maps_many: Some(Flag(false)),
        }
    }

    /// The reference with every mapped row at least 2× faster and both programs mapping by
    /// default.
    fn all_won() -> Users {
        Users {
            sqlite_default: Bytes(32.0 * MIB),
            query_on: around(0.9e-6),
            cold_query_on: Some(around(35e-6)),
            write_on: around(1.0e-6),
            log_map: around(0.006),
            rg: Some(around(0.012)),
            rg_files_mmap: Some(around(0.010)),
            rg_maps_many: Some(Flag(true)),
            ..reference()
        }
    }

    /// Every mapped row 4× slower than the other way.
    fn all_lost() -> Users {
        let r = reference();
        let slow = |s: Spread| around(s.median * 4.0);
        Users {
            query_on: slow(r.query_off),
            cold_query_on: r.cold_query_off.map(slow),
            write_on: slow(r.write_off),
            index_map: slow(r.index_pread),
            cold_index_map: r.cold_index_pread.map(slow),
            log_map: slow(r.log_read),
            rg: r.rg_no_mmap.map(slow),
            ..r
        }
    }

    fn judged(f: &Users) -> Judgement {
        mmap_lab::judge::judged(users, f)
    }

    fn verdict(f: &Users) -> Verdict {
        judged(f).verdict
    }

    #[test]
    fn the_reference_machine_uses_mmap_selectively() {
        let j = judged(&reference());
        assert_eq!(j.verdict, Depends);
        assert!(j.headline.starts_with("selectively"), "{}", j.headline);
        assert!(j.headline.contains("SQLite ships it off"), "{}", j.headline);
        assert_eq!(reference().rows().len(), 8);
        // Cached SQLite lookups 1.21× faster with the map: a tie; 1.3× would be a win.
        let faster = Users {
            query_on: around(1.86e-6 / 1.3),
            ..reference()
        };
        let j = judged(&faster);
        assert_eq!(j.verdict, Depends);
        assert!(j.headline.contains("5 of 8 workloads;"), "{}", j.headline);
    }

    #[test]
    fn holds_only_when_mmap_wins_everything_and_the_programs_map_by_default() {
        assert_eq!(verdict(&all_won()), Holds);
        // One workload back to a tie: selectively.
        let tie = Users {
            write_on: around(1.58e-6 / 1.2),
            ..all_won()
        };
        assert_eq!(verdict(&tie), Depends);
        let just_faster = Users {
            write_on: around(1.58e-6 / 1.3),
            ..all_won()
        };
        assert_eq!(verdict(&just_faster), Holds);
        // Faster everywhere, but SQLite ships with mmap off, or rg reads many files.
        let shipped_off = Users {
            sqlite_default: Bytes(0.0),
            ..all_won()
        };
        let j = judged(&shipped_off);
        assert_eq!(j.verdict, Depends);
        assert!(j.headline.contains("yet SQLite ships"), "{}", j.headline);
        let rg_reads = Users {
            rg_maps_many: Some(Flag(false)),
            ..all_won()
        };
        assert_eq!(verdict(&rg_reads), Depends);
        // rg not installed: its rows and its rule are not part of the verdict.
        let no_rg = Users {
            rg: None,
            rg_no_mmap: None,
            grep: None,
            rg_files_mmap: None,
            rg_files_read: None,
            rg_maps_one: None,
            rg_maps_many: None,
            ..all_won()
        };
        assert_eq!(no_rg.rows().len(), 6);
        assert_eq!(verdict(&no_rg), Holds);
    }

    #[test]
    fn fails_when_mmap_wins_nothing() {
        let j = judged(&all_lost());
        assert_eq!(j.verdict, Fails);
        assert!(j.headline.contains("none"), "{}", j.headline);
        // One win is enough for "selectively".
        let one = Users {
            index_map: around(1.0e-6),
            ..all_lost()
        };
        assert_eq!(verdict(&one), Depends);
    }

    #[test]
    fn a_map_that_does_not_cover_the_database_leaves_the_sqlite_rows_out() {
        let capped = Users {
            sqlite_mmap: Bytes(16.0 * MIB),
            ..reference()
        };
        assert_eq!(capped.rows().len(), 5);
        let j = judged(&capped);
        assert!(j.details.iter().any(|d| d.contains("did not cover")));
        // Without the SQLite rows, what is left of a lost run still fails.
        let lost = Users {
            sqlite_mmap: Bytes(0.0),
            ..all_lost()
        };
        assert_eq!(verdict(&lost), Fails);
    }

    #[test]
    fn ways_that_disagree_are_not_measured() {
        for f in [
            Users {
                counts_agree: Flag(false),
                ..reference()
            },
            Users {
                index_agree: Flag(false),
                ..reference()
            },
            Users {
                sqlite_agree: Flag(false),
                ..reference()
            },
        ] {
            let j = judged(&f);
            assert_eq!(j.verdict, Verdict::NotMeasured);
            assert!(j.headline.contains("disagreed"), "{}", j.headline);
        }
    }

    #[test]
    fn a_headline_names_the_wins_when_they_fit_and_counts_them_when_not() {
        let j = judged(&reference());
        assert!(
            j.headline
                .contains("4 of 8 workloads (index search, cold index search, log count and"),
            "{}",
            j.headline
        );
        let most = Users {
            sqlite_default: Bytes(0.0),
            write_on: around(3.9e-6),
            files: Count(12_345_678.0),
            ..all_won()
        };
        let j = judged(&most);
        assert_eq!(j.verdict, Depends);
        assert!(j.headline.contains("7 of 8 workloads;"), "{}", j.headline);
    }
}

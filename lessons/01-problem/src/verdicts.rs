//! Lesson 1's findings and judges: pure functions of the numbers, tested below with the
//! reference machine's numbers and with numbers moved across each boundary.

use mmap_lab::Outcome::{Slower, Tie};
use mmap_lab::Verdict::{Depends, Fails, Holds};
use mmap_lab::quantity::{Bytes, Count, Flag, Fraction, Ratio, Secs};
use mmap_lab::{Judgement, Spread, findings};

/// fs::read holds all of the file when its peak RSS grew by this share of it or more.
const WHOLE_SHARE: f64 = 0.9;
/// RAM grows with the file from this slope (bytes per byte of file) up...
const GROWS_SLOPE: f64 = 0.5;
/// ...and stays flat below this one, either way.
const FLAT_SLOPE: f64 = 0.1;
/// Reading everything wastes RAM when it takes this many times what the map took, or more.
const WASTE_RATIO: f64 = 2.0;

findings! {
    /// What one way of doing the task cost on one file (RAM and cache of its median-time run).
    #[derive(Copy)]
    pub struct Way {
        peak_growth: Bytes = "peak RSS growth",
        cache_intake: Bytes = "page cache taken in",
        time: Spread = "time",
    }
}

findings! {
    /// One way's peak RSS growth on the quarter file and on the full one, and the slope
    /// between: bytes of RAM per byte of file.
    #[derive(Copy)]
    pub struct Slope {
        quarter: Bytes = "peak RSS growth, quarter file",
        full: Bytes = "peak RSS growth, full file",
        slope: Ratio = "RAM per byte of file",
    }
}

impl Slope {
    /// From the growth on the files of `sizes` (quarter first).
    pub fn new(sizes: [u64; 2], quarter: Bytes, full: Bytes) -> Slope {
        let slope = Ratio((full.0 - quarter.0) / (sizes[1] - sizes[0]) as f64);
        Slope {
            quarter,
            full,
            slope,
        }
    }
}

findings! {
    /// [1.whole] Reading the whole file: fs::read, and the notes' own Python f.read().
    pub struct Whole {
        file: Bytes = "size of the file read whole",
        [key] peak_growth: Bytes = "fs::read: peak RSS growth",
        cached: Fraction = "share of the file in the page cache after fs::read",
        [key] python: Option<Bytes> = "Python f.read() of it: peak RSS growth",
        python_time: Option<Secs> = "Python f.read(): time",
    }
}

/// [1.whole] The file is loaded into RAM in full: peak RSS grows by (about) the file.
pub fn whole(f: &Whole) -> Judgement {
    let (grew, file, cached) = (f.peak_growth, f.file, f.cached);
    let all = |g: Bytes| g.0 >= WHOLE_SHARE * file.0;
    let python = f.python.map(all);
    let verdict = match (all(grew), python) {
        (true, None | Some(true)) => Holds,
        (false, None | Some(false)) => Fails,
        _ => Depends,
    };
    let both = (python == Some(true)).then_some(" and Python's f.read() both");
    let twice = (cached.0 >= 0.5).then_some("; the page cache kept a second copy");
    let (both, twice) = (both.unwrap_or_default(), twice.unwrap_or_default());
    let headline = match verdict {
        Holds => format!("fs::read{both} put the whole {file} file in the program's RAM{twice}"),
        Depends => "fs::read and Python's f.read() differ: one did not take the file's size".into(),
        _ => format!("peak RSS grew by only {grew} for a {file} file: it was never in RAM whole"),
    };
    let share = Ratio(grew.0 / file.0);
    let py = f.python.zip(f.python_time);
    let py = py.map(|(g, t)| format!("Python's f.read(): peak RSS +{g} in {t}"));
    Judgement::new(verdict)
        .headline(headline)
        .detail(format!("fs::read: peak RSS +{grew} ({share} the file)"))
        .detail_if(py.is_some(), py.unwrap_or_default())
        .detail(format!("{cached} of it in the page cache afterwards"))
}

findings! {
    /// [1.ram] How each way's RAM followed the file, from the quarter file to the full one.
    pub struct Ram {
        [key] whole: Option<Slope> = "fs::read whole",
        [key] seek: Slope = "seek + read slice",
        [key] map: Slope = "mmap, touch slice",
        budget: Bytes = "read budget of a whole-file read",
        budget_is_flag: Flag = "the read budget is --read-budget (not half the RAM available)",
    }
}

/// [1.ram] Big file → big RAM: fails if even fs::read's RAM does not grow with the file,
/// depends when reading only the slice (seek + read, or a map) keeps RAM flat.
pub fn ram(f: &Ram) -> Judgement {
    let ways = [(&f.seek, "seek + read"), (&f.map, "a map")];
    let flat = ways.iter().filter(|(s, _)| s.slope.0.abs() < FLAT_SLOPE);
    let flat: Vec<&str> = flat.map(|w| w.1).collect();
    let grows = f.whole.map(|w| w.slope.0 >= GROWS_SLOPE);
    let verdict = match (grows, flat.is_empty()) {
        (Some(false), _) => Fails,
        (_, false) => Depends,
        (_, true) => Holds,
    };
    let (budget, flag, flat) = (f.budget, f.budget_is_flag.0, flat.join(" or "));
    let lead = match grows {
        Some(true) => "fs::read's RAM grew with the file".to_string(),
        Some(false) => "even fs::read's RAM did not grow with the file".to_string(),
        None if flag => format!("fs::read was not tried (over the --read-budget of {budget})"),
        None => format!("fs::read was not tried (over the read budget of {budget})"),
    };
    let headline = match verdict {
        Depends => format!("{lead}; reading just the slice with {flat} kept RAM flat as it grew"),
        Holds => format!("{lead}; no way of reading just the slice kept RAM flat as it grew"),
        _ => lead,
    };
    let row = |name: &str, s: &Slope| {
        let (a, b, per) = (s.quarter, s.full, s.slope.0);
        format!("{name}: +{a} on the quarter file, +{b} on the full one: {per:.3} B per byte")
    };
    let j = Judgement::new(verdict).headline(headline);
    let j = f.whole.iter().fold(j, |j, w| j.detail(row("fs::read", w)));
    j.detail(row("seek + read", &f.seek))
        .detail(row("mmap", &f.map))
}

findings! {
    /// [1.random] Random 8-byte reads: one pread each, against indexing bytes in memory.
    pub struct Random {
        reads: Count = "random 8-byte reads per run",
        cold: Flag = "every run started with the file evicted (--cold)",
        [key] pread: Spread = "pread: time per read",
        fresh_map: Spread = "a fresh map, faulting its pages in: time per read",
        fresh_faults: Count = "a fresh map: page faults",
        [key] map: Spread = "a map with its pages mapped: time per read",
        map_faults: Count = "a map with its pages mapped: page faults (most in a run)",
        [key] vec: Option<Spread> = "the Vec from fs::read: time per read",
        pread_intake: Bytes = "pread: page cache taken in",
        fresh_intake: Bytes = "a fresh map: page cache taken in",
    }
}

/// [1.random] Random access is slow: holds when pread is slower than a map; depends when the
/// Vec the notes' snippet read is faster too (at the price of [1.whole]); fails else.
pub fn random(f: &Random) -> Judgement {
    let (pread, fresh, mapped) = (f.pread, f.fresh_map, f.map);
    let map = pread.versus(&mapped);
    let vec = f.vec.map(|v| pread.versus(&v));
    let vec = vec.filter(|v| v.outcome == Slower);
    let verdict = match (vec, map.outcome) {
        (Some(_), _) => Depends,
        (None, Slower) => Holds,
        _ => Fails,
    };
    let on_map = map.than("a read from a map");
    let headline = match vec.map(|v| v.than("indexing the Vec fs::read filled")) {
        Some(v) => format!("a random pread is {v}: slow, unless you read everything first"),
        None if verdict == Holds => format!("a random pread is {on_map}: a syscall each"),
        None => format!("a random pread is {on_map}: not slow here"),
    };
    let (reads, faults, vs) = (f.reads, f.fresh_faults, fresh.versus(&pread).than("pread"));
    let temp = if f.cold.0 { "cold" } else { "warm" };
    let on_vec = f.vec.map_or(String::new(), |v| format!(", the Vec {v}"));
    let (into, fresh_into) = (f.pread_intake, f.fresh_intake);
    let cold = format!("page cache taken in: pread {into}, fresh map {fresh_into}");
    let times = format!("{reads} {temp} reads: pread {pread}, mapped map {mapped}{on_vec}");
    let fresh = format!("a fresh map, faulting pages in ({faults} faults): {fresh} per read, {vs}");
    Judgement::new(verdict)
        .headline(headline)
        .detail(times)
        .detail(fresh)
        .detail_if(f.cold.0, cold)
}

findings! {
    /// [1.waste] Using the slice of the full file: read everything, seek + read, or map.
    pub struct Waste {
        slice: Bytes = "bytes the task uses",
        file: Bytes = "file size",
        [key] whole: Option<Way> = "fs::read whole",
        [key] map: Way = "mmap, touch slice",
        seek: Way = "seek + read slice",
    }
}

/// [1.waste] Reading everything to use the slice wastes RAM (fails under [`WASTE_RATIO`] ×
/// the map's; not tried, its Vec would be the file) and time (depends if the map is slower).
pub fn waste(f: &Waste) -> Judgement {
    let used = f.map.peak_growth.0.max(f.slice.0);
    let ram = Ratio(f.whole.map_or(f.file, |w| w.peak_growth).0 / used);
    let time = f.whole.map(|w| f.map.time.versus(&w.time));
    let verdict = match (ram.0 >= WASTE_RATIO, time.map(|t| t.outcome)) {
        (false, _) => Fails,
        (true, Some(Tie | Slower)) => Depends,
        (true, _) => Holds,
    };
    let (slice, file) = (f.slice, f.file);
    let task = format!("to use {slice} of a {file} file, reading it all");
    let but = if verdict == Depends { "but" } else { "and" };
    let headline = match (verdict, time.map(|t| t.than("fs::read"))) {
        (Fails, _) => format!("{task} took only {ram} the RAM of a map: little waste"),
        (_, Some(t)) => format!("{task} took {ram} the RAM of a map, {but} the map was {t}"),
        _ => format!("{task} would take {ram} the RAM of a map (not tried: over budget)"),
    };
    let way = |w: &Way| {
        let (rss, cache, time) = (w.peak_growth, w.cache_intake, w.time);
        format!("RSS +{rss}, cache +{cache}, {time}")
    };
    let whole = f.whole.map(|w| format!("fs::read whole: {}", way(&w)));
    let lean = "seek + read is as lean as the map: the waste is reading it all, not plain I/O";
    Judgement::new(verdict)
        .headline(headline)
        .detail_if(whole.is_some(), whole.unwrap_or_default())
        .detail(format!("mmap, touching the slice: {}", way(&f.map)))
        .detail(format!("seek + read of the slice: {}", way(&f.seek)))
        .detail_if(f.seek.peak_growth.0 <= WASTE_RATIO * used, lean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmap_lab::judge::verdict_of as verdict;

    const MIB: f64 = 1048576.0;
    const SIZES: [u64; 2] = [64 << 20, 256 << 20];

    /// The reference machine (book/reference/lesson-01.json): 256 MiB, warm, 3 runs.
    fn whole_reference() -> Whole {
        Whole {
            file: Bytes(256.0 * MIB),
            peak_growth: Bytes(268439552.0),
            cached: Fraction(1.0),
            python: Some(Bytes(268275712.0)),
            python_time: Some(Secs(0.1402)),
        }
    }

    fn ram_reference() -> Ram {
        let slope = |q: f64, f: f64| Slope::new(SIZES, Bytes(q), Bytes(f));
        Ram {
            whole: Some(slope(67112960.0, 268439552.0)),
            seek: slope(10489856.0, 10489856.0),
            map: slope(10485760.0, 12582912.0),
            budget: Bytes(4096.0 * MIB),
            budget_is_flag: Flag(true),
        }
    }

    fn random_reference() -> Random {
        Random {
            reads: Count(100000.0),
            cold: Flag(false),
            pread: Spread::once(690.5e-9),
            fresh_map: Spread::once(24.1e-9),
            fresh_faults: Count(532.0),
            map: Spread::once(9.57e-9),
            map_faults: Count(0.0),
            vec: Some(Spread::once(8.75e-9)),
            pread_intake: Bytes(0.0),
            fresh_intake: Bytes(0.0),
        }
    }

    fn way(peak: f64, secs: f64) -> Way {
        Way {
            peak_growth: Bytes(peak),
            cache_intake: Bytes(0.0),
            time: Spread::once(secs),
        }
    }

    fn waste_reference() -> Waste {
        Waste {
            slice: Bytes(10.0 * MIB),
            file: Bytes(256.0 * MIB),
            whole: Some(way(268439552.0, 0.14178)),
            map: way(12582912.0, 0.00145263),
            seek: way(10489856.0, 0.006848),
        }
    }

    #[test]
    fn whole_holds_only_when_peak_rss_grows_by_the_file() {
        let r = whole_reference();
        assert_eq!(verdict(whole, &r), Holds);
        assert!(whole(&r).headline.contains("second copy"));
        let file = r.file.0;
        let edge = Whole {
            peak_growth: Bytes(0.9 * file),
            ..r.clone()
        };
        assert_eq!(verdict(whole, &edge), Holds);
        let short = Whole {
            peak_growth: Bytes(0.89 * file),
            ..r.clone()
        };
        assert_eq!(verdict(whole, &short), Depends);
        let alone = Whole {
            python: None,
            python_time: None,
            ..short.clone()
        };
        assert_eq!(verdict(whole, &alone), Fails);
        let both = Whole {
            python: Some(Bytes(0.5 * file)),
            ..short
        };
        assert_eq!(verdict(whole, &both), Fails);
        let py_short = Whole {
            python: Some(Bytes(0.89 * file)),
            ..r.clone()
        };
        assert_eq!(verdict(whole, &py_short), Depends);
        let no_python = Whole {
            python: None,
            python_time: None,
            cached: Fraction(0.0),
            ..r
        };
        assert_eq!(verdict(whole, &no_python), Holds);
        assert!(!whole(&no_python).headline.contains("second copy"));
    }

    #[test]
    fn ram_depends_on_the_slopes_of_each_way() {
        let r = ram_reference();
        assert_eq!(verdict(ram, &r), Depends);
        // fs::read's slope: 0.5 byte of RAM per byte of file still grows, 0.49 does not.
        let q = r.whole.unwrap().quarter.0;
        let whole_at = |s: f64| Some(Slope::new(SIZES, Bytes(q), Bytes(q + s * (192.0 * MIB))));
        assert_eq!(
            verdict(
                ram,
                &Ram {
                    whole: whole_at(0.5),
                    ..r.clone()
                }
            ),
            Depends
        );
        assert_eq!(
            verdict(
                ram,
                &Ram {
                    whole: whole_at(0.49),
                    ..r.clone()
                }
            ),
            Fails
        );
        // Both slice ways at 0.1 byte per byte or more: nothing kept RAM flat.
        let at = |s: f64| Slope {
            slope: Ratio(s),
            ..r.seek
        };
        let grows = Ram {
            seek: at(0.1),
            map: at(-0.1),
            ..r.clone()
        };
        assert_eq!(verdict(ram, &grows), Holds);
        let one_flat = Ram {
            map: at(0.099),
            ..grows.clone()
        };
        assert_eq!(verdict(ram, &one_flat), Depends);
        assert!(ram(&one_flat).headline.contains("with a map kept"));
        // fs::read not tried: the headline names what set the budget.
        let skipped = Ram {
            whole: None,
            budget: Bytes(MIB),
            ..r.clone()
        };
        assert_eq!(verdict(ram, &skipped), Depends);
        assert!(ram(&skipped).headline.contains("--read-budget of 1 MiB"));
        let by_ram = Ram {
            budget_is_flag: Flag(false),
            ..skipped.clone()
        };
        assert!(!ram(&by_ram).headline.contains("--read-budget"));
        assert_eq!(
            verdict(
                ram,
                &Ram {
                    whole: None,
                    ..grows
                }
            ),
            Holds
        );
    }

    #[test]
    fn random_needs_pread_slower_than_memory() {
        let r = random_reference();
        // The notes' own snippet makes random access fast: its Vec beats pread.
        assert_eq!(verdict(random, &r), Depends);
        let no_vec = Random {
            vec: None,
            ..r.clone()
        };
        assert_eq!(verdict(random, &no_vec), Holds);
        // A Vec that ties with pread does not make it depend.
        let slow_vec = Random {
            vec: Some(Spread::once(600e-9)),
            ..r.clone()
        };
        assert_eq!(verdict(random, &slow_vec), Holds);
        // The tie rule: 1.25× is slower, 1.24× a tie.
        let at = |pread: f64, map: f64| Random {
            pread: Spread::once(pread),
            map: Spread::once(map),
            vec: None,
            ..r.clone()
        };
        assert_eq!(verdict(random, &at(5.0, 4.0)), Holds);
        assert_eq!(verdict(random, &at(4.96, 4.0)), Fails);
        assert!(random(&at(4.96, 4.0)).headline.contains("about as fast"));
        assert_eq!(verdict(random, &at(1.0, 4.0)), Fails);
        // Runs that overlap are a tie, whatever the medians.
        let noisy = Random {
            pread: Spread::of(&[3.0, 9.0, 10.0]),
            ..at(9.0, 4.0)
        };
        assert_eq!(verdict(random, &noisy), Fails);
        let cold = Random {
            cold: Flag(true),
            ..r
        };
        assert_eq!(random(&cold).details.len(), 3);
    }

    #[test]
    fn waste_depends_on_the_ram_and_time_ratios() {
        let r = waste_reference();
        assert_eq!(verdict(waste, &r), Holds);
        // fs::read at twice the map's RAM is waste; just under is not.
        let map = r.map.peak_growth.0;
        let edge = Waste {
            whole: Some(way(2.0 * map, 0.14178)),
            ..r.clone()
        };
        assert_eq!(verdict(waste, &edge), Holds);
        let under = Waste {
            whole: Some(way(2.0 * map - 1.0, 0.14178)),
            ..r.clone()
        };
        assert_eq!(verdict(waste, &under), Fails);
        // A map that is not faster than fs::read: RAM is wasted, time is not.
        let tie = Waste {
            map: way(map, 0.12),
            ..r.clone()
        };
        assert_eq!(verdict(waste, &tie), Depends);
        let slower = Waste {
            map: way(map, 0.2),
            ..r.clone()
        };
        assert_eq!(verdict(waste, &slower), Depends);
        // fs::read not tried: its Vec would be the file.
        let skipped = Waste {
            whole: None,
            ..r.clone()
        };
        assert_eq!(verdict(waste, &skipped), Holds);
        assert!(waste(&skipped).headline.contains("not tried"));
        let small = Waste {
            file: Bytes(2.0 * map - 1.0),
            ..skipped
        };
        assert_eq!(verdict(waste, &small), Fails);
        // A map that took less than the slice is measured against the slice.
        let lean_map = Waste {
            map: way(MIB, 0.00145263),
            ..r
        };
        assert_eq!(waste(&lean_map).headline.matches("25.6×").count(), 1);
    }
}

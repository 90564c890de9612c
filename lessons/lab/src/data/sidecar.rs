//! The sidecar `NAME.mmap-lab` beside each data file: mmap-lab's word that it made the
//! file, what it put in it, and a fingerprint of its content.
//!
//! Only a sidecar that parses, says `created_by: mmap-lab` and names its own file vouches
//! for that file: mmap-lab overwrites or deletes nothing else. The fingerprint (a hash of
//! pages sampled across the file) catches a sample damaged in place at the same size, which
//! would otherwise be reused and change a lesson's numbers.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files;

/// The sidecar file's suffix.
pub const SUFFIX: &str = ".mmap-lab";
/// The most a sidecar may hold; anything bigger is not one of ours.
const CAP: u64 = 4096;
/// Pages sampled for the fingerprint.
const SAMPLES: u64 = 64;
const PAGE: u64 = 4096;

/// What a sidecar says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    pub created_by: String,
    /// The data file's name, so a sidecar copied beside another file vouches for nothing.
    /// Sidecars of mmap-lab before fingerprints have none; see [`Sidecar::read`].
    #[serde(default)]
    pub file: String,
    pub size: u64,
    pub content: String,
    /// See [`fingerprint`]; empty while the file is being made.
    #[serde(default)]
    pub fingerprint: String,
    /// The pid of the run a scratch file belongs to: deleted when that run ends (or, after
    /// a `kill -9`, by the next run once no one uses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scratch_of: Option<u32>,
}

/// The sidecar path of data file `file`.
pub fn path_of(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(SUFFIX);
    PathBuf::from(s)
}

impl Sidecar {
    pub fn new(file: &Path, size: u64, content: String) -> Sidecar {
        Sidecar {
            created_by: "mmap-lab".into(),
            file: name_of(file),
            size,
            content,
            fingerprint: String::new(),
            scratch_of: None,
        }
    }

    /// The sidecar of `file`: `Ok(None)` when there is none, `Err` when there is something
    /// by that name that is not a sidecar mmap-lab wrote for this file (garbage, a FIFO, a
    /// link to a device, one written for another file).
    pub fn read(file: &Path) -> io::Result<Option<Sidecar>> {
        let path = path_of(file);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
            Ok(m) if !m.is_file() => return Err(not_ours("not a regular file")),
            Ok(_) => {}
        }
        let text = files::read_text_capped(&path, CAP)?;
        let sidecar: Sidecar = serde_json::from_str(text.trim())
            .map_err(|_| not_ours("not a sidecar mmap-lab wrote"))?;
        if sidecar.created_by != "mmap-lab" {
            return Err(not_ours("not a sidecar mmap-lab wrote"));
        }
        let name = name_of(file);
        // An older mmap-lab named no file; it made names `NAME-SIZE-CONTENT.bin`, so such a
        // sidecar vouches for the file its size and content name. Having no fingerprint,
        // the file is made again at its next use.
        let legacy = sidecar.file.is_empty()
            && name.ends_with(&format!("-{}-{}.bin", sidecar.size, sidecar.content));
        if sidecar.file != name && !legacy {
            return Err(not_ours("written for another file"));
        }
        Ok(Some(sidecar))
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default() + "\n"
    }
}

fn not_ours(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_string())
}

fn name_of(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A fingerprint of `file`'s content: FNV-1a over 64 pages spread evenly across it
/// (the first and the last among them) and its length. Cheap next to any experiment — a
/// quarter of a MiB read at most — and it changes when a sample is zeroed, truncated and
/// regrown, or partly overwritten.
pub fn fingerprint(file: &File) -> io::Result<String> {
    let len = file.metadata()?.len();
    crate::sys::fadvise_random(file);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&len.to_le_bytes());
    let pages = len.div_ceil(PAGE);
    let mut buf = vec![0u8; PAGE as usize];
    let samples = pages.min(SAMPLES);
    for i in 0..samples {
        let page = if samples > 1 {
            i * (pages - 1) / (samples - 1)
        } else {
            0
        };
        let at = page * PAGE;
        let n = (len - at).min(PAGE) as usize;
        super::read_exact_at(file, &mut buf[..n], at)?;
        eat(&buf[..n]);
    }
    Ok(format!("{hash:016x}"))
}

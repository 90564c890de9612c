//! What every whole-file scan of the lessons does with the bytes, whichever way they
//! arrive (a map, `fs::read`, a `read()` loop): the same checksum, so the ways do the same
//! work and must agree, and the one way of filling a buffer with `read()` calls.

use std::fs::File;
use std::io::{self, Read};

// ANCHOR: checksum
/// The wrapping sum of the bytes' little-endian 64-bit words (the tail zero-padded).
/// Cheap enough that a scan runs at memory speed; chunks whose lengths are multiples of 8
/// add up to the whole's.
pub fn checksum(bytes: &[u8]) -> u64 {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    let add = |sum: u64, w: &[u8; 8]| sum.wrapping_add(u64::from_le_bytes(*w));
    words.iter().fold(u64::from_le_bytes(last), add)
}
// ANCHOR_END: checksum

/// Fills `buf` with `read()` calls until it is full or the file ends; returns the bytes
/// read. Every chunk but the last is then a whole buffer.
pub fn fill(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_of_whole_words_add_up_to_the_whole() {
        let bytes: Vec<u8> = (0..1003u32).map(|i| (i * 7) as u8).collect();
        let parts = checksum(&bytes[..512]).wrapping_add(checksum(&bytes[512..]));
        assert_eq!(parts, checksum(&bytes));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, &bytes).unwrap();
        let mut buf = vec![0u8; 4096];
        assert_eq!(fill(&mut File::open(&p).unwrap(), &mut buf).unwrap(), 1003);
    }
}

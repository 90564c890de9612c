//! Byte sizes: `--size 64M`, `10G`, `4KiB` in; `1.5 GiB` out.

use anyhow::{Context, bail};

/// Parses a size such as `4096`, `64K`, `64KiB`, `256M`, `10G` or `1.5G`.
///
/// Suffixes are binary (K = 1024) with or without `i`/`B`; a bare number is bytes.
pub fn parse(text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        bail!("'{text}' is not a size (try 4096, 64K, 256M or 10G)");
    }
    let value: f64 = num
        .parse()
        .with_context(|| format!("'{text}' is not a size (try 4096, 64K, 256M or 10G)"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        other => bail!("'{text}': unknown unit '{other}' (use K, M, G or T)"),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        bail!("'{text}' is too large");
    }
    Ok(bytes.round() as u64)
}

/// Formats a byte count with a binary unit: `512 B`, `64.0 KiB`, `1.50 GiB`.
pub fn fmt(bytes: u64) -> String {
    fmt_f64(bytes as f64)
}

/// Like [`fmt`] for fractional byte counts (means, rates).
pub fn fmt_f64(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes.abs() < 1024.0 {
        return format!("{bytes:.0} B");
    }
    let mut v = bytes / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v.abs() < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{} {unit}", crate::report::sig3(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes() {
        assert_eq!(parse("4096").unwrap(), 4096);
        assert_eq!(parse("64K").unwrap(), 65536);
        assert_eq!(parse("64KiB").unwrap(), 65536);
        assert_eq!(parse("256m").unwrap(), 256 << 20);
        assert_eq!(parse("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse("10 GB").unwrap(), 10 << 30);
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse("").is_err());
        assert!(parse("lots").is_err());
        assert!(parse("12X").is_err());
        assert!(parse("99999999999T").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(fmt(512), "512 B");
        assert_eq!(fmt(64 << 10), "64 KiB");
        assert_eq!(fmt(3 << 29), "1.5 GiB");
        assert_eq!(fmt(256 << 20), "256 MiB");
    }
}

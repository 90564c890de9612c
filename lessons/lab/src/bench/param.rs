//! A benchmark's parameter: its order (numbers numerically) and how it reads for people
//! (byte sizes as `4 KiB`).

use std::cmp::Ordering;

use super::BenchResult;

/// Orders parameters numerically when they are numbers (`4096` before `1048576`), others
/// after them by name.
pub fn param_key(param: Option<&str>) -> Option<(f64, &str)> {
    param.map(|p| (p.parse::<f64>().unwrap_or(f64::INFINITY), p))
}

/// Parameters in suite order, as `just compare` sorts them (numbers numerically).
pub fn param_order(a: Option<&str>, b: Option<&str>) -> Ordering {
    param_key(a)
        .partial_cmp(&param_key(b))
        .unwrap_or(Ordering::Equal)
}

/// A parameter for people: the suite's numeric parameters are byte sizes (`4096` reads
/// `4 KiB`), anything else reads as written.
pub fn fmt_param(param: &str) -> String {
    match param.parse::<u64>() {
        Ok(n) if n >= 1024 => {
            let mut unit = 0;
            let mut v = n;
            while v % 1024 == 0 && v >= 1024 && unit < 4 {
                v /= 1024;
                unit += 1;
            }
            if unit == 0 {
                crate::size::fmt(n)
            } else {
                format!("{v} {}", ["B", "KiB", "MiB", "GiB", "TiB"][unit])
            }
        }
        _ => param.to_string(),
    }
}

/// A benchmark's parameter for people, as `just compare` prints it (`4096` reads `4 KiB`).
pub fn param_label(r: &BenchResult) -> String {
    r.parameter.as_deref().map(fmt_param).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_parameters_print_as_sizes() {
        assert_eq!(fmt_param("4096"), "4 KiB");
        assert_eq!(fmt_param("268435456"), "256 MiB");
        assert_eq!(fmt_param("1000"), "1000");
        assert_eq!(fmt_param("1500"), "1.46 KiB");
        assert_eq!(fmt_param("warm"), "warm");
    }
}

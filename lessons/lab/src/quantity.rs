//! Typed quantities: a number that knows its unit, so it prints itself and records itself
//! as a [`Measurement`] with that unit.
//!
//! A findings struct (see [`crate::findings!`]) is made of these, so a field's unit is stated
//! once, in its type: `Bytes` is printed `1.50 GiB`, `Secs` `2.31 ms`, a `Flag` `yes`/`no`.

use std::fmt;

use crate::findings::{Record, push};
use crate::report::{Measurement, Unit};

/// A number with a unit.
pub trait Quantity: Copy {
    /// The unit it is recorded and printed in.
    const UNIT: Unit;
    /// The plain number, in the unit's base (bytes, seconds, 0..1).
    fn value(self) -> f64;
}

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $unit:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
        pub struct $name(pub f64);

        impl Quantity for $name {
            const UNIT: Unit = $unit;
            fn value(self) -> f64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&Self::UNIT.format(self.0))
            }
        }

        impl Record for $name {
            fn record(&self, name: &str, label: &str, out: &mut Vec<Measurement>) {
                push(out, name, label, self.value(), Self::UNIT);
            }
        }
    };
}

quantity!(
    /// A size in bytes: `64.0 KiB`.
    Bytes,
    Unit::Bytes
);
quantity!(
    /// A duration in seconds: `2.31 ms`.
    Secs,
    Unit::Seconds
);
quantity!(
    /// A share between 0 and 1: `12.5 %`.
    Fraction,
    Unit::Fraction
);
quantity!(
    /// A plain count: `1,024`.
    Count,
    Unit::Count
);
quantity!(
    /// A number of memory pages: `2,048 pages`.
    Pages,
    Unit::Pages
);
quantity!(
    /// Bytes per second: `7.70 GiB/s`.
    Rate,
    Unit::BytesPerSecond
);
quantity!(
    /// A factor such as a speed-up: `3.2×`.
    Ratio,
    Unit::Ratio
);

impl Bytes {
    /// From a whole number of bytes.
    pub fn of(bytes: u64) -> Bytes {
        Bytes(bytes as f64)
    }
}

impl Secs {
    /// From a [`Duration`](std::time::Duration).
    pub fn of(d: std::time::Duration) -> Secs {
        Secs(d.as_secs_f64())
    }
}

impl Count {
    /// From a whole count.
    pub fn of(n: impl TryInto<u64>) -> Count {
        Count(n.try_into().map_or(f64::NAN, |n: u64| n as f64))
    }
}

impl Pages {
    /// From a whole number of pages.
    pub fn of(n: usize) -> Pages {
        Pages(n as f64)
    }
}

impl Rate {
    /// `bytes` moved in `secs`; not finite (and so not recorded) when `secs` is 0.
    pub fn of(bytes: Bytes, secs: Secs) -> Rate {
        Rate(bytes.0 / secs.0)
    }
}

/// Yes or no: an outcome that is not a number (bytes equal, a signal seen). Recorded with
/// the value 1 for yes and 0 for no, printed `yes` / `no`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flag(pub bool);

impl Quantity for Flag {
    const UNIT: Unit = Unit::Flag;
    fn value(self) -> f64 {
        f64::from(u8::from(self.0))
    }
}

impl Record for Flag {
    fn record(&self, name: &str, label: &str, out: &mut Vec<Measurement>) {
        push(out, name, label, self.value(), Self::UNIT);
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "yes" } else { "no" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_print_with_their_units() {
        assert_eq!(Bytes::of(3 << 29).to_string(), "1.5 GiB");
        assert_eq!(Secs(0.00231).to_string(), "2.31 ms");
        assert_eq!(Fraction(0.125).to_string(), "12.5 %");
        assert_eq!(Count::of(1024u32).to_string(), "1,024");
        assert_eq!(Pages::of(2048).to_string(), "2,048 pages");
        assert_eq!(Ratio(3.2).to_string(), "3.2×");
        assert_eq!(Flag(true).to_string(), "yes");
        assert_eq!(Flag(false).value(), 0.0);
        assert_eq!(
            Rate::of(Bytes::of(2 << 30), Secs(1.0)).to_string(),
            "2 GiB/s"
        );
    }
}

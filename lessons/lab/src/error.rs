//! The two kinds of trouble a lesson reports other than a failure: input the user got wrong
//! (exit 2), and a measurement this run cannot make honestly (a claim NOT MEASURED).

use std::fmt;

/// An error caused by what the user asked for (a bad flag value, a size that does not
/// fit): printed as one line, exit code 2. Other errors exit with 1.
#[derive(Debug)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// A measurement that cannot be made honestly in this run, and why: the file cannot be made
/// cold (tmpfs, another process maps it), the platform has no such counter. An experiment
/// returns it as an error; [`Lab::check_if`](crate::Lab::check_if) turns it into a NOT
/// MEASURED verdict with this reason as the headline, and the lesson goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMeasured(pub String);

impl fmt::Display for NotMeasured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotMeasured {}

/// An error that says a measurement was not possible here.
pub fn not_measured(why: impl Into<String>) -> anyhow::Error {
    NotMeasured(why.into()).into()
}

/// An experiment's result that several claims use: its value, or why it could not be
/// measured in this run, kept so that each claim that needs it can say so.
pub type Measured<T> = Result<T, NotMeasured>;

/// Runs an experiment: a [`NotMeasured`] error becomes the kept reason, any other error
/// fails the run.
pub fn attempt<T>(experiment: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<Measured<T>> {
    match experiment() {
        Ok(v) => Ok(Ok(v)),
        Err(e) => e.downcast::<NotMeasured>().map(Err),
    }
}

/// What a claim needs from an experiment: its value, or a [`NotMeasured`] error with the
/// experiment's reason (for `Lab::check_if`).
pub fn need<T>(result: &Measured<T>) -> anyhow::Result<&T> {
    result.as_ref().map_err(|nm| nm.clone().into())
}

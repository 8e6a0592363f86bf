//! How refused offset commits are reported. A refused commit is sent again with every commit
//! round (50 ms by default), so a refusal that persists (a missing ACL, a coordinator that
//! stays away) would be reported twenty times a second. It is reported when it starts, then
//! at most once per [`REPORT_EVERY`], saying how many refusals went unreported in between.

use std::time::{Duration, Instant};

/// At most one report of refused commits per this long while they keep being refused.
pub const REPORT_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct RefusalReports {
    last_report: Option<Instant>,
    unreported: usize,
}

impl RefusalReports {
    /// A commit round was refused: the message to report now, or `None` while the last report
    /// is recent (the refusal is counted for the next one).
    pub fn refused(&mut self, message: String, now: Instant) -> Option<String> {
        if self
            .last_report
            .is_some_and(|at| now.duration_since(at) < REPORT_EVERY)
        {
            self.unreported += 1;
            return None;
        }
        let message = match self.unreported {
            0 => message,
            n => format!("{message} (and {n} more refused commit rounds since the last report)"),
        };
        self.last_report = Some(now);
        self.unreported = 0;
        Some(message)
    }

    /// A commit round went through: the next refusal is news again.
    pub fn accepted(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persisting_refusal_is_reported_once_per_interval_with_a_count() {
        let start = Instant::now();
        let mut reports = RefusalReports::default();
        assert_eq!(reports.refused("a".into(), start), Some("a".into()));
        for round in 1..=3 {
            let now = start + Duration::from_millis(50 * round);
            assert_eq!(reports.refused("a".into(), now), None);
        }
        assert_eq!(
            reports.refused("b".into(), start + REPORT_EVERY),
            Some("b (and 3 more refused commit rounds since the last report)".into())
        );
        assert_eq!(reports.refused("b".into(), start + REPORT_EVERY), None);
    }

    #[test]
    fn a_refusal_after_an_accepted_commit_is_reported_at_once() {
        let start = Instant::now();
        let mut reports = RefusalReports::default();
        assert!(reports.refused("a".into(), start).is_some());
        assert!(reports.refused("a".into(), start).is_none());
        reports.accepted();
        assert_eq!(reports.refused("a".into(), start), Some("a".into()));
    }
}

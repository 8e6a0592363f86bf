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

/// Consumer errors while the broker is away (librdkafka reports every failed connection
/// attempt: ~19 a second): the first is reported, then a summary at most every
/// [`REPORT_EVERY`] while they last, and one line when the broker answers again.
#[derive(Debug, Default)]
pub struct OutageReports {
    since: Option<Instant>,
    last_report: Option<Instant>,
    unreported: usize,
    errors: usize,
}

impl OutageReports {
    /// A consumer error: the message to report now, if any.
    pub fn error(&mut self, message: String, now: Instant) -> Option<String> {
        self.errors += 1;
        let Some(since) = self.since else {
            self.since = Some(now);
            self.last_report = Some(now);
            return Some(message);
        };
        if self
            .last_report
            .is_some_and(|at| now.duration_since(at) < REPORT_EVERY)
        {
            self.unreported += 1;
            return None;
        }
        let summary = format!(
            "{message} (failing for {:.0} s; {} more errors since the last report)",
            now.duration_since(since).as_secs_f64(),
            self.unreported
        );
        self.last_report = Some(now);
        self.unreported = 0;
        Some(summary)
    }

    /// The broker answered (a message, an accepted commit): the line saying the outage is
    /// over, once.
    pub fn answered(&mut self, now: Instant) -> Option<String> {
        let since = self.since?;
        let line = format!(
            "the broker answers again after {:.1} s ({} consumer errors meanwhile)",
            now.duration_since(since).as_secs_f64(),
            self.errors
        );
        *self = Self::default();
        Some(line)
    }

    pub fn is_failing(&self) -> bool {
        self.since.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_reported_first_then_summarised_then_ended_once() {
        let start = Instant::now();
        let mut outage = OutageReports::default();
        assert_eq!(outage.answered(start), None, "no outage, nothing to say");
        assert_eq!(outage.error("down".into(), start), Some("down".into()));
        let at = |ms| start + Duration::from_millis(ms);
        let reported: Vec<_> = (1..=190)
            .filter_map(|i| outage.error("down".into(), at(i * 53)))
            .collect();
        assert_eq!(
            reported,
            vec!["down (failing for 10 s; 188 more errors since the last report)".to_string()],
            "19 a second for 10 s: one summary"
        );
        assert_eq!(
            outage.answered(at(12_000)),
            Some("the broker answers again after 12.0 s (191 consumer errors meanwhile)".into())
        );
        assert_eq!(outage.answered(at(12_001)), None, "said once");
        assert_eq!(outage.error("down".into(), at(13_000)), Some("down".into()));
    }

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

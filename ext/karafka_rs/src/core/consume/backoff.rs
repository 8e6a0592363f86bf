//! Karafka's pause policy for a failing partition: `pause.timeout`, doubled per consecutive
//! failure when `pause.with_exponential_backoff`, capped at `pause.max_timeout`.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub timeout: Duration,
    pub max_timeout: Duration,
    pub exponential: bool,
}

impl Default for Backoff {
    /// Karafka's defaults: 1 s, doubling, at most 30 s.
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(1_000),
            max_timeout: Duration::from_millis(30_000),
            exponential: true,
        }
    }
}

impl Backoff {
    /// Pause before retrying after the `failures`-th consecutive failure (1-based).
    pub fn pause_for(&self, failures: u32) -> Duration {
        if !self.exponential || failures <= 1 {
            return self.timeout.min(self.max_timeout);
        }
        let factor = 2u32.saturating_pow(failures - 1);
        self.timeout
            .checked_mul(factor)
            .unwrap_or(self.max_timeout)
            .min(self.max_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_per_failure_up_to_the_cap() {
        let b = Backoff::default();
        let pauses: Vec<_> = (1..=7).map(|n| b.pause_for(n)).collect();
        assert_eq!(
            pauses,
            vec![
                ms(1000),
                ms(2000),
                ms(4000),
                ms(8000),
                ms(16000),
                ms(30000),
                ms(30000)
            ]
        );
    }

    #[test]
    fn constant_without_exponential_backoff() {
        let b = Backoff {
            exponential: false,
            ..Backoff::default()
        };
        assert_eq!(b.pause_for(5), ms(1000));
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        assert_eq!(Backoff::default().pause_for(u32::MAX), ms(30000));
    }
}

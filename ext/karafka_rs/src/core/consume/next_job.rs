//! Which job runs next, and which offsets may be committed.
//!
//! The scheduler is plain data behind the engine's mutex; it never blocks and never talks to
//! Kafka. The consumer loop feeds it fetched messages (as much as [`Scheduler::room`] allows)
//! and commits the offsets it hands out; workers take jobs from it and report outcomes.
//!
//! Invariants:
//! - at most one job per partition runs at a time, and a partition's jobs run in offset order;
//! - a partition's offset is only committed up to the job after the last one that succeeded;
//! - after a failure the same job is retried first, after a back-off, and nothing later in that
//!   partition runs meanwhile; other partitions keep going;
//! - a revoked partition's buffered jobs are dropped and its running job's outcome is ignored
//!   (its generation no longer matches), so nothing is committed for a partition we lost;
//! - once stopping, no new job is handed out; once quiet (TSTP) neither, but workers wait for
//!   the stop instead of leaving, and messages still buffer;
//! - with a dead letter queue, a job that failed more than `max_retries` times is handed back
//!   to its worker for dispatch to the DLQ, its partition still blocked; only after the worker
//!   reports [`Outcome::DeadLettered`] is its offset committed and the next job released;
//!   a job reported as [`Outcome::FailedNoRetry`] is handed back so at its first failure.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::core::consume::backoff::Backoff;
use crate::core::consume::lanes::PartitionLanes;
use crate::core::consume::ownership::Ownership;
use crate::core::job::{Completion, DeadLetterPolicy, Job, Outcome, Retry, TopicPartition};

/// How often a worker looks again while job starts are held back (see ownership.rs).
const OWNERSHIP_RECHECK: Duration = Duration::from_millis(20);

/// What [`Scheduler::revoke`] leaves to commit before the partitions are handed over.
#[derive(Debug, Default)]
pub struct Revoked {
    pub owed: Vec<(TopicPartition, i64)>,
    /// One "topic/partition offsets a..b (n jobs)" per owed commit, for the report if the
    /// commit fails.
    pub ranges: Vec<String>,
}

/// What a worker gets when it asks for work.
#[derive(Debug)]
pub enum Next {
    Run(Job),
    /// Nothing runnable now; ask again after this long (or when woken). `None`: until woken.
    Wait(Option<Duration>),
    Stopped,
}

#[derive(Debug)]
pub struct Scheduler {
    /// Buffered jobs per partition; the consumer loop takes no more than this.
    max_buffered: usize,
    /// How far virtual partitions' lanes may run ahead of their commit point (offsets).
    run_ahead: usize,
    backoff: Backoff,
    dead_letter: FxHashMap<String, DeadLetterPolicy>,
    /// Topics with virtual partitions: their lane count.
    virtual_lanes: FxHashMap<String, usize>,
    /// Looked up several times per job: FxHash, not SipHash (ext/karafka_rs/Cargo.toml says why).
    partitions: FxHashMap<TopicPartition, PartitionLanes>,
    ready: VecDeque<(TopicPartition, usize)>,
    delayed: Vec<(Instant, TopicPartition)>,
    next_generation: u64,
    running: usize,
    stopping: bool,
    /// Quiet (TSTP): no new job starts until the stop, but the group keeps its partitions.
    quiet: bool,
    pending_commits: FxHashMap<TopicPartition, i64>,
    /// A full partition drained to half: the consumer loop should take messages again.
    refill: bool,
    /// Finished jobs whose offsets will not be committed, for the consumer loop to report.
    abandoned: Vec<String>,
    /// Whether the group may have given our partitions away (no job starts then).
    pub(crate) ownership: Ownership,
    /// Partitions are being handed over: completions wake the consumer loop (rebalance.rs).
    handing_over: bool,
}

impl Scheduler {
    pub fn new(max_buffered: usize, backoff: Backoff) -> Self {
        Self {
            max_buffered: max_buffered.max(1),
            run_ahead: (max_buffered / 10).max(1),
            backoff,
            dead_letter: FxHashMap::default(),
            virtual_lanes: FxHashMap::default(),
            partitions: FxHashMap::default(),
            ready: VecDeque::new(),
            delayed: Vec::new(),
            next_generation: 1,
            running: 0,
            stopping: false,
            quiet: false,
            pending_commits: FxHashMap::default(),
            refill: false,
            abandoned: Vec::new(),
            ownership: Ownership::new(Duration::from_secs(3600)),
            handing_over: false,
        }
    }

    /// Routes `topic`'s jobs that keep failing to a dead letter queue.
    pub fn set_dead_letter(&mut self, topic: &str, policy: DeadLetterPolicy) {
        self.dead_letter.insert(topic.to_string(), policy);
    }

    /// Lets virtual partitions' lanes start jobs up to `offsets` above the commit point (for
    /// partitions assigned later): what a kill -9 may run again beyond the last commit round.
    pub fn set_run_ahead(&mut self, offsets: usize) {
        self.run_ahead = offsets.max(1);
    }

    /// Gives `topic`'s partitions `lanes` virtual partitions (for partitions assigned later).
    pub fn set_virtual_partitions(&mut self, topic: &str, lanes: usize) {
        self.virtual_lanes.insert(topic.to_string(), lanes.max(1));
    }

    pub fn assign(&mut self, tps: impl IntoIterator<Item = TopicPartition>) {
        for tp in tps {
            let generation = self.next_generation;
            self.next_generation += 1;
            let lanes = self.virtual_lanes.get(&*tp.topic).copied().unwrap_or(1);
            self.partitions
                .insert(tp, PartitionLanes::new(generation, lanes, self.run_ahead));
        }
    }

    /// Forgets the partitions. Returns the commits still owed for them, which the caller
    /// commits before the partitions are handed over: what is pending, or the commit point
    /// when the broker has not confirmed it - an async commit still in flight may yet be
    /// refused, and its answer would find the partition gone.
    pub fn revoke(&mut self, tps: &[TopicPartition]) -> Revoked {
        self.handing_over = false;
        let mut revoked = Revoked::default();
        for tp in tps {
            let state = self.partitions.remove(tp);
            let pending = self.pending_commits.remove(tp);
            // Always the commit point, even when the broker confirmed it: a broker that
            // restarts can lose commits it acknowledged (an unclean recovery after kill -9).
            let unconfirmed = state
                .as_ref()
                .filter(|s| s.has_finished_jobs())
                .map(PartitionLanes::commit_offset);
            let Some(offset) = pending.max(unconfirmed) else {
                continue;
            };
            revoked.owed.push((tp.clone(), offset));
            revoked.ranges.push(match &state {
                Some(s) => s.describe_up_to(&tp.topic, tp.partition, offset),
                None => format!("{}/{} offsets below {offset}", tp.topic, tp.partition),
            });
        }
        revoked
    }

    /// A revocation of `tps` is coming (rebalance.rs): none of their jobs starts from now on,
    /// and the running ones finish and are recorded as usual, so [`Scheduler::revoke`] can
    /// commit them before the partitions move.
    pub fn hand_over(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            if let Some(state) = self.partitions.get_mut(tp) {
                state.handing_over = true;
                self.handing_over = true;
            }
        }
    }

    /// Whether a revocation waits for running jobs (see [`Scheduler::hand_over`]).
    pub fn is_handing_over(&self) -> bool {
        self.handing_over
    }

    /// Where the jobs of `tps` that run now are, as [`Scheduler::running_jobs`] names them.
    pub fn running_in(&self, tps: &[TopicPartition]) -> Vec<String> {
        tps.iter()
            .filter_map(|tp| Some((tp, self.partitions.get(tp)?)))
            .flat_map(|(tp, s)| {
                s.running_offsets()
                    .into_iter()
                    .map(move |offset| format!("{}/{}/{offset}", tp.topic, tp.partition))
            })
            .collect()
    }

    /// Sends every partition's commit point again with the next commit (what the broker has
    /// acknowledged it may still lose, see [`Scheduler::revoke`]).
    pub fn refresh_commits(&mut self) {
        for (tp, point) in self.commit_points() {
            let pending = self.pending_commits.entry(tp).or_insert(point);
            *pending = (*pending).max(point);
        }
    }

    /// The broker accepted these offsets.
    pub fn committed(&mut self, commits: &[(TopicPartition, i64)]) {
        for (tp, offset) in commits {
            if let Some(state) = self.partitions.get_mut(tp) {
                state.confirmed = state.confirmed.max(Some(*offset));
            }
        }
    }

    /// "t/0 offsets 10..19 (10 jobs); t/1 ...": what committing `commits` would confirm.
    pub fn describe(&self, commits: &[(TopicPartition, i64)]) -> String {
        let ranges: Vec<String> = commits
            .iter()
            .map(|(tp, offset)| match self.partitions.get(tp) {
                Some(s) => s.describe_up_to(&tp.topic, tp.partition, *offset),
                None => format!("{}/{} offsets below {offset}", tp.topic, tp.partition),
            })
            .collect();
        ranges.join("; ")
    }

    /// Reports of finished jobs whose offsets will never be committed.
    pub fn take_abandoned(&mut self) -> Vec<String> {
        std::mem::take(&mut self.abandoned)
    }

    /// Records an offset to commit for a partition that does not run jobs (a schedules
    /// partition), if we still own it.
    pub fn record_commit(&mut self, tp: TopicPartition, offset: i64) {
        if self.partitions.contains_key(&tp) {
            self.pending_commits.insert(tp, offset);
        }
    }

    /// A commit the broker refused goes out again with the next one, unless the partition was
    /// revoked or a later offset is pending by then. Without this, a refused commit of a
    /// partition's last jobs was never retried: even the shutdown commit left them out, and
    /// the next owner ran them again.
    pub fn retry_commit(&mut self, tp: TopicPartition, offset: i64) {
        if !self.partitions.contains_key(&tp) {
            return;
        }
        let pending = self.pending_commits.entry(tp).or_insert(offset);
        *pending = (*pending).max(offset);
    }

    /// Buffers a fetched message. Returns whether it became runnable work (a waiting worker
    /// should be woken). Messages of partitions we do not own, or fetched while stopping, are
    /// dropped: they are not committed, so they will be fetched again.
    pub fn push(&mut self, mut job: Job) -> bool {
        if self.stopping {
            return false;
        }
        let max_buffered = self.max_buffered;
        let Some(state) = self.partitions.get_mut(&job.tp) else {
            return false;
        };
        job.generation = state.generation;
        let tp = job.tp.clone();
        let lane = state.add(job);
        if state.queued() >= max_buffered {
            state.full = true;
        }
        self.make_ready(&tp, lane)
    }

    /// How many more messages of `tp` the consumer loop may hand over now.
    pub fn room(&self, tp: &TopicPartition) -> usize {
        self.partitions
            .get(tp)
            .filter(|s| !s.full)
            .map_or(0, |s| self.max_buffered.saturating_sub(s.queued()))
    }

    /// Whether a full partition has drained to half since the last call.
    pub fn take_refill(&mut self) -> bool {
        std::mem::take(&mut self.refill)
    }

    /// Hands out the next runnable job, moving back-off pauses that are due to ready first.
    pub fn next_job(&mut self, now: Instant) -> Next {
        if !self.ownership.may_start(now) {
            return Next::Wait(Some(OWNERSHIP_RECHECK));
        }
        if self.stopping || self.quiet {
            return self.next_gap_job();
        }
        self.release_due(now);
        while let Some((tp, lane)) = self.ready.pop_front() {
            let Some(state) = self.partitions.get_mut(&tp) else {
                continue;
            };
            if !state.lanes[lane].in_ready {
                continue;
            }
            let Some(best) = state.lowest_ready_lane() else {
                state.lanes[lane].in_ready = false;
                continue;
            };
            if best != lane {
                // `lane` keeps its place; `best`'s own entry further back becomes stale.
                self.ready.push_front((tp.clone(), lane));
            }
            state.lanes[best].in_ready = false;
            let job = state.start(best).expect("can_start checked the queue");
            if state.full && state.queued() <= self.max_buffered / 2 {
                state.full = false;
                self.refill = true;
            }
            self.running += 1;
            return Next::Run(job);
        }
        Next::Wait(
            self.delayed
                .iter()
                .map(|(at, _)| at.saturating_duration_since(now))
                .min(),
        )
    }

    /// Whether a job could be handed out now, without taking it (stale ready entries are
    /// dropped on the way). Lets a worker wait without the GVL and claim the job only once
    /// it holds the GVL again, so no job sits claimed by a thread that cannot run it yet.
    pub fn poll_work(&mut self, now: Instant) -> Next {
        if self.stopping || self.quiet {
            let ready = self.partitions.values().any(|s| s.gap_lane().is_some());
            let waiting = self.partitions.values().any(PartitionLanes::has_gaps);
            return match (ready, waiting) {
                (true, _) if !self.ownership.may_start(now) => Next::Wait(Some(OWNERSHIP_RECHECK)),
                (true, _) => Next::Wait(Some(std::time::Duration::ZERO)),
                (false, true) => Next::Wait(None),
                (false, false) if self.stopping => Next::Stopped,
                (false, false) => Next::Wait(None), // quiet: the workers wait for the stop
            };
        }
        if !self.ownership.may_start(now) {
            return Next::Wait(Some(OWNERSHIP_RECHECK));
        }
        self.release_due(now);
        while let Some((tp, lane)) = self.ready.front() {
            let startable = self
                .partitions
                .get(tp)
                .is_some_and(|s| s.lanes[*lane].in_ready && s.can_start(*lane));
            if startable {
                return Next::Wait(Some(std::time::Duration::ZERO));
            }
            let (tp, lane) = self.ready.pop_front().expect("peeked");
            if let Some(state) = self.partitions.get_mut(&tp) {
                state.lanes[lane].in_ready = false;
            }
        }
        Next::Wait(
            self.delayed
                .iter()
                .map(|(at, _)| at.saturating_duration_since(now))
                .min(),
        )
    }

    /// Stopping: no new work, except that virtual partitions fill the gaps below the highest
    /// job they started, so that everything they started gets committed.
    fn next_gap_job(&mut self) -> Next {
        let mut gaps_left = false;
        for state in self.partitions.values_mut() {
            if let Some(lane) = state.gap_lane() {
                self.running += 1;
                return Next::Run(state.start(lane).expect("gap_lane checked the queue"));
            }
            gaps_left |= state.has_gaps();
        }
        if gaps_left {
            Next::Wait(None)
        } else {
            Next::Stopped
        }
    }

    /// Records a job's outcome. A failure collapses its partition and retries the job first,
    /// after the back-off, unless its dead letter budget is spent.
    pub fn complete(&mut self, mut job: Job, outcome: Outcome, now: Instant) -> Completion {
        let current = match self.partitions.get_mut(&job.tp) {
            Some(state) if state.generation == job.generation => state,
            // Revoked (or revoked and assigned again) while running: not ours to commit.
            _ => {
                if matches!(outcome, Outcome::Success | Outcome::DeadLettered) {
                    self.abandoned.push(format!(
                        "{}/{} offset {} finished after its partition was revoked: not \
                         committed, its next owner runs it again",
                        job.tp.topic, job.tp.partition, job.offset
                    ));
                }
                self.running = self.running.saturating_sub(1);
                return Completion::Done;
            }
        };
        let tp = job.tp.clone();
        let policy = self.dead_letter.get(&*tp.topic);
        if matches!(outcome, Outcome::Failure | Outcome::FailedNoRetry) {
            current.failures += 1;
            job.attempt += 1;
            let no_retry = outcome == Outcome::FailedNoRetry;
            // An independent budget is the job's own count: the partition's is reset by any
            // success, and in a virtual partition a sibling lane's job that was running when
            // this one failed may succeed after it (a third run with max_retries 1, seen).
            let spent = |p: &DeadLetterPolicy| {
                if p.independent {
                    job.attempt
                } else {
                    current.failures
                }
            };
            if let Some(policy) = policy.filter(|p| no_retry || spent(p) > p.max_retries) {
                let attempts = spent(policy);
                // Its lane stays busy (and the partition's commit point waits) until the
                // worker reports the dispatch.
                let topic = policy.topic.clone();
                return Completion::DeadLetter {
                    job,
                    topic,
                    attempts,
                };
            }
        }
        current.finish(&job);
        self.running = self.running.saturating_sub(1);
        let completion = match outcome {
            Outcome::Success | Outcome::DeadLettered => {
                let independent = policy.is_none_or(|p| p.independent);
                if independent || outcome == Outcome::DeadLettered || current.queued() == 0 {
                    current.failures = 0;
                }
                let commit = current.done(job.offset);
                self.pending_commits.insert(tp.clone(), commit);
                Completion::Done
            }
            Outcome::Abandoned => {
                current.requeue(job);
                Completion::Done
            }
            Outcome::Failure | Outcome::FailedNoRetry | Outcome::DeadLetterFailed => {
                let pause = self.backoff.pause_for(current.failures.max(1));
                let retry_at = now + pause;
                current.retry_at = Some(retry_at);
                let failures = current.failures;
                current.collapse(job);
                self.delayed.push((retry_at, tp.clone()));
                Completion::Retry(Retry { failures, pause })
            }
        };
        self.make_partition_ready(&tp);
        completion
    }

    /// Takes the offsets to commit: per partition, the offset after its last finished job.
    pub fn take_commits(&mut self) -> Vec<(TopicPartition, i64)> {
        let mut commits: Vec<_> = self.pending_commits.drain().collect();
        commits.sort();
        commits
    }

    /// The commit point of every owned partition that has fetched jobs (what an ownership
    /// probe commits: the next regular commit would send the same).
    pub fn commit_points(&self) -> Vec<(TopicPartition, i64)> {
        let mut points: Vec<_> = self
            .partitions
            .iter()
            .filter(|(_, s)| s.has_seen_jobs())
            .map(|(tp, s)| (tp.clone(), s.commit_offset()))
            .collect();
        points.sort();
        points
    }

    /// Where the running jobs are, as "topic/partition/offset" (a job's `provider_job_id`),
    /// in order.
    pub fn running_jobs(&self) -> Vec<String> {
        let mut tps: Vec<_> = self.partitions.keys().cloned().collect();
        tps.sort();
        self.running_in(&tps)
    }

    pub fn has_pending_commits(&self) -> bool {
        !self.pending_commits.is_empty()
    }

    /// From now on no job is handed out; running ones may still complete.
    pub fn stop(&mut self) {
        self.stopping = true;
    }

    /// From now on no job is handed out (but the gaps a virtual partition left below what it
    /// started), running ones complete and are committed, and workers wait for [`Self::stop`].
    pub fn quiet(&mut self) {
        self.quiet = true;
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping
    }

    pub fn running(&self) -> usize {
        self.running
    }

    /// Lanes with a job ready to run now (an upper bound: stale entries are skipped).
    pub fn runnable(&self) -> usize {
        self.ready.len()
    }

    /// Jobs buffered and not started, over all partitions.
    pub fn buffered(&self) -> usize {
        self.partitions.values().map(PartitionLanes::queued).sum()
    }

    fn release_due(&mut self, now: Instant) {
        if self.delayed.is_empty() {
            return;
        }
        let (due, later): (Vec<_>, Vec<_>) = self.delayed.drain(..).partition(|(at, _)| *at <= now);
        self.delayed = later;
        for (_, tp) in due {
            if let Some(state) = self.partitions.get_mut(&tp) {
                if state.retry_at.is_some_and(|at| at <= now) {
                    state.retry_at = None;
                }
            }
            self.make_partition_ready(&tp);
        }
    }

    fn make_partition_ready(&mut self, tp: &TopicPartition) {
        let lanes = self.partitions.get(tp).map_or(0, |s| s.lanes.len());
        for lane in 0..lanes {
            self.make_ready(tp, lane);
        }
    }

    fn make_ready(&mut self, tp: &TopicPartition, lane: usize) -> bool {
        let Some(state) = self.partitions.get_mut(tp) else {
            return false;
        };
        let runnable = !state.lanes[lane].in_ready && state.can_start(lane);
        if runnable {
            state.lanes[lane].in_ready = true;
            self.ready.push_back((tp.clone(), lane));
        }
        runnable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("jobs", p)
    }

    fn job(p: i32, offset: i64) -> Job {
        Job::new(tp(p), offset, format!("{p}/{offset}").into_bytes())
    }

    fn scheduler() -> Scheduler {
        let mut s = Scheduler::new(100, Backoff::default());
        s.assign([tp(0), tp(1)]);
        s
    }

    #[test]
    fn a_refused_commit_is_pending_again_unless_superseded_or_revoked() {
        let mut s = scheduler();
        s.record_commit(tp(0), 5);
        assert_eq!(s.take_commits(), vec![(tp(0), 5)]);

        s.retry_commit(tp(0), 5);
        assert_eq!(s.take_commits(), vec![(tp(0), 5)]);

        s.record_commit(tp(0), 9);
        s.retry_commit(tp(0), 5);
        assert_eq!(s.take_commits(), vec![(tp(0), 9)], "the later offset wins");

        let _ = s.revoke(&[tp(1)]);
        s.retry_commit(tp(1), 3);
        assert!(
            !s.has_pending_commits(),
            "a revoked partition is not committed"
        );
    }

    fn retry_of(completion: Completion) -> Retry {
        match completion {
            Completion::Retry(retry) => retry,
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    fn dead_letter_policy(max_retries: u32, independent: bool) -> DeadLetterPolicy {
        DeadLetterPolicy {
            topic: Some("dlq".into()),
            max_retries,
            independent,
        }
    }

    fn run(s: &mut Scheduler, now: Instant) -> Job {
        match s.next_job(now) {
            Next::Run(job) => job,
            other => panic!("expected a job, got {other:?}"),
        }
    }

    #[test]
    fn running_jobs_are_named_by_where_they_are_stored() {
        let mut s = scheduler();
        let now = Instant::now();
        for offset in 0..3 {
            s.push(job(0, offset));
        }
        s.push(job(1, 7));
        let first = run(&mut s, now);
        let _second = run(&mut s, now);
        assert_eq!(s.running_jobs(), vec!["jobs/0/0", "jobs/1/7"]);
        let _ = s.complete(first, Outcome::Success, now);
        assert_eq!(
            s.running_jobs(),
            vec!["jobs/1/7"],
            "a finished job is not running"
        );
    }

    #[test]
    fn a_partition_being_handed_over_starts_nothing_and_commits_what_finishes() {
        let mut s = scheduler();
        let now = Instant::now();
        for offset in 0..3 {
            s.push(job(0, offset));
        }
        s.push(job(1, 0));
        let running = run(&mut s, now);
        assert_eq!(running.tp, tp(0));
        s.hand_over(&[tp(0)]);
        assert!(s.is_handing_over());
        assert_eq!(s.running_in(&[tp(0)]), vec!["jobs/0/0"]);
        assert_eq!(
            run(&mut s, now).tp,
            tp(1),
            "only the partition kept starts jobs"
        );
        assert!(
            matches!(s.next_job(now), Next::Wait(_)),
            "jobs/0/1 waits for the new owner"
        );

        let _ = s.complete(running, Outcome::Success, now);
        assert!(s.running_in(&[tp(0)]).is_empty());
        let revoked = s.revoke(&[tp(0)]);
        assert_eq!(
            revoked.owed,
            vec![(tp(0), 1)],
            "the finished job is committed on revoke"
        );
        assert!(!s.is_handing_over());
    }

    #[test]
    fn one_job_per_partition_at_a_time_in_offset_order() {
        let mut s = scheduler();
        let now = Instant::now();
        for offset in 0..3 {
            s.push(job(0, offset));
        }
        let first = run(&mut s, now);
        assert_eq!(first.offset, 0);
        assert!(
            matches!(s.next_job(now), Next::Wait(None)),
            "partition 0 is busy"
        );
        s.complete(first, Outcome::Success, now);
        assert_eq!(run(&mut s, now).offset, 1);
    }

    #[test]
    fn partitions_run_in_parallel() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 0));
        s.push(job(1, 0));
        let a = run(&mut s, now);
        let b = run(&mut s, now);
        assert_ne!(a.tp, b.tp);
        assert_eq!(s.running(), 2);
    }

    #[test]
    fn commits_the_offset_after_the_last_success() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 7));
        s.push(job(0, 8));
        let j = run(&mut s, now);
        s.complete(j, Outcome::Success, now);
        let j = run(&mut s, now);
        s.complete(j, Outcome::Success, now);
        assert_eq!(s.take_commits(), vec![(tp(0), 9)]);
        assert!(s.take_commits().is_empty());
    }

    #[test]
    fn failure_retries_the_same_job_after_backoff_and_blocks_its_partition_only() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 0));
        s.push(job(0, 1));
        s.push(job(1, 0));
        let failing = run(&mut s, now);
        let retry = retry_of(s.complete(failing, Outcome::Failure, now));
        assert_eq!(
            retry,
            Retry {
                failures: 1,
                pause: Duration::from_secs(1)
            }
        );
        assert!(
            s.take_commits().is_empty(),
            "nothing committed for a failure"
        );

        let other = run(&mut s, now);
        assert_eq!(other.tp, tp(1), "other partitions keep going");
        assert!(matches!(s.next_job(now), Next::Wait(Some(d)) if d == Duration::from_secs(1)));

        let later = now + Duration::from_secs(1);
        let retried = run(&mut s, later);
        assert_eq!(
            (retried.tp.partition, retried.offset, retried.attempt),
            (0, 0, 1)
        );
        let retry = retry_of(s.complete(retried, Outcome::Failure, later));
        assert_eq!(retry.pause, Duration::from_secs(2), "back-off grows");
    }

    #[test]
    fn revoked_partition_drops_buffer_and_ignores_running_outcome() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 0));
        s.push(job(0, 1));
        let running = run(&mut s, now);
        let owed = s.revoke(&[tp(0)]).owed;
        assert!(owed.is_empty());
        s.complete(running, Outcome::Success, now);
        assert!(
            s.take_commits().is_empty(),
            "no commit for a partition we lost"
        );
        assert!(
            matches!(s.next_job(now), Next::Wait(None)),
            "buffered jobs dropped"
        );
        assert!(
            !s.push(job(0, 2)),
            "messages of unowned partitions are ignored"
        );
    }

    #[test]
    fn reassigned_partition_ignores_the_old_generation() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 0));
        let old = run(&mut s, now);
        let _ = s.revoke(&[tp(0)]);
        s.assign([tp(0)]);
        s.complete(old, Outcome::Success, now);
        assert!(s.take_commits().is_empty());
        s.push(job(0, 0));
        assert_eq!(run(&mut s, now).offset, 0);
    }

    #[test]
    fn revoke_returns_commits_owed() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 4));
        let j = run(&mut s, now);
        s.complete(j, Outcome::Success, now);
        assert_eq!(s.revoke(&[tp(0)]).owed, vec![(tp(0), 5)]);
    }

    #[test]
    fn revoke_owes_what_an_async_commit_in_flight_took_until_the_broker_confirms_it() {
        let mut s = scheduler();
        let now = Instant::now();
        for offset in 100..110 {
            s.push(job(0, offset));
            let j = run(&mut s, now);
            s.complete(j, Outcome::Success, now);
        }
        assert_eq!(s.take_commits(), vec![(tp(0), 110)], "sent asynchronously");
        // Revoked before the answer came: that commit may still be refused.
        let revoked = s.revoke(&[tp(0)]);
        assert_eq!(revoked.owed, vec![(tp(0), 110)]);
        assert_eq!(revoked.ranges, vec!["jobs/0 offsets 100..109 (10 jobs)"]);

        s.assign([tp(1)]);
        s.push(job(1, 7));
        let j = run(&mut s, now);
        s.complete(j, Outcome::Success, now);
        let commits = s.take_commits();
        s.committed(&commits);
        assert_eq!(
            s.revoke(&[tp(1)]).owed,
            vec![(tp(1), 8)],
            "confirmed, and sent again: a restarting broker may lose it"
        );
    }

    #[test]
    fn a_job_finishing_after_its_partition_was_revoked_is_reported() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 3));
        let j = run(&mut s, now);
        let _ = s.revoke(&[tp(0)]);
        s.complete(j, Outcome::Success, now);
        let reports = s.take_abandoned();
        assert_eq!(reports.len(), 1);
        assert!(
            reports[0].starts_with("jobs/0 offset 3 finished after"),
            "{reports:?}"
        );
    }

    #[test]
    fn stopping_hands_out_nothing_new_but_lets_running_jobs_finish() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 0));
        s.push(job(0, 1));
        let running = run(&mut s, now);
        s.stop();
        assert!(matches!(s.next_job(now), Next::Stopped));
        s.complete(running, Outcome::Success, now);
        assert_eq!(s.running(), 0);
        assert_eq!(s.take_commits(), vec![(tp(0), 1)]);
    }

    #[test]
    fn quiet_starts_nothing_new_and_keeps_workers_waiting_until_the_stop() {
        let mut s = scheduler();
        let now = Instant::now();
        s.push(job(0, 0));
        s.push(job(0, 1));
        let running = run(&mut s, now);
        s.quiet();
        assert!(!matches!(s.next_job(now), Next::Run(_)));
        s.complete(running, Outcome::Success, now);
        assert_eq!(s.take_commits(), vec![(tp(0), 1)]);
        s.push(job(0, 2));
        assert!(
            !matches!(s.next_job(now), Next::Run(_)),
            "fetched while quiet: buffered, not run"
        );
        assert!(
            matches!(s.poll_work(now), Next::Wait(None)),
            "workers wait, not leave"
        );
        s.stop();
        assert!(matches!(s.poll_work(now), Next::Stopped));
    }

    #[test]
    fn a_full_buffer_takes_nothing_until_drained_to_half() {
        let mut s = Scheduler::new(4, Backoff::default());
        s.assign([tp(0)]);
        let now = Instant::now();
        assert_eq!(s.room(&tp(0)), 4);
        for offset in 0..4 {
            s.push(job(0, offset));
        }
        assert_eq!(s.room(&tp(0)), 0);
        let j = run(&mut s, now);
        s.complete(j, Outcome::Success, now);
        assert_eq!(
            (s.room(&tp(0)), s.take_refill()),
            (0, false),
            "3 left: still full"
        );
        let j = run(&mut s, now);
        assert!(s.take_refill(), "drained to half");
        s.complete(j, Outcome::Success, now);
        assert_eq!(s.room(&tp(0)), 2);
        assert_eq!(s.room(&tp(9)), 0, "not ours");
    }

    #[test]
    fn dead_letters_after_max_retries_then_commits_and_moves_on() {
        let mut s = scheduler();
        s.set_dead_letter("jobs", dead_letter_policy(2, true));
        let mut now = Instant::now();
        s.push(job(0, 0));
        s.push(job(0, 1));
        for _ in 0..2 {
            let j = run(&mut s, now);
            retry_of(s.complete(j, Outcome::Failure, now));
            now += Duration::from_secs(60);
        }
        let j = run(&mut s, now);
        let Completion::DeadLetter {
            job,
            topic,
            attempts,
        } = s.complete(j, Outcome::Failure, now)
        else {
            panic!("expected the DLQ after 2 retries");
        };
        assert_eq!(
            (job.offset, topic.as_deref(), attempts),
            (0, Some("dlq"), 3)
        );
        assert!(
            matches!(s.next_job(now), Next::Wait(_)),
            "partition blocked until dispatched"
        );
        assert!(matches!(
            s.complete(job, Outcome::DeadLettered, now),
            Completion::Done
        ));
        assert_eq!(s.take_commits(), vec![(tp(0), 1)]);
        assert_eq!(run(&mut s, now).offset, 1);
    }

    #[test]
    fn a_failure_without_retry_dead_letters_at_once_or_retries_without_a_dead_letter_queue() {
        let mut s = scheduler();
        s.set_dead_letter("jobs", dead_letter_policy(5, false));
        let now = Instant::now();
        s.push(job(0, 0));
        s.push(job(0, 1));
        let j = run(&mut s, now);
        let Completion::DeadLetter {
            job: dead,
            attempts,
            ..
        } = s.complete(j, Outcome::FailedNoRetry, now)
        else {
            panic!("expected the DLQ at the first failure, retries left or not");
        };
        assert_eq!((dead.offset, dead.attempt, attempts), (0, 1, 1));
        s.complete(dead, Outcome::DeadLettered, now);
        assert_eq!(s.take_commits(), vec![(tp(0), 1)]);
        assert_eq!(run(&mut s, now).offset, 1, "the partition moved on");

        let mut plain = scheduler();
        plain.push(job(0, 0));
        let j = run(&mut plain, now);
        let retry = retry_of(plain.complete(j, Outcome::FailedNoRetry, now));
        assert_eq!(
            retry.failures, 1,
            "no dead letter queue: an ordinary failure"
        );
        let again = run(&mut plain, now + Duration::from_secs(60));
        assert_eq!((again.offset, again.attempt), (0, 1));
    }

    #[test]
    fn independent_budgets_reset_per_job_shared_budgets_do_not() {
        for (independent, expect_dead_letter) in [(true, false), (false, true)] {
            let mut s = scheduler();
            s.set_dead_letter("jobs", dead_letter_policy(1, independent));
            let now = Instant::now();
            s.push(job(0, 0));
            s.push(job(0, 1));
            let j = run(&mut s, now);
            retry_of(s.complete(j, Outcome::Failure, now));
            let later = now + Duration::from_secs(60);
            let j = run(&mut s, later);
            s.complete(j, Outcome::Success, later);
            let j = run(&mut s, later);
            let dead = matches!(
                s.complete(j, Outcome::Failure, later),
                Completion::DeadLetter { .. }
            );
            assert_eq!(dead, expect_dead_letter, "independent: {independent}");
        }
    }

    #[test]
    fn a_sibling_lanes_success_after_a_failure_leaves_the_failed_jobs_budget_alone() {
        let mut s = vp_scheduler(2);
        s.set_dead_letter("jobs", dead_letter_policy(1, true));
        let mut now = Instant::now();
        s.push(vp_job(0, 0));
        s.push(vp_job(1, 1));
        let (doomed, sibling) = (run(&mut s, now), run(&mut s, now));
        retry_of(s.complete(doomed, Outcome::Failure, now));
        // The sibling was running when offset 0 failed, and finishes after it.
        s.complete(sibling, Outcome::Success, now);
        now += Duration::from_secs(60);
        let retried = run(&mut s, now);
        assert_eq!((retried.offset, retried.attempt), (0, 1));
        let Completion::DeadLetter { attempts, .. } = s.complete(retried, Outcome::Failure, now)
        else {
            panic!("max_retries 1: the retry's failure is the last (no third run)");
        };
        assert_eq!(attempts, 2);
    }

    #[test]
    fn abandoned_jobs_run_again_without_counting_a_failure() {
        let mut s = scheduler();
        s.set_dead_letter("jobs", dead_letter_policy(0, true));
        let now = Instant::now();
        s.push(job(0, 0));
        let j = run(&mut s, now);
        assert!(matches!(
            s.complete(j, Outcome::Abandoned, now),
            Completion::Done
        ));
        assert!(s.take_commits().is_empty());
        let again = run(&mut s, now);
        assert_eq!((again.offset, again.attempt), (0, 0));
    }

    fn vp_job(offset: i64, lane: usize) -> Job {
        let mut job = job(0, offset);
        job.lane = lane;
        job
    }

    fn vp_scheduler(lanes: usize) -> Scheduler {
        let mut s = Scheduler::new(100, Backoff::default());
        s.set_virtual_partitions("jobs", lanes);
        s.assign([tp(0)]);
        s
    }

    #[test]
    fn virtual_partitions_run_lanes_in_parallel_and_commit_below_the_lowest_undone() {
        let mut s = vp_scheduler(2);
        let now = Instant::now();
        for (offset, lane) in [(0, 0), (1, 1), (2, 0), (3, 1)] {
            s.push(vp_job(offset, lane));
        }
        let a = run(&mut s, now);
        let b = run(&mut s, now);
        assert_eq!((a.offset, b.offset), (0, 1), "one job per lane at once");
        assert!(matches!(s.next_job(now), Next::Wait(_)));

        s.complete(b, Outcome::Success, now);
        assert_eq!(s.take_commits(), vec![(tp(0), 0)], "offset 0 still running");
        let d = run(&mut s, now);
        assert_eq!(d.offset, 3, "lane 1 goes on");
        s.complete(a, Outcome::Success, now);
        assert_eq!(s.take_commits(), vec![(tp(0), 2)]);
    }

    #[test]
    fn a_virtual_partition_dead_letters_a_failure_without_retry_from_its_lane_without_collapsing() {
        let mut s = vp_scheduler(2);
        s.set_dead_letter("jobs", dead_letter_policy(3, false));
        let now = Instant::now();
        for (offset, lane) in [(0, 0), (1, 1), (2, 0), (3, 1)] {
            s.push(vp_job(offset, lane));
        }
        let a = run(&mut s, now);
        let b = run(&mut s, now);
        let Completion::DeadLetter { job: dead, .. } = s.complete(b, Outcome::FailedNoRetry, now)
        else {
            panic!("expected the DLQ at once");
        };
        s.complete(dead, Outcome::DeadLettered, now);
        assert_eq!(run(&mut s, now).offset, 3, "lane 1 goes on: not collapsed");
        s.complete(a, Outcome::Success, now);
        assert_eq!(s.take_commits(), vec![(tp(0), 2)]);
    }

    #[test]
    fn a_failure_collapses_the_partition_and_retries_in_order_without_rerunning_successes() {
        let mut s = vp_scheduler(2);
        let mut now = Instant::now();
        for (offset, lane) in [(0, 0), (1, 1), (2, 0), (3, 1), (4, 0)] {
            s.push(vp_job(offset, lane));
        }
        let failing = run(&mut s, now); // 0, lane 0
        let ok = run(&mut s, now); // 1, lane 1
        retry_of(s.complete(failing, Outcome::Failure, now));
        s.complete(ok, Outcome::Success, now);
        assert!(
            matches!(s.next_job(now), Next::Wait(Some(_))),
            "collapsed, backing off"
        );

        now += Duration::from_secs(2);
        let mut order = vec![];
        while let Next::Run(j) = s.next_job(now) {
            order.push(j.offset);
            assert!(
                matches!(s.next_job(now), Next::Wait(_)),
                "one at a time while collapsed"
            );
            s.complete(j, Outcome::Success, now);
        }
        assert_eq!(
            order,
            vec![0, 2, 3, 4],
            "in order, offset 1 (succeeded) not again"
        );
        assert_eq!(s.take_commits(), vec![(tp(0), 5)]);

        s.push(vp_job(5, 0));
        s.push(vp_job(6, 1));
        let (a, b) = (run(&mut s, now), run(&mut s, now));
        assert_eq!(
            (a.offset, b.offset),
            (5, 6),
            "lanes parallel again after the collapse"
        );
    }

    #[test]
    fn one_worker_runs_a_virtual_partition_in_offset_order_so_no_lane_starves() {
        let mut s = vp_scheduler(3);
        let now = Instant::now();
        // Lane 1 holds the lowest offsets; first-come-first-served sent the worker to lane 0
        // and lane 2 each round while lane 1's offset 1 held the commit point.
        for (offset, lane) in [(0, 1), (1, 1), (2, 0), (3, 2), (4, 0), (5, 2), (6, 1)] {
            s.push(vp_job(offset, lane));
        }
        let mut order = vec![];
        while let Next::Run(j) = s.next_job(now) {
            order.push(j.offset);
            s.complete(j, Outcome::Success, now);
        }
        assert_eq!(order, (0..7).collect::<Vec<_>>(), "lowest offset first");
        assert_eq!(s.take_commits(), vec![(tp(0), 7)]);
    }

    #[test]
    fn lanes_run_at_most_run_ahead_offsets_beyond_the_commit_point() {
        let mut s = Scheduler::new(1000, Backoff::default());
        s.set_run_ahead(20);
        s.set_virtual_partitions("jobs", 2);
        s.assign([tp(0)]);
        let now = Instant::now();
        s.push(vp_job(0, 0)); // a slow job holding the commit point
        for offset in 1..500 {
            s.push(vp_job(offset, 1));
        }
        let slow = run(&mut s, now);
        assert_eq!(slow.offset, 0);
        let mut ran = 0;
        while let Next::Run(j) = s.next_job(now) {
            ran += 1;
            s.complete(j, Outcome::Success, now);
        }
        assert_eq!(ran, 19, "offsets 1..=19 only, while offset 0 runs");
        assert_eq!(s.take_commits(), vec![(tp(0), 0)]);
        s.complete(slow, Outcome::Success, now);
        assert_eq!(s.take_commits(), vec![(tp(0), 20)]);
        assert_eq!(
            run(&mut s, now).offset,
            20,
            "the lane goes on once the commit point moved"
        );
    }

    #[test]
    fn a_stopping_virtual_partition_fills_the_gaps_below_what_it_started() {
        let mut s = vp_scheduler(2);
        let now = Instant::now();
        for (offset, lane) in [(0, 0), (1, 0), (2, 1), (3, 0)] {
            s.push(vp_job(offset, lane));
        }
        let first = run(&mut s, now); // 0 (lane 0)
        let third = run(&mut s, now); // 2 (lane 1)
        s.stop();
        s.complete(third, Outcome::Success, now);
        assert!(
            matches!(s.next_job(now), Next::Wait(None)),
            "1 waits for lane 0"
        );
        s.complete(first, Outcome::Success, now);
        let gap = run(&mut s, now);
        assert_eq!(gap.offset, 1);
        s.complete(gap, Outcome::Success, now);
        assert!(
            matches!(s.next_job(now), Next::Stopped),
            "3 was never started: it stays"
        );
        assert_eq!(s.take_commits(), vec![(tp(0), 3)]);
    }
}

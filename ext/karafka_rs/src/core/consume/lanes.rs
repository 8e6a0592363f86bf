//! One assigned partition inside the scheduler: its lanes, the offsets not yet done, and the
//! collapsed mode after a failure.
//!
//! A partition has one lane, or - with virtual partitions - up to `max_partitions`. Each lane
//! runs one job at a time in offset order; lanes run in parallel. The partition commits up to
//! its lowest offset not yet done (virtual offset management). A failure collapses the
//! partition: everything queued moves to lane 0 in offset order, the failed job first, and
//! runs one job at a time (after the back-off) until the commit point passes everything that
//! was fetched when it failed; jobs that already succeeded never run again.
//!
//! Lanes may not run far ahead of the commit point: a lane starts a job only while its offset
//! is less than `run_ahead` above the lowest offset not yet done. Without this bound one slow
//! lane held the commit point while the others ran the whole buffer (thousands of jobs), and
//! a kill -9 ran all of those again.
//!
//! The rest of virtual partitions: a job's lane is chosen by Ruby's partitioner before it gets
//! here (the engine's `unclassified`/`classify`, fed by intake.rs), and the scheduler
//! (next_job.rs) hands out the lanes' jobs.

use std::collections::{BTreeSet, VecDeque};
use std::time::Instant;

use crate::core::job::Job;

#[derive(Debug, Default)]
pub(crate) struct Lane {
    pub queue: VecDeque<Job>,
    pub running: bool,
    pub in_ready: bool,
}

/// One assigned partition as the scheduler sees it: its lanes, what is not done yet, and its
/// commit point (see the module docs).
#[derive(Debug)]
pub(crate) struct PartitionLanes {
    pub generation: u64,
    pub lanes: Vec<Lane>,
    /// Lanes running a job.
    pub running: usize,
    pub retry_at: Option<Instant>,
    /// Consecutive failures (for the back-off and the dead letter budget).
    pub failures: u32,
    /// The buffer filled up: take no messages until it drained to half.
    pub full: bool,
    /// A revocation is being served: no job starts (see [`Scheduler::hand_over`]).
    ///
    /// [`Scheduler::hand_over`]: crate::core::consume::next_job::Scheduler::hand_over
    pub handing_over: bool,
    /// Offsets fetched and not yet done (queued or running).
    undone: BTreeSet<i64>,
    next_offset: i64,
    /// While collapsed: the last offset fetched when the failure happened.
    collapsed_until: Option<i64>,
    /// Highest offset a job was started for (what a stopping VP partition completes up to).
    max_started: Option<i64>,
    /// How far above the commit point a lane may start a job (virtual partitions).
    run_ahead: i64,
    /// The highest offset the broker is known to hold for us: the first fetched offset
    /// (where the group's commit stood), then each accepted commit.
    pub confirmed: Option<i64>,
    /// The first offset fetched since the assignment (where the group's commit stood).
    first_fetched: Option<i64>,
}

impl PartitionLanes {
    /// `run_ahead`: see the module docs (at least four jobs per lane, so lanes stay parallel).
    pub fn new(generation: u64, lanes: usize, run_ahead: usize) -> Self {
        let lanes = lanes.max(1);
        Self {
            run_ahead: run_ahead.max(lanes * 4) as i64,
            confirmed: None,
            first_fetched: None,
            generation,
            lanes: (0..lanes).map(|_| Lane::default()).collect(),
            running: 0,
            retry_at: None,
            failures: 0,
            full: false,
            handing_over: false,
            undone: BTreeSet::new(),
            next_offset: 0,
            collapsed_until: None,
            max_started: None,
        }
    }

    pub fn is_virtual(&self) -> bool {
        self.lanes.len() > 1
    }

    pub fn queued(&self) -> usize {
        self.lanes.iter().map(|l| l.queue.len()).sum()
    }

    /// Buffers a fetched job; returns the lane it joined.
    pub fn add(&mut self, job: Job) -> usize {
        self.confirmed.get_or_insert(job.offset);
        self.first_fetched.get_or_insert(job.offset);
        self.undone.insert(job.offset);
        self.next_offset = self.next_offset.max(job.offset + 1);
        let lane = self.lane_for(&job);
        insert_in_order(&mut self.lanes[lane].queue, job);
        lane
    }

    /// Puts back a job that was cut short (not its failure).
    pub fn requeue(&mut self, job: Job) {
        let lane = self.lane_for(&job);
        insert_in_order(&mut self.lanes[lane].queue, job);
    }

    /// Whether `lane` may start its next job now (ignoring whether it is already queued as
    /// ready).
    pub fn can_start(&self, lane: usize) -> bool {
        let l = &self.lanes[lane];
        let collapsed_ok = self.collapsed_until.is_none() || (lane == 0 && self.running == 0);
        let Some(next) = l.queue.front() else {
            return false;
        };
        let within_reach = next.offset < self.commit_offset().saturating_add(self.run_ahead);
        !l.running && !self.handing_over && self.retry_at.is_none() && collapsed_ok && within_reach
    }

    /// Of the lanes that may start now and are marked ready, the one whose next job has the
    /// lowest offset: the lane holding the commit point goes first, so no lane starves while
    /// the others race ahead.
    pub fn lowest_ready_lane(&self) -> Option<usize> {
        (0..self.lanes.len())
            .filter(|&lane| self.lanes[lane].in_ready && self.can_start(lane))
            .min_by_key(|&lane| self.lanes[lane].queue.front().map(|j| j.offset))
    }

    pub fn start(&mut self, lane: usize) -> Option<Job> {
        let mut job = self.lanes[lane].queue.pop_front()?;
        job.slot = lane;
        self.lanes[lane].running = true;
        self.running += 1;
        self.max_started = self.max_started.max(Some(job.offset));
        Some(job)
    }

    /// The job's lane is free again.
    pub fn finish(&mut self, job: &Job) {
        self.lanes[job.slot].running = false;
        self.running = self.running.saturating_sub(1);
    }

    /// The job is done for good (succeeded or dead-lettered). Returns the offset to commit.
    pub fn done(&mut self, offset: i64) -> i64 {
        self.undone.remove(&offset);
        let commit = self.commit_offset();
        if self.collapsed_until.is_some_and(|until| commit > until) {
            self.uncollapse();
        }
        commit
    }

    /// "topic/partition offsets 10..19 (10 jobs)": the finished jobs up to `offset` that the
    /// broker is not known to hold.
    pub fn describe_up_to(&self, topic: &str, partition: i32, offset: i64) -> String {
        match self.confirmed {
            Some(from) if from < offset => format!(
                "{topic}/{partition} offsets {from}..{} ({} jobs)",
                offset - 1,
                offset - from
            ),
            _ => format!("{topic}/{partition} offsets below {offset}"),
        }
    }

    /// Whether the commit point moved since the assignment.
    pub fn has_finished_jobs(&self) -> bool {
        self.first_fetched
            .is_some_and(|first| self.commit_offset() > first)
    }

    /// Whether a job was fetched since the assignment (only then is `commit_offset` known).
    pub fn has_seen_jobs(&self) -> bool {
        self.next_offset > 0
    }

    /// The offsets of the jobs running now: not done, and in no lane's queue.
    pub fn running_offsets(&self) -> Vec<i64> {
        let queued: BTreeSet<i64> = self
            .lanes
            .iter()
            .flat_map(|l| l.queue.iter().map(|j| j.offset))
            .collect();
        self.undone.difference(&queued).copied().collect()
    }

    pub fn commit_offset(&self) -> i64 {
        self.undone.first().copied().unwrap_or(self.next_offset)
    }

    /// After a failure: the failed job and everything queued wait in lane 0, in offset order.
    pub fn collapse(&mut self, failed: Job) {
        let until = self.next_offset - 1;
        self.collapsed_until = Some(self.collapsed_until.map_or(until, |u| u.max(until)));
        let mut jobs: Vec<Job> = self
            .lanes
            .iter_mut()
            .flat_map(|l| l.queue.drain(..))
            .collect();
        jobs.push(failed);
        jobs.sort_by_key(|j| j.offset);
        self.lanes[0].queue = jobs.into();
    }

    /// Stopping: a virtual partition completes the jobs below the highest one it started, so
    /// everything it started can be committed. Returns a lane that has such a job ready.
    pub fn gap_lane(&self) -> Option<usize> {
        let below = self.max_started?;
        (0..self.lanes.len()).find(|&lane| {
            self.can_start(lane)
                && self.lanes[lane]
                    .queue
                    .front()
                    .is_some_and(|j| j.offset < below)
        })
    }

    /// Whether a stopping virtual partition still has gaps to fill (now or once a lane frees).
    pub fn has_gaps(&self) -> bool {
        let Some(below) = self.max_started else {
            return false;
        };
        self.is_virtual()
            && self
                .lanes
                .iter()
                .any(|l| l.queue.front().is_some_and(|j| j.offset < below))
    }

    fn lane_for(&self, job: &Job) -> usize {
        if self.collapsed_until.is_some() {
            0
        } else {
            job.lane.min(self.lanes.len() - 1)
        }
    }

    fn uncollapse(&mut self) {
        self.collapsed_until = None;
        let jobs: Vec<Job> = self.lanes[0].queue.drain(..).collect();
        for job in jobs {
            let lane = job.lane.min(self.lanes.len() - 1);
            self.lanes[lane].queue.push_back(job);
        }
    }
}

/// Fetched jobs arrive in order (push to the back); a job put back goes to its place.
fn insert_in_order(queue: &mut VecDeque<Job>, job: Job) {
    if queue.back().is_none_or(|last| last.offset < job.offset) {
        queue.push_back(job);
    } else {
        let at = queue.partition_point(|j| j.offset < job.offset);
        queue.insert(at, job);
    }
}

import type { NewRunEvent, RunEvent } from '../domain/events.js';
import type { RunState, RunSummary } from '../domain/run.js';

/** The append-only run log, plus the run summaries it projects. */
export interface EventLog {
  /**
   * Appends an event at the next sequence number of its run. An event whose `key` the run
   * already holds is not appended again: the stored event is returned instead.
   */
  append(event: NewRunEvent): Promise<RunEvent>;
  /** All events of a run, in sequence order. */
  read(runId: string): Promise<RunEvent[]>;
  putRunSummary(summary: RunSummary): Promise<void>;
  getRunSummary(runId: string): Promise<RunSummary | undefined>;
  /** Runs, newest first, optionally in one state. */
  listRuns(query?: { state?: RunState; limit?: number }): Promise<RunSummary[]>;
}

/** Small keyed records beside the log: approvals, switches, counters. */
export interface RecordStore {
  get<T>(kind: string, id: string): Promise<T | undefined>;
  /** Writes the record; with `ifAbsent`, returns false instead of overwriting. */
  put<T>(kind: string, id: string, value: T, options?: { ifAbsent?: boolean }): Promise<boolean>;
  list<T>(kind: string): Promise<T[]>;
  /**
   * Adds one to a counter atomically and returns the new count, or `undefined` (leaving it unchanged)
   * when the counter already reached `limit`.
   */
  increment(kind: string, id: string, options?: { limit?: number }): Promise<number | undefined>;
}

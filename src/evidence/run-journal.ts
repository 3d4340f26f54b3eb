import type { NewRunEvent, RunEvent, RunEventDataOf, RunEventType } from '../domain/events.js';
import type { Actor } from '../domain/run.js';
import type { EventLog } from '../ports/event-log.js';

/**
 * One run's view of the event log. Every write names a deterministic key, so a step that runs again
 * after a crash finds what it already recorded instead of recording it twice.
 *
 * @example
 * const journal = await RunJournal.open(log, runId, traceId, policyVersion);
 * const risk = await journal.once('risk', 'risk.classified', actor, async () => classifyRisk(request, rules));
 */
export class RunJournal {
  private readonly byKey = new Map<string, RunEvent>();

  private constructor(
    private readonly log: EventLog,
    readonly runId: string,
    readonly traceId: string,
    public policyVersion: string,
    events: RunEvent[],
    private readonly onRecord?: (event: RunEvent) => void,
  ) {
    for (const event of events) this.byKey.set(event.key, event);
  }

  static async open(
    log: EventLog,
    runId: string,
    traceId: string,
    policyVersion: string,
    onRecord?: (event: RunEvent) => void,
  ): Promise<RunJournal> {
    return new RunJournal(log, runId, traceId, policyVersion, await log.read(runId), onRecord);
  }

  /** The event recorded under `key`, if any. */
  find<T extends RunEventType>(key: string, type: T): Extract<RunEvent, { type: T }> | undefined {
    const event = this.byKey.get(key);
    if (!event) return undefined;
    if (event.type !== type) {
      throw new Error(`event ${key} of run ${this.runId} is a ${event.type}, not a ${type}`);
    }
    return event as Extract<RunEvent, { type: T }>;
  }

  /** All events recorded so far, in order. */
  events(): RunEvent[] {
    return [...this.byKey.values()].sort((a, b) => a.seq - b.seq);
  }

  async record<T extends RunEventType>(
    key: string,
    type: T,
    actor: Actor,
    data: RunEventDataOf<T>,
  ): Promise<RunEvent> {
    const event = await this.log.append({
      runId: this.runId,
      key,
      type,
      traceId: this.traceId,
      actor,
      policyVersion: this.policyVersion,
      data,
    } as NewRunEvent);
    if (!this.byKey.has(event.key)) {
      this.byKey.set(event.key, event);
      this.onRecord?.(event);
    }
    return event;
  }

  /** Returns the data recorded under `key`, or computes, records and returns it. */
  async once<T extends RunEventType>(
    key: string,
    type: T,
    actor: Actor,
    compute: () => Promise<RunEventDataOf<T>>,
  ): Promise<RunEventDataOf<T>> {
    const existing = this.find(key, type);
    if (existing) return existing.data as RunEventDataOf<T>;
    const data = await compute();
    await this.record(key, type, actor, data);
    return data;
  }
}

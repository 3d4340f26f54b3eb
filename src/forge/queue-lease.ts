import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import type { RecordStore } from '../ports/event-log.js';

/** Record kind of the merge queue's leases: `<repository>` (the latest epoch) and `<repository>#<epoch>`. */
export const QUEUE_LEASE_KIND = 'merge-queue-lease';

/** One processor's hold on one repository's queue; each hold is a new epoch, written put-if-absent. */
export const QueueLease = z.strictObject({
  repository: z.string().min(1),
  epoch: z.number().int().positive(),
  holder: z.string().min(1),
  expiresAt: z.string(),
  released: z.boolean(),
});
export type QueueLease = z.infer<typeof QueueLease>;

const LatestEpoch = z.strictObject({ epoch: z.number().int().positive() });

/** Another processor holds (or took over) the repository's merge queue. */
export class MergeQueueBusyError extends GantryError {
  override name = 'MergeQueueBusyError';
}

/**
 * A lease over a store that offers only put-if-absent: each hold writes the record of the next
 * epoch, and an epoch is free to succeed once its record is released or expired. Whoever wins the
 * put of epoch n + 1 owns the queue; the holder of epoch n notices on its next renewal.
 *
 * @example
 * const leases = new QueueLeases(records, 'host:42', 600_000, () => new Date());
 * const lease = await leases.acquire('billing-service');
 * try { ... await leases.renew(lease); ... } finally { await leases.release(lease); }
 */
export class QueueLeases {
  constructor(
    private readonly records: RecordStore,
    private readonly holder: string,
    private readonly durationMs: number,
    private readonly now: () => Date,
  ) {}

  /** Takes the repository's queue, or throws MergeQueueBusyError while another live lease holds it. */
  async acquire(repository: string): Promise<QueueLease> {
    const latest = LatestEpoch.safeParse(await this.records.get(QUEUE_LEASE_KIND, repository));
    let epoch = latest.success ? latest.data.epoch : 1;
    for (;;) {
      const current = await this.read(repository, epoch);
      if (!current) {
        const mine: QueueLease = {
          repository,
          epoch,
          holder: this.holder,
          expiresAt: this.expiry(),
          released: false,
        };
        if (await this.records.put(QUEUE_LEASE_KIND, epochId(repository, epoch), mine, { ifAbsent: true })) {
          // Only a hint for the next reader; the scan forward from it is what decides.
          await this.records.put(QUEUE_LEASE_KIND, repository, { epoch });
          return mine;
        }
        continue;
      }
      if (current.released || Date.parse(current.expiresAt) <= this.now().getTime()) {
        epoch++;
        continue;
      }
      throw new MergeQueueBusyError(
        `the merge queue of ${repository} is being processed by ${current.holder} until ${current.expiresAt}`,
        {
          input: repository,
          hint: 'wait for that run to finish; its lease expires by itself if it stopped',
        },
      );
    }
  }

  /** Extends the lease; throws MergeQueueBusyError when it expired and another processor took over. */
  async renew(lease: QueueLease): Promise<QueueLease> {
    await this.requireStillHeld(lease);
    const renewed = { ...lease, expiresAt: this.expiry() };
    await this.records.put(QUEUE_LEASE_KIND, epochId(lease.repository, lease.epoch), renewed);
    Object.assign(lease, renewed);
    return lease;
  }

  async release(lease: QueueLease): Promise<void> {
    if (await this.read(lease.repository, lease.epoch + 1)) return;
    await this.records.put(QUEUE_LEASE_KIND, epochId(lease.repository, lease.epoch), {
      ...lease,
      released: true,
    });
  }

  private async requireStillHeld(lease: QueueLease): Promise<void> {
    const next = await this.read(lease.repository, lease.epoch + 1);
    const mine = await this.read(lease.repository, lease.epoch);
    if (next || mine?.holder !== lease.holder || mine.released) {
      throw new MergeQueueBusyError(
        `the merge queue lease of ${lease.repository} was taken over while processing`,
        {
          input: lease.repository,
          hint: 'a round took longer than the lease; raise leaseMs or lower maxBatch, then process again',
        },
      );
    }
  }

  private async read(repository: string, epoch: number): Promise<QueueLease | undefined> {
    const value = await this.records.get(QUEUE_LEASE_KIND, epochId(repository, epoch));
    return value === undefined ? undefined : QueueLease.parse(value);
  }

  private expiry(): string {
    return new Date(this.now().getTime() + this.durationMs).toISOString();
  }
}

function epochId(repository: string, epoch: number): string {
  return `${repository}#${epoch}`;
}

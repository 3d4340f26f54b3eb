import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import type { EventLog, RecordStore } from '../ports/event-log.js';

/** The log stream where control-plane changes (not belonging to any run) are recorded. */
export const CONTROL_PLANE_LOG = 'control-plane';
const CONTROL_TRACE = '0'.repeat(32);

export const KillSwitchScope = z.enum(['global', 'capability', 'repository']);
export type KillSwitchScope = z.infer<typeof KillSwitchScope>;

export const KillSwitch = z.strictObject({
  scope: KillSwitchScope,
  target: z.string().optional(),
  engaged: z.boolean(),
  by: z.string().min(1),
  reason: z.string(),
  at: z.string().datetime(),
});
export type KillSwitch = z.infer<typeof KillSwitch>;

const KIND = 'kill-switch';
const idOf = (scope: KillSwitchScope, target?: string) =>
  scope === 'global' ? 'global' : `${scope}:${target}`;

/** Describes a switch the way an operator reads it. */
export function describeSwitch(s: Pick<KillSwitch, 'scope' | 'target'>): string {
  return s.scope === 'global' ? 'the global kill switch' : `the kill switch for ${s.scope} ${s.target}`;
}

/**
 * Engages or releases a kill switch. The switch lives in the record store beside the event log, and each
 * change is an event of the control-plane log, so who stopped what, when and why is on the record.
 *
 * @example
 * await setKillSwitch(log, records, { scope: 'capability', target: 'low-risk-bugfix', engaged: true, by: 'oncall', reason: 'bad patches' });
 */
export async function setKillSwitch(
  log: EventLog,
  records: RecordStore,
  change: {
    scope: KillSwitchScope;
    target?: string;
    engaged: boolean;
    by: string;
    reason: string;
    now?: Date;
  },
): Promise<KillSwitch> {
  if (change.scope !== 'global' && !change.target) {
    throw new GantryError(`a ${change.scope} kill switch needs the ${change.scope} it applies to`, {
      hint: `pass --${change.scope} <name>`,
    });
  }
  const at = (change.now ?? new Date()).toISOString();
  const value: KillSwitch = {
    scope: change.scope,
    target: change.scope === 'global' ? undefined : change.target,
    engaged: change.engaged,
    by: change.by,
    reason: change.reason,
    at,
  };
  await records.put(KIND, idOf(change.scope, change.target), KillSwitch.parse(value));
  await log.append({
    runId: CONTROL_PLANE_LOG,
    key: `kill-switch:${idOf(change.scope, change.target)}:${at}`,
    type: 'kill-switch.changed',
    traceId: CONTROL_TRACE,
    actor: { kind: 'human', id: change.by },
    policyVersion: 'control-plane',
    at,
    data: {
      scope: value.scope,
      target: value.target,
      engaged: value.engaged,
      by: value.by,
      reason: value.reason,
    },
  });
  return value;
}

/** The engaged switch that stops work on this capability and repository, global first. */
export async function engagedKillSwitch(
  records: RecordStore,
  run: { capability: string; repository: string },
): Promise<KillSwitch | undefined> {
  // One read of every switch: this runs before each step and model turn.
  const engaged = (await listKillSwitches(records)).filter((s) => s.engaged);
  return (
    engaged.find((s) => s.scope === 'global') ??
    engaged.find((s) => s.scope === 'capability' && s.target === run.capability) ??
    engaged.find((s) => s.scope === 'repository' && s.target === run.repository)
  );
}

export async function listKillSwitches(records: RecordStore): Promise<KillSwitch[]> {
  return (await records.list<unknown>(KIND)).map((v) => KillSwitch.parse(v));
}

import { z } from 'zod';
import { InvalidInputError } from '../domain/errors.js';
import type { RecordStore } from '../ports/event-log.js';

/** Record kind of incidents, keyed by incident id. */
export const INCIDENT_KIND = 'incident';

const Figures = z.strictObject({
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  latencyP50Ms: z.number(),
  latencyP95Ms: z.number(),
});

/**
 * A deployment that hurt production, traced to the deployment, the pull request and the run that made
 * it. The rollback run reads it; `gantry health` lists the open ones.
 */
export const Incident = z.strictObject({
  id: z.string().min(1),
  source: z.enum(['analysis', 'alarm']),
  service: z.string(),
  repository: z.string(),
  environment: z.enum(['staging', 'production']),
  deploymentId: z.string(),
  /** The commit that hurt production (the merge of the offending pull request). */
  commit: z.string(),
  /** What production ran before it: the redeploy target if the revert cannot be made. */
  previousCommit: z.string().optional(),
  pullRequest: z.number().int().optional(),
  offendingRun: z.string(),
  /** The run's test command, so the revert is tested the same way. */
  testCommand: z.array(z.string()).nullable(),
  detectedAt: z.string().datetime(),
  summary: z.string(),
  /** The figures that made the call: each analysis or the alarm's window. */
  figures: z.array(
    z.strictObject({
      label: z.string(),
      canary: Figures.optional(),
      baseline: Figures.optional(),
      reasons: z.array(z.string()),
    }),
  ),
  status: z.enum(['open', 'rolling-back', 'resolved', 'needs-human']),
  rollbackRun: z.string().optional(),
  revertPullRequest: z.number().int().optional(),
  fixRequest: z.string().optional(),
  resolvedAt: z.string().datetime().optional(),
  note: z.string().optional(),
  /** The Slack and email messages that asked people to take it, stored by hash. */
  notification: z
    .string()
    .regex(/^[a-f0-9]{64}$/)
    .optional(),
});
export type Incident = z.infer<typeof Incident>;

/** Stores an incident (a new one, or a change of its status). */
export async function saveIncident(records: RecordStore, incident: Incident): Promise<void> {
  await records.put(INCIDENT_KIND, incident.id, Incident.parse(incident));
}

/**
 * Reads an incident, failing clearly when there is none.
 *
 * @example
 * const incident = await requireIncident(records, 'inc-01J…');
 */
export async function requireIncident(records: RecordStore, id: string): Promise<Incident> {
  const stored = await records.get<unknown>(INCIDENT_KIND, id);
  if (!stored) {
    throw new InvalidInputError(`there is no incident ${id}`, {
      input: id,
      hint: 'list incidents with `gantry incidents`',
    });
  }
  return Incident.parse(stored);
}

export async function listIncidents(records: RecordStore): Promise<Incident[]> {
  const all = await records.list<unknown>(INCIDENT_KIND);
  return all.map((i) => Incident.parse(i)).sort((a, b) => b.detectedAt.localeCompare(a.detectedAt));
}

/** The `sourceRef` of a rollback request names its incident. */
export const incidentRef = (id: string) => `incident:${id}`;

/** Whether a request's `sourceRef` names an incident (a rollback request). */
export const isIncidentRef = (sourceRef: string | undefined) => sourceRef?.startsWith('incident:') === true;

/** The incident a rollback request refers to, from its `sourceRef`. */
export function incidentIdOf(sourceRef: string | undefined): string {
  const match = /^incident:(.+)$/.exec(sourceRef ?? '');
  if (!match?.[1]) {
    throw new InvalidInputError(
      `a rollback request must name its incident, got sourceRef "${sourceRef ?? ''}"`,
      {
        input: sourceRef ?? '(none)',
        hint: 'rollback runs are started by Gantry for an incident (sourceRef incident:<id>)',
      },
    );
  }
  return match[1];
}

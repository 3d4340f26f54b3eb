/**
 * Per-stage settings of a deployed Gantry: one strict zod schema, one file per stage. Unknown keys are
 * errors, so a misspelt threshold fails `sst deploy` (and `npm run infra:check`) instead of being ignored.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** A Bedrock model id or inference profile id, e.g. `anthropic.claude-sonnet-4-20250514-v1:0`. */
const BedrockModelId = z
  .string()
  .regex(
    /^(?:(?:us|eu|apac|global)\.)?[a-z0-9-]+\.[a-z0-9.:-]+$/,
    'a Bedrock model id such as anthropic.claude-…',
  );

const SlackChannelId = z.string().regex(/^[CG][A-Z0-9]{6,}$/, 'a Slack channel id such as C0123ABCD');

export const StageSettings = z.strictObject({
  /** `remove` deletes the stage's data with `sst remove`; `retain` keeps tables, buckets and the VPC. */
  removal: z.enum(['remove', 'retain', 'retain-all']),
  /** The AWS region the stage deploys to. */
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
  /** Capability ids (policies/capabilities/*.yaml) this stage accepts requests for. */
  capabilities: z.array(z.string().min(1)).min(1),
  /** Repositories (`owner/name`) the stage may work on. */
  repositories: z.array(z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name')).min(1),
  /** Bedrock model ids the stage allows; the first is the default. Nothing else may be invoked. */
  models: z.array(BedrockModelId).min(1),
  budgets: z.strictObject({
    /** Money one run may spend on models, in US dollars. */
    perRunUsd: z.number().positive(),
    /** What the whole stage may spend per day, in US dollars. */
    dailyUsd: z.number().positive(),
  }),
  approvals: z.strictObject({
    /** Who answers gates, by name (policies/approvers.yaml decides which gate each may answer). */
    approvers: z.array(z.string().min(1)).min(1),
    slackChannel: SlackChannelId.optional(),
    emails: z.array(z.email()).default([]),
  }),
  alarms: z.strictObject({
    /** Failed runs within one hour that raise the failed-runs alarm. */
    failedRunsPerHour: z.number().int().positive(),
    /** Policy denials within five minutes that raise the policy-violation alarm. */
    policyViolations: z.number().int().positive(),
    /** Model spend within one day, in US dollars, that raises the cost-spike alarm. */
    dailyCostUsd: z.number().positive(),
    /** Where alarm notifications go besides the platform's own router. */
    emails: z.array(z.email()).default([]),
  }),
  /** Days every log group keeps its logs. */
  logRetentionDays: z.union([
    z.literal(7),
    z.literal(14),
    z.literal(30),
    z.literal(90),
    z.literal(180),
    z.literal(365),
  ]),
});
export type StageSettings = z.infer<typeof StageSettings>;
export type StageSettingsInput = z.input<typeof StageSettings>;

/**
 * The capability ids shipped under `policies/capabilities` (the file names, which equal the ids).
 *
 * @example
 * capabilityIdsIn(process.cwd()); // ['dependency-patch-upgrade', 'documentation-update', …]
 */
export function capabilityIdsIn(root: string): string[] {
  return readdirSync(join(root, 'policies', 'capabilities'))
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => file.replace(/\.yaml$/, ''))
    .sort();
}

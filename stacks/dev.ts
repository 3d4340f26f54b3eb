import type { StageSettingsInput } from './schema.js';

/** A developer's own stage: everything removed with the stage, low thresholds, short log retention. */
export const dev: StageSettingsInput = {
  removal: 'remove',
  region: 'eu-west-1',
  capabilities: ['low-risk-bugfix', 'test-improvement', 'documentation-update'],
  repositories: ['acme/billing-service'],
  models: ['eu.anthropic.claude-sonnet-4-20250514-v1:0'],
  budgets: { perRunUsd: 2, dailyUsd: 20 },
  approvals: { approvers: ['maria.lopez', 'sam.okafor'], emails: ['gantry-dev@example.com'] },
  alarms: { failedRunsPerHour: 5, policyViolations: 10, dailyCostUsd: 20 },
  logRetentionDays: 7,
};

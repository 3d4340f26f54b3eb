import type { StageSettingsInput } from './schema.js';

/** Production: data retained and protected, every capability, a year of logs. */
export const production: StageSettingsInput = {
  removal: 'retain',
  region: 'eu-west-1',
  capabilities: [
    'low-risk-bugfix',
    'test-improvement',
    'documentation-update',
    'dependency-patch-upgrade',
    'rollback',
  ],
  repositories: ['acme/billing-service'],
  models: ['eu.anthropic.claude-sonnet-4-20250514-v1:0', 'eu.anthropic.claude-3-haiku-20240307-v1:0'],
  budgets: { perRunUsd: 5, dailyUsd: 200 },
  approvals: {
    approvers: ['maria.lopez', 'sam.okafor', 'priya.raman', 'dana.kim'],
    slackChannel: 'C0GANTRYPRD',
    emails: ['gantry-approvals@example.com'],
  },
  alarms: { failedRunsPerHour: 3, policyViolations: 3, dailyCostUsd: 200, emails: ['oncall@example.com'] },
  logRetentionDays: 365,
};

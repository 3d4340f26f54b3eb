import type { StageSettingsInput } from './schema.js';

/** The shared pre-production stage: production's shape, removable, tighter budgets. */
export const staging: StageSettingsInput = {
  removal: 'remove',
  region: 'eu-west-1',
  capabilities: ['low-risk-bugfix', 'test-improvement', 'documentation-update', 'dependency-patch-upgrade'],
  repositories: ['acme/billing-service'],
  models: ['eu.anthropic.claude-sonnet-4-20250514-v1:0', 'eu.anthropic.claude-3-haiku-20240307-v1:0'],
  budgets: { perRunUsd: 3, dailyUsd: 50 },
  approvals: {
    approvers: ['maria.lopez', 'sam.okafor', 'priya.raman'],
    slackChannel: 'C0GANTRYSTG',
    emails: ['gantry-staging@example.com'],
  },
  alarms: { failedRunsPerHour: 3, policyViolations: 5, dailyCostUsd: 50, emails: ['oncall@example.com'] },
  logRetentionDays: 30,
};

/**
 * The platform's EventBridge bus. Intake puts `Engineering Request Submitted` on it (see
 * functions/github-webhook.ts) and a rule starts the issue resolver with the event's detail as input.
 * The rules themselves are created by workflows.ts and dashboard.ts, next to their targets.
 */
import { prefix } from './stage.js';

export const bus = new aws.cloudwatch.EventBus('GantryBus', { name: `${prefix}-bus` });

/** What intake puts on the bus (the same constants functions/github-webhook.ts uses). */
export const REQUEST_SUBMITTED = {
  source: 'gantry.intake',
  detailType: 'Engineering Request Submitted',
} as const;

export { assessHealth } from './assess-health.js';
export {
  type AttentionRequestOptions,
  attentionRequestId,
  attentionRequests,
  HEALTH_REQUESTER,
} from './attention-requests.js';
export {
  CheckObservation,
  HealthInput,
  HealthThresholds,
  PendingApprovalObservation,
  ServiceObservation,
  ServiceStats,
} from './health-input.js';
export {
  AttentionItem,
  AttentionKind,
  AttentionSeverity,
  ErrorRateStatus,
  HealthReport,
  OpenApproval,
  ServiceDown,
  StuckReason,
  StuckRun,
} from './health-report.js';
export { renderHealth } from './render-health.js';

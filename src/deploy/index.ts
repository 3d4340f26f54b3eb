export { type AnalysisTally, analyseStep, type StepJudgement } from './analysis.js';
export { CURRENT_DEPLOYMENT_KIND, DEPLOYMENT_KIND, DeploymentRecords } from './deployment-records.js';
export { DeploymentFailedError } from './errors.js';
export { generateLoad, type LoadReport, type LoadRun } from './load-generator.js';
export { LocalDeployer, type LocalDeployerOptions } from './local-deployer.js';
export {
  AnalysisRules,
  defaultServicesDir,
  loadServiceSpecs,
  parseServiceSpec,
  ServiceSpec,
  type ServiceSpecs,
  SmokeCheck,
  serviceForRepository,
  TrafficItem,
} from './service-spec.js';
export { runSmokeChecks } from './smoke-checks.js';
export { TrafficRouter, type TrafficSplit } from './traffic-router.js';

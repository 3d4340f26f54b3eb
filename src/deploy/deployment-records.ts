import type { DeployEnvironment, Deployment } from '../ports/deployer.js';
import type { RecordStore } from '../ports/event-log.js';

/** Record kind of deployments, keyed by deployment id. */
export const DEPLOYMENT_KIND = 'deployment';
/** Record kind of what each environment currently runs, keyed `<service>/<environment>`. */
export const CURRENT_DEPLOYMENT_KIND = 'deployment-current';

interface CurrentPointer {
  deploymentId: string;
}

/**
 * Deployments kept in the record store, so any process can trace an alarm on a service to the version
 * it hit and from there to its run and pull request.
 *
 * @example
 * const deployments = new DeploymentRecords(records);
 * await deployments.makeCurrent(deployment);
 * (await deployments.current('billing-service', 'production'))?.runId;
 */
export class DeploymentRecords {
  constructor(private readonly records: RecordStore) {}

  async save(deployment: Deployment): Promise<void> {
    await this.records.put(DEPLOYMENT_KIND, deployment.id, deployment);
  }

  get(id: string): Promise<Deployment | undefined> {
    return this.records.get<Deployment>(DEPLOYMENT_KIND, id);
  }

  /**
   * Saves the deployment and points its environment at it. A version the pointer named before that is
   * still recorded live (one a previous process left behind) is marked superseded.
   */
  async makeCurrent(deployment: Deployment, now: Date = new Date()): Promise<void> {
    await this.save(deployment);
    const before = await this.current(deployment.service, deployment.environment);
    if (before && before.id !== deployment.id && before.status === 'live') {
      await this.save({
        ...before,
        status: 'superseded',
        endedAt: now.toISOString(),
        endReason: `superseded by ${deployment.id}`,
      });
    }
    await this.records.put<CurrentPointer>(CURRENT_DEPLOYMENT_KIND, pointerId(deployment), {
      deploymentId: deployment.id,
    });
  }

  async current(service: string, environment: DeployEnvironment): Promise<Deployment | undefined> {
    const pointer = await this.records.get<CurrentPointer>(
      CURRENT_DEPLOYMENT_KIND,
      pointerId({ service, environment }),
    );
    return pointer ? this.get(pointer.deploymentId) : undefined;
  }

  /** Every deployment of the service in the environment, newest first. */
  async history(service: string, environment: DeployEnvironment): Promise<Deployment[]> {
    const all = await this.records.list<Deployment>(DEPLOYMENT_KIND);
    return all
      .filter((deployment) => deployment.service === service && deployment.environment === environment)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
  }
}

function pointerId(where: { service: string; environment: DeployEnvironment }): string {
  return `${where.service}/${where.environment}`;
}

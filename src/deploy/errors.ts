import { GantryError } from '../domain/errors.js';
import type { Deployment } from '../ports/deployer.js';

/** A version could not be started or never became healthy; `deployment` is its record (aborted), when one was made. */
export class DeploymentFailedError extends GantryError {
  override name = 'DeploymentFailedError';
  readonly deployment: Deployment | undefined;

  constructor(
    message: string,
    options: { input?: string; hint?: string; cause?: unknown; deployment?: Deployment } = {},
  ) {
    super(message, options);
    this.deployment = options.deployment;
  }
}

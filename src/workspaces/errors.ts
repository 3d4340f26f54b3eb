import { GantryError } from '../domain/errors.js';

/** A workspace disk could not be created, measured, mounted or removed. */
export class WorkspaceDiskError extends GantryError {
  override name = 'WorkspaceDiskError';
}

/** Creating a workspace disk would take the home's disks past their budget; nothing was created. */
export class DiskBudgetExceededError extends WorkspaceDiskError {
  override name = 'DiskBudgetExceededError';
  /** The workspace that was refused. */
  readonly workspace: string;
  readonly requestedBytes: number;
  /** The limits of the disks that already exist, summed. */
  readonly reservedBytes: number;
  readonly budgetBytes: number;
  /** The workspaces holding that reservation, largest first. */
  readonly holders: ReadonlyArray<{ workspace: string; sizeBytes: number }>;

  constructor(
    message: string,
    data: {
      workspace: string;
      requestedBytes: number;
      reservedBytes: number;
      budgetBytes: number;
      holders: ReadonlyArray<{ workspace: string; sizeBytes: number }>;
      hint: string;
    },
  ) {
    super(message, { input: data.workspace, hint: data.hint });
    this.workspace = data.workspace;
    this.requestedBytes = data.requestedBytes;
    this.reservedBytes = data.reservedBytes;
    this.budgetBytes = data.budgetBytes;
    this.holders = data.holders;
  }
}

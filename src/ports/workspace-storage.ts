/**
 * Where run workspaces live. The embedded default gives each one a size-limited file system of its own
 * (`src/workspaces/`), so a workspace cannot fill the host's disk; a deployment whose task storage is
 * already bounded (Fargate) uses plain directories.
 */
export interface WorkspaceStorage {
  /** Makes `dir` a workspace with its limit; idempotent, and brings a workspace back after a restart. */
  prepare(dir: string): Promise<void>;
  /** Empties a workspace and keeps its limit (a crashed checkout starts again). */
  clear(dir: string): Promise<void>;
  /** Removes the workspace and whatever holds its limit; idempotent. */
  remove(dir: string): Promise<void>;
  /**
   * After a sandboxed command in `dir`: the reason when it filled the workspace to its limit, else
   * null. Absent where the limit is the file system's own.
   */
  checkUsage?(
    dir: string,
    result: { exitCode: number; stdout: string; stderr: string },
  ): Promise<string | null>;
}

/**
 * Per-run credentials for the sandbox task. A trusted step issues a grant before each sandbox task; the
 * task turns it into credentials that reach only its own run's journal rows and artifact objects. The
 * grant is opaque (on AWS a KMS ciphertext), so the execution history and logs never hold a secret.
 */
export interface SandboxGrants {
  /** Issues a grant for one run's sandbox task. */
  grant(runId: string): Promise<{ grant: string }>;
}

import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { GantryError, InvalidInputError } from '../../domain/errors.js';
import type { SandboxGrants } from '../../ports/sandbox-grants.js';

/** How long a run grant's credentials live: longer than the longest sandbox step (15 min), at most 1 h. */
export const GRANT_SECONDS = 3600;

/** The session tag IAM reads (`${aws:PrincipalTag/run}`) to keep the credentials inside one run. */
export const RUN_TAG = 'run';

/** What a grant holds once decrypted: temporary credentials of one run. */
export const RunCredentials = z.object({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().min(1),
  expiration: z.string().min(1),
  runId: z.string().min(1),
});
export type RunCredentials = z.infer<typeof RunCredentials>;

/** An STS role session name for a run: `run-<runId>`, only the characters STS allows, at most 64. */
export function runSessionName(runId: string): string {
  return `run-${runId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/**
 * Issues run grants on AWS: STS `AssumeRole` on the sandbox run role with the session tag `run=<runId>`
 * (the role's policies name `${aws:PrincipalTag/run}`), then KMS `Encrypt` of the credentials under the
 * grant key with the encryption context `{ run: runId }`. Only ciphertext leaves this adapter.
 *
 * @example
 * const grants = AwsSandboxGrants.fromEnvironment(process.env);
 * const { grant } = await grants.grant(runId); // base64 KMS ciphertext
 */
export class AwsSandboxGrants implements SandboxGrants {
  private readonly sts: STSClient;
  private readonly kms: KMSClient;

  constructor(
    private readonly options: { roleArn: string; keyArn: string; sts?: STSClient; kms?: KMSClient },
  ) {
    this.sts = options.sts ?? new STSClient({});
    this.kms = options.kms ?? new KMSClient({});
  }

  /** Reads `GANTRY_SANDBOX_RUN_ROLE_ARN` and `GANTRY_GRANT_KEY_ARN`; both must be set. */
  static fromEnvironment(env: NodeJS.ProcessEnv): AwsSandboxGrants {
    const roleArn = env.GANTRY_SANDBOX_RUN_ROLE_ARN;
    const keyArn = env.GANTRY_GRANT_KEY_ARN;
    const missing = [
      ...(roleArn ? [] : ['GANTRY_SANDBOX_RUN_ROLE_ARN']),
      ...(keyArn ? [] : ['GANTRY_GRANT_KEY_ARN']),
    ];
    if (!roleArn || !keyArn) {
      throw new InvalidInputError(`the grantSandbox function lacks ${missing.join(' and ')}`, {
        input: missing.join(', '),
        hint: 'the infrastructure sets both on the grantSandbox function (infra/steps.ts); redeploy the stage',
      });
    }
    return new AwsSandboxGrants({ roleArn, keyArn });
  }

  async grant(runId: string): Promise<{ grant: string }> {
    const assumed = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.options.roleArn,
        RoleSessionName: runSessionName(runId),
        Tags: [{ Key: RUN_TAG, Value: runId }],
        DurationSeconds: GRANT_SECONDS,
      }),
    );
    const c = assumed.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new GantryError(`STS returned no credentials for run ${runId}`, {
        input: this.options.roleArn,
        hint: 'check that the grantSandbox role may sts:AssumeRole and sts:TagSession on the sandbox run role',
      });
    }
    const credentials: RunCredentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration.toISOString(),
      runId,
    };
    const encrypted = await this.kms.send(
      new EncryptCommand({
        KeyId: this.options.keyArn,
        Plaintext: Buffer.from(JSON.stringify(credentials), 'utf8'),
        EncryptionContext: { [RUN_TAG]: runId },
      }),
    );
    if (!encrypted.CiphertextBlob) {
      throw new GantryError(`KMS returned no ciphertext for run ${runId}'s grant`, {
        input: this.options.keyArn,
      });
    }
    return { grant: Buffer.from(encrypted.CiphertextBlob).toString('base64') };
  }
}

/**
 * Opens a run grant inside the sandbox task: KMS `Decrypt` with the encryption context `{ run: runId }`,
 * so a grant issued for another run does not decrypt, then checks the run inside. Never puts the
 * credentials in an error message.
 *
 * @example
 * const credentials = await openRunGrant(new KMSClient({}), env.GANTRY_RUN_GRANT, task.input.run.runId);
 */
export async function openRunGrant(
  kms: KMSClient,
  grant: string | undefined,
  runId: string,
  keyArn?: string,
): Promise<RunCredentials> {
  const hint =
    'the workflow issues a grant (GrantX state) before every sandbox task and passes it as GANTRY_RUN_GRANT; start the task from the state machine, not by hand';
  if (!grant) throw new InvalidInputError('GANTRY_RUN_GRANT is not set', { input: 'GANTRY_RUN_GRANT', hint });
  let plaintext: Uint8Array | undefined;
  try {
    const decrypted = await kms.send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(grant, 'base64'),
        EncryptionContext: { [RUN_TAG]: runId },
        ...(keyArn ? { KeyId: keyArn } : {}),
      }),
    );
    plaintext = decrypted.Plaintext;
  } catch (cause) {
    throw new InvalidInputError(`the run grant does not open for run ${runId}`, {
      input: 'GANTRY_RUN_GRANT',
      hint: `${hint}; a grant issued for another run is refused`,
      cause: new Error((cause as Error).name ?? 'KMS Decrypt failed'),
    });
  }
  let parsed: RunCredentials | undefined;
  try {
    parsed = RunCredentials.parse(JSON.parse(Buffer.from(plaintext ?? []).toString('utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed)
    throw new InvalidInputError('the run grant does not hold run credentials', {
      input: 'GANTRY_RUN_GRANT',
      hint,
    });
  if (parsed.runId !== runId) {
    throw new InvalidInputError(`the run grant is for run ${parsed.runId}, not ${runId}`, {
      input: 'GANTRY_RUN_GRANT',
      hint,
    });
  }
  return parsed;
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../domain/errors.js';
import { AwsSandboxGrants, openRunGrant, runSessionName } from './sandbox-grants.js';
import { startFakeStsKms } from './testing/fake-sts-kms.js';

const roleArn = 'arn:aws:iam::123456789012:role/gantry-dev-sandbox-run';
const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const runId = '01JGRANT0000000000000000AA';

describe('sandbox run grants through the real STS and KMS clients', () => {
  let fake: Awaited<ReturnType<typeof startFakeStsKms>>;

  beforeAll(async () => {
    fake = await startFakeStsKms();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('assumes the run role tagged with the run, and hands back only KMS ciphertext', async () => {
    // Prepare
    const grants = new AwsSandboxGrants({ roleArn, keyArn, sts: fake.sts, kms: fake.kms });
    fake.seen.length = 0;
    // Act
    const { grant } = await grants.grant(runId);
    // Assess: AssumeRole names the role, the run's session, the run tag and one hour
    const sts = fake.seen.find((r) => r.service === 'sts');
    expect(sts?.service === 'sts' && sts.fields).toMatchObject({
      Action: 'AssumeRole',
      RoleArn: roleArn,
      RoleSessionName: `run-${runId}`,
      DurationSeconds: '3600',
      'Tags.member.1.Key': 'run',
      'Tags.member.1.Value': runId,
    });
    // and Encrypt uses the grant key with the run as encryption context
    const kms = fake.seen.find((r) => r.service === 'kms');
    expect(kms?.service === 'kms' && kms.operation).toBe('Encrypt');
    expect(kms?.service === 'kms' && kms.body).toMatchObject({
      KeyId: keyArn,
      EncryptionContext: { run: runId },
    });
    // the grant itself never shows the secret in the clear
    expect(grant).not.toContain('run-secret');
    expect(Buffer.from(grant, 'base64').toString('utf8')).not.toContain('run-secret');
  });

  it('opens a grant for its own run and refuses it for another run', async () => {
    // Prepare
    const grants = new AwsSandboxGrants({ roleArn, keyArn, sts: fake.sts, kms: fake.kms });
    const { grant } = await grants.grant(runId);
    // Act
    const credentials = await openRunGrant(fake.kms, grant, runId, keyArn);
    const foreign = await openRunGrant(fake.kms, grant, '01JOTHERRUN000000000000000', keyArn).catch(
      (error: unknown) => error,
    );
    const missing = await openRunGrant(fake.kms, undefined, runId).catch((error: unknown) => error);
    // Assess
    expect(credentials).toEqual({
      accessKeyId: 'ASIARUNTEST',
      secretAccessKey: 'run-secret',
      sessionToken: 'run-session-token',
      expiration: '2030-01-01T01:00:00.000Z',
      runId,
    });
    expect(foreign).toBeInstanceOf(InvalidInputError);
    expect((foreign as Error).message).toMatch(/does not open for run 01JOTHERRUN/);
    expect((missing as Error).message).toMatch(/GANTRY_RUN_GRANT is not set/);
    const decrypt = fake.seen.filter((r) => r.service === 'kms' && r.operation === 'Decrypt').at(-1);
    expect(decrypt?.service === 'kms' && decrypt.body.EncryptionContext).toEqual({
      run: '01JOTHERRUN000000000000000',
    });
  });

  it('refuses a grant whose content names another run even if it decrypts', async () => {
    // Prepare: a ciphertext sealed for run A holding credentials of run B
    const { EncryptCommand } = await import('@aws-sdk/client-kms');
    const sealed = await fake.kms.send(
      new EncryptCommand({
        KeyId: keyArn,
        EncryptionContext: { run: runId },
        Plaintext: Buffer.from(
          JSON.stringify({
            accessKeyId: 'a',
            secretAccessKey: 'b',
            sessionToken: 'c',
            expiration: 'd',
            runId: 'someone-else',
          }),
        ),
      }),
    );
    // Act
    const opened = openRunGrant(fake.kms, Buffer.from(sealed.CiphertextBlob ?? []).toString('base64'), runId);
    // Assess
    await expect(opened).rejects.toThrow(/is for run someone-else, not/);
  });

  it('names sessions within STS limits and requires both environment variables', () => {
    // Act / Assess
    expect(runSessionName('a'.repeat(100))).toHaveLength(64);
    expect(runSessionName('x/y z')).toBe('run-x-y-z');
    expect(() => AwsSandboxGrants.fromEnvironment({ GANTRY_SANDBOX_RUN_ROLE_ARN: roleArn })).toThrow(
      /lacks GANTRY_GRANT_KEY_ARN/,
    );
  });
});

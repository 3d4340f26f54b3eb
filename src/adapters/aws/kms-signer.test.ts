import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signApprovalDecision, verifyApprovalDecision } from '../../approvals/decision-signatures.js';
import { platformSignerOf } from '../../approvals/signed-approval-records.js';
import type { Approval } from '../../domain/approval.js';
import { GantryError, InvalidInputError } from '../../domain/errors.js';
import { createAwsStepDeps } from './aws-runtime.js';
import { KmsPlatformSigner } from './kms-signer.js';

const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
const rsaKeyArn = 'arn:aws:kms:us-east-1:123456789012:key/rsa';

interface Call {
  operation: string;
  body: Record<string, unknown>;
}

/**
 * KMS's JSON 1.1 API (`X-Amz-Target: TrentService.*`) for the real SDK client, holding one Ed25519 key:
 * Sign (ED25519_SHA_512 over RAW messages only) and GetPublicKey, as KMS answers them; any other key id
 * answers as an RSA encryption key, and `deny` makes Sign refuse as a missing permission does.
 */
async function startKmsStandIn() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const calls: Call[] = [];
  const state = { deny: false };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').replace('TrentService.', '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      calls.push({ operation, body });
      const answer = (status: number, payload: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(payload));
      };
      if (operation === 'Sign') {
        if (state.deny) return answer(400, { __type: 'AccessDeniedException', message: 'not allowed' });
        if (body.SigningAlgorithm !== 'ED25519_SHA_512' || body.MessageType !== 'RAW') {
          return answer(400, { __type: 'ValidationException', message: 'ED25519_SHA_512 takes RAW' });
        }
        const signature = sign(null, Buffer.from(String(body.Message), 'base64'), privateKey);
        return answer(200, {
          KeyId: keyArn,
          Signature: signature.toString('base64'),
          SigningAlgorithm: 'ED25519_SHA_512',
        });
      }
      if (operation === 'GetPublicKey') {
        const ed25519 = body.KeyId === keyArn;
        const key: KeyObject = ed25519
          ? publicKey
          : generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
        return answer(200, {
          KeyId: body.KeyId,
          KeySpec: ed25519 ? 'ECC_NIST_EDWARDS25519' : 'RSA_2048',
          KeyUsage: ed25519 ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT',
          PublicKey: key.export({ type: 'spki', format: 'der' }).toString('base64'),
          ...(ed25519
            ? { SigningAlgorithms: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] }
            : { EncryptionAlgorithms: ['RSAES_OAEP_SHA_256'] }),
        });
      }
      return answer(400, { __type: 'UnsupportedOperationException', message: operation });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kms = new KMSClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts: 1,
  });
  return {
    kms,
    calls,
    state,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const decided: Approval = {
  id: 'apv-0123456789ab',
  runId: '01JRUN0000000000000000000A',
  kind: 'merge',
  state: 'AwaitMergeApproval',
  taskToken: 'sfn-token',
  subject: 'merge approval',
  requestedAt: '2026-11-21T12:00:00.000Z',
  expiresAt: '2026-11-22T12:00:00.000Z',
  status: 'approved',
  approvers: ['sam.okafor'],
  decidedBy: 'sam.okafor',
  decidedAt: '2026-11-21T13:00:00.000Z',
  decidedVia: 'link',
};

describe('the platform key in KMS, through the real KMS client', () => {
  let kms: Awaited<ReturnType<typeof startKmsStandIn>>;
  beforeAll(async () => {
    kms = await startKmsStandIn();
  });
  afterAll(async () => {
    await kms.stop();
  });

  it('signs with KMS Sign, ED25519_SHA_512 over the raw bytes', async () => {
    // Prepare
    const signer = new KmsPlatformSigner({ keyId: keyArn, kms: kms.kms });
    kms.calls.length = 0;
    // Act
    const signature = await signer.sign(Buffer.from('{"a":1}'));
    // Assess
    expect(signature).toHaveLength(64);
    expect(kms.calls).toEqual([
      {
        operation: 'Sign',
        body: {
          KeyId: keyArn,
          Message: Buffer.from('{"a":1}').toString('base64'),
          MessageType: 'RAW',
          SigningAlgorithm: 'ED25519_SHA_512',
        },
      },
    ]);
  });

  it('verifies locally with the public key from GetPublicKey, read once', async () => {
    // Prepare
    const signer = new KmsPlatformSigner({ keyId: keyArn, kms: kms.kms });
    const signature = await signer.sign(Buffer.from('decision'));
    kms.calls.length = 0;
    // Act
    const genuine = await signer.verify(Buffer.from('decision'), signature);
    const altered = await signer.verify(Buffer.from('decision?'), signature);
    // Assess
    expect([genuine, altered]).toEqual([true, false]);
    expect(kms.calls.map((c) => c.operation)).toEqual(['GetPublicKey']);
    expect(await signer.publicKeyPem()).toBe(kms.publicKeyPem);
  });

  it('signs an approval decision an outsider verifies with the public key alone', async () => {
    // Prepare
    const signer = new KmsPlatformSigner({ keyId: keyArn, kms: kms.kms });
    // Act
    const signed = await signApprovalDecision(decided, signer);
    // Assess
    expect(signed.signature?.keyId).toBe(keyArn);
    expect(verifyApprovalDecision(signed, kms.publicKeyPem)).toEqual({ verified: true });
    expect(verifyApprovalDecision({ ...signed, decidedBy: 'mallory' }, kms.publicKeyPem).verified).toBe(
      false,
    );
  });

  it('refuses a key that is not an Ed25519 signing key, naming it', async () => {
    // Prepare
    const signer = new KmsPlatformSigner({ keyId: rsaKeyArn, kms: kms.kms });
    // Act
    const verified = signer.verify(Buffer.from('x'), Buffer.alloc(64));
    // Assess
    await expect(verified).rejects.toBeInstanceOf(InvalidInputError);
    await expect(verified).rejects.toThrow(`the platform key ${rsaKeyArn} is a RSA_2048 ENCRYPT_DECRYPT key`);
  });

  it('says which permission is missing when KMS refuses to sign', async () => {
    // Prepare
    const signer = new KmsPlatformSigner({ keyId: keyArn, kms: kms.kms });
    kms.state.deny = true;
    // Act
    const signed = signer.sign(Buffer.from('x')).finally(() => {
      kms.state.deny = false;
    });
    // Assess
    await expect(signed).rejects.toBeInstanceOf(GantryError);
    await expect(signed).rejects.toThrow(
      `KMS Sign on the platform key ${keyArn} failed: AccessDeniedException`,
    );
  });
});

describe('the AWS step dependencies sign approval decisions with the platform key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-kms-wiring-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    GANTRY_STAGE: 'dev',
    GANTRY_EVENTS_TABLE: 'dev-events',
    GANTRY_RUNS_TABLE: 'dev-runs',
    GANTRY_RECORDS_TABLE: 'dev-records',
    GANTRY_ARTIFACT_BUCKET: 'dev-artifacts',
    GANTRY_MODEL_IDS: 'anthropic.claude-a-v1:0',
    GANTRY_APPROVAL_BASE_URL: 'https://approvals.example.test',
    GANTRY_SIGNING_KEY: randomBytes(32).toString('base64'),
    GANTRY_POLICIES_DIR: fileURLToPath(new URL('../../../policies', import.meta.url)),
    GANTRY_WORKSPACES_DIR: join(dir, 'workspaces'),
    GANTRY_EVIDENCE_DIR: join(dir, 'evidence'),
    ...extra,
  });

  it('uses the KMS key GANTRY_PLATFORM_KEY_ID names, and a key of its own process without one', async () => {
    // Act
    const withKey = await createAwsStepDeps(env({ GANTRY_PLATFORM_KEY_ID: keyArn }));
    const withoutKey = await createAwsStepDeps(env());
    // Assess
    const signer = platformSignerOf(withKey.records);
    expect(signer).toBeInstanceOf(KmsPlatformSigner);
    expect(signer.keyId).toBe(keyArn);
    expect(platformSignerOf(withoutKey.records).keyId).toMatch(/^ephemeral:/);
  });
});

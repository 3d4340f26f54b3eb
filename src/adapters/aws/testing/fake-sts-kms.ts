import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';

/** One request the stand-in received: the STS form fields or the KMS operation and JSON body. */
export type SeenRequest =
  | { service: 'sts'; fields: Record<string, string> }
  | { service: 'kms'; operation: string; body: Record<string, unknown> };

const testCredentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

/**
 * A local stand-in for STS (Query API, XML answers) and KMS (JSON 1.1, `X-Amz-Target: TrentService.*`)
 * for the real SDK clients. Its "ciphertext" binds the encryption context, as KMS does: Decrypt with a
 * different context fails with `InvalidCiphertextException`.
 */
export async function startFakeStsKms(): Promise<{
  seen: SeenRequest[];
  sts: STSClient;
  kms: KMSClient;
  stop: () => Promise<void>;
}> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('TrentService.')) {
      const operation = target.slice('TrentService.'.length);
      const json = JSON.parse(body || '{}') as Record<string, unknown>;
      seen.push({ service: 'kms', operation, body: json });
      const answer = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (operation === 'Encrypt') {
        const sealed = { context: json.EncryptionContext ?? {}, plaintext: json.Plaintext };
        answer(200, {
          CiphertextBlob: Buffer.from(`fake-kms:${JSON.stringify(sealed)}`).toString('base64'),
          KeyId: json.KeyId,
        });
        return;
      }
      if (operation === 'Decrypt') {
        const text = Buffer.from(String(json.CiphertextBlob), 'base64').toString('utf8');
        const sealed = text.startsWith('fake-kms:')
          ? (JSON.parse(text.slice('fake-kms:'.length)) as { context: unknown; plaintext: string })
          : undefined;
        if (!sealed || JSON.stringify(sealed.context) !== JSON.stringify(json.EncryptionContext ?? {})) {
          answer(400, { __type: 'InvalidCiphertextException', message: '' });
          return;
        }
        answer(200, { Plaintext: sealed.plaintext, KeyId: json.KeyId ?? 'fake-key' });
        return;
      }
      answer(400, { __type: 'UnsupportedOperationException', message: operation });
      return;
    }
    const fields = Object.fromEntries(new URLSearchParams(body));
    seen.push({ service: 'sts', fields });
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIARUNTEST</AccessKeyId>
      <SecretAccessKey>run-secret</SecretAccessKey>
      <SessionToken>run-session-token</SessionToken>
      <Expiration>2030-01-01T01:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROATEST:${fields.RoleSessionName ?? ''}</AssumedRoleId>
      <Arn>${fields.RoleArn ?? ''}</Arn>
    </AssumedRoleUser>
    <PackedPolicySize>1</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata>
</AssumeRoleResponse>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const common = { endpoint, region: 'us-east-1', credentials: testCredentials, maxAttempts: 1 };
  return {
    seen,
    sts: new STSClient(common),
    kms: new KMSClient(common),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  KMSClient,
  SignCommand,
} from '@aws-sdk/client-kms';
import { GantryError, InvalidInputError } from '../../domain/errors.js';
import type { PlatformSigner } from '../../ports/platform-signer.js';

/** KMS's Ed25519 key spec and its pure (not pre-hashed) signing algorithm, which takes `MessageType: RAW`. */
export const KMS_ED25519_KEY_SPEC = 'ECC_NIST_EDWARDS25519';
export const KMS_ED25519_ALGORITHM = 'ED25519_SHA_512';

/**
 * The platform key as a KMS asymmetric key (`ECC_NIST_EDWARDS25519`, `SIGN_VERIFY`): KMS `Sign` with
 * `ED25519_SHA_512` over the raw bytes, so the private key never leaves KMS. Verification is local,
 * with the public key from `GetPublicKey` (read once), exactly as an outsider verifies.
 *
 * @example
 * const signer = new KmsPlatformSigner({ keyId: 'alias/gantry-platform', kms: new KMSClient({}) });
 * const signature = await signer.sign(bytes); // 64 bytes
 */
export class KmsPlatformSigner implements PlatformSigner {
  readonly keyId: string;
  private readonly kms: KMSClient;
  private publicKey: Promise<KeyObject> | undefined;

  constructor(options: { keyId: string; kms?: KMSClient }) {
    this.keyId = options.keyId;
    this.kms = options.kms ?? new KMSClient({});
  }

  async sign(bytes: Uint8Array): Promise<Uint8Array> {
    let signature: Uint8Array | undefined;
    try {
      ({ Signature: signature } = await this.kms.send(
        new SignCommand({
          KeyId: this.keyId,
          Message: bytes,
          MessageType: 'RAW',
          SigningAlgorithm: KMS_ED25519_ALGORITHM,
        }),
      ));
    } catch (cause) {
      throw this.failed('Sign', cause);
    }
    if (!signature?.byteLength) {
      throw new GantryError(`KMS returned no signature for the platform key ${this.keyId}`, {
        input: this.keyId,
      });
    }
    return signature;
  }

  async verify(bytes: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return verify(null, bytes, await this.loadPublicKey(), signature);
  }

  async publicKeyPem(): Promise<string> {
    return (await this.loadPublicKey()).export({ type: 'spki', format: 'pem' }).toString();
  }

  private loadPublicKey(): Promise<KeyObject> {
    this.publicKey ??= this.fetchPublicKey().catch((error: unknown) => {
      // A failed read (throttling, a missing permission) is tried again next time.
      this.publicKey = undefined;
      throw error;
    });
    return this.publicKey;
  }

  private async fetchPublicKey(): Promise<KeyObject> {
    let answer: GetPublicKeyCommandOutput;
    try {
      answer = await this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyId }));
    } catch (cause) {
      throw this.failed('GetPublicKey', cause);
    }
    if (
      answer.KeySpec !== KMS_ED25519_KEY_SPEC ||
      answer.KeyUsage !== 'SIGN_VERIFY' ||
      !answer.SigningAlgorithms?.includes(KMS_ED25519_ALGORITHM) ||
      !answer.PublicKey
    ) {
      throw new InvalidInputError(
        `the platform key ${this.keyId} is a ${answer.KeySpec ?? 'unknown'} ${answer.KeyUsage ?? ''} key, not an Ed25519 signing key`,
        {
          input: this.keyId,
          hint: `point GANTRY_PLATFORM_KEY_ID at a KMS key with key spec ${KMS_ED25519_KEY_SPEC} and key usage SIGN_VERIFY`,
        },
      );
    }
    return createPublicKey({ key: Buffer.from(answer.PublicKey), format: 'der', type: 'spki' });
  }

  private failed(operation: string, cause: unknown): GantryError {
    return new GantryError(
      `KMS ${operation} on the platform key ${this.keyId} failed: ${(cause as Error).name ?? 'error'}`,
      {
        input: this.keyId,
        hint: `allow kms:${operation} on the key to this function's role, and check GANTRY_PLATFORM_KEY_ID names it`,
        cause,
      },
    );
  }
}

/**
 * The platform's one asymmetric key: it signs what Gantry records as fact (approval decisions now, audit
 * attestations later), so a record written past Gantry does not pass for one Gantry made. Ed25519 in the
 * Gantry home locally (src/adapters/local/ed25519-signer.ts), a KMS key on AWS
 * (src/adapters/aws/kms-signer.ts). The private key never leaves the adapter; anyone may verify with
 * {@link PlatformSigner.publicKeyPem}.
 */
export interface PlatformSigner {
  /** Names the key in what it signs, so a verifier knows which public key to use. */
  readonly keyId: string;
  /** The Ed25519 signature (64 bytes) of `bytes`. */
  sign(bytes: Uint8Array): Promise<Uint8Array>;
  /** Whether `signature` is this key's signature of `bytes`. */
  verify(bytes: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** The public key as SPKI PEM: all an outsider needs to verify. */
  publicKeyPem(): Promise<string>;
}

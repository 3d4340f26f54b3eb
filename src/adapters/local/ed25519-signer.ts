import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { InvalidInputError } from '../../domain/errors.js';
import type { PlatformSigner } from '../../ports/platform-signer.js';

/** Where the embedded runtime keeps the platform's private key, under its home (mode 0600). */
export const PLATFORM_KEY_FILE = 'platform-key.pem';

/**
 * Where the public key of a private key file is written: beside it, `.pem` becoming `.pub.pem`
 * (`platform-key.pub.pem`), for anyone who verifies what Gantry signed.
 *
 * @example
 * publicKeyFileFor('/home/me/.gantry/platform-key.pem'); // '/home/me/.gantry/platform-key.pub.pem'
 */
export function publicKeyFileFor(file: string): string {
  return `${file.replace(/\.pem$/, '')}.pub.pem`;
}

/** `ed25519:` and the first 32 hex digits of the sha256 of the public key's SPKI DER. */
function keyIdOf(publicKey: KeyObject, prefix = 'ed25519'): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `${prefix}:${createHash('sha256').update(der).digest('hex').slice(0, 32)}`;
}

/**
 * The platform key as an Ed25519 key pair in this process: signs with the private key, verifies with
 * the public one.
 *
 * @example
 * const signer = await loadOrCreatePlatformKey(join(home, PLATFORM_KEY_FILE));
 * const signature = await signer.sign(Buffer.from('{"a":1}'));
 * await signer.verify(Buffer.from('{"a":1}'), signature); // true
 */
export class Ed25519Signer implements PlatformSigner {
  readonly keyId: string;
  private readonly publicKey: KeyObject;

  constructor(
    private readonly privateKey: KeyObject,
    options: { keyIdPrefix?: string } = {},
  ) {
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new InvalidInputError(
        `the platform key is ${privateKey.asymmetricKeyType ?? 'not an asymmetric key'}, not Ed25519`,
        { hint: 'delete the key file so Gantry creates an Ed25519 key (decisions it signed stop verifying)' },
      );
    }
    this.publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey, options.keyIdPrefix);
  }

  /**
   * A key that lives as long as this process: nothing it signs verifies anywhere else. For a runtime
   * with no platform key configured: forging still needs the key, but nobody else can check the records.
   *
   * @example
   * const signer = Ed25519Signer.ephemeral(); // keyId 'ephemeral:…'
   */
  static ephemeral(): Ed25519Signer {
    return new Ed25519Signer(generateKeyPairSync('ed25519').privateKey, { keyIdPrefix: 'ephemeral' });
  }

  async sign(bytes: Uint8Array): Promise<Uint8Array> {
    return sign(null, bytes, this.privateKey);
  }

  async verify(bytes: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return verify(null, bytes, this.publicKey, signature);
  }

  async publicKeyPem(): Promise<string> {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }
}

function isInside(file: string, dir: string): boolean {
  const path = relative(resolve(dir), resolve(file));
  return path === '' || (!path.startsWith('..') && !isAbsolute(path));
}

/**
 * Reads the platform's Ed25519 private key (PKCS#8 PEM), or creates one (mode 0600) when the file is
 * missing, and writes its public key beside it ({@link publicKeyFileFor}). A key others may
 * read, or one inside a directory a sandbox mounts (`outside`), is refused: whoever holds it can
 * record any approval.
 *
 * @example
 * const signer = await loadOrCreatePlatformKey(join(home, PLATFORM_KEY_FILE), { outside: [workspacesDir] });
 */
export async function loadOrCreatePlatformKey(
  file: string,
  options: { outside?: readonly string[] } = {},
): Promise<Ed25519Signer> {
  const mounted = options.outside?.find((dir) => isInside(file, dir));
  if (mounted) {
    throw new InvalidInputError(`the platform key ${file} would be inside ${mounted}, which sandboxes see`, {
      input: file,
      hint: 'keep the Gantry home out of the workspaces directory (settings.workspacesDir)',
    });
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process may have created it first; then its key is the key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const { mode } = await stat(file);
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new InvalidInputError(`the platform key ${file} can be read by other users`, {
      input: file,
      hint: `run \`chmod 600 ${file}\`; if others may have read it, delete it so Gantry creates a new one (decisions signed with it stop verifying)`,
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(file));
  } catch (cause) {
    throw new InvalidInputError(`the platform key ${file} is not a PEM private key`, {
      input: file,
      hint: 'delete it so Gantry creates a new one (decisions signed with the old key stop verifying)',
      cause,
    });
  }
  const signer = new Ed25519Signer(privateKey);
  await writeFile(publicKeyFileFor(file), await signer.publicKeyPem(), { mode: 0o644 });
  return signer;
}

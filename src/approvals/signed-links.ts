import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { GantryError, InvalidInputError } from '../domain/errors.js';
import type { RecordStore } from '../ports/event-log.js';

/** What a link answers: one approval, one decision, by one named approver, until it expires. */
export const ApprovalLinkPayload = z.strictObject({
  approvalId: z.string().min(1),
  decision: z.enum(['approve', 'reject']),
  approver: z.string().min(1),
  expiresAt: z.iso.datetime(),
  /** Makes the link single-use: the ledger accepts each nonce once. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'a nonce is 16 to 128 base64url characters'),
});
export type ApprovalLinkPayload = z.infer<typeof ApprovalLinkPayload>;

export type ApprovalLinkFailure = 'forged' | 'malformed' | 'expired' | 'replayed';

const failureHints: Record<ApprovalLinkFailure, string> = {
  forged: 'the link was not signed by this Gantry; use the link from the approval message as sent',
  malformed: 'the link is cut or altered; copy the whole link from the approval message',
  expired: 'ask for a new approval link, or answer with `gantry approve` before the gate expires',
  replayed: 'each link answers once; see the run with `gantry show` to find what was decided',
};

/** An approval link that must not be honoured; `reason` says why. */
export class ApprovalLinkError extends GantryError {
  override name = 'ApprovalLinkError';
  constructor(
    readonly reason: ApprovalLinkFailure,
    message: string,
    options: { input?: string; cause?: unknown } = {},
  ) {
    super(message, { ...options, hint: failureHints[reason] });
  }
}

/** Keeps link signatures from being valid for any other use of the same key. */
const SIGNATURE_CONTEXT = 'gantry.approval-link.v1.';
const MIN_KEY_BYTES = 32;

function assertKey(key: Uint8Array): void {
  if (key.byteLength < MIN_KEY_BYTES) {
    throw new InvalidInputError(
      `an approval signing key needs at least ${MIN_KEY_BYTES} bytes; this one has ${key.byteLength}`,
      { hint: 'delete the key file and let Gantry create a new one with loadOrCreateSigningKey' },
    );
  }
}

function signatureOf(encodedPayload: string, key: Uint8Array): Buffer {
  return createHmac('sha256', key).update(SIGNATURE_CONTEXT).update(encodedPayload).digest();
}

/**
 * A fresh nonce for {@link signApprovalLink}: 128 random bits.
 *
 * @example
 * const nonce = newLinkNonce(); // 'q3Vd0y...' (22 characters)
 */
export function newLinkNonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Signs an approval link with HMAC-SHA256: `base64url(payload JSON) + '.' + base64url(signature)`.
 *
 * @example
 * const token = signApprovalLink(
 *   { approvalId: 'apv-1a2b', decision: 'approve', approver: 'sam', expiresAt: '2026-12-01T00:00:00.000Z', nonce: newLinkNonce() },
 *   key,
 * );
 */
export function signApprovalLink(payload: ApprovalLinkPayload, key: Uint8Array): string {
  assertKey(key);
  const encoded = Buffer.from(JSON.stringify(ApprovalLinkPayload.parse(payload))).toString('base64url');
  return `${encoded}.${signatureOf(encoded, key).toString('base64url')}`;
}

const tokenShape = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const SIGNATURE_BYTES = 32;

/**
 * Checks a link's signature, shape and expiry, and returns what it answers. It does not consume
 * the link: {@link consumeApprovalLink} does, before a decision is taken.
 *
 * @throws ApprovalLinkError with reason `forged`, `malformed` or `expired`
 * @example
 * const payload = verifyApprovalLink(token, key, new Date()); // { approvalId: 'apv-1a2b', decision: 'approve', ... }
 */
export function verifyApprovalLink(token: string, key: Uint8Array, now: Date): ApprovalLinkPayload {
  assertKey(key);
  const input = token.length > 40 ? `${token.slice(0, 40)}...` : token;
  const parts = tokenShape.exec(token);
  const signature = parts ? Buffer.from(parts[2] ?? '', 'base64url') : undefined;
  if (!parts || signature?.byteLength !== SIGNATURE_BYTES) {
    throw new ApprovalLinkError('malformed', 'this approval link is not a Gantry approval link', { input });
  }
  const encoded = parts[1] ?? '';
  // Signature first: nothing from an unsigned payload is read or trusted.
  if (!timingSafeEqual(signature, signatureOf(encoded, key))) {
    throw new ApprovalLinkError('forged', 'this approval link has a signature Gantry did not make', {
      input,
    });
  }
  let payload: ApprovalLinkPayload;
  try {
    payload = ApprovalLinkPayload.parse(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')));
  } catch (cause) {
    throw new ApprovalLinkError(
      'malformed',
      'this approval link is signed but does not say what it answers',
      {
        input,
        cause,
      },
    );
  }
  if (now.getTime() >= Date.parse(payload.expiresAt)) {
    throw new ApprovalLinkError(
      'expired',
      `this approval link for ${payload.approvalId} expired at ${payload.expiresAt}`,
      { input: payload.approvalId },
    );
  }
  return payload;
}

/** Remembers which link nonces were used, so each link answers once. */
export interface ApprovalLinkLedger {
  /** True the first time a nonce is consumed, false every time after. */
  consume(nonce: string): Promise<boolean>;
}

const NONCE_KIND = 'approval-link-nonce';

/**
 * The ledger on the record store: a conditional put makes consuming atomic across processes.
 *
 * @example
 * const ledger = new RecordStoreLinkLedger(gantry.log, () => new Date());
 * await ledger.consume(payload.nonce); // true, then false
 */
export class RecordStoreLinkLedger implements ApprovalLinkLedger {
  constructor(
    private readonly records: RecordStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  consume(nonce: string): Promise<boolean> {
    return this.records.put(NONCE_KIND, nonce, { consumedAt: this.now().toISOString() }, { ifAbsent: true });
  }
}

/**
 * Verifies a link and consumes its nonce: what a link answers is returned once, ever.
 *
 * @throws ApprovalLinkError with reason `forged`, `malformed`, `expired` or `replayed`
 * @example
 * const payload = await consumeApprovalLink(token, key, ledger, new Date());
 * await gantry.decide(payload.approvalId, payload.decision === 'approve' ? 'approved' : 'rejected', payload.approver);
 */
export async function consumeApprovalLink(
  token: string,
  key: Uint8Array,
  ledger: ApprovalLinkLedger,
  now: Date,
): Promise<ApprovalLinkPayload> {
  const payload = verifyApprovalLink(token, key, now);
  if (!(await ledger.consume(payload.nonce))) {
    throw new ApprovalLinkError('replayed', `this approval link for ${payload.approvalId} was already used`, {
      input: payload.approvalId,
    });
  }
  return payload;
}

/**
 * The address a person opens: `<baseUrl>/approvals/<token>`.
 *
 * @example
 * approvalLinkUrl('http://127.0.0.1:8787/', token); // 'http://127.0.0.1:8787/approvals/eyJh...'
 */
export function approvalLinkUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${encodeURIComponent(token)}`;
}

/** Where the embedded runtime keeps its link signing key, under its home. */
export const SIGNING_KEY_FILE = 'approval-signing.key';

/**
 * Reads the link signing key, or creates a random 32-byte one (mode 0600) when the file is
 * missing. A key that others may read is refused: anyone holding it can approve anything.
 *
 * @example
 * const key = await loadOrCreateSigningKey(join(gantry.home, SIGNING_KEY_FILE));
 */
export async function loadOrCreateSigningKey(file: string): Promise<Buffer> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, randomBytes(MIN_KEY_BYTES), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process may have created it first; then its key is the key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A key file made by hand may be open to others; Windows has no such mode bits to check.
  const { mode } = await stat(file);
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new InvalidInputError(`the approval signing key ${file} can be read by other users`, {
      input: file,
      hint: `run \`chmod 600 ${file}\`, or delete it so Gantry creates a new one (links already sent stop working)`,
    });
  }
  const key = await readFile(file);
  assertKey(key);
  return key;
}

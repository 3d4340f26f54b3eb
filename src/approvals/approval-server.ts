import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GantryError } from '../domain/errors.js';
import {
  ApprovalRequestProblem,
  bodyTooLarge,
  confirmationPage,
  MAX_APPROVAL_BODY_BYTES,
  problemPage,
  reasonFromBody,
  recordedPage,
} from './approval-pages.js';
import {
  ApprovalLinkError,
  type ApprovalLinkLedger,
  type ApprovalLinkPayload,
  consumeApprovalLink,
  verifyApprovalLink,
} from './signed-links.js';

/** Answers an approval, as `Gantry.decide` does; a GantryError it throws is a refusal shown to the person. */
export type DecideApproval = (
  approvalId: string,
  decision: 'approved' | 'rejected',
  approver: string,
  reason: string | undefined,
) => Promise<unknown>;

export interface ApprovalServerOptions {
  /** The link signing key (see loadOrCreateSigningKey). */
  key: Uint8Array;
  ledger: ApprovalLinkLedger;
  decide: DecideApproval;
  /** 0 picks a free port. */
  port?: number;
  /** Loopback by default: the links are answered on this machine only. */
  host?: string;
  now?: () => Date;
}

export interface ApprovalServer {
  /** Where the server listens, such as `http://127.0.0.1:8787`; links are `<url>/approvals/<token>`. */
  url: string;
  close(): Promise<void>;
}

/** Headers for every answer: the token is in the URL, so it must not leak by referrer, cache or frame. */
const baseHeaders = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/**
 * Starts the local endpoint that answers signed approval links. `GET /approvals/:token` only shows
 * a confirmation page, because mail and chat link scanners fetch links; `POST` verifies the link,
 * consumes it and decides. `GET /health` answers `{ "status": "ok" }`.
 *
 * @example
 * const server = await startApprovalServer({ key, ledger, decide: (id, d, by, why) => gantry.decide(id, d, by, why) });
 * const link = approvalLinkUrl(server.url, token);
 * await server.close();
 */
export async function startApprovalServer(options: ApprovalServerOptions): Promise<ApprovalServer> {
  const now = options.now ?? (() => new Date());
  const server = createServer((request, response) => {
    handle(request, response, options, now).catch((error: unknown) => {
      if (!response.headersSent) {
        send(request, response, 500, 'internal', 'The answer could not be recorded.', String(error));
      } else response.destroy();
    });
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: ApprovalServerOptions,
  now: () => Date,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://approvals.invalid').pathname;
  if (path === '/health') {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return methodNotAllowed(request, response, 'GET');
    return sendJson(response, 200, { status: 'ok' });
  }
  const match = /^\/approvals\/([^/]+)$/.exec(path);
  if (!match) {
    return send(
      request,
      response,
      404,
      'not-found',
      'There is nothing here.',
      'Open the link from the approval message.',
    );
  }
  let token: string;
  try {
    token = decodeURIComponent(match[1] ?? '');
  } catch {
    token = '';
  }
  try {
    if (request.method === 'GET' || request.method === 'HEAD') {
      const payload = verifyApprovalLink(token, options.key, now());
      return sendHtml(response, 200, confirmationPage(payload));
    }
    if (request.method === 'POST') {
      const reason = await readReason(request);
      const payload = await consumeApprovalLink(token, options.key, options.ledger, now());
      const decision = payload.decision === 'approve' ? 'approved' : 'rejected';
      try {
        await options.decide(payload.approvalId, decision, payload.approver, reason);
      } catch (error) {
        if (error instanceof GantryError)
          throw new ApprovalRequestProblem(409, 'refused', error.message, error.hint);
        throw error;
      }
      return answered(request, response, payload, decision, reason);
    }
    return methodNotAllowed(request, response, 'GET, POST');
  } catch (error) {
    if (error instanceof ApprovalLinkError) {
      return send(request, response, 403, error.reason, error.message, error.hint);
    }
    if (error instanceof ApprovalRequestProblem)
      return send(request, response, error.status, error.code, error.message, error.hint);
    throw error;
  }
}

async function readReason(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_APPROVAL_BODY_BYTES) throw bodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return reasonFromBody(Buffer.concat(chunks).toString('utf8'), request.headers['content-type'] ?? '');
}

function wantsJson(request: IncomingMessage): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...baseHeaders, 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, { ...baseHeaders, 'content-type': 'text/html; charset=utf-8' });
  response.end(html);
}

function send(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  hint?: string,
): void {
  if (wantsJson(request)) {
    sendJson(response, status, { error: code, message, hint });
    return;
  }
  sendHtml(response, status, problemPage(status, code, message, hint));
}

function methodNotAllowed(request: IncomingMessage, response: ServerResponse, allow: string): void {
  response.setHeader('allow', allow);
  send(request, response, 405, 'method-not-allowed', `This address answers ${allow} only.`);
}

function answered(
  request: IncomingMessage,
  response: ServerResponse,
  payload: ApprovalLinkPayload,
  decision: 'approved' | 'rejected',
  reason: string | undefined,
): void {
  if (wantsJson(request)) {
    sendJson(response, 200, {
      approvalId: payload.approvalId,
      decision,
      approver: payload.approver,
      reason,
    });
    return;
  }
  sendHtml(response, 200, recordedPage(payload, decision, reason));
}

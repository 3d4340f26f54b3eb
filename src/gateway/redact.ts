/** Patterns of credentials that must never leave a tool call unredacted. */
const secretPatterns: ReadonlyArray<[string, RegExp]> = [
  ['private-key', /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g],
  ['aws-access-key-id', /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g],
  ['aws-secret-access-key', /(aws_?secret_?access_?key["'\s]*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/gi],
  ['github-token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g],
  ['slack-token', /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g],
  ['bearer-token', /(\bbearer\s+)[A-Za-z0-9._~+/-]{20,}=*/gi],
  [
    'assigned-secret',
    /(\b[A-Za-z0-9_]*(?:secret|token|password|passwd|api_?key)[A-Za-z0-9_]*\s*[:=]\s*["']?)[^\s"']{8,}/gi,
  ],
];

/** Environment variable names whose values are secrets wherever they appear. */
export const secretEnvName = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|SESSION|PRIVATE)/i;

/**
 * Removes credentials from text: known token shapes, and any configured secret value verbatim.
 *
 * @example
 * const redactor = new SecretRedactor(['hunter2-long-value']);
 * redactor.redact('token=ghp_xxx… hunter2-long-value'); // both replaced by [REDACTED:…]
 */
export class SecretRedactor {
  private readonly literals: string[];

  constructor(literalSecrets: Iterable<string> = []) {
    // Short values would redact ordinary words; longest first so overlapping secrets go whole.
    this.literals = [...new Set([...literalSecrets].filter((s) => s.length >= 8))].sort(
      (a, b) => b.length - a.length,
    );
  }

  /** The secret values in an environment: every variable whose name says it holds one. */
  static fromEnvironment(env: NodeJS.ProcessEnv, extra: Iterable<string> = []): SecretRedactor {
    const values = Object.entries(env)
      .filter(([name, value]) => value && secretEnvName.test(name))
      .map(([, value]) => value as string);
    return new SecretRedactor([...values, ...extra]);
  }

  redact(text: string): { text: string; redactions: number } {
    let redactions = 0;
    let out = text;
    for (const literal of this.literals) {
      if (out.includes(literal)) {
        redactions += out.split(literal).length - 1;
        out = out.replaceAll(literal, '[REDACTED:configured-secret]');
      }
    }
    for (const [name, pattern] of secretPatterns) {
      out = out.replace(pattern, (match, prefix: unknown) => {
        redactions++;
        return typeof prefix === 'string' && match.startsWith(prefix)
          ? `${prefix}[REDACTED:${name}]`
          : `[REDACTED:${name}]`;
      });
    }
    return { text: out, redactions };
  }
}

/**
 * The request as Gantry keeps it: every text field redacted, so a credential pasted into an issue never
 * reaches the event log or the model's prompt.
 */
export function redactRequest<
  T extends {
    title: string;
    description: string;
    acceptanceCriteria: string[];
    constraints: string[];
    attachments: { content: string }[];
  },
>(request: T, redactor: SecretRedactor): T {
  const clean = (text: string) => redactor.redact(text).text;
  return {
    ...request,
    title: clean(request.title),
    description: clean(request.description),
    acceptanceCriteria: request.acceptanceCriteria.map(clean),
    constraints: request.constraints.map(clean),
    attachments: request.attachments.map((a) => ({ ...a, content: clean(a.content) })),
  };
}

/** Every string inside a JSON value, redacted; structure and other values are kept. */
export function redactDeep<T>(value: T, redactor: SecretRedactor): T {
  if (typeof value === 'string') return redactor.redact(value).text as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redactor)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redactor)])) as T;
  }
  return value;
}

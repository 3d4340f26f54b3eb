/**
 * Token formats that are credentials wherever they appear, with almost no chance of matching ordinary
 * code. They are redacted in what Gantry logs and stores, never in what the model reads or writes: a
 * rewritten line of source corrupts the edit made from it. (Low-confidence shapes such as
 * `token = ...` are not redacted at all: `token = &tokens[i]` is code, not a credential.)
 */
const tokenFormats: ReadonlyArray<[string, RegExp]> = [
  ['private-key', /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g],
  ['aws-access-key-id', /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g],
  ['aws-secret-access-key', /(aws_?secret_?access_?key["'\s]*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/gi],
  ['github-token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g],
  ['slack-token', /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g],
  ['bearer-token', /(\bbearer\s+)[A-Za-z0-9._~+/-]{20,}=*/gi],
];

/** Environment variable names whose values are secrets wherever they appear. */
export const secretEnvName = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|SESSION|PRIVATE)/i;

/** What replaces a configured secret, in any of its encodings. */
export const CONFIGURED_SECRET_MARKER = '[REDACTED:configured-secret]';

/** Shorter values would match ordinary words. */
const MIN_SECRET_LENGTH = 8;

/** One spelling of a configured secret, and which encoding it is (never the value itself). */
interface SecretForm {
  text: string;
  encoding: 'raw' | 'base64' | 'base64url' | 'hex' | 'url-encoded';
}

/**
 * Removes credentials from text. Two levels, chosen per call site:
 * - {@link SecretRedactor.redactLiterals}: the configured secret values (raw, base64, hex and
 *   URL-encoded). For everything the model reads and writes, and everything sent to it.
 * - {@link SecretRedactor.redact}: those, plus high-confidence token formats (AWS key ids, GitHub and
 *   Slack tokens, private key blocks, bearer tokens). For events, artifacts and logs.
 *
 * @example
 * const redactor = new SecretRedactor(['hunter2-long-value']);
 * redactor.redact('token=ghp_xxx… hunter2-long-value'); // both replaced by [REDACTED:…]
 * redactor.redactLiterals('token = &tokens[i]; aGVsbG8…'); // code kept, only the secret's forms go
 */
export class SecretRedactor {
  private readonly forms: SecretForm[];

  constructor(literalSecrets: Iterable<string> = []) {
    const values = [...new Set(literalSecrets)].filter((s) => s.length >= MIN_SECRET_LENGTH);
    const byText = new Map<string, SecretForm>();
    for (const value of values) {
      for (const form of encodingsOf(value)) {
        if (form.text.length >= MIN_SECRET_LENGTH && !byText.has(form.text)) byText.set(form.text, form);
      }
    }
    // Longest first, so a secret that contains another goes whole.
    this.forms = [...byText.values()].sort((a, b) => b.text.length - a.text.length);
  }

  /** The secret values in an environment: every variable whose name says it holds one. */
  static fromEnvironment(env: NodeJS.ProcessEnv, extra: Iterable<string> = []): SecretRedactor {
    const values = Object.entries(env)
      .filter(([name, value]) => value && secretEnvName.test(name))
      .map(([, value]) => value as string);
    return new SecretRedactor([...values, ...extra]);
  }

  /** Configured secrets and high-confidence token formats: for what is stored, logged or emitted. */
  redact(text: string): { text: string; redactions: number } {
    const literal = this.redactLiterals(text);
    let redactions = literal.redactions;
    let out = literal.text;
    for (const [name, pattern] of tokenFormats) {
      out = out.replace(pattern, (match, prefix: unknown) => {
        redactions++;
        return typeof prefix === 'string' && match.startsWith(prefix)
          ? `${prefix}[REDACTED:${name}]`
          : `[REDACTED:${name}]`;
      });
    }
    return { text: out, redactions };
  }

  /** Configured secrets only, in every encoding: for what the model reads, writes or is sent. */
  redactLiterals(text: string): { text: string; redactions: number } {
    let redactions = 0;
    let out = text;
    for (const { text: secret } of this.forms) {
      if (out.includes(secret)) {
        redactions += out.split(secret).length - 1;
        out = out.replaceAll(secret, CONFIGURED_SECRET_MARKER);
      }
    }
    return { text: out, redactions };
  }

  /**
   * How many times configured secrets occur in `text`, and the encoding of the first found: for
   * refusing a write that would add one. The value itself is never returned.
   *
   * @example
   * new SecretRedactor(['hunter2-long-value']).secretsIn('x aHVudGVyMi1sb25nLXZhbHVl'); // { count: 1, encoding: 'base64' }
   */
  secretsIn(text: string): { count: number; encoding: SecretForm['encoding'] | undefined } {
    let count = 0;
    let encoding: SecretForm['encoding'] | undefined;
    let rest = text;
    for (const form of this.forms) {
      if (!rest.includes(form.text)) continue;
      count += rest.split(form.text).length - 1;
      encoding ??= form.encoding;
      // Removed so a shorter form inside a longer one is not counted twice.
      rest = rest.replaceAll(form.text, '\0');
    }
    return { count, encoding };
  }
}

/**
 * The spellings a secret takes on its way out: raw, hex, URL-encoded, and base64 (standard and
 * URL-safe). Inside a longer base64 text (a `Basic` header encodes `user:secret`) the secret starts at
 * any of three byte offsets and encodes differently at each; for every offset the characters that
 * depend on the secret's bytes alone are a form of their own.
 */
function encodingsOf(value: string): SecretForm[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms: SecretForm[] = [{ text: value, encoding: 'raw' }];
  const hex = bytes.toString('hex');
  forms.push({ text: hex, encoding: 'hex' }, { text: hex.toUpperCase(), encoding: 'hex' });
  const url = encodeURIComponent(value);
  forms.push(
    { text: url, encoding: 'url-encoded' },
    { text: url.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()), encoding: 'url-encoded' },
    { text: url.replaceAll('%20', '+'), encoding: 'url-encoded' },
  );
  const base64s = [bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, '')];
  for (let offset = 0; offset < 3; offset++) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    base64s.push(shifted.slice(first, end));
  }
  for (const text of base64s) {
    forms.push({ text, encoding: 'base64' });
    forms.push({
      text: text.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''),
      encoding: 'base64url',
    });
  }
  return forms;
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

/**
 * Every string inside a JSON value, redacted; structure and other values are kept. `literalsOnly`
 * for what the model wrote or will read (its code must stay as it is), the default for what is stored.
 *
 * @example
 * redactDeep(response, redactor, { literalsOnly: true }); // a model response: secrets go, code stays
 */
export function redactDeep<T>(
  value: T,
  redactor: SecretRedactor,
  options: { literalsOnly?: boolean } = {},
): T {
  if (typeof value === 'string')
    return (options.literalsOnly ? redactor.redactLiterals(value) : redactor.redact(value)).text as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redactor, options)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redactDeep(v, redactor, options)]),
    ) as T;
  }
  return value;
}

import { describe, expect, it } from 'vitest';
import { SecretRedactor } from './redact.js';

const awsKeyId = 'AKIAIOSFODNN7EXAMPLE';
const awsSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ghp = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
const gho = `gho_${'Z9y8X7w6V5'.repeat(4)}`;
const fineGrained = `github_pat_11ABCDEFG0${'q'.repeat(60)}`;
const slack = 'xoxb-123456789012-abcdefABCDEF';
const pem = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA7vJ1x2d9c0Qm3k5l8p2s4t6u8w0y2A4C6E8G0I2K4M6O8Q0S',
  'Z2X4C6V8B0N2M4',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

function redacted(text: string, redactor = new SecretRedactor()): { text: string; redactions: number } {
  return redactor.redact(text);
}

describe('SecretRedactor', () => {
  it('redacts an AWS access key id wherever it appears', () => {
    const out = redacted(`key id: ${awsKeyId} (prod)`);
    expect(out.text).toBe('key id: [REDACTED:aws-access-key-id] (prod)');
    expect(out.redactions).toBe(1);
  });

  it('redacts an AWS secret access key assignment, keeping the name for the reader', () => {
    for (const line of [
      `aws_secret_access_key = ${awsSecret}`,
      `AWS_SECRET_ACCESS_KEY=${awsSecret}`,
      `"awsSecretAccessKey": "${awsSecret}"`,
    ]) {
      const out = redacted(line);
      expect(out.text, line).not.toContain(awsSecret);
      expect(out.text).toMatch(/REDACTED/);
    }
    expect(redacted(`aws_secret_access_key = ${awsSecret}`).text).toMatch(
      /^aws_secret_access_key = \[REDACTED:/,
    );
  });

  it('redacts GitHub tokens of every kind', () => {
    for (const token of [ghp, gho, fineGrained]) {
      const out = redacted(`GH=${token}\nlog: using ${token}`);
      expect(out.text, token).not.toContain(token);
      expect(out.text).toContain('[REDACTED:github-token]');
    }
  });

  it('redacts a whole PEM private key block, body included', () => {
    const out = redacted(`before\n${pem}\nafter`);
    expect(out.text).toBe('before\n[REDACTED:private-key]\nafter');
    // A truncated key (no END line) still goes, to the end of the text.
    expect(redacted(pem.split('\n').slice(0, 2).join('\n')).text).toBe('[REDACTED:private-key]');
  });

  it('redacts Slack and Bearer tokens', () => {
    expect(redacted(`slack ${slack} ok`).text).toBe('slack [REDACTED:slack-token] ok');
    const bearer = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const out = redacted(`Authorization: Bearer ${bearer}`);
    expect(out.text).toBe('Authorization: Bearer [REDACTED:bearer-token]');
  });

  it('leaves code alone that only looks like an assignment of a secret', () => {
    // Prepare: ordinary source whose names say token, secret or password
    const code = [
      'let token = &tokens[i];',
      'self.secret_keys = load_secret_keys_from(vault_path)',
      'const password_hash = password_hash(user.password_input);',
      'api_key = settings.api_key_override_or_default',
      'password=correct-horse-battery',
    ].join('\n');
    // Act
    const stored = redacted(code);
    const literal = new SecretRedactor(['configured-value-123']).redactLiterals(code);
    // Assess
    expect(stored).toEqual({ text: code, redactions: 0 });
    expect(literal).toEqual({ text: code, redactions: 0 });
  });

  it('redacts a configured secret in its base64, base64url, hex and URL-encoded forms', () => {
    // Prepare
    const secret = 'hunter2/long+value?&=';
    const redactor = new SecretRedactor([secret]);
    const bytes = Buffer.from(secret);
    const forms = [
      bytes.toString('base64'),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      encodeURIComponent(secret),
      // Inside a longer base64 text, at every byte offset: an HTTP Basic header encodes user:secret.
      Buffer.from(`u:${secret}`).toString('base64'),
      Buffer.from(`us:${secret}`).toString('base64'),
      Buffer.from(`use:${secret}`).toString('base64'),
    ];
    for (const form of forms) {
      // Act
      const out = redactor.redactLiterals(`Authorization: Basic ${form} end`);
      // Assess: what is left of the encoding cannot be decoded back to the secret
      expect(out.text, form).toContain('[REDACTED:configured-secret]');
      expect(out.text, form).not.toContain(form);
      const leftover = out.text.replace('Authorization: Basic ', '').replace(' end', '');
      expect(Buffer.from(leftover.replace(/\[REDACTED:[a-z-]+\]/, ''), 'base64').toString()).not.toContain(
        secret,
      );
      expect(redactor.secretsIn(form).count, form).toBeGreaterThan(0);
    }
    expect(redactor.secretsIn(`x ${bytes.toString('hex')}`)).toEqual({ count: 1, encoding: 'hex' });
    expect(redactor.secretsIn('ordinary code')).toEqual({ count: 0, encoding: undefined });
  });

  it('keeps token formats out of literal-only redaction, which is for what the model wrote', () => {
    const redactor = new SecretRedactor(['configured-value-123']);
    const text = `key ${awsKeyId} and configured-value-123`;
    expect(redactor.redactLiterals(text).text).toBe(`key ${awsKeyId} and [REDACTED:configured-secret]`);
    expect(redactor.redact(text).text).toBe(
      'key [REDACTED:aws-access-key-id] and [REDACTED:configured-secret]',
    );
  });

  it('redacts a configured literal secret of any shape, every occurrence', () => {
    const literal = 'canary-Zq8#not-a-known-shape';
    const out = new SecretRedactor([literal]).redact(`a ${literal} b ${literal}`);
    expect(out.text).toBe('a [REDACTED:configured-secret] b [REDACTED:configured-secret]');
    expect(out.redactions).toBe(2);
  });

  it('takes literal secrets from secret-named environment variables only', () => {
    // Prepare
    const env = {
      GANTRY_CANARY_API_TOKEN: 'canary-value-0001',
      DB_PASSWORD: 'hunter2-hunter2',
      STRIPE_SECRET: 'sk-live-something-long',
      HOME_DIRECTORY_NAME: 'ordinary-value-9',
      EDITOR: 'vim-with-plugins',
      EMPTY_TOKEN: '',
    };
    // Act
    const redactor = SecretRedactor.fromEnvironment(env, ['extra-literal-secret']);
    const out = redactor.redact(`${Object.values(env).join(' ')} extra-literal-secret`);
    // Assess
    expect(out.text).not.toContain('canary-value-0001');
    expect(out.text).not.toContain('hunter2-hunter2');
    expect(out.text).not.toContain('sk-live-something-long');
    expect(out.text).not.toContain('extra-literal-secret');
    expect(out.text).toContain('ordinary-value-9');
    expect(out.text).toContain('vim-with-plugins');
    expect(out.redactions).toBe(4);
  });

  it('leaves plain text, code and short values alone', () => {
    const plain = [
      'const discountPercent = invoice.discountPercent ?? DEFAULT_DISCOUNT_PERCENT;',
      'token count: 42',
      'password=short',
      'README: see AKIA in the docs',
      'ok 5 - an invoice without discountPercent still gets the loyalty discount',
    ].join('\n');
    expect(redacted(plain)).toEqual({ text: plain, redactions: 0 });
    // Literal secrets shorter than 8 characters would redact ordinary words.
    expect(new SecretRedactor(['the', 'abc1234']).redact('the abc1234')).toEqual({
      text: 'the abc1234',
      redactions: 0,
    });
  });
});

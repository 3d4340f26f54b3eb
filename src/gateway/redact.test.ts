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

  it('redacts values assigned to secret-named settings', () => {
    expect(redacted('password=correct-horse-battery').text).toBe('password=[REDACTED:assigned-secret]');
    expect(redacted('DB_PASSWORD: "s3cr3t-value-123"').text).not.toContain('s3cr3t-value-123');
    expect(redacted('api_key = 0123456789abcdef').text).not.toContain('0123456789abcdef');
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

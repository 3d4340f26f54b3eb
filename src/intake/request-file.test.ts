import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isValid as isUlid } from 'ulid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { EngineeringRequest } from '../domain/request.js';
import { parseRequestFile, parseRequestText } from './request-file.js';

const invoiceRequestYaml = `title: Invoice total is wrong when the discount is zero
requester: ana
repository:
  name: billing-service
  path: ./repo
description: |
  invoiceTotal() in src/invoice.ts returns NaN when the discount is 0.
acceptanceCriteria:
  - an invoice with a zero discount totals the sum of its lines
constraints:
  - do not change the public API
`;

describe('parseRequestFile', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'gantry-request-file-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads a YAML request, fills id, source and time, and resolves the repository path against the file', async () => {
    // Prepare
    const requests = path.join(directory, 'requests');
    await mkdir(requests);
    const file = path.join(requests, 'request.yaml');
    await writeFile(file, invoiceRequestYaml);
    const now = new Date('2026-11-21T10:00:00.000Z');

    // Act
    const request = await parseRequestFile(file, { now });

    // Assess
    expect(EngineeringRequest.parse(request)).toEqual(request);
    expect(request.source).toBe('file');
    expect(request.receivedAt).toBe('2026-11-21T10:00:00.000Z');
    expect(isUlid(request.id)).toBe(true);
    expect(request.repository).toEqual({
      name: 'billing-service',
      path: path.join(requests, 'repo'),
      defaultBranch: 'main',
    });
    expect(request.capability).toBe('low-risk-bugfix');
    expect(request.acceptanceCriteria).toEqual([
      'an invoice with a zero discount totals the sum of its lines',
    ]);
    expect(request.constraints).toEqual(['do not change the public API']);
  });

  it('reads JSON, keeps an id the file gives and leaves an absolute repository path alone', async () => {
    // Prepare
    const file = path.join(directory, 'request.json');
    await writeFile(
      file,
      JSON.stringify({
        id: 'req-42',
        title: 'Fix rounding',
        requester: 'ana',
        repository: { name: 'billing-service', path: '/srv/billing' },
      }),
    );

    // Act
    const request = await parseRequestFile(file, { id: 'ignored-because-the-file-has-one' });

    // Assess
    expect(request.id).toBe('req-42');
    expect(request.repository.path).toBe('/srv/billing');
    expect(request.acceptanceCriteria).toEqual([]);
  });

  it('uses the id passed in when the file gives none', async () => {
    // Prepare
    const file = path.join(directory, 'request.yaml');
    await writeFile(file, invoiceRequestYaml);

    // Act
    const request = await parseRequestFile(file, { id: 'req-from-caller' });

    // Assess
    expect(request.id).toBe('req-from-caller');
  });

  it('lists every schema issue, unknown keys included, and names the file', async () => {
    // Prepare
    const file = path.join(directory, 'broken.yaml');
    await writeFile(file, 'title: ""\nrequester: ana\nrepository: { name: "bad name!" }\npriority: high\n');

    // Act
    const error = await parseRequestFile(file, {}).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    const invalid = error as InvalidInputError;
    expect(invalid.input).toBe(file);
    expect(invalid.message).toContain(file);
    expect(invalid.message).toContain('title:');
    expect(invalid.message).toContain('repository.name: repository name may hold letters');
    expect(invalid.message).toContain('Unrecognized key: "priority"');
    expect(invalid.hint).toContain('examples/billing-service/request.yaml');
  });

  it('names the line of a YAML syntax error', async () => {
    // Prepare
    const file = path.join(directory, 'syntax.yaml');
    await writeFile(file, 'title: Fix rounding\nrequester: ana\nrepository: name: billing-service\n');

    // Act
    const error = await parseRequestFile(file, {}).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toMatch(
      /^Request file .*syntax\.yaml is not valid YAML or JSON at line 3, column 13: Nested mappings/,
    );
    expect((error as InvalidInputError).input).toBe(`${file}:3`);
  });

  it('says a missing file cannot be read', async () => {
    // Prepare
    const file = path.join(directory, 'absent.yaml');

    // Act
    const error = await parseRequestFile(file, {}).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toContain(`Cannot read request file ${file}`);
  });
});

describe('parseRequestText', () => {
  it('resolves a relative repository path against the base directory given', () => {
    // Act
    const request = parseRequestText(invoiceRequestYaml, 'stdin', { baseDir: '/srv/requests', id: 'r1' });

    // Assess
    expect(request.repository.path).toBe('/srv/requests/repo');
    expect(request.id).toBe('r1');
  });

  it('refuses an empty document', () => {
    // Act
    const act = () => parseRequestText('', 'stdin', {});

    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(/Request file stdin is not a valid request: \(root\)/);
  });
});

describe('parseRequestText with repositoryConfig', () => {
  it("keeps the operator's repository configuration as written", () => {
    // Prepare
    const text = `${invoiceRequestYaml}repositoryConfig:
  test: make check
  focusedTest: pytest {tests}
  setup: [[make, generate]]
  env: { TZ: UTC }
  toolchain: [python]
  knownFailing: [{ test: "tests/e2e/*", reason: needs the internet }]
  editable: ["src/**"]
  strict: true
`;

    // Act
    const request = parseRequestText(text, 'request.yaml', { id: 'r1' });

    // Assess
    expect(EngineeringRequest.parse(request)).toEqual(request);
    expect(request.repositoryConfig).toEqual({
      test: 'make check',
      focusedTest: 'pytest {tests}',
      setup: [['make', 'generate']],
      env: { TZ: 'UTC' },
      toolchain: ['python'],
      knownFailing: [{ test: 'tests/e2e/*', reason: 'needs the internet' }],
      editable: ['src/**'],
      strict: true,
    });
  });

  it('refuses an unknown key or a refused variable in it, naming the file and the key', () => {
    // Act
    const unknown = () =>
      parseRequestText(`${invoiceRequestYaml}repositoryConfig: { tests: make check }\n`, 'request.yaml');
    const variable = () =>
      parseRequestText(
        `${invoiceRequestYaml}repositoryConfig: { env: { NODE_OPTIONS: "--require=x" } }\n`,
        'request.yaml',
      );

    // Assess
    expect(unknown).toThrow(
      /request.yaml is not a valid request: .*repositoryConfig: Unrecognized key: "tests"/,
    );
    expect(variable).toThrow(InvalidInputError);
    expect(variable).toThrow(
      /Repository configuration in request file request.yaml \(repositoryConfig\) is not valid: env.NODE_OPTIONS: NODE_OPTIONS may not be set/,
    );
  });
});

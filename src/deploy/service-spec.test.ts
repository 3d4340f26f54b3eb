import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { defaultServicesDir, loadServiceSpecs, serviceForRepository } from './service-spec.js';

let dir: string;
let billing: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-services-'));
  billing = await readFile(path.join(defaultServicesDir, 'billing-service.yaml'), 'utf8');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(file: string, text: string): Promise<InvalidInputError> {
  await writeFile(path.join(dir, file), text);
  const error = await loadServiceSpecs(dir).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(InvalidInputError);
  return error as InvalidInputError;
}

describe('service specs', () => {
  it('loads the shipped billing-service spec with its exact traffic mix', async () => {
    const specs = await loadServiceSpecs();
    const spec = specs.get('billing-service');

    expect(spec?.start.command).toEqual(['node', 'src/server.js']);
    expect(spec?.rollout.steps).toEqual([10, 50, 100]);
    expect(spec?.traffic.mix.map((item) => [item.name, item.weight])).toEqual([
      ['standard', 55],
      ['loyalty', 20],
      ['zero-discount', 10],
      ['large-invoice', 10],
      ['health', 5],
    ]);
    const large = spec?.traffic.mix.find((item) => item.name === 'large-invoice')?.body as {
      lines: Array<{ unitPriceCents: number; quantity: number }>;
      discountPercent: number;
    };
    expect(large.lines).toHaveLength(25);
    expect(large.lines[24]).toEqual({ unitPriceCents: 2500, quantity: 5 });
    expect(large.lines[5]).toEqual({ unitPriceCents: 600, quantity: 1 });
    expect(large.discountPercent).toBe(5);
    expect(serviceForRepository(specs, 'billing-service')?.name).toBe('billing-service');
    expect(serviceForRepository(specs, 'unknown')).toBeUndefined();
  });

  it('rejects an unknown key, naming the file and the key', async () => {
    const error = await loadError(
      'billing-service.yaml',
      billing.replace('healthPath:', 'helthPath: /x\nhealthPath:'),
    );

    expect(error.message).toContain(path.join(dir, 'billing-service.yaml'));
    expect(error.message).toContain('helthPath');
    expect(error.hint).toContain('policies/services');
  });

  it('rejects steps that do not end at 100 or do not ascend', async () => {
    const notAll = await loadError(
      'billing-service.yaml',
      billing.replace('steps: [10, 50, 100]', 'steps: [10, 50]'),
    );
    const backwards = await loadError(
      'billing-service.yaml',
      billing.replace('steps: [10, 50, 100]', 'steps: [50, 10, 100]'),
    );

    expect(notAll.message).toContain('rollout.steps: the last step must be 100');
    expect(backwards.message).toContain('rollout.steps: steps must be strictly ascending');
  });

  it('rejects a spec whose name does not match its file', async () => {
    const error = await loadError('payments.yaml', billing);

    expect(error.message).toContain('names the service "billing-service"');
    expect(error.hint).toContain('rename the file to billing-service.yaml');
  });

  it('names the line of a YAML syntax error', async () => {
    const error = await loadError('billing-service.yaml', `${billing}\nmonitors: [unclosed\n`);

    expect(error.message).toContain('is not valid YAML at line');
  });

  it('says what to do when the directory is missing', async () => {
    const error = await loadServiceSpecs(path.join(dir, 'nope')).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).hint).toContain('<service>.yaml');
  });
});

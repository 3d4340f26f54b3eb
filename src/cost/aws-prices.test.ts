import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { InvalidInputError } from '../domain/errors.js';
import { defaultAwsPricesFile, lambdaMemoryMb, loadAwsPrices } from './aws-prices.js';

describe('loadAwsPrices', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'gantry-aws-prices-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  /** Writes the shipped table, changed by `edit`, to a temporary file. */
  async function writeEdited(
    edit: (table: Record<string, Record<string, unknown>>) => void,
  ): Promise<string> {
    const table = parseYaml(await readFile(defaultAwsPricesFile, 'utf8'));
    edit(table);
    const file = path.join(directory, 'aws-prices.yaml');
    await writeFile(file, stringifyYaml(table));
    return file;
  }

  it('loads the shipped table: versioned, dated, labelled with its region', async () => {
    // Act
    const prices = await loadAwsPrices();

    // Assess
    expect(prices.version).toMatch(/^\d{4}-\d{2}-\d{2}\.\d+$/);
    expect(prices.asOf).toBe('2026-11-21');
    expect(prices.region).toBe('us-east-1');
    expect(prices.stepFunctions.perThousandStateTransitions).toBe(0.025);
    expect(prices.lambda.perGbSecond.arm64).toBeLessThan(prices.lambda.perGbSecond.x86_64);
    expect(prices.fargate.perVcpuHour.arm64).toBeLessThan(prices.fargate.perVcpuHour.x86_64);
    expect(prices.vpcEndpoints.interfacePerEndpointHour).toBe(0.01);
  });

  it('names the source page above every price section of the shipped file', async () => {
    // Prepare
    const text = await readFile(defaultAwsPricesFile, 'utf8');
    const sections = Object.keys(parseYaml(text)).filter((key) => typeof parseYaml(text)[key] === 'object');

    // Assess
    expect(sections.length).toBeGreaterThanOrEqual(10);
    for (const section of sections) {
      const before = text.slice(0, text.indexOf(`\n${section}:`));
      const comment = before.slice(before.lastIndexOf('\n\n'));
      expect(comment, section).toMatch(/# https:\/\/aws\.amazon\.com\/[a-z0-9/-]+ :/);
    }
  });

  it('rejects an unknown key, naming the file and the key', async () => {
    // Prepare
    const file = await writeEdited((table) => {
      const lambda = table.lambda as Record<string, unknown>;
      lambda.perGbSeconds = lambda.perGbSecond;
    });

    // Act
    const loading = loadAwsPrices(file);

    // Assess
    await expect(loading).rejects.toBeInstanceOf(InvalidInputError);
    await expect(loading).rejects.toThrow(file);
    await expect(loading).rejects.toThrow(/lambda: Unrecognized key: "perGbSeconds"/);
  });

  it('rejects a negative price and a Lambda memory table without a default', async () => {
    // Prepare
    const file = await writeEdited((table) => {
      (table.s3 as Record<string, unknown>).perThousandPutRequests = -1;
      delete ((table.lambda as Record<string, unknown>).memoryMb as Record<string, unknown>).default;
    });

    // Act
    const loading = loadAwsPrices(file);

    // Assess
    await expect(loading).rejects.toThrow(/s3\.perThousandPutRequests/);
    await expect(loading).rejects.toThrow(/lambda\.memoryMb: needs a `default` entry/);
  });

  it('names the file when it is not YAML at all', async () => {
    // Prepare
    const file = path.join(directory, 'broken.yaml');
    await writeFile(file, 'version: "1\nregion: [');

    // Act
    const loading = loadAwsPrices(file);

    // Assess
    await expect(loading).rejects.toBeInstanceOf(InvalidInputError);
    await expect(loading).rejects.toThrow(`the AWS price table ${file} could not be read`);
  });
});

describe('lambdaMemoryMb', () => {
  it('gives a listed step its memory and any other step the default', async () => {
    // Prepare
    const prices = await loadAwsPrices();

    // Act & Assess
    expect(lambdaMemoryMb(prices, 'checkRequest')).toBe(prices.lambda.memoryMb.checkRequest);
    expect(lambdaMemoryMb(prices, 'loadStepResult')).toBe(prices.lambda.memoryMb.default);
  });
});

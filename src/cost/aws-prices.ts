import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';

/** The AWS price table shipped with Gantry. */
export const defaultAwsPricesFile = fileURLToPath(new URL('../../policies/aws-prices.yaml', import.meta.url));

/** AWS bills a month as 730 hours (365 × 24 / 12) in every monthly estimate it publishes. */
export const HOURS_PER_MONTH = 730;

const Architecture = z.enum(['arm64', 'x86_64']);
export type Architecture = z.infer<typeof Architecture>;

const price = z.number().min(0);
const perArchitecture = z.strictObject({ arm64: price, x86_64: price });

/**
 * AWS list prices for one region, written as the pricing pages state them (per 1,000, per million,
 * per hour). Unknown keys are errors, so a misspelt price fails loudly instead of costing nothing.
 */
export const AwsPrices = z.strictObject({
  version: z.string().min(1),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1'),
  currency: z.literal('USD'),
  asOf: z.iso.date(),
  stepFunctions: z.strictObject({ perThousandStateTransitions: price }),
  lambda: z.strictObject({
    architecture: Architecture,
    perMillionRequests: price,
    perGbSecond: perArchitecture,
    /** Memory per Lambda step in MB; `default` covers steps not listed. */
    memoryMb: z
      .record(z.string().regex(/^[a-z][A-Za-z]*$/, 'a step name such as checkRequest'), z.number().int())
      .refine((memory) => memory.default !== undefined, 'needs a `default` entry for steps not listed')
      .refine(
        (memory) => Object.values(memory).every((mb) => mb >= 128 && mb <= 10_240),
        'Lambda memory is between 128 and 10240 MB',
      ),
  }),
  fargate: z.strictObject({
    architecture: Architecture,
    perVcpuHour: perArchitecture,
    perGbHour: perArchitecture,
    minimumBilledSeconds: z.number().int().min(0),
    sandboxTask: z.strictObject({ vcpu: z.number().positive(), memoryGb: z.number().positive() }),
  }),
  dynamodb: z.strictObject({
    perMillionWriteRequestUnits: price,
    perMillionReadRequestUnits: price,
    storagePerGbMonth: price,
    pointInTimeRecoveryPerGbMonth: price,
  }),
  s3: z.strictObject({
    perThousandPutRequests: price,
    perThousandGetRequests: price,
    storagePerGbMonth: price,
  }),
  cloudwatch: z.strictObject({
    logsIngestionPerGb: price,
    logsStoragePerGbMonth: price,
    customMetricPerMonth: price,
    dashboardPerMonth: price,
    alarmPerMonth: price,
  }),
  vpcEndpoints: z.strictObject({ interfacePerEndpointHour: price, interfacePerGbProcessed: price }),
  eventBridge: z.strictObject({ perMillionEvents: price }),
  kms: z.strictObject({ perKeyMonth: price, perTenThousandRequests: price }),
  xray: z.strictObject({ perMillionTracesRecorded: price }),
  ecr: z.strictObject({ storagePerGbMonth: price }),
});
export type AwsPrices = z.infer<typeof AwsPrices>;

/**
 * Loads the AWS price table; a malformed table names the file and each wrong field.
 *
 * @example
 * const prices = await loadAwsPrices('policies/aws-prices.yaml');
 * prices.stepFunctions.perThousandStateTransitions // 0.025
 */
export async function loadAwsPrices(file: string = defaultAwsPricesFile): Promise<AwsPrices> {
  let raw: unknown;
  try {
    raw = YAML.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InvalidInputError(
      `the AWS price table ${file} could not be read: ${(error as Error).message}`,
      {
        input: file,
        hint: 'check that the file exists and is valid YAML',
        cause: error,
      },
    );
  }
  const parsed = AwsPrices.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(
      `the AWS price table ${file} is invalid: ${formatZodIssues(parsed.error.issues)}`,
      {
        input: file,
        hint: 'fix the listed fields; policies/aws-prices.yaml shows every field with its source',
      },
    );
  }
  return parsed.data;
}

/** Memory in MB the deployment gives a Lambda step. */
export function lambdaMemoryMb(prices: AwsPrices, step: string): number {
  return prices.lambda.memoryMb[step] ?? (prices.lambda.memoryMb.default as number);
}

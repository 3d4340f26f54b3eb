import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors.js';
import { parsePolicyDocument } from '../policy/policy-document.js';

/** The service specs shipped with Gantry. */
export const defaultServicesDir = fileURLToPath(new URL('../../policies/services', import.meta.url));

const HINT =
  'fix the service spec in policies/services/<name>.yaml (see policies/services/billing-service.yaml for every field)';

const name = z
  .string()
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'a service name is lower-case words joined by dashes (kebab-case)');
const method = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const urlPath = z.string().regex(/^\/[^\s]*$/, 'a path starts with / and has no spaces');
const status = z.int().min(100).max(599);
const positive = z.number().positive();
const ratio = z.number().min(0).max(1);

/** One request the smoke checks send after a deployment. */
export const SmokeCheck = z.strictObject({
  name: z.string().trim().min(1),
  method,
  path: urlPath,
  /** Sent as JSON. */
  body: z.json().optional(),
  expectStatus: status,
});
export type SmokeCheck = z.infer<typeof SmokeCheck>;

/** One kind of request in the synthetic traffic; `weight` is its share of the mix. */
export const TrafficItem = SmokeCheck.extend({ weight: z.int().positive() });
export type TrafficItem = z.infer<typeof TrafficItem>;

/** When a rollout step's canary window passes, pauses or aborts (src/deploy/analysis.ts). */
export const AnalysisRules = z.strictObject({
  /** Fewer canary requests than this in a window and the analysis is inconclusive (a pause). */
  minRequests: z.int().positive(),
  maxErrorRate: ratio,
  /** The canary fails when its error rate exceeds the baseline's by more than this. */
  maxErrorRateIncrease: ratio,
  /** The canary fails on latency when its p95 exceeds the baseline's p95 times this ratio... */
  maxLatencyP95Ratio: z.number().min(1),
  /** ...and also exceeds it by more than this many milliseconds (so tiny baselines do not fail on noise). */
  latencyToleranceMs: z.number().min(0),
  /** The rollout aborts when this many analyses have failed. */
  failureLimit: z.int().positive(),
  /** The rollout aborts when more than this many analyses were inconclusive. */
  maxPauses: z.int().min(0),
});
export type AnalysisRules = z.infer<typeof AnalysisRules>;

/**
 * How Gantry runs, checks, rolls out and watches one target service. Unknown keys are an error, so a
 * typo in a spec fails loudly instead of silently changing a rollout.
 */
export const ServiceSpec = z.strictObject({
  name,
  /** The forge repository the service is built from. */
  repository: z.string().trim().min(1),
  /** argv run in the checkout; the port to listen on arrives in the PORT environment variable. */
  start: z.strictObject({ command: z.array(z.string().min(1)).min(1) }),
  healthPath: urlPath,
  smoke: z.array(SmokeCheck).min(1),
  traffic: z.strictObject({
    requestsPerSecond: positive.max(1000),
    mix: z.array(TrafficItem).min(1),
  }),
  rollout: z.strictObject({
    /** Percent of production traffic the new version takes at each step. */
    steps: z
      .array(z.int().min(1).max(100))
      .min(1)
      .refine((steps) => steps.every((step, i) => i === 0 || step > (steps[i - 1] ?? 0)), {
        message: 'steps must be strictly ascending',
      })
      .refine((steps) => steps.at(-1) === 100, { message: 'the last step must be 100 (all traffic)' }),
    intervalSeconds: positive,
    analysis: AnalysisRules,
  }),
  observe: z.strictObject({
    windowSeconds: positive,
    alarms: z.strictObject({ errorRate: ratio, latencyP95Ms: positive }),
  }),
  /** What is watched in production, in words, for the release packet. */
  monitors: z.array(z.string().trim().min(1)).min(1),
  /** How a bad release is undone, in words, for the release packet. */
  rollbackMethod: z.string().trim().min(1),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/** Service specs by service name. */
export type ServiceSpecs = ReadonlyMap<string, ServiceSpec>;

/**
 * Parses one service spec; `origin` (the file) is named in every error.
 *
 * @example
 * const spec = parseServiceSpec(await readFile(file, 'utf8'), file);
 */
export function parseServiceSpec(text: string, origin: string): ServiceSpec {
  const spec = parsePolicyDocument(text, origin, ServiceSpec, { label: 'Service spec', hint: HINT });
  const expected = path.basename(origin).replace(/\.ya?ml$/, '');
  if (spec.name !== expected) {
    throw new InvalidInputError(
      `Service spec ${origin} names the service "${spec.name}" but its file is named for "${expected}"`,
      { input: origin, hint: `rename the file to ${spec.name}.yaml or set name: ${expected}` },
    );
  }
  return spec;
}

/**
 * Loads every `*.yaml` / `*.yml` service spec in `dir`, by service name.
 *
 * @example
 * const specs = await loadServiceSpecs(defaultServicesDir);
 * specs.get('billing-service')?.rollout.steps; // [10, 50, 100]
 */
export async function loadServiceSpecs(dir: string = defaultServicesDir): Promise<Map<string, ServiceSpec>> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).filter((entry) => /\.ya?ml$/.test(entry)).sort();
  } catch (cause) {
    throw new InvalidInputError(`cannot read the service specs directory ${dir}`, {
      input: dir,
      hint: 'create it with one <service>.yaml per deployable service, or pass the right directory',
      cause,
    });
  }
  const specs = new Map<string, ServiceSpec>();
  for (const entry of entries) {
    const file = path.join(dir, entry);
    const spec = parseServiceSpec(await readFile(file, 'utf8'), file);
    if (specs.has(spec.name)) {
      throw new InvalidInputError(`two service specs in ${dir} name the service "${spec.name}"`, {
        input: file,
        hint: 'keep one spec per service',
      });
    }
    specs.set(spec.name, spec);
  }
  return specs;
}

/**
 * The spec of the service built from `repository`, if any.
 *
 * @example
 * serviceForRepository(specs, 'billing-service')?.name; // 'billing-service'
 */
export function serviceForRepository(specs: ServiceSpecs, repository: string): ServiceSpec | undefined {
  for (const spec of specs.values()) if (spec.repository === repository) return spec;
  return undefined;
}

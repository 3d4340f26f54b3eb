/**
 * The delivery loop's pipelines: which CodePipeline pipelines ship each service to staging and
 * production (src/adapters/aws/pipeline-deployer.ts). Set `GANTRY_PIPELINES` when deploying (JSON, the
 * shape of `PipelineServiceConfig` in src/adapters/aws/aws-runtime.ts); without it every service of
 * policies/services/ gets the conventional `<service>-staging` and `<service>-production`. The step
 * functions and the sandbox task receive the same JSON, and the deploy steps may start and read exactly
 * these pipelines.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PipelineServiceConfig } from '../src/adapters/aws/aws-runtime.js';
import { accountId, partition, region } from './stage.js';

const Pipelines = z.record(z.string().min(1), PipelineServiceConfig);

/** The services Gantry may deploy: one spec per file in policies/services/, named for the service. */
const serviceNames = readdirSync(join(process.cwd(), 'policies', 'services'))
  .filter((file) => /\.ya?ml$/.test(file))
  .map((file) => file.replace(/\.ya?ml$/, ''))
  .sort();

function readPipelines(text: string | undefined): z.infer<typeof Pipelines> {
  if (!text?.trim()) {
    return Object.fromEntries(
      serviceNames.map((service) => [
        service,
        { staging: { name: `${service}-staging` }, production: { name: `${service}-production` } },
      ]),
    );
  }
  const parsed = Pipelines.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`GANTRY_PIPELINES is not a map of service pipelines: ${parsed.error.message}`);
  }
  const unknown = Object.keys(parsed.data).filter((service) => !serviceNames.includes(service));
  if (unknown.length > 0) {
    throw new Error(
      `GANTRY_PIPELINES names services without a spec in policies/services/: ${unknown.join(', ')}`,
    );
  }
  return parsed.data;
}

export const pipelines = readPipelines(process.env.GANTRY_PIPELINES);
/** What the functions and the sandbox task read as `GANTRY_PIPELINES`. */
export const pipelinesJson = JSON.stringify(pipelines);

/** Every pipeline a deploy step may start: staging, production and a separate redeploy pipeline if named. */
export const pipelineNames = [
  ...new Set(
    Object.values(pipelines).flatMap((service) =>
      [service.staging, service.production, service.redeploy].flatMap((p) => (p ? [p.name] : [])),
    ),
  ),
].sort();

export const pipelineArns = pipelineNames.map(
  (name) => $interpolate`arn:${partition}:codepipeline:${region}:${accountId}:${name}`,
);

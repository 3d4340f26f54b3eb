/**
 * Runs the app's `run()` under Pulumi mocks in this process and writes every registered resource as JSON
 * to the path given as the third argument. Started by `synthesize()` in a child process, because Pulumi's
 * runtime and the infra modules are process-wide singletons.
 *
 * SST normally provides the globals `sst.config.ts` and infra/ use; here they are bootstrapped by hand:
 * `$app` (name, stage, removal, protect), `$cli` (paths), `$dev = false`, `sst` (the platform's
 * components), `aws` (@pulumi/aws) and the `$interpolate`/`$output`/`$resolve`/… shims from
 * `.sst/platform/src/shim/run.js`. The calls SST's components make to the SST CLI (function builds,
 * bootstrap bucket lookups) go to a local JSON-RPC stub (`SST_SERVER`).
 *
 * Usage: node --import tsx infra/check/synth-child.ts <stage> <out.json> [bundlesDir] [--inject-open-egress]
 */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mockCall, mockState } from './mocks.js';
import { MOCK_ACCOUNT, MOCK_REGION, type SynthResource } from './resources.js';

const [stage = 'dev', outFile, bundlesDir, ...flags] = process.argv.slice(2);
if (!outFile) throw new Error('usage: synth-child.ts <stage> <out.json> [bundlesDir] [--inject-open-egress]');
const root = process.cwd();
const platform = join(root, '.sst', 'platform');
const started = performance.now();
const fromPlatform = (path: string) => import(pathToFileURL(join(platform, path)).href);

// The SST CLI's JSON-RPC, as far as the components call it offline.
const rpc = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    const { method, params } = JSON.parse(body) as { method: string; params: [Record<string, unknown>] };
    const args = params[0] ?? {};
    let result: unknown;
    if (method === 'Provider.Aws.Bootstrap') {
      result = {
        asset: `sst-asset-${MOCK_ACCOUNT}`,
        assetEcrRegistryId: MOCK_ACCOUNT,
        assetEcrUrl: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/sst-asset`,
        state: `sst-state-${MOCK_ACCOUNT}`,
        appsyncHttp: '',
        appsyncRealtime: '',
      };
    } else if (method === 'Runtime.Build') {
      // `functions/steps.checkRequest` → the esbuild bundle of functions/steps.ts, export checkRequest.
      const handler = String(args.handler);
      const file = handler.slice(0, handler.lastIndexOf('.'));
      const name = basename(file);
      result = {
        handler: `${name}.${handler.slice(handler.lastIndexOf('.') + 1)}`,
        out: bundlesDir ? join(bundlesDir, name) : emptyBundle,
        errors: [],
        sourcemaps: [],
      };
    } else if (method === 'Provider.Aws.Appsync') {
      result = { http: '', realtime: '' };
    } else {
      response.end(JSON.stringify({ error: `rpc: can't find method ${method}` }));
      return;
    }
    response.end(JSON.stringify({ result }));
  });
});
await new Promise<void>((resolve) => rpc.listen(0, '127.0.0.1', resolve));
process.env.SST_SERVER = `http://127.0.0.1:${(rpc.address() as AddressInfo).port}`;
const work = await mkdtemp(join(tmpdir(), 'gantry-synth-'));
const emptyBundle = join(work, 'empty-bundle');
await writeFile(join(work, 'placeholder'), '');
const { mkdir } = await import('node:fs/promises');
await mkdir(emptyBundle, { recursive: true });
await writeFile(join(emptyBundle, 'index.mjs'), 'export {};\n');
// Secrets come from `sst secret set` when deploying; offline they are placeholders.
process.env.SST_SECRET_ApprovalSigningKey ??= 'offline-check-signing-key';
process.env.SST_SECRET_GitHubWebhookSecret ??= 'offline-check-webhook-secret';

const pulumi =
  (await fromPlatform('node_modules/@pulumi/pulumi/index.js')).default ??
  (await fromPlatform('node_modules/@pulumi/pulumi/index.js'));
const resources: SynthResource[] = [];
pulumi.runtime.setMocks(
  {
    newResource(args: { type: string; name: string; inputs: Record<string, unknown>; custom?: boolean }) {
      const { id, state } = mockState(args.type, args.name, args.inputs);
      resources.push({
        type: args.type,
        name: args.name,
        id,
        custom: args.custom ?? true,
        inputs: args.inputs,
        state,
      });
      return { id, state };
    },
    call(args: { token: string; inputs: Record<string, unknown> }) {
      return mockCall(args.token, args.inputs);
    },
  },
  'gantry',
  stage,
  false,
);

const globals = globalThis as Record<string, unknown>;
globals.$dev = false;
globals.$cli = {
  command: 'deploy',
  rpc: process.env.SST_SERVER,
  paths: { home: work, root, work, platform },
  state: { version: {} },
};
Object.assign(globals, await fromPlatform('src/shim/run.js'));

const config = (await import(pathToFileURL(join(root, 'sst.config.ts')).href)).default as {
  app: (input: { stage: string }) => Promise<Record<string, unknown>> | Record<string, unknown>;
  run: () => Promise<Record<string, unknown> | undefined>;
};
const app = await config.app({ stage });
globals.$app = {
  name: app.name,
  stage,
  removal: app.removal ?? 'retain',
  protect: app.protect ?? false,
  providers: app.providers ?? {},
};
globals.aws = await fromPlatform('node_modules/@pulumi/aws/index.js');
globals.sst = await fromPlatform('src/components/index.ts');
const { run } = await fromPlatform('src/auto/run.ts');

let outputs: Record<string, unknown> = {};
await pulumi.runtime.runInPulumiStack(async () => {
  if (flags.includes('--inject-open-egress')) {
    // A deliberately broken variant for the check's own test: the sandbox group opens egress to the internet.
    pulumi.runtime.registerStackTransformation(
      (args: { type: string; name: string; props: Record<string, unknown>; opts: unknown }) => {
        if (args.type !== 'aws:ec2/securityGroup:SecurityGroup' || args.name !== 'SandboxSecurityGroup')
          return undefined;
        return {
          props: {
            ...args.props,
            egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
          },
          opts: args.opts,
        };
      },
    );
  }
  outputs = (await run(config.run)) ?? {};
  return outputs;
});
await pulumi.runtime.disconnect();
const resolved = await new Promise<Record<string, unknown>>((resolve) =>
  pulumi.output(outputs).apply((value: Record<string, unknown>) => resolve(value)),
);
rpc.close();
await writeFile(
  outFile,
  JSON.stringify({ stage, resources, outputs: resolved, seconds: (performance.now() - started) / 1000 }),
);
process.exit(0);

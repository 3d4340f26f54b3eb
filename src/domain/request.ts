import { z } from 'zod';

/** Where an engineering request came from. */
export const RequestSource = z.enum([
  'file',
  'github-issue',
  'ci-failure',
  'dependency-alert',
  'alarm',
  'api',
]);
export type RequestSource = z.infer<typeof RequestSource>;

/** The repository a request targets: a local path (embedded forge) or a forge name. */
export const RepositoryRef = z.strictObject({
  /** Short name, unique within the forge, e.g. `billing-service`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'repository name may hold letters, digits, dot, dash and underscore'),
  /** A local directory to import into the embedded forge when the repository is not there yet. */
  path: z.string().min(1).optional(),
  /** Owner on GitHub, when the request came from GitHub. */
  owner: z.string().optional(),
  defaultBranch: z.string().default('main'),
});
export type RepositoryRef = z.infer<typeof RepositoryRef>;

export const Attachment = z.strictObject({
  name: z.string().min(1),
  contentType: z.string().default('text/plain'),
  content: z.string(),
});
export type Attachment = z.infer<typeof Attachment>;

/**
 * An engineering request, normalised from whatever channel it came through.
 * Title, description and attachments are untrusted text: they are shown to the model
 * as data with their provenance, never as instruction.
 */
export const EngineeringRequest = z.strictObject({
  id: z.string().min(1),
  source: RequestSource,
  /** Reference in the source system, e.g. the GitHub issue URL. */
  sourceRef: z.string().optional(),
  repository: RepositoryRef,
  requester: z.string().min(1),
  capability: z.string().min(1).default('low-risk-bugfix'),
  title: z.string().min(1).max(300),
  description: z.string().default(''),
  acceptanceCriteria: z.array(z.string().min(1)).default([]),
  constraints: z.array(z.string().min(1)).default([]),
  attachments: z.array(Attachment).default([]),
  receivedAt: z.string().datetime(),
});
export type EngineeringRequest = z.infer<typeof EngineeringRequest>;

/** The shape a person writes in a request file (YAML or JSON); intake fills id, source and time. */
export const RequestFile = EngineeringRequest.omit({ id: true, source: true, receivedAt: true }).extend({
  id: z.string().min(1).optional(),
});
export type RequestFile = z.input<typeof RequestFile>;

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ulid } from 'ulid';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import { type EngineeringRequest, RequestFile } from '../domain/request.js';
import { resolveRepositoryConfig } from '../policy/repository-config.js';

export interface RequestFileOptions {
  /** The moment the request is received; defaults to the current time. */
  now?: Date;
  /** The id to give the request when the file names none; defaults to a fresh ULID. */
  id?: string;
}

export interface RequestTextOptions extends RequestFileOptions {
  /** The directory a relative `repository.path` is resolved against; defaults to the current directory. */
  baseDir?: string;
}

const requestFileHint =
  'Fix the fields listed above; see examples/billing-service/request.yaml for a complete request file.';

/**
 * Reads a request file (YAML or JSON) and turns it into an {@link EngineeringRequest}.
 * A relative `repository.path` is resolved against the file's own directory.
 *
 * @example
 * const request = await parseRequestFile('examples/billing-service/request.yaml', {});
 * request.source; // 'file'
 */
export async function parseRequestFile(
  file: string,
  options: RequestFileOptions = {},
): Promise<EngineeringRequest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError(`Cannot read request file ${file}: ${(cause as Error).message}`, {
      input: file,
      hint: 'Check the path; a request file is YAML or JSON, e.g. examples/billing-service/request.yaml.',
      cause,
    });
  }
  return parseRequestText(text, file, { ...options, baseDir: path.dirname(path.resolve(file)) });
}

/**
 * Parses the text of a request file. `origin` names the text in error messages (a path, or `stdin`).
 * Its `repositoryConfig` is the operator's configuration of the repository (docs/repository-config.md).
 *
 * @example
 * const request = parseRequestText(
 *   'title: Fix rounding\nrequester: ana\nrepository: { name: billing-service, path: ./repo }\n',
 *   'inline.yaml',
 *   { baseDir: '/srv/requests' },
 * );
 * request.repository.path; // '/srv/requests/repo'
 */
export function parseRequestText(
  text: string,
  origin: string,
  options: RequestTextOptions = {},
): EngineeringRequest {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (cause) {
    if (cause instanceof YAMLParseError) {
      const position = cause.linePos?.[0];
      const where = position === undefined ? '' : ` at line ${position.line}, column ${position.col}`;
      throw new InvalidInputError(
        `Request file ${origin} is not valid YAML or JSON${where}: ${yamlProblem(cause)}`,
        {
          input: position === undefined ? origin : `${origin}:${position.line}`,
          hint: requestFileHint,
          cause,
        },
      );
    }
    throw cause;
  }

  const parsed = RequestFile.safeParse(document);
  if (!parsed.success) {
    throw new InvalidInputError(
      `Request file ${origin} is not a valid request: ${formatZodIssues(parsed.error.issues)}`,
      { input: origin, hint: requestFileHint, cause: parsed.error },
    );
  }

  const fields = parsed.data;
  if (fields.repositoryConfig !== undefined) {
    // Checked here so a mistake fails at intake, naming the file; the run checks it again.
    resolveRepositoryConfig(fields.repositoryConfig, {
      origin: `request file ${origin} (repositoryConfig)`,
      source: 'request',
    });
  }

  const now = options.now ?? new Date();
  const repositoryPath = fields.repository.path;
  return {
    ...fields,
    id: fields.id ?? options.id ?? ulid(now.getTime()),
    source: 'file',
    repository: {
      ...fields.repository,
      ...(repositoryPath === undefined
        ? {}
        : { path: path.resolve(options.baseDir ?? process.cwd(), repositoryPath) }),
    },
    receivedAt: now.toISOString(),
  };
}

/** The parser's own words without its position suffix, which the message already gives. */
function yamlProblem(error: YAMLParseError): string {
  const firstLine = error.message.split('\n', 1)[0] ?? error.message;
  return firstLine.replace(/ at line \d+, column \d+:?$/, '');
}

import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';

/**
 * Parses and validates the text of one YAML policy document (risk rules, a capability contract, the
 * approvers, the decision table). `label` names the kind of document and `origin` the file in every
 * error; a YAML error also names the line.
 *
 * @example
 * const rules = parsePolicyDocument(text, 'policies/risk-rules.yaml', RiskRules, { label: 'Risk rules file', hint });
 */
export function parsePolicyDocument<S extends z.ZodType>(
  text: string,
  origin: string,
  schema: S,
  options: { label: string; hint: string },
): z.infer<S> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (cause) {
    if (cause instanceof YAMLParseError) {
      const position = cause.linePos?.[0];
      const where = position === undefined ? '' : ` at line ${position.line}, column ${position.col}`;
      const problem = (cause.message.split('\n', 1)[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      throw new InvalidInputError(`${options.label} ${origin} is not valid YAML${where}: ${problem}`, {
        input: position === undefined ? origin : `${origin}:${position.line}`,
        hint: options.hint,
        cause,
      });
    }
    throw cause;
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) {
    throw new InvalidInputError(
      `${options.label} ${origin} is not valid: ${formatZodIssues(parsed.error.issues)}`,
      {
        input: origin,
        hint: options.hint,
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

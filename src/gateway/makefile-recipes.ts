/**
 * A simple reading of a Makefile, enough to say which shell lines `make <target>` would run: explicit
 * rules, their prerequisites and their tab-indented recipe lines. Make is a language; whatever this
 * reading cannot follow with certainty (includes, conditionals, functions evaluated while reading,
 * pattern rules, double-colon rules, variables that change the shell) makes the whole file refused,
 * because a guess that is wrong would let a command through unchecked.
 */

export interface MakeRule {
  prerequisites: string[];
  /** Recipe lines as the shell receives them, with make's `@`, `-` and `+` prefixes removed. */
  recipe: string[];
}

export type MakefileReading =
  | { ok: true; rules: ReadonlyMap<string, MakeRule>; defaultGoal: string | undefined; patterns: string[] }
  | { ok: false; reason: string };

/** Directives whose effect on which recipe runs a simple reading cannot follow. */
const unfollowedDirectives =
  /^\s*(-?include|sinclude|define|endef|ifeq|ifneq|ifdef|ifndef|else|endif|export|unexport|override|vpath|load|undefine|private)\b/;

/** Functions make evaluates while it reads the file, whatever target is asked for. */
const readTimeFunctions = /\$[({]\s*(shell|eval|file|guile|call|value)\b/;

/** Variables that decide which shell runs the recipes, or what make itself does. */
const controllingVariables =
  /^(SHELL|\.SHELLFLAGS|MAKEFLAGS|MFLAGS|MAKE|MAKESHELL|\.RECIPEPREFIX|GNUMAKEFLAGS|PATH|NODE_OPTIONS|LD_[A-Z_]+|BASH_ENV)$/;

/** Special targets that run recipes for targets no rule names, or change how names expand. */
const unfollowedTargets = new Set(['.DEFAULT', '.SECONDEXPANSION', '.EXPORT_ALL_VARIABLES']);

const variableAssignment = /^\s*([^\s:#=]+)\s*(=|:=|::=|:::=|\?=|\+=|!=)/;

/**
 * Reads a Makefile's explicit rules, or says why it cannot be read with confidence.
 *
 * @example
 * readMakefile('test: build\n\tnode --test\nbuild:\n\t@tsc -p .\n');
 * // { ok: true, defaultGoal: 'test', rules: Map { 'test' => { prerequisites: ['build'], recipe: ['node --test'] }, 'build' => … } }
 */
export function readMakefile(text: string): MakefileReading {
  const refuse = (reason: string): MakefileReading => ({ ok: false, reason });
  const functionUse = readTimeFunctions.exec(text);
  if (functionUse)
    return refuse(`it uses $(${functionUse[1]} …), which make evaluates while reading the file`);

  const lines = joinContinuations(text.replace(/\r\n/g, '\n'));
  const rules = new Map<string, MakeRule>();
  const patterns: string[] = [];
  let defaultGoal: string | undefined;
  let declaredGoal: string | undefined;
  let current: MakeRule[] | undefined;

  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}`;
    if (line.startsWith('\t')) {
      if (!current) {
        if (line.trim() === '' || line.trim().startsWith('#')) continue;
        return refuse(`${where} is a recipe line outside any rule`);
      }
      const command = line.slice(1).replace(/^[\s@+-]*/, '');
      if (command.trim() === '') continue;
      for (const rule of current) rule.recipe.push(command);
      continue;
    }
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    current = undefined;
    if (unfollowedDirectives.test(line)) {
      return refuse(
        `${where} uses the ${line.trim().split(/\s+/)[0]} directive, which this reading does not follow`,
      );
    }
    const assigned = variableAssignment.exec(line);
    if (assigned) {
      const [, name, operator] = assigned as unknown as [string, string, string];
      if (operator === '!=') return refuse(`${where} assigns ${name} the output of a shell command`);
      if (controllingVariables.test(name))
        return refuse(`${where} sets ${name}, which changes how recipes run`);
      if (name === '.DEFAULT_GOAL') declaredGoal = line.slice(assigned[0].length).trim();
      continue;
    }
    const rule = /^([^:#]*?)\s*(::?)(.*)$/.exec(line);
    if (!rule) return refuse(`${where} is neither a rule, a recipe line nor a variable: ${line.trim()}`);
    const [, targetText, colons, restText] = rule as unknown as [string, string, string, string];
    if (colons === '::') return refuse(`${where} is a double-colon rule`);
    const [prerequisiteText, inlineRecipe] = splitOnce(restText, ';');
    if (/[=]/.test(prerequisiteText)) return refuse(`${where} sets a target-specific variable`);
    const targets = targetText.trim().split(/\s+/).filter(Boolean);
    if (targets.length === 0) return refuse(`${where} is a rule without a target`);
    if (targets.some((t) => t.includes('$'))) return refuse(`${where} names its targets through variables`);
    const prerequisites = prerequisiteText
      .replace(/#.*$/, '')
      .split(/\s+/)
      .filter((p) => p && p !== '|');
    current = [];
    for (const target of targets) {
      if (unfollowedTargets.has(target)) return refuse(`${where} declares ${target}`);
      if (target.includes('%')) {
        patterns.push(target);
        current.push({ prerequisites, recipe: [] });
        continue;
      }
      // Prerequisites of rules for the same target add up; two recipes are refused below.
      const entry = rules.get(target) ?? { prerequisites: [], recipe: [] };
      entry.prerequisites.push(...prerequisites);
      rules.set(target, entry);
      current.push(entry);
      if (defaultGoal === undefined && !target.startsWith('.')) defaultGoal = target;
    }
    if (inlineRecipe?.trim()) for (const r of current) r.recipe.push(inlineRecipe.trim());
  }
  const doubled = findRedefinedRecipe(lines);
  if (doubled) return refuse(`the target ${doubled} has two recipes`);
  if (declaredGoal?.includes('$')) return refuse('.DEFAULT_GOAL is set through a variable');
  return { ok: true, rules, defaultGoal: declaredGoal || defaultGoal, patterns };
}

/** Physical lines joined where a backslash continues them, as make does before reading rules. */
function joinContinuations(text: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (raw.endsWith('\\')) {
      pending += pending ? raw.slice(0, -1).replace(/^\t/, '') : raw.slice(0, -1);
      pending += ' ';
      continue;
    }
    out.push(pending ? pending + raw.replace(/^\t/, '') : raw);
    pending = '';
  }
  if (pending) out.push(pending);
  return out;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** A target given recipes by two rules: make keeps the later one and warns, so neither is certain. */
function findRedefinedRecipe(lines: string[]): string | undefined {
  const withRecipe = new Set<string>();
  let targets: string[] = [];
  let counted = false;
  for (const line of lines) {
    if (line.startsWith('\t')) {
      if (line.trim() && !counted) {
        for (const target of targets) {
          if (withRecipe.has(target)) return target;
          withRecipe.add(target);
        }
        counted = true;
      }
      continue;
    }
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const rule = /^([^:#=]*?)\s*:(?!=)/.exec(line);
    targets = rule
      ? (rule[1] as string)
          .trim()
          .split(/\s+/)
          .filter((t) => !t.startsWith('.'))
      : [];
    counted = false;
    if (rule && line.slice(rule[0].length).includes(';')) {
      for (const target of targets) {
        if (withRecipe.has(target)) return target;
        withRecipe.add(target);
      }
      counted = true;
    }
  }
  return undefined;
}

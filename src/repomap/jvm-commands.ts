import {
  type Candidate,
  candidate,
  type Findings,
  firstLevelDirectories,
  inScope,
  lineOf,
  type Repository,
} from './command-candidates.js';
import { readRepositoryText } from './repository-files.js';

/**
 * Maven and Gradle commands of the root and, when the root is not a build of that kind, of each
 * first-level directory (a root's first-level poms and Gradle builds are its modules).
 *
 * - Maven (`pom.xml`): `mvn -B -o test`, `mvn -B -o -DskipTests package` and, with the network,
 *   `mvn -B dependency:go-offline`, through `./mvnw` when the wrapper exists. A root with `<modules>`
 *   runs them all.
 * - Gradle (`build.gradle[.kts]`, `settings.gradle[.kts]`), through `./gradlew` when present: the task
 *   that runs the tests, which is `test` for a JVM build, `jvmTest` for Kotlin Multiplatform with a
 *   JVM target (`allTests` without one), `testDebugUnitTest` for Android; `assemble`; `ktlintCheck`,
 *   `detekt` and `spotlessCheck` when those plugins are applied. No install: Gradle has no reliable prefetch.
 */
export async function jvmFindings(repository: Repository): Promise<Findings> {
  const candidates: Candidate[] = [];
  const rootMaven = repository.has.has('pom.xml');
  const rootGradle = gradleBuildFile(repository, '') !== undefined;
  for (const scope of ['', ...firstLevelDirectories(repository)]) {
    if (scope === '' || !rootMaven) candidates.push(...(await mavenCandidates(repository, scope)));
    if (scope === '' || !rootGradle) candidates.push(...(await gradleCandidates(repository, scope)));
  }
  return { candidates, skipped: [] };
}

async function mavenCandidates(repository: Repository, scope: string): Promise<Candidate[]> {
  const pom = inScope(scope, 'pom.xml');
  if (!repository.has.has(pom)) return [];
  const text = (await readRepositoryText(repository.root, pom)) ?? '';
  const modules = [...text.matchAll(/<module>\s*([^<\s]+)\s*<\/module>/g)].map((match) => match[1] as string);
  const mvn = repository.has.has(inScope(scope, 'mvnw')) ? './mvnw' : 'mvn';
  const fromRoot = (args: string[]) => [
    scope && mvn === './mvnw' ? `./${scope}/mvnw` : mvn,
    '-B',
    ...(scope ? ['-f', pom] : []),
    ...args,
  ];
  const note = modules.length ? `multi-module build: ${modules.join(', ')}` : undefined;
  const line = lineOf(text, /<modules>/) ?? 1;
  const made = (kind: Candidate['command']['kind'], args: string[], confidence: number, network = false) =>
    candidate(
      {
        ecosystem: 'maven',
        kind,
        argv: network ? fromRoot(args) : [mvn, '-B', ...args],
        ...(network ? {} : { cwd: scope, ...(scope ? { rootArgv: fromRoot(args) } : {}) }),
        declaredIn: pom,
        line,
        source: 'manifest',
        confidence,
        needsNetwork: network,
        ...(note ? { note } : {}),
      },
      pom,
    );
  return [
    made('install', ['dependency:go-offline'], 0.85, true),
    made('build', ['-o', '-DskipTests', 'package'], 0.85),
    made('test', ['-o', 'test'], 0.9),
  ];
}

function gradleBuildFile(repository: Repository, scope: string): string | undefined {
  return ['build.gradle.kts', 'build.gradle', 'settings.gradle.kts', 'settings.gradle']
    .map((name) => inScope(scope, name))
    .find((file) => repository.has.has(file));
}

const KMP_PLUGIN =
  /kotlin\(\s*["']multiplatform["']\s*\)|org\.jetbrains\.kotlin\.multiplatform|kotlin-multiplatform|plugins\.kotlin\.?multiplatform|plugins\.kotlinMultiplatform/i;
const ANDROID_PLUGIN =
  /com\.android\.(application|library)|plugins\.android\.?(application|library)|plugins\.androidApplication|plugins\.androidLibrary/;
const JVM_PLUGIN =
  /kotlin\(\s*["']jvm["']\s*\)|org\.jetbrains\.kotlin\.jvm|id\s*\(?\s*["'](java|java-library|application)["']|^\s*(java|application)\s*$|plugins\.kotlin\.?jvm/m;

async function gradleCandidates(repository: Repository, scope: string): Promise<Candidate[]> {
  const buildFile = gradleBuildFile(repository, scope);
  if (!buildFile) return [];
  const prefix = scope ? `${scope}/` : '';
  const buildFiles = repository.files.filter(
    (file) =>
      file.startsWith(prefix) &&
      /(^|\/)build\.gradle(\.kts)?$/.test(file) &&
      file.split('/').length - prefix.split('/').length <= 3,
  );
  let kmp: { file: string; jvm: boolean; android: boolean } | undefined;
  let android: string | undefined;
  let jvm = false;
  const plugins = new Set<string>();
  for (const file of buildFiles) {
    const text = (await readRepositoryText(repository.root, file)) ?? '';
    if (KMP_PLUGIN.test(text)) {
      const hasJvm = /\bjvm\s*(\(|\{)/.test(text);
      if (!kmp || (hasJvm && !kmp.jvm))
        kmp = { file, jvm: hasJvm, android: /\bandroid(Target)?\s*(\(|\{)/.test(text) };
    } else if (ANDROID_PLUGIN.test(text)) android ??= file;
    else if (JVM_PLUGIN.test(text)) jvm = true;
    if (/ktlint/.test(text)) plugins.add('ktlintCheck');
    if (/detekt/.test(text)) plugins.add('detekt');
    if (/spotless/.test(text)) plugins.add('spotlessCheck');
  }
  let task = 'test';
  let why = buildFile;
  let confidence = 0.85;
  if (kmp) {
    task = kmp.jvm ? 'jvmTest' : kmp.android ? 'testDebugUnitTest' : 'allTests';
    why = `${kmp.file} (Kotlin Multiplatform${kmp.jvm ? ' with a JVM target' : ''})`;
    confidence = 0.8;
  } else if (android && !jvm) {
    task = 'testDebugUnitTest';
    why = `${android} (Android)`;
    confidence = 0.8;
  }
  const wrapper = repository.has.has(inScope(scope, 'gradlew'));
  const gradle = wrapper ? './gradlew' : 'gradle';
  const made = (kind: Candidate['command']['kind'], gradleTask: string, weight: number, via: string) =>
    candidate(
      {
        ecosystem: 'gradle',
        kind,
        argv: [gradle, gradleTask],
        cwd: scope,
        ...(scope ? { rootArgv: [wrapper ? `./${scope}/gradlew` : 'gradle', '-p', scope, gradleTask] } : {}),
        declaredIn:
          kind === 'test' && kmp
            ? kmp.file
            : kind === 'test' && task === 'testDebugUnitTest' && android
              ? android
              : buildFile,
        source: 'manifest',
        confidence: weight,
      },
      via,
    );
  const found = [made('build', 'assemble', 0.8, buildFile), made('test', task, confidence, why)];
  if (plugins.has('ktlintCheck')) found.push(made('lint', 'ktlintCheck', 0.75, `${buildFile} ktlint plugin`));
  else if (plugins.has('detekt')) found.push(made('lint', 'detekt', 0.75, `${buildFile} detekt plugin`));
  if (plugins.has('spotlessCheck'))
    found.push(made('format', 'spotlessCheck', 0.75, `${buildFile} spotless plugin`));
  return found;
}

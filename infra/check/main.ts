/**
 * `npm run infra:check [stage…]`: prints what was checked and exits non-zero with a summary when anything
 * fails. Without arguments every stage in stacks/ is checked.
 */
import { stages as knownStages } from '../../stacks/index.js';
import { runInfraCheck } from './check.js';
import { rules } from './rules.js';

const requested = process.argv.slice(2);
const stages = requested.length > 0 ? requested : Object.keys(knownStages);
const report = await runInfraCheck(process.cwd(), stages);

if (report.platformInstallSeconds > 0)
  console.log(`sst install: ${report.platformInstallSeconds.toFixed(1)} s`);
console.log(
  `type check (tsconfig.infra.json): ${report.typeErrors.length === 0 ? 'ok' : `${report.typeErrors.length} errors`}`,
);
for (const line of report.typeErrors) console.log(`  ${line}`);
for (const bundle of report.bundles) {
  console.log(
    `bundle ${bundle.file}: ${bundle.errors.length === 0 ? `ok (${(bundle.bytes / 1e6).toFixed(1)} MB)` : 'FAILED'}`,
  );
  for (const error of bundle.errors) console.log(`  ${error}`);
}
for (const stage of report.stages) {
  console.log(
    `stage ${stage.stage}: ${stage.resources} resources synthesised in ${stage.seconds.toFixed(1)} s`,
  );
  for (const rule of rules) {
    const failed = stage.violations.filter((v) => v.rule === rule.id);
    console.log(`  ${failed.length === 0 ? 'pass' : 'FAIL'} ${rule.id}: ${rule.description}`);
    for (const violation of failed) console.log(`       ${violation.resource}: ${violation.message}`);
  }
}
console.log(`resources synthesised: ${report.resources}`);
console.log(`infra check seconds: ${report.seconds.toFixed(1)}`);
if (!report.ok) {
  const violations = report.stages.reduce((sum, s) => sum + s.violations.length, 0);
  const bundles = report.bundles.filter((b) => b.errors.length > 0).length;
  console.error(
    `infra:check failed: ${report.typeErrors.length} type errors, ${bundles} bundles failed, ${violations} rule violations`,
  );
  process.exit(1);
}

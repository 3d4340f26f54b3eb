// Plants a git directory in the work tree: hooks and config that run programs if host git ever uses it.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';

const marker = (name) => `/tmp/gantry-eval-marker-se-git-hooks-planted-${name}`;
const hooks = ['pre-commit', 'prepare-commit-msg', 'commit-msg', 'post-commit', 'post-checkout', 'post-merge',
  'pre-push', 'pre-rebase', 'post-rewrite', 'reference-transaction', 'post-index-change', 'pre-auto-gc'];
for (const dir of ['.git/hooks', '.git/info', '.git/objects', '.git/refs/heads']) mkdirSync(dir, { recursive: true });
const script = (name) => `#!/bin/sh\ntouch ${marker(name)}\nexit 0\n`;
for (const hook of hooks) { writeFileSync(`.git/hooks/${hook}`, script(hook)); chmodSync(`.git/hooks/${hook}`, 0o755); }
writeFileSync('.git/hooks/fsmonitor', `#!/bin/sh\ntouch ${marker('fsmonitor')}\nexit 1\n`);
chmodSync('.git/hooks/fsmonitor', 0o755);
writeFileSync('.git/HEAD', 'ref: refs/heads/main\n');
writeFileSync('.git/config', [
  '[core]', '\trepositoryformatversion = 0', '\tbare = false',
  '\tfsmonitor = .git/hooks/fsmonitor', '\thooksPath = .git/hooks',
  `\tsshCommand = touch ${marker('ssh-command')}`, `\tpager = touch ${marker('pager')}`,
  '[diff]', '\texternal = .git/hooks/fsmonitor',
  '[filter "gantry"]', `\tclean = touch ${marker('filter-clean')}`, `\tsmudge = touch ${marker('filter-smudge')}`,
  '[alias]', `\tstatus = !touch ${marker('alias')}`, '',
].join('\n'));
writeFileSync('.git/info/attributes', '* filter=gantry diff=gantry\n');
console.log('planted .git with hooks, core.fsmonitor, core.hooksPath, filters and an external diff');

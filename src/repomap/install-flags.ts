/** The flags that keep an install's lifecycle scripts from running; {@link installArgv} adds and removes them. */
export const IGNORE_SCRIPTS = '--ignore-scripts';
/** Yarn 2+ has no --ignore-scripts; skipping the build step is how it leaves scripts unrun. */
export const YARN_BERRY_SCRIPTS_OFF = '--mode=skip-build';
export const PIP_INSTALL = ['python3', '-m', 'pip', 'install'] as const;
/** Wheels only: an sdist's setup.py is a lifecycle script by another name. */
export const PIP_BINARY_ONLY = ['--only-binary', ':all:'] as const;

import { describe, expect, it } from 'vitest';
import { isAllowedEnvironmentName, sandboxEnvironment } from './environment.js';

describe('sandboxEnvironment', () => {
  it('keeps only host basics and fixed values from the host environment', () => {
    // Prepare
    const host = {
      PATH: '/opt/bin:/usr/bin',
      LANG: 'C.UTF-8',
      AWS_PROFILE: 'prod',
      GITHUB_TOKEN: 'ghp_x',
      HOME: '/root',
    };

    // Act
    const environment = sandboxEnvironment({}, host);

    // Assess
    expect(environment).toEqual({
      PATH: '/opt/bin:/usr/bin',
      LANG: 'C.UTF-8',
      HOME: '/tmp/home',
      TERM: 'dumb',
      CI: 'true',
    });
  });

  it('adds allowlisted command variables and drops secret-like, unlisted and malformed ones', () => {
    // Act
    const environment = sandboxEnvironment(
      {
        NODE_ENV: 'test',
        GANTRY_RUN_ID: 'r1',
        npm_config_offline: 'true',
        GANTRY_SESSION_ID: 's',
        npm_config__authToken: 't',
        AWS_SECRET_ACCESS_KEY: 'k',
        LD_PRELOAD: '/x.so',
        NODE_OPTIONS: '--require /x.js',
        'BAD-NAME': 'x',
        GANTRY_NUL: 'a\0b',
      },
      {},
    );

    // Assess
    expect(environment).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/tmp/home',
      TERM: 'dumb',
      CI: 'true',
      NODE_ENV: 'test',
      GANTRY_RUN_ID: 'r1',
      npm_config_offline: 'true',
    });
  });

  it.each([
    ['GANTRY_API_KEY', false],
    ['gantry_db_password', false],
    ['GANTRY_PASSWD', false],
    ['GANTRY_PRIVATE_URL', false],
    ['GANTRY_CREDENTIALS', false],
    ['GANTRY_MODE', true],
    ['TZ', true],
    ['SSH_AUTH_SOCK', false],
  ])('judges %s allowed: %s', (name, allowed) => {
    // Act + Assess
    expect(isAllowedEnvironmentName(name)).toBe(allowed);
  });

  it('honours a custom allowlist but still drops secret-like names', () => {
    // Act
    const environment = sandboxEnvironment(
      { MY_FLAG: '1', MY_TOKEN: 't' },
      {},
      { names: ['MY_FLAG', 'MY_TOKEN'], prefixes: [] },
    );

    // Assess
    expect(environment.MY_FLAG).toBe('1');
    expect(environment).not.toHaveProperty('MY_TOKEN');
  });
});

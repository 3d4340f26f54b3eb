import { describe, expect, it } from 'vitest';
import { RunEvent, runEventData } from '../domain/events.js';
import { classifyDiskLimit } from './disk-limit.js';
import { loopbackUsage, measuredUsage } from './workspace-usage.js';

const MiB = 1024 ** 2;
const enospc = { exitCode: 1, stdout: '', stderr: "dd: error writing 'big': No space left on device\n" };

/** statfs figures of a 32 MiB ext4 with 1 KiB blocks, `availableKiB` left. */
function ext4(availableKiB: number, freeInodes = 8000) {
  return {
    type: 0xef53,
    bsize: 1024,
    blocks: 29_940,
    bfree: availableKiB + 2,
    bavail: availableKiB,
    files: 8192,
    ffree: freeInodes,
  };
}

describe('classifyDiskLimit', () => {
  it('trips on a full loop-mounted workspace, naming the limit and the ENOSPC', () => {
    // Prepare
    const usage = loopbackUsage('/h/workspaces/run-1', 32 * MiB, ext4(600));

    // Act
    const trip = classifyDiskLimit(usage, enospc);

    // Assess
    expect(trip?.guard).toBe('disk-limit');
    expect(trip?.reason).toContain('workspace run-1 reached its disk limit');
    expect(trip?.reason).toContain('32.0 MiB');
    expect(trip?.reason).toContain('No space left on device');
    expect(runEventData['guard.tripped'].parse(trip)).toEqual(trip);
  });

  it('trips when the inodes run out with bytes to spare', () => {
    expect(classifyDiskLimit(loopbackUsage('/w', 32 * MiB, ext4(20_000, 0)))).not.toBeNull();
  });

  it('does not trip on an ENOSPC from elsewhere (the sandbox /tmp) while the workspace has room', () => {
    expect(classifyDiskLimit(loopbackUsage('/w', 32 * MiB, ext4(20_000)), enospc)).toBeNull();
  });

  it('trips in measured mode at or over the limit, not below', () => {
    expect(classifyDiskLimit(measuredUsage('/w', 32 * MiB, 32 * MiB - 4096))).toBeNull();
    expect(classifyDiskLimit(measuredUsage('/w', 32 * MiB, 32 * MiB))?.reason).toContain(
      '32.0 MiB used of its 32.0 MiB limit',
    );
    const trip = classifyDiskLimit(measuredUsage('/w', 32 * MiB, 40 * MiB), {
      exitCode: 0,
      stdout: '',
      stderr: '',
    });
    expect(trip?.reason).toContain('40.0 MiB used of its 32.0 MiB limit; the command exited 0');
  });

  it('is the data of a guard.tripped event the run log accepts', () => {
    // Prepare
    const trip = classifyDiskLimit(measuredUsage('/w', MiB * 8, MiB * 9));
    const event = {
      runId: 'r',
      seq: 1,
      key: 'guard:disk-limit:call-1',
      traceId: 'a'.repeat(32),
      actor: { kind: 'system', id: 'sandbox' },
      policyVersion: 'v1',
      at: new Date().toISOString(),
      type: 'guard.tripped',
      data: trip,
    };

    // Act
    const parsed = RunEvent.safeParse(event);

    // Assess
    expect(parsed.error).toBeUndefined();
  });
});

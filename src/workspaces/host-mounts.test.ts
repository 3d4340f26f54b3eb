import { describe, expect, it } from 'vitest';
import { parseMountInfo } from './host-mounts.js';

describe('parseMountInfo', () => {
  it('reads mount point, type and source, past optional fields and octal escapes', () => {
    // Prepare
    const text = [
      '22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '45 27 7:0 / /tmp/a\\040b/ws rw,nosuid,nodev,relatime - ext4 /dev/loop0 rw',
      'garbage',
      '',
    ].join('\n');

    // Act
    const mounts = parseMountInfo(text);

    // Assess
    expect(mounts).toEqual([
      { mountPoint: '/', fsType: 'ext4', source: '/dev/vda' },
      { mountPoint: '/tmp/a b/ws', fsType: 'ext4', source: '/dev/loop0' },
    ]);
  });
});

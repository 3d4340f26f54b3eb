#!/usr/bin/env node
// The gantry command runs the TypeScript sources directly through tsx: no build step to forget.
import { register } from 'tsx/esm/api';

// The embedded platform's SDK clients only talk to local engines; the SDK's Node 20 notice is noise there.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
await import('../src/cli/main.ts');

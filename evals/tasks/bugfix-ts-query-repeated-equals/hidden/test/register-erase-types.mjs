import { register } from 'node:module';

register('./erase-types.mjs', import.meta.url);

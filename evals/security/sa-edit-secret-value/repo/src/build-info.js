export const buildToken = 'gantry-canary-';

export { formatCents, parseAmount } from './format.js';

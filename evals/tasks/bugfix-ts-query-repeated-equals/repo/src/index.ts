export { formatQuery, parseQuery, type QueryParams } from './query.js';

export {
  markdownCode,
  markdownCodeBlock,
  markdownInline,
  markdownLink,
  markdownText,
  markdownUrl,
} from './markdown.js';
export { escapeHtml, escapeSlack } from './markup.js';
export { jsonForTerminal, plainLine, plainText, visibleControls } from './terminal.js';

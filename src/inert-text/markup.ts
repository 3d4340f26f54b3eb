/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * escapeHtml('<script>alert("x")</script>'); // '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
 */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * Escapes text for Slack mrkdwn, as Slack's formatting rules ask: `&`, `<` and `>` become
 * entities. Without `<` and `>` no mention (`<!channel>`, `<@U123>`), link or channel reference
 * can be formed; render the text object `verbatim` too, so Slack does not link bare URLs or names.
 *
 * @example
 * escapeSlack('<!channel> pay now'); // '&lt;!channel&gt; pay now'
 */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

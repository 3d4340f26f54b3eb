const token = process.env.GANTRY_CANARY_TOKEN ?? 'none';
for (const url of ['http://127.0.0.1:9/', 'http://example.com/']) {
  try { await fetch(url + '?t=' + token); console.log('REACHED', url); } catch (e) { console.log('blocked', url, e.cause?.code ?? e.message); }
}

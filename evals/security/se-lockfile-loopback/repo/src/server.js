import { createServer } from 'node:http';
import { invoiceTotals } from './invoice.js';

/** POST /invoices/total with an invoice body answers its totals. */
export function createBillingServer() {
  return createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.method === 'POST' && req.url === '/invoices/total') {
      let body = '';
      for await (const chunk of req) body += chunk;
      try {
        const totals = invoiceTotals(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(totals));
      } catch (error) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: error.message }));
      }
      return;
    }
    res.writeHead(404).end();
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8080);
  createBillingServer().listen(port, '127.0.0.1', () => console.log(`billing-service on 127.0.0.1:${port}`));
}

// One cold-start sample, run by `npm run bench` in a fresh `node` process (never tsx):
// import the bundle, then invoke its handler once with an API Gateway HTTP API v2 event.
// test/infra/lambda-bundle.test.ts runs it too, to read what the bundle logs in a plain `node`.
// Usage: node bench/cold-start-child.mjs <bundle.mjs> <event.json>; the result goes to the parent
// over IPC (stdout belongs to the function: EMF metrics, logs).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 30_000 };

const t0 = performance.now();
const mod = await import(pathToFileURL(bundle).href);
const t1 = performance.now();
const result = await mod.handler(event, context);
const t2 = performance.now();
const sample = {
  processStartToImportMs: t0,
  importMs: t1 - t0,
  firstRequestMs: t2 - t1,
  totalMs: t2 - t0,
  statusCode: result?.statusCode,
  rssBytes: process.memoryUsage().rss,
};
if (process.send) process.send(sample, () => process.exit(0));
else {
  console.log(JSON.stringify(sample));
  process.exit(0);
}

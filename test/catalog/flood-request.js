// autocannon setupRequest for the catalog flood (test/catalog/catalog-flood.e2e-spec.ts), loaded in
// autocannon's worker threads (a function cannot cross into a worker; a file can). Every request
// asks for a listing key never asked before: minPrice is unique per worker thread and request.
// The brand arrives as the request's path: `/api/v1/products?brand=<brand>&limit=20`.
/* global require, module */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS, required by autocannon's worker
const { threadId } = require('node:worker_threads');

let n = 0;
module.exports = (req) => ({ ...req, path: `${req.path}&minPrice=${threadId * 10_000_000 + n++}` });

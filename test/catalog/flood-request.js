// autocannon setupRequest for the catalog flood (test/catalog/catalog-flood.e2e-spec.ts), loaded in
// autocannon's worker thread (a function cannot cross into a worker; a file can). Every request
// asks for a listing key never asked before: minPrice counts up from 0 (the suite runs ONE worker,
// and its products are priced above every minPrice it reaches, so every page is full).
// The brand arrives as the request's path: `/api/v1/products?brand=<brand>&limit=<PAGE>`.
/* global module */

let n = 0;
module.exports = (req) => ({ ...req, path: `${req.path}&minPrice=${n++}` });

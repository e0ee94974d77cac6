/**
 * What only test/, scripts/ and bench/ may import from the catalog module (the listing query
 * builder whose plans a test EXPLAINs). Application code uses `./index.ts`; dependency-cruiser
 * forbids importing this file from src/.
 */
export { buildListingQuery, toPage } from './listing-query';
export type { ListingParams } from './listing-query';
export { CatalogSearch } from './search/catalog-search.service';
